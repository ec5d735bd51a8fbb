"""python manage.py evaluate_fair [W… …] [--stale N] [--timeout SECONDS]"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from papers.datacite import DataCiteClient
from papers.models import Work
from papers.openalex.records import openalex_number
from scoring.fair.evaluate import stale_work_ids
from scoring.tasks import evaluate_fair


class Command(BaseCommand):
    help = (
        "Evaluate the FAIR checklist and score of corpus papers here and now, asking doi.org and DataCite "
        "where the record does not settle it. Without ids every corpus paper is evaluated; --stale N takes "
        "the N stalest. Without network the scores that need DataCite stay provisional (a source that fails "
        "is not asked again in the run) and the exit status is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("works", nargs="*", metavar="W", help="OpenAlex work ids (W…).")
        parser.add_argument("--stale", type=int, metavar="N", help="Only the N stalest corpus papers.")
        parser.add_argument("--timeout", type=float, default=5.0, help="Seconds to wait for each answer (default 5).")

    def handle(self, *args, works: list[str], stale: int | None, timeout: float, **options) -> None:
        if stale is not None and stale < 1:
            raise CommandError("--stale must be at least 1.")
        try:
            work_ids = [openalex_number(key, kind="W") for key in works]
        except ValueError as error:
            raise CommandError(str(error)) from None
        if stale is not None:
            work_ids = stale_work_ids(limit=stale)
        elif not work_ids:
            work_ids = list(Work.objects.in_corpus().order_by("id").values_list("id", flat=True))
        client = DataCiteClient(timeout=timeout, max_retries=1)
        summary = evaluate_fair(work_ids=work_ids, client=client)
        self.stdout.write(
            f"FAIR: {len(summary.evaluated)} paper(s) evaluated, {len(summary.provisional)} provisional "
            "(a source did not answer)."
        )
        for reason in summary.reasons:
            self.stderr.write(f"not checked yet: {reason}")
        if summary.provisional:
            raise SystemExit(1)
