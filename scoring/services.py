"""Scoring runs: load the corpus and its citers, score it with the bulk engine, save the run
with its researcher and institution scores (scoring.roll_ups; scoring.diff says what a run
changed).

A run recomputes only what changed. Database triggers mark every work whose DataRank inputs
change (papers.ScoreInputChange); a run reads the marks first, then takes the current run's
figures for every corpus paper no mark names — when that run used the same algorithm, d and
cap — reads the links of the rest alone, and ranks everyone again, which is one sort. A paper's
figures before ranking depend on its own inputs only, so the run is the one a full rescore
would publish (tested), at the cost of what changed. Publishing deletes the marks it read.

One run at a time (the run_one_running constraint), and a running run is live exactly while
its process is: the process holds a RunLock from the moment its run is claimed until its
outcome is saved, and the database server (PostgreSQL) or the kernel (SQLite) lets that lock go
the moment the process dies. So the next rescore, the task Celery redelivers after its worker
was killed included, finds a dead run at once, marks it abandoned and runs. The
DATARANK_RESCORE_STALE_AFTER cutoff is left for the one case a lock cannot see: a process that
lives on but is stuck."""

import fcntl
import logging
import math
from contextlib import suppress
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from papers.models import SearchEntry, Work
from scoring.bulk import insert_rows
from scoring.engine import CorpusScores, score_corpus
from scoring.inputs import consume_changes, corpus_papers, load_corpus, load_known, pending_changes
from scoring.models import SCORE_FIELDS, PaperScore, ScoringRun
from scoring.retention import fold_old_runs
from scoring.roll_ups import save_roll_ups
from scoring.summary import run_figures

if TYPE_CHECKING:
    import psycopg

ALGORITHM = "datarank-1hop-v1"
ABANDONED = "abandoned: its worker stopped"
HUNG = "abandoned: still running after DATARANK_RESCORE_STALE_AFTER_SECONDS"

# The first key of every run's PostgreSQL advisory lock, the run id being the second, so that
# no other advisory lock on the database is ever taken for a run's.
RUN_LOCK_KEY = 0x44524B

logger = logging.getLogger(__name__)

# PaperScore's figures, named as the engine's CorpusScores names them; paper_ids is the work.
SCORE_COLUMNS = ("paper_ids", *SCORE_FIELDS)


class RescoreAlreadyRunning(Exception):
    """Another run holds the one "running" slot; the database refused a second one."""

    def __init__(self, run: ScoringRun) -> None:
        self.run = run
        super().__init__(f"Run {run.pk} is still running (started {run.started_at:%Y-%m-%d %H:%M:%S %Z})")


class RunStopped(Exception):
    """The run was marked failed while it scored (hung past the cutoff, or by an admin): it publishes nothing."""

    def __init__(self, run: ScoringRun) -> None:
        super().__init__(f"Run {run.pk} was marked failed while it ran; its scores were not published")


class RunLock:
    """What keeps a running run live, held by its process from the claim until its outcome is saved.

    PostgreSQL: a session-level advisory lock (RUN_LOCK_KEY, run id) on a connection of the run's
    own — not one of Django's, which the pool would lend on, lock and all — that the server lets
    go when the connection drops, as it does the moment its process dies. SQLite: flock on a file
    beside the database file (every process of a SQLite site sees that file system), which the
    kernel lets go when the process dies."""

    def __init__(self) -> None:
        self._connection: psycopg.Connection | None = None  # PostgreSQL
        self._file: BinaryIO | None = None  # SQLite
        self._run_id: int | None = None

    def hold(self, run_id: int) -> None:
        self._run_id = run_id
        if connection.vendor == "postgresql":
            import psycopg  # the driver Django's PostgreSQL backend uses, not needed on SQLite

            self._connection = psycopg.connect(**connection.get_connection_params(), autocommit=True)
            self._connection.execute("SELECT pg_advisory_lock(%s, %s)", (RUN_LOCK_KEY, run_id))
        else:
            self._file = _lock_file(run_id).open("wb")
            fcntl.flock(self._file, fcntl.LOCK_EX)

    def release(self) -> None:
        """Let the lock go; only once the run's outcome is saved, as others take the run for dead after."""
        if self._connection is not None:
            import psycopg

            # Unlocked before closing: a closed connection's backend lets its locks go a moment
            # later, in which another process would still find the run live. A connection the
            # server already dropped holds no lock.
            with suppress(psycopg.Error):
                self._connection.execute("SELECT pg_advisory_unlock(%s, %s)", (RUN_LOCK_KEY, self._run_id))
            self._connection.close()
        if self._file is not None:
            # Removed while still locked, so that a lock file found unlocked is always a dead process's.
            Path(self._file.name).unlink(missing_ok=True)
            self._file.close()
        self._connection = self._file = None


def run_is_live(run_id: int) -> bool:
    """Whether a process holds the run's RunLock, that is, is alive to finish it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
                " AND classid::bigint = %s AND objid::bigint = %s"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
                [RUN_LOCK_KEY, run_id],
            )
            return cursor.fetchone()[0]
    path = _lock_file(run_id)
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return False
    with file:
        try:
            fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        # Its process died holding it; nothing will ever lock this file again.
        path.unlink(missing_ok=True)
        return False


def _lock_file(run_id: int) -> Path:
    return Path(f"{connection.settings_dict['NAME']}-scoring-run-{run_id}.lock")


def _why_stopped(run: ScoringRun, now: datetime) -> str | None:
    """Why a running run will never finish, or None while it may."""
    if not run_is_live(run.pk):
        return ABANDONED
    if run.started_at < now - settings.DATARANK_RESCORE_STALE_AFTER:
        return HUNG
    return None


def running_run() -> ScoringRun | None:
    """The run in progress, unless it will never finish: its process is gone, or it is stuck past the cutoff."""
    run = ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).first()
    return run if run is not None and _why_stopped(run, timezone.now()) is None else None


def fail_run(*, run: ScoringRun, error: str) -> bool:
    """Mark a running run failed, freeing the slot; False, changing nothing, when it was not running.
    A process still scoring it then publishes nothing (rescore_corpus saves only a running run)."""
    now = timezone.now()
    marked = ScoringRun.objects.filter(pk=run.pk, status=ScoringRun.Status.RUNNING).update(
        status=ScoringRun.Status.FAILED, finished_at=now, error=error
    )
    if marked:
        run.status, run.finished_at, run.error = ScoringRun.Status.FAILED, now, error
    return bool(marked)


def start_run(*, damping: float, cap: int, started_by: User | None, lock: RunLock | None = None) -> ScoringRun:
    """Claim the one "running" slot (the run_one_running constraint), first marking failed a
    running run that will never finish (its process died, or it is stuck past the cutoff).

    `lock` is held for the new run before the claim commits, so no other process ever sees the
    run running without its lock; the caller releases it once the run's outcome is saved. Only a
    run finished inside the caller's own transaction (scoring.build), never seen running by
    anyone else, goes without. Raises RescoreAlreadyRunning, creating no run, while a live run
    holds the slot."""
    now = timezone.now()
    try:
        with transaction.atomic():
            running = ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).first()
            if running is not None and (why := _why_stopped(running, now)):
                logger.warning("Scoring run %s is %s", running.pk, why)
                fail_run(run=running, error=why)
            run = ScoringRun.objects.create(algorithm=ALGORITHM, damping=damping, citer_cap=cap, started_by=started_by)
            if lock is not None:
                lock.hold(run.pk)
            return run
    except IntegrityError:
        # The other constraints (damping in [0, 1]) raise the same error; only a running run is ours to report.
        running = ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).first()
        if running is None:
            raise
        raise RescoreAlreadyRunning(running) from None


def rescore_corpus(
    *, damping: float | None = None, cap: int | None = None, started_by: User | None = None, full: bool = False
) -> ScoringRun:
    """Score every corpus paper as one run; the run becomes current only if it all succeeds.

    Ranks compare each paper with the whole corpus, so every run ranks every paper; `full`
    recomputes every paper's figures too, instead of only those whose inputs changed.
    Raises RescoreAlreadyRunning, creating no run, while another run is in progress, and
    RunStopped, publishing nothing, when the run is marked failed before it finishes."""
    damping = settings.DATARANK_DAMPING if damping is None else damping
    cap = settings.DATARANK_CITER_CAP if cap is None else cap
    lock = RunLock()
    try:
        # Saved outside the scoring transaction, so a run in progress or a failed one stays visible.
        run = start_run(damping=damping, cap=cap, started_by=started_by, lock=lock)
        _score(run, full=full)
    finally:
        lock.release()
    logger.info("Scoring run %s scored %s papers", run.pk, run.papers_scored)
    run_published(run)
    return run


def run_published(run: ScoringRun) -> None:
    """What follows a run's success, once the transaction that saves it commits: a worker writes
    its bulk dump (scoring.dumps). A broker that cannot be reached is logged, never raised: the
    run stands without its dump. Runs it pushes out of the kept window are folded
    (scoring.retention). Search lists papers in the run's order from then on."""
    SearchEntry.objects.place(PaperScore.objects.filter(run=run))
    # Robust: a fold that fails is logged, and the next run's fold takes it up again.
    transaction.on_commit(fold_old_runs, robust=True)
    if settings.DATARANK_DUMPS_KEEP < 1:
        return
    from scoring.tasks import write_dump_task  # the task module imports this one

    transaction.on_commit(partial(write_dump_task.delay, run.pk), robust=True)


def reusable_run(run: ScoringRun) -> ScoringRun | None:
    """The run whose figures `run` may keep for unchanged papers: the current one, if it computed
    them the same way."""
    current = ScoringRun.objects.current()
    same = current is not None and (current.algorithm, current.damping, current.citer_cap) == (
        run.algorithm, run.damping, run.citer_cap
    )  # fmt: skip
    return current if same else None


def _score(run: ScoringRun, *, full: bool) -> None:
    try:
        # Marks first: a change that lands after this read is marked again for the next run.
        changes = pending_changes()
        data_as_of = Work.objects.aggregate(newest=Max("fetched_at"))["newest"]
        previous = None if full else reusable_run(run)
        papers = corpus_papers()
        known = only = None
        if previous is not None:
            unchanged = np.setdiff1d(papers.ids, changes.work_ids, assume_unique=True)
            known = load_known(run_id=previous.pk, papers=unchanged)
            only = np.setdiff1d(papers.ids, known.paper_ids, assume_unique=True)
        inputs = load_corpus(papers, only=only)
        scores = score_corpus(inputs, damping=run.damping, cap=run.citer_cap, known=known)
        with transaction.atomic():
            save_paper_scores(run, scores)
            consume_changes(changes)
            roll_ups = save_roll_ups(run=run, inputs=inputs, scores=scores)
            outcome = {
                **roll_ups.run_fields(),
                "figures": run_figures(
                    inputs=inputs,
                    scores=scores,
                    researcher_ids=roll_ups.researchers.ids,
                    institution_ids=roll_ups.institutions.ids,
                ),
                "status": ScoringRun.Status.SUCCEEDED,
                "finished_at": timezone.now(),
                "papers_scored": len(scores),
                "papers_ranked": int(np.count_nonzero(scores.rank)),
                "links_read": len(inputs.link_cited),
                "citers_read": len(np.unique(inputs.link_citing)),
                "data_as_of": data_as_of,
                "figures_from": previous,
                "papers_recomputed": len(scores) if only is None else len(only),
            }
            # Only a run still running: one marked failed meanwhile has had its slot taken over.
            if not ScoringRun.objects.filter(pk=run.pk, status=ScoringRun.Status.RUNNING).update(**outcome):
                raise RunStopped(run)
    except Exception as exc:
        logger.exception("Scoring run %s failed", run.pk)
        # A run already marked failed keeps the reason it was given.
        fail_run(run=run, error=f"{type(exc).__name__}: {exc}")
        raise
    for name, value in outcome.items():
        setattr(run, name, value)


def save_paper_scores(run: ScoringRun, scores: CorpusScores) -> None:
    """One PaperScore row per scored paper, inside the caller's transaction."""
    columns = [score_column(scores, name) for name in SCORE_COLUMNS]
    fields = ["run_id", "work_id", *SCORE_COLUMNS[1:]]
    insert_rows(PaperScore._meta.db_table, fields, ((run.pk, *figures) for figures in zip(*columns, strict=True)))


# The engine's marks for "none" (scoring.engine.CorpusScores), stored as empty fields.
_NONE_WHEN_ZERO = {"rank", "tier", "cohort_size"}
_NONE_WHEN_NAN = {"top_percent", "cohort_top_percent"}


def score_column(scores: CorpusScores, name: str) -> list:
    """One column as Python values for the model fields (tolist() converts it in one call)."""
    values = getattr(scores, name).tolist()
    if name in _NONE_WHEN_ZERO:
        return [value or None for value in values]
    if name in _NONE_WHEN_NAN:
        return [None if math.isnan(value) else value for value in values]
    return values
