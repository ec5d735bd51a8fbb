"""Scoring runs: load the corpus and its citers, score it with the bulk engine, save the run
(scoring.diff says what a run changed)."""

import logging
import math

import numpy as np
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from papers.models import Work
from scoring.engine import CorpusScores, score_corpus
from scoring.inputs import load_corpus
from scoring.models import SCORE_FIELDS, PaperScore, ScoringRun

ALGORITHM = "datarank-1hop-v1"
ABANDONED = "abandoned: its worker stopped"

logger = logging.getLogger(__name__)

# PaperScore's figures, named as the engine's CorpusScores names them; paper_ids is the work.
SCORE_COLUMNS = ("paper_ids", *SCORE_FIELDS)


class RescoreAlreadyRunning(Exception):
    """Another run holds the one "running" slot; the database refused a second one."""

    def __init__(self, run: ScoringRun) -> None:
        self.run = run
        super().__init__(f"Run {run.pk} is still running (started {run.started_at:%Y-%m-%d %H:%M:%S %Z})")


def running_run() -> ScoringRun | None:
    """The run in progress, unless it has run so long that its worker must have stopped."""
    return ScoringRun.objects.filter(
        status=ScoringRun.Status.RUNNING, started_at__gte=timezone.now() - settings.DATARANK_RESCORE_STALE_AFTER
    ).first()


def _start_run(*, damping: float, cap: int, started_by: AbstractBaseUser | None) -> ScoringRun:
    """Claim the one "running" slot (the run_one_running constraint), freeing it first from a run
    whose worker was killed: such a run never finishes, and would otherwise block every rescore."""
    now = timezone.now()
    try:
        with transaction.atomic():
            ScoringRun.objects.filter(
                status=ScoringRun.Status.RUNNING, started_at__lt=now - settings.DATARANK_RESCORE_STALE_AFTER
            ).update(status=ScoringRun.Status.FAILED, finished_at=now, error=ABANDONED)
            return ScoringRun.objects.create(algorithm=ALGORITHM, damping=damping, citer_cap=cap, started_by=started_by)
    except IntegrityError:
        # The other constraints (damping in [0, 1]) raise the same error; only a running run is ours to report.
        running = ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).first()
        if running is None:
            raise
        raise RescoreAlreadyRunning(running) from None


def rescore_corpus(
    *, damping: float | None = None, cap: int | None = None, started_by: AbstractBaseUser | None = None
) -> ScoringRun:
    """Score every corpus paper as one run; the run becomes current only if it all succeeds.

    Ranks compare each paper with the whole corpus, which is why there is no per-paper rescore.
    Raises RescoreAlreadyRunning, creating no run, while another run is in progress."""
    damping = settings.DATARANK_DAMPING if damping is None else damping
    cap = settings.DATARANK_CITER_CAP if cap is None else cap
    # Saved outside the scoring transaction, so a run in progress or a failed one stays visible.
    run = _start_run(damping=damping, cap=cap, started_by=started_by)
    try:
        data_as_of = Work.objects.aggregate(newest=Max("fetched_at"))["newest"]
        inputs = load_corpus()
        scores = score_corpus(inputs, damping=damping, cap=cap)
        columns = [_column(scores, name) for name in SCORE_COLUMNS]
        with transaction.atomic():
            PaperScore.objects.bulk_create(
                (
                    PaperScore(run=run, work_id=work_id, **dict(zip(SCORE_COLUMNS[1:], figures, strict=True)))
                    for work_id, *figures in zip(*columns, strict=True)
                ),
                batch_size=5000,
            )
            run.status = ScoringRun.Status.SUCCEEDED
            run.finished_at = timezone.now()
            run.papers_scored = len(scores)
            run.papers_ranked = int(np.count_nonzero(scores.rank))
            run.links_read = len(inputs.link_cited)
            run.citers_read = len(np.unique(inputs.link_citing))
            run.data_as_of = data_as_of
            run.save(
                update_fields=[
                    "status",
                    "finished_at",
                    "papers_scored",
                    "papers_ranked",
                    "links_read",
                    "citers_read",
                    "data_as_of",
                ]
            )
    except Exception as exc:
        logger.exception("Scoring run %s failed", run.pk)
        run.status = ScoringRun.Status.FAILED
        run.finished_at = timezone.now()
        run.error = f"{type(exc).__name__}: {exc}"
        run.save(update_fields=["status", "finished_at", "error"])
        raise
    logger.info("Scoring run %s scored %s papers", run.pk, run.papers_scored)
    return run


# The engine's marks for "none" (scoring.engine.CorpusScores), stored as empty fields.
_NONE_WHEN_ZERO = {"rank", "tier", "cohort_size"}
_NONE_WHEN_NAN = {"top_percent", "cohort_top_percent"}


def _column(scores: CorpusScores, name: str) -> list:
    """One column as Python values for the model fields (tolist() converts it in one call)."""
    values = getattr(scores, name).tolist()
    if name in _NONE_WHEN_ZERO:
        return [value or None for value in values]
    if name in _NONE_WHEN_NAN:
        return [None if math.isnan(value) else value for value in values]
    return values
