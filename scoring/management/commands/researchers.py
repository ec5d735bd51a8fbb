"""python manage.py researchers [--institutions] [--format csv] — the current run's researcher
(or institution) scores, everyone with a corpus paper: the ranked ones first by rank then id,
then the ones not ranked (a researcher score of 0) by id."""

import csv
import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import F

from scoring.datarank import format_top_percent
from scoring.models import InstitutionScore, ResearcherScore, ScoringRun

COLUMNS = ("id", "papers", "ranked_papers", "researcher_score", "sum_score", "h_index", "rank", "top_percent")
FLOATS = {"researcher_score", "sum_score", "top_percent"}


class Command(BaseCommand):
    help = "Print the current scoring run's researcher scores (or institution scores), best first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--institutions", action="store_true", help="Institutions instead of researchers (authors)."
        )
        parser.add_argument(
            "--format",
            dest="output_format",
            choices=["table", "csv"],
            default="table",
            help="csv: exact figures (floats as Python's repr) for other tools; table (default): for reading.",
        )

    def handle(self, *args, institutions: bool, output_format: str, **options) -> None:
        run = ScoringRun.objects.current()
        if run is None:
            raise CommandError("Nothing has been scored yet: run `python manage.py rescore` first.")
        model, key, letter = (
            (InstitutionScore, "institution_id", "I") if institutions else (ResearcherScore, "author_id", "A")
        )
        # NULLS LAST said outright: PostgreSQL and SQLite put nulls at opposite ends by default.
        scores = model.objects.filter(run=run).order_by(F("rank").asc(nulls_last=True), key)
        rows = scores.values_list(key, *COLUMNS[1:]).iterator(chunk_size=5000)
        try:
            if output_format == "csv":
                writer = csv.writer(self.stdout, lineterminator="\n")
                writer.writerow(COLUMNS)
                for row in rows:
                    writer.writerow(_cells(letter, row))
            else:
                self._table(run, letter, rows, institutions=institutions)
        except BrokenPipeError:
            # `researchers | head` closed the pipe: stop quietly, closing the cursor first.
            rows.close()  # type: ignore[attr-defined]
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)

    def _table(self, run: ScoringRun, letter: str, rows, *, institutions: bool) -> None:
        scored, ranked = (
            (run.institutions_scored, run.institutions_ranked)
            if institutions
            else (run.researchers_scored, run.researchers_ranked)
        )
        self.stdout.write(
            f"Scoring run {run.pk}: {scored} {'institutions' if institutions else 'researchers'}, {ranked} ranked"
        )
        self.stdout.write(f"{'rank':>6} {'top':>5} {'id':<13} {'score':>8} {'sum':>9} {'h':>3} {'papers':>6} ranked")
        for number, papers, ranked_papers, score, total, h, rank, top in rows:
            shown = "-" if top is None else format_top_percent(top)
            self.stdout.write(
                f"{rank or '-':>6} {shown:>5} {letter + str(number):<13} {score:>8.3f} {total:>9.3f} {h:>3} "
                f"{papers:>6} {ranked_papers}"
            )


def _cells(letter: str, row: tuple) -> list:
    """`A`/`I` ids, floats exact (repr), an empty cell where not ranked."""
    return [
        f"{letter}{value}" if name == "id" else "" if value is None else repr(value) if name in FLOATS else value
        for name, value in zip(COLUMNS, row, strict=True)
    ]
