"""The scores of a snapshot build: its engine inputs read with DuckDB, scored by the one engine,
published as a scoring run.

Contract. `load_build_inputs` reads the two Parquet files a build's citer stage writes — the
corpus papers (id, cited_by_count, subfield, year) and their capped citers in cap order (with the
citer's two counts and the self-citation flag) — straight into the NumPy arrays of
scoring.engine.CorpusInputs: DuckDB hands over whole columns, there is no Python loop per row.
`publish_run` saves the engine's scores as a succeeded ScoringRun with one PaperScore per paper
and its researcher and institution scores (COPY on PostgreSQL, batched inserts on SQLite). It
runs inside the caller's transaction, which also holds the corpus rows the scores were computed
from: the previous run stays current until that transaction commits, and a build stopped before
leaves no run behind, not even a running one.

`recorded_build` keeps the build's SnapshotBuild record (scoring.models), written as the build
goes — its settings, each stage as it ends, the counts and bad lines, the outcome — so the
admin shows a build in progress as well as a finished one. A site's builds run on one machine
(its VAR_DIR holds their work dirs), one at a time: the record is opened under an exclusive lock
on VAR_DIR/build_index.lock, which the kernel lets go the moment its process dies, however it
dies; so a build that gets the lock knows every record still "running" is a dead build's, and
marks it abandoned.
"""

import fcntl
import logging
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from scoring.engine import CorpusInputs, CorpusScores
from scoring.models import ScoringRun, SnapshotBuild
from scoring.roll_ups import save_roll_ups
from scoring.services import run_published, save_paper_scores, start_run
from scoring.summary import run_figures

# The bad lines a build record names one by one; bad_lines_total counts them all.
BAD_LINES_KEPT = 1000
ABANDONED = "abandoned: its process stopped before the build ended"

logger = logging.getLogger(__name__)


def load_build_inputs(*, papers: Path, links: Path) -> CorpusInputs:
    """The engine's inputs from a build's engine_papers.parquet and engine_links.parquet."""
    db = duckdb.connect()
    try:
        paper = db.execute(
            f"SELECT id, cited_by_count, subfield_id, publication_year FROM read_parquet('{_path(papers)}') ORDER BY id"
        ).fetchnumpy()
        link = db.execute(
            "SELECT cited, citing, cited_by_count, referenced_works_count, self_citation "
            f"FROM read_parquet('{_path(links)}') ORDER BY cited, position"
        ).fetchnumpy()
    finally:
        db.close()
    return CorpusInputs(
        paper_ids=_array(paper["id"], np.int64),
        paper_cited_by_count=_array(paper["cited_by_count"], np.int64),
        link_cited=_array(link["cited"], np.int64),
        link_citing=_array(link["citing"], np.int64),
        # The integer types the database read gives the engine (scoring.inputs), so that both
        # ways in compute the same float64 figures.
        link_cited_by_count=_array(link["cited_by_count"], np.int32),
        link_referenced_works_count=_array(link["referenced_works_count"], np.int32),
        link_self_citation=_array(link["self_citation"], np.bool_),
        paper_subfield=_array(paper["subfield_id"], np.int64),
        paper_year=_array(paper["publication_year"], np.int64),
    )


def publish_run(
    *, inputs: CorpusInputs, scores: CorpusScores, damping: float, cap: int, data_as_of: datetime
) -> ScoringRun:
    """Save `scores` as a succeeded run; call it inside the transaction that publishes the corpus.
    Raises scoring.services.RescoreAlreadyRunning while another run is in progress."""
    run = start_run(damping=damping, cap=cap, started_by=None)
    save_paper_scores(run, scores)
    roll_ups = save_roll_ups(run=run, inputs=inputs, scores=scores)
    for name, count in roll_ups.run_fields().items():
        setattr(run, name, count)
    run.figures = run_figures(
        inputs=inputs, scores=scores, researcher_ids=roll_ups.researchers.ids, institution_ids=roll_ups.institutions.ids
    )
    run.status = ScoringRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.papers_scored = len(scores)
    run.papers_ranked = int(np.count_nonzero(scores.rank))
    run.links_read = len(inputs.link_cited)
    run.citers_read = len(np.unique(inputs.link_citing))
    run.data_as_of = data_as_of
    run.papers_recomputed = len(scores)
    run.save()
    run_published(run)
    return run


class BuildAlreadyRunning(Exception):
    """Another build holds this machine's build lock."""


class BuildRecord:
    """The SnapshotBuild record of the build in progress; every method writes it at once."""

    def __init__(self, build: SnapshotBuild) -> None:
        self.build = build

    @property
    def pk(self) -> int:
        return self.build.pk

    def found(self, *, manifest_date: date | None, fingerprint: str, workdir: Path) -> None:
        self._save(manifest_date=manifest_date, fingerprint=fingerprint, workdir=str(workdir))

    def stage(self, *, name: str, seconds: float, rows: int, skipped: bool) -> None:
        entry = {"name": name, "seconds": round(seconds, 3), "rows": rows, "skipped": skipped}
        self._save(stages=[*self.build.stages, entry])

    def counted(
        self, *, records: int, works: int, duplicates: int, legacy_dropped: int, bad_lines: list[tuple[str, int, str]]
    ) -> None:
        """The extraction's counts, and its bad lines as (part, line, reason), line 0 for a whole part."""
        named = [{"part": part, "line": line, "reason": reason} for part, line, reason in bad_lines[:BAD_LINES_KEPT]]
        self._save(
            records=records,
            works=works,
            duplicates=duplicates,
            legacy_dropped=legacy_dropped,
            bad_lines=named,
            bad_lines_total=len(bad_lines),
        )

    def mismatched(self, parts: list[str]) -> None:
        self._save(mismatched_parts=list(parts))

    def succeeded(self, run: ScoringRun) -> None:
        self._save(status=SnapshotBuild.Status.SUCCEEDED, finished_at=timezone.now(), run=run)

    def failed(self, error: str) -> None:
        self._save(status=SnapshotBuild.Status.FAILED, finished_at=timezone.now(), error=error)

    def _save(self, **values) -> None:
        for name, value in values.items():
            setattr(self.build, name, value)
        self.build.peak_memory = peak_memory()
        self.build.save(update_fields=[*values, "peak_memory"])


@contextmanager
def recorded_build(
    *, snapshot_path: Path, threads: int, memory_limit: str | None, cap: int, damping: float
) -> Iterator[BuildRecord]:
    """Hold this machine's build lock, mark the builds it finds running abandoned, and open a
    running record; a build that raises is recorded as failed, with its error, and the error
    goes on. Raises BuildAlreadyRunning, recording nothing, while another build holds the lock."""
    lock = (Path(settings.VAR_DIR) / "build_index.lock").open("wb")
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            running = SnapshotBuild.objects.filter(status=SnapshotBuild.Status.RUNNING).first()
            named = f"build {running.pk} of {running.snapshot_path}" if running else "another build"
            raise BuildAlreadyRunning(f"{named} is running on this machine") from None
        abandoned = SnapshotBuild.objects.filter(status=SnapshotBuild.Status.RUNNING)
        for pk in abandoned.values_list("pk", flat=True):
            logger.warning("Snapshot build %s is %s", pk, ABANDONED)
        abandoned.update(status=SnapshotBuild.Status.ABANDONED, error=ABANDONED)
        record = BuildRecord(
            SnapshotBuild.objects.create(
                snapshot_path=str(snapshot_path),
                threads=threads,
                memory_limit=memory_limit or "",
                citer_cap=cap,
                damping=damping,
                peak_memory=peak_memory(),
            )
        )
        try:
            yield record
        except BaseException as error:
            try:
                record.failed(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
            except DatabaseError:
                # The build's own error is the one to report: a record that cannot be written
                # (the database gone) stays "running", and the next build marks it abandoned.
                logger.exception("Snapshot build %s could not be recorded as failed", record.pk)
            raise
    finally:
        lock.close()


def peak_memory() -> int:
    """This process's largest resident size so far, in bytes, DuckDB's memory included."""
    largest = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux counts kibibytes, macOS bytes.
    return largest if sys.platform == "darwin" else largest * 1024


def _array(values, dtype) -> np.ndarray:
    # fetchnumpy gives masked arrays only for columns with NULLs, which the build never writes.
    return np.asarray(values).astype(dtype, copy=False)


def _path(path: Path) -> str:
    return str(path).replace("'", "''")
