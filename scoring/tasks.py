"""Celery adapters for scoring: take ids, call the service."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

from scoring.services import rescore_corpus


# A locked SQLite file or a dropped PostgreSQL connection passes; the failed attempt stays
# recorded as a failed run and the retry starts a fresh one, so retrying is safe.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def rescore_corpus_task(started_by_id: int | None = None) -> int:
    """Score the whole corpus; returns the run id."""
    started_by = get_user_model().objects.filter(pk=started_by_id).first() if started_by_id else None
    return rescore_corpus(started_by=started_by).pk
