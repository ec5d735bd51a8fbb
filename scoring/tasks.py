"""Celery adapters for scoring: take ids, call the service. The FAIR tasks gather their facts
through papers.facts (an adapter may call across apps) and run on the "openalex" queue with the
other tasks that wait on outside services (CELERY_TASK_ROUTES)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from celery import Task, shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError, transaction
from django.utils import timezone

from papers.datacite import DataCiteClient
from papers.facts import gather_facts, save_signals
from scoring.fair.evaluate import save_evaluation, stale_work_ids
from scoring.services import RescoreAlreadyRunning, rescore_corpus

logger = logging.getLogger(__name__)


# A locked SQLite file or a dropped PostgreSQL connection passes; the failed attempt stays
# recorded as a failed run and the retry starts a fresh one, so retrying is safe.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def rescore_corpus_task(started_by_id: int | None = None) -> int | None:
    """Score the whole corpus; returns the run id, or None when a run was already going."""
    started_by = get_user_model().objects.filter(pk=started_by_id).first() if started_by_id else None
    try:
        return rescore_corpus(started_by=started_by).pk
    except RescoreAlreadyRunning as exc:
        # Not a failure: the run in progress rescores the corpus, so retrying would only queue a duplicate.
        logger.info("Rescore skipped: %s", exc)
        return None


# --- FAIR evaluation ---


@dataclass
class FairRunSummary:
    evaluated: list[int] = field(default_factory=list)
    # Works a source could not be reached for: their signals say "could not check"; retry them.
    could_not_check: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def evaluate_fair(
    *, work_ids: Sequence[int], client: DataCiteClient | None = None, now: datetime | None = None
) -> FairRunSummary:
    """Gather each work's facts, keep its checklist and, when every source answered, score it;
    one transaction per work, so the checklist and the evaluation it goes with land together."""
    now = now or timezone.now()
    summary = FairRunSummary()
    for work, facts in gather_facts(work_ids=work_ids, client=client):
        with transaction.atomic():
            save_signals(work=work, facts=facts, now=now)
            if facts.complete:
                save_evaluation(work_id=work.id, facts=facts, now=now)
        if facts.complete:
            summary.evaluated.append(work.id)
        else:
            summary.could_not_check.append(work.id)
            summary.errors.extend(error for error in facts.errors if error not in summary.errors)
    return summary


# Papers per evaluation task: each costs up to three DataCite/doi.org calls.
FAIR_TASK_BATCH = 50


@shared_task(bind=True, acks_late=True, max_retries=6)
def evaluate_fair_task(self: Task, work_ids: list[int]) -> list[int]:
    """Evaluate these works' FAIR checklist and score; returns the ids evaluated. Works whose
    sources could not be reached are retried later, alone, with growing delays (their signals
    say "could not check" meanwhile and keep their last known values)."""
    summary = evaluate_fair(work_ids=work_ids)
    if summary.could_not_check and self.request.retries < self.max_retries:
        raise self.retry(args=(summary.could_not_check,), countdown=min(60 * 2**self.request.retries, 6 * 3600))
    return summary.evaluated


@shared_task
def evaluate_stale_fair_task() -> int:
    """The periodic job: re-evaluate the stalest evaluations; returns how many papers were queued."""
    work_ids = stale_work_ids(limit=settings.DATARANK_FAIR_BATCH)
    for start in range(0, len(work_ids), FAIR_TASK_BATCH):
        batch = work_ids[start : start + FAIR_TASK_BATCH]
        transaction.on_commit(lambda batch=batch: evaluate_fair_task.delay(batch))
    return len(work_ids)
