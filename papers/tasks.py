"""Celery adapters for tracking: ids in, one service call. They run on the "openalex" queue,
so the rate of OpenAlex calls is bounded by the workers that consume it; settings route every
papers task there (CELERY_TASK_ROUTES), since Celery deprecates a `queue` on the task itself.

The tracking tasks are idempotent (tracking or pulling twice leaves the same rows), so a task
redelivered after a worker died (`acks_late`) or retried after a transient error is safe."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Literal, TypedDict

from celery import Task, shared_task
from celery.exceptions import Ignore
from django.conf import settings
from django.db import transaction

from papers.models import RefreshRun
from papers.openalex.citers import pull_citers
from papers.openalex.client import BudgetExhausted, TransientError
from papers.openalex.refresh import fail_run, refresh_papers, start_stale_refresh
from papers.openalex.tracking import track_papers
from scoring.tasks import evaluate_arrivals, rescore_corpus_task


class TaskOptions(TypedDict):
    bind: Literal[True]
    acks_late: bool
    autoretry_for: tuple[type[Exception], ...]
    retry_backoff: int
    retry_backoff_max: int
    retry_jitter: bool
    max_retries: int


# The client already retried each call a few times; these are the slower retries on top.
OPENALEX_TASK_OPTIONS: TaskOptions = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": (TransientError,),
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 8,
}


@contextmanager
def waiting_for_budget(task: Task) -> Iterator[None]:
    """A spent daily budget is not a failure: the same task is sent again for the reset time
    and this delivery ends as ignored, neither failed nor counted as a retry — `self.retry`
    would spend one of `max_retries` per day of waiting and drop the task in the end."""
    try:
        yield
    except BudgetExhausted as exc:
        # The ignore: celery-types wants a tuple and a dict; Celery takes the request's own (a list
        # and a dict after JSON), which is what it sent.
        task.apply_async(args=task.request.args, kwargs=task.request.kwargs, eta=exc.resets_at)  # type: ignore[arg-type]
        raise Ignore() from exc


@shared_task(**OPENALEX_TASK_OPTIONS)
def track_papers_task(
    self: Task, identifiers: list[str], openalex_filter: str | None, max_papers: int | None, force: bool
) -> list[int]:
    """Track the papers, then rescore the corpus if any is tracked; returns the tracked ids."""
    with waiting_for_budget(self):
        result = track_papers(
            identifiers=identifiers, openalex_filter=openalex_filter, max_papers=max_papers, force=force
        )
    if result.tracked:
        evaluate_arrivals()
        transaction.on_commit(rescore_corpus_task.delay)
    return list(result.tracked)


@shared_task(**OPENALEX_TASK_OPTIONS)
def pull_citers_task(self: Task, work_id: int) -> int:
    """Replace a paper's pulled citers; returns how many it has now."""
    with waiting_for_budget(self):
        return pull_citers(work_id=work_id).citers


# --- Refresh runs ---


@shared_task
def refresh_stale_papers_task() -> int | None:
    """The periodic job: start a run over the stalest papers; returns its id (None: nothing to do)."""
    started = start_stale_refresh(
        older_than=timedelta(days=settings.DATARANK_REFRESH_AFTER_DAYS),
        limit=settings.DATARANK_REFRESH_BATCH,
        triggered_by=RefreshRun.Trigger.SCHEDULE,
    )
    if started is None:
        return None
    run, work_ids = started
    transaction.on_commit(lambda: refresh_papers_task.delay(run.pk, work_ids))
    return run.pk


def _refreshed() -> None:
    """A finished run's papers have new records: their FAIR first, from what we hold, then the rescore."""
    evaluate_arrivals()
    rescore_corpus_task.delay()


# acks_late: a worker killed mid-run leaves the message to be redelivered, and the run skips the
# papers it already finished. A spent budget pauses the run and sends the task again for the
# reset (waiting_for_budget), so a run is never dropped for want of budget. Its queue, "openalex",
# comes from CELERY_TASK_ROUTES.
@shared_task(bind=True, acks_late=True, max_retries=8)
def refresh_papers_task(self: Task, run_id: int, work_ids: list[int]) -> int:
    """Refresh the papers as run `run_id`; returns the run id."""
    try:
        with waiting_for_budget(self):
            return refresh_papers(run_id=run_id, work_ids=work_ids, on_finished=_refreshed).pk
    except TransientError as exc:
        if self.max_retries is not None and self.request.retries >= self.max_retries:
            fail_run(run_id=run_id, error=f"OpenAlex kept failing: {exc}")
            raise
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 30 * 60)) from exc
