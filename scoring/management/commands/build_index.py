"""python manage.py build_index SNAPSHOT [--workdir DIR] [--threads N] [--memory-limit SIZE] [--keep-workdir]

The adapter that turns an OpenAlex snapshot into a published scoring run: the corpus stages of
papers.openalex.snapshot (extract, check, references, citers), the scores of scoring.build, then
one transaction that publishes both. Every stage but the last is resumable: run the command
again after a stop and it starts where it stopped. Nothing is published unless every part the
manifest lists was there, whole, with its record count.

On a terminal each stage shows a progress bar (tqdm: rows, rows/s and, from the manifest's
record counts, the time left); otherwise it logs plain lines. Either way the build is written
to its SnapshotBuild record in the admin as it goes (scoring.build.recorded_build)."""

import os
import shutil
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from papers.models import ScoreInputChange
from papers.openalex.merges import left_out_line
from papers.openalex.snapshot import (
    BuildReport,
    LogProgress,
    Progress,
    SnapshotBuild,
    SnapshotError,
    StageReport,
    export_held,
    held_corpus_ids,
    open_snapshot,
)
from scoring.build import BuildAlreadyRunning, BuildRecord, load_build_inputs, publish_run, recorded_build
from scoring.engine import score_corpus
from scoring.models import ScoringRun
from scoring.services import RescoreAlreadyRunning
from scoring.tasks import evaluate_arrivals

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
        cap, damping = settings.DATARANK_CITER_CAP, settings.DATARANK_DAMPING
        try:
            with recorded_build(
                snapshot_path=snapshot, threads=threads, memory_limit=memory_limit, cap=cap, damping=damping
            ) as record:
                report, written, run, workdir = self.build(
                    record,
                    snapshot,
                    workdir=workdir,
                    threads=threads,
                    memory_limit=memory_limit,
                    cap=cap,
                    damping=damping,
                )
                record.succeeded(run)
        except BuildAlreadyRunning as error:
            raise CommandError(f"{error}; one build at a time: wait for it, or stop it.") from None
        if not keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        self.stdout.write(self.summary(report, written, run, record, time.monotonic() - started))
        self.stdout.write(evaluate_arrivals().arrivals_line())
        skipped = [f"skipped {bad}" for bad in report.bad]
        if report.merges is not None:
            skipped += [f"skipped {bad}" for bad in report.merges.bad]
            skipped += [left_out_line(merge) for merge in report.merges.left_out]
        for line in skipped[:NAMED_BAD_LINES]:
            self.stderr.write(line)
        if len(skipped) > NAMED_BAD_LINES:
            self.stderr.write(f"… and {len(skipped) - NAMED_BAD_LINES} more")

    def build(
        self,
        record: BuildRecord,
        snapshot: Path,
        *,
        workdir: Path | None,
        threads: int,
        memory_limit: str | None,
        cap: int,
        damping: float,
    ) -> tuple[BuildReport, dict[str, int], ScoringRun, Path]:
        """The stages, the scores and the publishing transaction, each written to `record` as it
        ends; returns the build's report, the rows published, the run and the work dir."""
        try:
            found = open_snapshot(snapshot)
        except SnapshotError as error:
            raise CommandError(str(error)) from None
        fingerprint = found.fingerprint()
        workdir = workdir or Path(settings.VAR_DIR) / "build_index" / fingerprint
        dates = [part.partition_date for part in found.parts if part.partition_date]
        record.found(manifest_date=max(dates, default=None), fingerprint=fingerprint, workdir=workdir)
        if found.problems:
            record.mismatched(list(found.problems))
            raise CommandError(
                f"{len(found.problems)} part(s) of the manifest are not here as listed; nothing was published:\n"
                + "\n".join(f"  {problem}" for problem in found.problems)
            )
        # Bars for a person at a terminal; log lines for a log.
        progress = Recorded(Bars(sys.stderr) if self.stderr.isatty() else LogProgress(), record)
        build = SnapshotBuild(
            snapshot=found, workdir=workdir, threads=threads, memory_limit=memory_limit, cap=cap, progress=progress
        )
        try:
            build.extract()
            report = build.report
            record.counted(
                records=report.records,
                works=report.works,
                duplicates=report.duplicates,
                legacy_dropped=report.legacy_dropped,
                bad_lines=[(bad.part, bad.line, bad.reason) for bad in report.bad],
            )
            if report.mismatched:
                record.mismatched(report.mismatched)
                raise CommandError(
                    f"{len(report.mismatched)} part(s) do not hold what the manifest says; nothing was published:\n"
                    + "\n".join(f"  {problem}" for problem in report.mismatched)
                )
            build.check()
            held = export_held()
            build.references(extra_corpus_ids=held_corpus_ids(held))
            build.citers(held=held)
            progress.started("scores", report.corpus_papers)
            score_started = time.monotonic()
            inputs = load_build_inputs(
                papers=build.path("engine_papers.parquet"), links=build.path("engine_links.parquet")
            )
            scores = score_corpus(inputs, damping=damping, cap=cap)
            progress.finished(StageReport("scores", time.monotonic() - score_started, len(scores), False))
            progress.started("publish", None)
            publish_started = time.monotonic()
            fetched_at = timezone.now()
            with transaction.atomic():
                ScoreInputChange.skip_in_this_transaction()
                written = build.publish_corpus(fetched_at=fetched_at)
                merges_started = time.monotonic()
                merges = build.publish_merges()
                merge_seconds = time.monotonic() - merges_started
                run = publish_run(inputs=inputs, scores=scores, damping=damping, cap=cap, data_as_of=fetched_at)
            # Written once the transaction has committed: a publish rolled back never finished.
            progress.finished(StageReport("publish", time.monotonic() - publish_started, sum(written.values()), False))
            if merges is not None:
                progress.finished(StageReport("author merges", merge_seconds, merges.recorded, False))
        except SnapshotError as error:
            raise CommandError(str(error)) from None
        except RescoreAlreadyRunning as error:
            raise CommandError(f"{error}; nothing was published, run the build again once it is done.") from None
        finally:
            build.close()
        return report, written, run, workdir

    def summary(
        self, report: BuildReport, written: dict[str, int], run: ScoringRun, record: BuildRecord, seconds: float
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
        stages = {stage["name"]: stage for stage in record.build.stages}
        peak = record.build.peak_memory
        memory = f"{peak / 2**20:,.0f} MiB" if peak is not None else "not measured"
        lines += [
            f"  stage {stage.name + ':':<22}{stage.seconds:8.2f} s  {stage.rows:>12,} rows"
            + (" (done before)" if stage.skipped else "")
            for stage in report.stages
        ]
        lines += [
            f"  stage {'scores:':<22}{stages['scores']['seconds']:8.2f} s",
            f"  stage {'publish:':<22}{stages['publish']['seconds']:8.2f} s  "
            + ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in written.items()),
        ]
        if report.merges is not None:
            seconds_merging = stages["author merges"]["seconds"]
            lines.append(f"  stage {'author merges:':<22}{seconds_merging:8.2f} s  {report.merges.line()}")
        lines += [
            f"Scoring run {run.pk}: {run.papers_scored:,} papers scored, {run.papers_ranked:,} ranked.",
            f"Build {record.pk} recorded, peak memory {memory}.",
            f"Time:                   {seconds:.1f} s",
        ]
        return "\n".join(lines)


class Recorded(Progress):
    """Progress shown by `shown`, and each stage's end written to the build's record."""

    def __init__(self, shown: Progress, record: BuildRecord) -> None:
        self.shown, self.record = shown, record

    def started(self, stage: str, total: int | None) -> None:
        self.shown.started(stage, total)

    def advanced(self, stage: str, done: int) -> None:
        self.shown.advanced(stage, done)

    def finished(self, report: StageReport) -> None:
        self.shown.finished(report)
        self.record.stage(name=report.name, seconds=report.seconds, rows=report.rows, skipped=report.skipped)


class Bars(Progress):
    """One tqdm bar per stage on a terminal: rows read, rows/s and, given a total, the time left.
    A stage done before gets a line instead."""

    def __init__(self, file) -> None:
        self.file = file
        self._bar: tqdm | None = None
        # advanced() comes from the build's watcher thread too.
        self._lock = threading.Lock()

    def started(self, stage: str, total: int | None) -> None:
        with self._lock:
            self._bar = tqdm(
                desc=f"{stage:<14}", total=total, unit=" rows", unit_scale=True, file=self.file, dynamic_ncols=True
            )

    def advanced(self, stage: str, done: int) -> None:
        with self._lock:
            if self._bar is not None and done > self._bar.n:
                self._bar.update(done - self._bar.n)

    def finished(self, report: StageReport) -> None:
        with self._lock:
            bar, self._bar = self._bar, None
            if bar is None:
                tqdm.write(f"{report.name:<14}: done before, {report.rows:,} rows", file=self.file)
                return
            # A stage reads its whole total; one without a total counts what it wrote.
            bar.update((bar.total or report.rows) - bar.n)
            bar.set_postfix_str(f"{report.rows:,} rows written", refresh=False)
            bar.close()
