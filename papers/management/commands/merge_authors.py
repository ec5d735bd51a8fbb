"""python manage.py merge_authors FILE…

Records OpenAlex's lists of merged author ids (merged_ids/authors/*.csv.gz of a snapshot, or
*.csv) outside a snapshot build, which records the lists of the snapshot it builds. All of them
or none: the files are read in the order given inside one transaction."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from papers.openalex.merges import HEADER, MergeList, left_out_line, record_merges


class Command(BaseCommand):
    help = (
        f"Record OpenAlex's lists of merged author ids ({','.join(HEADER)} a line, gzipped or not), "
        "so that an id merged away counts for the one it was merged into. Bad lines are reported as FILE:LINE "
        "and skipped, the rest is recorded, and the exit status is then 1; a merge that would close a loop "
        "is left out and named."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")

    def handle(self, *args, files: list[Path], **options) -> None:
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}; nothing was recorded.")
        with transaction.atomic():
            summary = record_merges(MergeList(path) for path in files)
        for bad in summary.bad:
            self.stderr.write(str(bad))
        for merge in summary.left_out:
            self.stderr.write(left_out_line(merge))
        self.stdout.write(
            "\n".join(
                [
                    f"Files:                 {summary.files:,}",
                    f"Merges read:           {summary.read:,}",
                    f"Recorded:              {summary.recorded:,}",
                    f"Left out (loops):      {len(summary.left_out):,}",
                    f"Bad lines skipped:     {len(summary.bad):,}",
                ]
            )
        )
        if summary.bad:
            raise CommandError(f"{len(summary.bad)} bad line(s) skipped; every other merge was recorded.")
