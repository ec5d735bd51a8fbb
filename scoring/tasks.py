"""Celery adapters for scoring: take ids, call the service."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

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
