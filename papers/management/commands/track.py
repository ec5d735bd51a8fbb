"""python manage.py track ID… [--filter "OpenAlex filter"] [--max N] [--force] [--sync]"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from papers.openalex.client import OpenAlexError
from papers.openalex.tracking import parse_identifiers, track_papers
from papers.tasks import track_papers_task
from scoring.services import rescore_corpus


class Command(BaseCommand):
    help = (
        "Track papers from the live OpenAlex API by DOI (any spelling), OpenAlex id or an OpenAlex filter: "
        "those that pass the data-paper check join the corpus and have their citers pulled, then the corpus "
        "is rescored. Bad identifiers are listed and the rest proceed; the exit status is then 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("identifiers", nargs="*", metavar="ID", help="A DOI, DOI URL or OpenAlex work id.")
        parser.add_argument("--filter", dest="openalex_filter", help='An OpenAlex works filter: "type:dataset,…".')
        parser.add_argument("--max", dest="max_papers", type=int, help="Track at most N works of the filter.")
        parser.add_argument("--force", action="store_true", help="Into the corpus whatever the data-paper check says.")
        parser.add_argument("--sync", action="store_true", help="Run here and now instead of on the workers.")

    def handle(
        self,
        *args,
        identifiers: list[str],
        openalex_filter: str | None,
        max_papers: int | None,
        force: bool,
        sync: bool,
        **options,
    ) -> None:
        if not settings.OPENALEX_API_KEY:
            raise CommandError("live OpenAlex is off: set OPENALEX_API_KEY (a free key from openalex.org).")
        if not identifiers and not openalex_filter:
            raise CommandError("name at least one ID or give --filter.")
        if max_papers is not None and max_papers < 1:
            raise CommandError("--max must be at least 1.")
        parsed = parse_identifiers(identifiers)
        for bad in parsed.bad:
            self.stderr.write(f"{bad.text}: {bad.reason}")
        bad_count = len(parsed.bad)
        if parsed or openalex_filter:
            if sync:
                bad_count += self._track_here(parsed, openalex_filter, max_papers, force)
            else:
                good = parsed.as_strings()
                transaction.on_commit(lambda: track_papers_task.delay(good, openalex_filter, max_papers, force))
                self.stdout.write(f"Queued tracking of {self._what(len(good), openalex_filter)} for the workers.")
        if bad_count:
            raise CommandError(f"{bad_count} bad identifier(s); the others were tracked.")

    def _track_here(self, parsed, openalex_filter: str | None, max_papers: int | None, force: bool) -> int:
        """Track and rescore in the foreground; returns how many identifiers OpenAlex did not know."""
        try:
            result = track_papers(
                identifiers=parsed, openalex_filter=openalex_filter, max_papers=max_papers, force=force
            )
        except OpenAlexError as error:
            raise CommandError(str(error)) from error
        not_found = result.bad[len(parsed.bad) :]
        for bad in not_found:
            self.stderr.write(f"{bad.text}: {bad.reason}")
        lines = [
            f"Tracked: {len(result.tracked)} ({_ids(result.tracked)})",
            f"Not data papers (use --force to track them anyway): {len(result.not_data_papers)}"
            f" ({_ids(result.not_data_papers)})",
        ]
        if result.kept_out:
            lines.append(f"Kept out by an admin override: {len(result.kept_out)} ({_ids(result.kept_out)})")
        lines += [f"Citers pulled: {result.citers_pulled}", f"OpenAlex list calls used: {result.list_calls}"]
        if result.tracked:
            run = rescore_corpus()
            lines.append(f"New scoring run: #{run.pk}, {run.papers_scored} papers scored")
        else:
            lines.append("Nothing tracked, so no new scoring run.")
        self.stdout.write("\n".join(lines))
        return len(not_found)

    @staticmethod
    def _what(count: int, openalex_filter: str | None) -> str:
        named = f"{count} identifier(s)"
        return f"{named} and the works of filter {openalex_filter!r}" if openalex_filter else named


def _ids(work_ids: tuple[int, ...]) -> str:
    return ", ".join(f"W{work}" for work in work_ids) or "none"
