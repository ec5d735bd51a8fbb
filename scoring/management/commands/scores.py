"""python manage.py scores [--format csv] — the current run's scores, every corpus paper: the
ranked ones first by rank then id, then the ones not ranked (DataRank 0) by id."""

import csv
import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.datarank import format_top_percent
from scoring.dumps import CSV_COLUMNS, csv_cells, score_rows
from scoring.models import ScoringRun


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
        # The rows and their cells are the bulk dumps' too (scoring.dumps).
        rows = score_rows(run)
        try:
            if output_format == "csv":
                self.write_csv(rows)
            else:
                self.write_table(run, rows)
        except BrokenPipeError:
            # `scores | head` closed the pipe: stop quietly, as other command-line tools do,
            # closing the cursor while the connection is still open.
            rows.close()
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)

    def write_csv(self, rows) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow(csv_cells(row))

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
