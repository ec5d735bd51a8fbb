"""Scoring runs: load the corpus and its citers, score it with the bulk engine, save the run."""

import logging

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from scoring.engine import load_corpus, score_corpus
from scoring.models import PaperScore, ScoringRun

ALGORITHM = "datarank-1hop-v1"

logger = logging.getLogger(__name__)

# PaperScore's figures, named as the engine's CorpusScores names them; paper_ids is the work.
SCORE_COLUMNS = (
    "paper_ids",
    "base_contribution",
    "network_contribution",
    "datarank",
    "citing_works",
    "citers_with_signal",
    "self_citations_excluded",
    "cap_bound",
    "rank",
    "top_percent",
    "tier",
)


def rescore_corpus(
    *, damping: float | None = None, cap: int | None = None, started_by: AbstractBaseUser | None = None
) -> ScoringRun:
    """Score every corpus paper as one run; the run becomes current only if it all succeeds.

    Ranks compare each paper with the whole corpus, which is why there is no per-paper rescore."""
    damping = settings.DATARANK_DAMPING if damping is None else damping
    cap = settings.DATARANK_CITER_CAP if cap is None else cap
    # Saved outside the scoring transaction, so a run in progress or a failed one stays visible.
    run = ScoringRun.objects.create(algorithm=ALGORITHM, damping=damping, citer_cap=cap, started_by=started_by)
    try:
        scores = score_corpus(load_corpus(), damping=damping, cap=cap)
        # tolist() turns each column into Python numbers in one call, for the model fields.
        columns = [getattr(scores, name).tolist() for name in SCORE_COLUMNS]
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
            run.save(update_fields=["status", "finished_at", "papers_scored"])
    except Exception as exc:
        logger.exception("Scoring run %s failed", run.pk)
        run.status = ScoringRun.Status.FAILED
        run.finished_at = timezone.now()
        run.error = f"{type(exc).__name__}: {exc}"
        run.save(update_fields=["status", "finished_at", "error"])
        raise
    logger.info("Scoring run %s scored %s papers", run.pk, run.papers_scored)
    return run
