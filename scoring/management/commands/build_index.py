"""python manage.py build_index SNAPSHOT [--workdir DIR] [--threads N] [--memory-limit SIZE] [--keep-workdir]

The adapter that turns an OpenAlex snapshot into a published scoring run: the corpus stages of
papers.openalex.snapshot (extract, check, references, citers), the scores of scoring.build, then
one transaction that publishes both. Every stage but the last is resumable: run the command
again after a stop and it starts where it stopped. Nothing is published unless every part the
manifest lists was there, whole, with its record count."""

import os
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from papers.openalex.snapshot import SnapshotBuild, SnapshotError, export_held, held_corpus_ids, open_snapshot
from scoring.build import load_build_inputs, publish_run
from scoring.engine import score_corpus
from scoring.services import RescoreAlreadyRunning

# The most bad lines the summary names one by one; the count is always complete.
NAMED_BAD_LINES = 50


class Command(BaseCommand):
    help = "Build the index from an OpenAlex snapshot with DuckDB and publish it as a scoring run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "snapshot", type=Path, metavar="SNAPSHOT", help="A snapshot root, works folder or folder of *.jsonl.gz."
        )
        parser.add_argument("--workdir", type=Path, help="Where the stages keep their files (default: under var/).")
        parser.add_argument(
            "--threads", type=int, default=os.cpu_count() or 1, help="DuckDB threads (default: every core)."
        )
        parser.add_argument("--memory-limit", help="DuckDB's memory limit, e.g. 4GB (default: DuckDB's, 80%% of RAM).")
        parser.add_argument(
            "--keep-workdir",
            action="store_true",
            help="Keep the stages' files after publishing (they are kept after a failure).",
        )

    def handle(
        self,
        *args,
        snapshot: Path,
        workdir: Path | None,
        threads: int,
        memory_limit: str | None,
        keep_workdir: bool,
        **options,
    ) -> None:
        if threads < 1:
            raise CommandError(f"--threads must be at least 1, got {threads}.")
        started = time.monotonic()
        try:
            found = open_snapshot(snapshot)
        except SnapshotError as error:
            raise CommandError(str(error)) from None
        if found.problems:
            raise CommandError(
                f"{len(found.problems)} part(s) of the manifest are not here as listed; nothing was published:\n"
                + "\n".join(f"  {problem}" for problem in found.problems)
            )
        workdir = workdir or Path(settings.VAR_DIR) / "build_index" / found.fingerprint()
        cap, damping = settings.DATARANK_CITER_CAP, settings.DATARANK_DAMPING
        build = SnapshotBuild(snapshot=found, workdir=workdir, threads=threads, memory_limit=memory_limit, cap=cap)
        try:
            build.extract()
            report = build.report
            if report.mismatched:
                raise CommandError(
                    f"{len(report.mismatched)} part(s) do not hold what the manifest says; nothing was published:\n"
                    + "\n".join(f"  {problem}" for problem in report.mismatched)
                )
            build.check()
            held = export_held()
            build.references(extra_corpus_ids=held_corpus_ids(held))
            build.citers(held=held)
            score_started = time.monotonic()
            inputs = load_build_inputs(
                papers=build.path("engine_papers.parquet"), links=build.path("engine_links.parquet")
            )
            scores = score_corpus(inputs, damping=damping, cap=cap)
            score_seconds = time.monotonic() - score_started
            publish_started = time.monotonic()
            fetched_at = timezone.now()
            with transaction.atomic():
                written = build.publish_corpus(fetched_at=fetched_at)
                run = publish_run(inputs=inputs, scores=scores, damping=damping, cap=cap, data_as_of=fetched_at)
            publish_seconds = time.monotonic() - publish_started
        except SnapshotError as error:
            raise CommandError(str(error)) from None
        except RescoreAlreadyRunning as error:
            raise CommandError(f"{error}; nothing was published, run the build again once it is done.") from None
        finally:
            build.close()
        if not keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        self.stdout.write(
            self.summary(report, written, run, score_seconds, publish_seconds, time.monotonic() - started)
        )
        for bad in report.bad[:NAMED_BAD_LINES]:
            self.stderr.write(f"skipped {bad}")
        if len(report.bad) > NAMED_BAD_LINES:
            self.stderr.write(f"… and {len(report.bad) - NAMED_BAD_LINES} more")

    def summary(
        self, report, written: dict[str, int], run, score_seconds: float, publish_seconds: float, seconds: float
    ) -> str:
        lines = [
            f"Parts:                  {report.parts:,}",
            f"Records:                {report.records:,}",
            f"Works:                  {report.works:,} ({report.duplicates:,} older copies dropped, "
            f"{report.legacy_dropped:,} legacy grant records dropped)",
            f"Bad lines skipped:      {len(report.bad):,}",
            f"Corpus papers:          {report.corpus_papers:,}",
            f"Links to corpus papers: {report.corpus_links:,} ({report.engine_links:,} within the cap)",
        ]
        lines += [
            f"  stage {stage.name + ':':<22}{stage.seconds:8.2f} s  {stage.rows:>12,} rows"
            + (" (done before)" if stage.skipped else "")
            for stage in report.stages
        ]
        lines += [
            f"  stage {'scores:':<22}{score_seconds:8.2f} s",
            f"  stage {'publish:':<22}{publish_seconds:8.2f} s  "
            + ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in written.items()),
            f"Scoring run {run.pk}: {run.papers_scored:,} papers scored, {run.papers_ranked:,} ranked.",
            f"Time:                   {seconds:.1f} s",
        ]
        return "\n".join(lines)
