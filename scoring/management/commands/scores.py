"""python manage.py scores [--format csv] — the current run's scores, every corpus paper: the
ranked ones first by rank then id, then the ones not ranked (DataRank 0) by id."""

import csv
import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import F

from scoring.datarank import format_top_percent
from scoring.models import PaperScore, ScoringRun

COLUMNS = [
    "openalex_id",
    "doi",
    "datarank",
    "base_contribution",
    "network_contribution",
    "citing_works",
    "citers_with_signal",
    "self_citations_excluded",
    "rank",
    "top_percent",
    "tier",
    "cohort_size",
    "cohort_top_percent",
]
FLOATS = {"datarank", "base_contribution", "network_contribution", "top_percent", "cohort_top_percent"}


class Command(BaseCommand):
    help = "Print the current scoring run's scores, one row per corpus paper, best first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            dest="output_format",
            choices=["table", "csv"],
            default="table",
            help="csv: exact figures (floats as Python's repr) for other tools; table (default): for reading.",
        )

    def handle(self, *args, output_format: str, **options) -> None:
        run = ScoringRun.objects.current()
        if run is None:
            raise CommandError("Nothing has been scored yet: run `python manage.py rescore` first.")
        fields = ["work_id", "work__doi", *COLUMNS[2:]]
        # NULLS LAST said outright: PostgreSQL and SQLite put nulls at opposite ends by default.
        scores = PaperScore.objects.filter(run=run).order_by(F("rank").asc(nulls_last=True), "work_id")
        results = scores.values_list(*fields).iterator(chunk_size=5000)
        rows = (dict(zip(COLUMNS, values, strict=True)) for values in results)
        try:
            if output_format == "csv":
                self.write_csv(rows)
            else:
                self.write_table(run, rows)
        except BrokenPipeError:
            # `scores | head` closed the pipe: stop quietly, as other command-line tools do,
            # closing the cursor while the connection is still open.
            results.close()
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)

    def write_csv(self, rows) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            row["openalex_id"] = f"W{row['openalex_id']}"
            # An empty cell is a figure the paper does not have (DESIGN.md §1), never a zero.
            writer.writerow(
                ["" if value is None else repr(value) if name in FLOATS else value for name, value in row.items()]
            )

    def write_table(self, run: ScoringRun, rows) -> None:
        self.stdout.write(
            f"Scoring run {run.pk} ({run.algorithm}, d={run.damping}, cap={run.citer_cap}), "
            f"{run.papers_scored} papers, {run.papers_ranked} ranked, finished {run.finished_at:%Y-%m-%d %H:%M:%S %Z}"
        )
        self.stdout.write(
            f"{'rank':>6} {'top':>5} {'openalex_id':<14} {'datarank':>9} {'base':>7} {'network':>9} "
            f"{'citers':>6} {'signal':>6} {'self':>4}  doi"
        )
        for row in rows:
            self.stdout.write(
                f"{row['rank'] or '-':>6} {top_percent(row['top_percent']):>5} {'W' + str(row['openalex_id']):<14} "
                f"{row['datarank']:>9.3f} {row['base_contribution']:>7.3f} {row['network_contribution']:>9.3f} "
                f"{row['citing_works']:>6} {row['citers_with_signal']:>6} {row['self_citations_excluded']:>4}  "
                f"{row['doi']}"
            )


def top_percent(value: float | None) -> str:
    return "-" if value is None else format_top_percent(value)
