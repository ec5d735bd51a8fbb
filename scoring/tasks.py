"""Celery adapters for scoring: take ids, call the service. The FAIR tasks gather their facts
through papers.facts (an adapter may call across apps) and run on the "openalex" queue with the
other tasks that wait on outside services (CELERY_TASK_ROUTES)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from celery import Task, shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError, transaction
from django.utils import timezone

from papers.datacite import DataCiteClient
from papers.facts import gather_facts, recheck_data_papers, save_signals
from scoring.dumps import write_dump
from scoring.fair.evaluate import arrived_work_ids, save_evaluations, stale_work_ids
from scoring.models import ScoringRun
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


@shared_task
def write_dump_task(run_id: int) -> int | None:
    """Write a succeeded run's bulk dump (scoring.dumps) and drop the dumps past
    DATARANK_DUMPS_KEEP; returns its row count, or None for a run that is gone or did not succeed."""
    run = ScoringRun.objects.filter(pk=run_id).first()
    dump = write_dump(run=run) if run is not None else None
    return dump.rows if dump else None


# --- FAIR evaluation ---


@dataclass
class FairRunSummary:
    evaluated: list[int] = field(default_factory=list)
    # Works whose score is provisional: a source was not asked or could not be reached; retry them.
    provisional: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def arrivals_line(self) -> str:
        return (
            f"FAIR from the records: {len(self.evaluated):,} paper(s) evaluated, {len(self.provisional):,} "
            "provisional until doi.org or DataCite answers (the worker asks)."
        )


# Works gathered and written per transaction.
FAIR_CHUNK = 500


def evaluate_fair(
    *, work_ids: Sequence[int], client: DataCiteClient | None, now: datetime | None = None
) -> FairRunSummary:
    """Gather each work's facts (`client` None: from what we hold, without network), keep its
    checklist and score it, provisionally where a source has not answered; the checklist and
    the evaluation it goes with land together, a chunk of works per transaction."""
    now = now or timezone.now()
    summary = FairRunSummary()
    for start in range(0, len(work_ids), FAIR_CHUNK):
        gathered = list(gather_facts(work_ids=work_ids[start : start + FAIR_CHUNK], client=client))
        with transaction.atomic():
            save_signals(gathered=gathered, now=now)
            recheck_data_papers(gathered=gathered, now=now)
            save_evaluations(gathered=[(work.id, facts) for work, facts in gathered], now=now)
        for work, facts in gathered:
            (summary.evaluated if facts.complete else summary.provisional).append(work.id)
            summary.reasons.extend(reason for reason in facts.errors if reason not in summary.reasons)
    return summary


def evaluate_arrivals() -> FairRunSummary:
    """FAIR for the corpus papers whose records came in since their last evaluation, from what
    we hold: every way works arrive (file, API, snapshot build) calls it, so a paper has its
    checklist and a score, complete or provisional, before any outside source is asked."""
    return evaluate_fair(work_ids=arrived_work_ids(), client=None)


# Papers per evaluation task: each costs up to three DataCite/doi.org calls.
FAIR_TASK_BATCH = 50


@shared_task(bind=True, acks_late=True, max_retries=6)
def evaluate_fair_task(self: Task, work_ids: list[int]) -> list[int]:
    """Evaluate these works' FAIR checklist and score, asking doi.org and DataCite; returns the
    ids evaluated completely. Works whose sources could not be reached are retried later, alone,
    with growing delays (meanwhile their score is provisional and their signals say "not checked
    yet", keeping their last known values)."""
    summary = evaluate_fair(work_ids=work_ids, client=DataCiteClient())
    if summary.provisional and (self.max_retries is None or self.request.retries < self.max_retries):
        raise self.retry(args=(summary.provisional,), countdown=min(60 * 2**self.request.retries, 6 * 3600))
    return summary.evaluated


@shared_task
def evaluate_stale_fair_task() -> int:
    """The periodic job: re-evaluate the stalest evaluations; returns how many papers were queued."""
    work_ids = stale_work_ids(limit=settings.DATARANK_FAIR_BATCH)
    for start in range(0, len(work_ids), FAIR_TASK_BATCH):
        batch = work_ids[start : start + FAIR_TASK_BATCH]
        transaction.on_commit(partial(evaluate_fair_task.delay, batch))
    return len(work_ids)
