"""Refresh runs: re-fetch stale corpus papers and their citers from OpenAlex.

Budget: a paper's metadata comes from the singleton `/works/W…`, which costs nothing, rather
than from `openalex:` batches of 100, which would cost a list call each. The daily budget
(about 10,000 list calls) is the scarce thing; the citer pulls already spend at least one list
call per paper, so the metadata must not spend any.

A run is resumable: each paper finished is recorded in the run (`done_work_ids`) in the same
write as the progress counters, so a task retried after a budget pause, or redelivered after its
worker died, skips what is done and carries on with the rest. The same write keeps what the
client learnt on the way: the malformed citer records it skipped for that paper, and the
budget the server last reported.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from papers.models import CorpusEntry, RefreshRun
from papers.openalex.citers import pull_citers
from papers.openalex.client import (
    Budget,
    BudgetExhausted,
    OpenAlexClient,
    PermanentError,
    SkippedRecord,
    TransientError,
)
from papers.openalex.ingest import load_records
from papers.openalex.tracking import move_to_merged_work

logger = logging.getLogger(__name__)


def stale_papers(*, older_than: timedelta, limit: int) -> list[int]:
    """Corpus papers whose citers were never pulled or were pulled longer ago than `older_than`,
    the most stale first (never pulled before all), at most `limit` of them."""
    cutoff = timezone.now() - older_than
    entries = CorpusEntry.objects.filter(in_corpus=True).filter(
        Q(citers_pulled_at__isnull=True) | Q(citers_pulled_at__lt=cutoff)
    )
    ordered = entries.order_by(F("citers_pulled_at").asc(nulls_first=True), "work_id")
    return list(ordered.values_list("work_id", flat=True)[:limit])


def going_refresh() -> RefreshRun | None:
    """The refresh run still going (running, or paused for the budget), if any."""
    return RefreshRun.objects.filter(status__in=[RefreshRun.Status.RUNNING, RefreshRun.Status.PAUSED]).first()


def start_stale_refresh(*, older_than: timedelta, limit: int, triggered_by: str) -> tuple[RefreshRun, list[int]] | None:
    """A new run over up to `limit` stale papers, and those papers; None when nothing is stale or a run is still
    going: two runs at once would spend the budget twice on the same papers."""
    if going_refresh() is not None:
        logger.info("A refresh run is still going; not starting another")
        return None
    work_ids = stale_papers(older_than=older_than, limit=limit)
    if not work_ids:
        return None
    return RefreshRun.objects.create(papers_total=len(work_ids), triggered_by=triggered_by), work_ids


def refresh_papers(
    *,
    run_id: int,
    work_ids: list[int],
    client: OpenAlexClient | None = None,
    on_finished: Callable[[], None] | None = None,
) -> RefreshRun:
    """Re-fetch each paper's metadata and citers, recording progress in run `run_id` as it goes.

    A paper OpenAlex refuses (PermanentError) is recorded in the run's errors and skipped.
    BudgetExhausted pauses the run until the reset and propagates, for the task to come back
    then; TransientError propagates with the run still running, for the task to retry; anything
    else fails the run. When every paper is done the run succeeds, and `on_finished` is called
    once that is committed — by this call only, never by a redelivered task that finds the run
    already done (the task passes the rescore there: what follows a refresh is not ours to decide)."""
    client = client or OpenAlexClient()
    run = _resume(run_id)
    if run.status != RefreshRun.Status.RUNNING:
        return run
    done = set(run.done_work_ids)
    calls_before = client.list_calls
    try:
        for work_id in work_ids:
            if work_id in done:
                continue
            calls_before, skipped_before = client.list_calls, len(client.skipped)
            error = _refresh_one(work_id=work_id, client=client)
            _record_paper(
                run_id=run_id,
                work_id=work_id,
                list_calls=client.list_calls - calls_before,
                error=error,
                skipped=client.skipped[skipped_before:],
                budget=client.budget,
            )
    except BudgetExhausted as exc:
        # The refused call counts: it is what the budget said no to. The paper's skipped records
        # are not kept: it is not done, and its pull is asked for again after the reset.
        RefreshRun.objects.filter(pk=run_id).update(
            status=RefreshRun.Status.PAUSED,
            resumes_at=exc.resets_at,
            list_calls=F("list_calls") + (client.list_calls - calls_before),
            **_budget_fields(client.budget),
        )
        logger.warning("Refresh run %s paused until %s: %s", run_id, exc.resets_at, exc)
        raise
    except TransientError:
        raise
    except Exception as exc:
        fail_run(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        logger.exception("Refresh run %s failed", run_id)
        raise
    return _finish(run_id, on_finished=on_finished)


def fail_run(*, run_id: int, error: str) -> None:
    """Give up on a run that has not finished (its task ran out of retries)."""
    with transaction.atomic():
        run = RefreshRun.objects.select_for_update().get(pk=run_id)
        if run.finished_at is not None:
            return
        run.status = RefreshRun.Status.FAILED
        run.finished_at = timezone.now()
        run.errors = [*run.errors, {"work": None, "error": error}]
        run.save(update_fields=["status", "finished_at", "errors"])


def _resume(run_id: int) -> RefreshRun:
    # A paused run whose task has come back is running again; a finished one stays as it is
    # (a redelivered task must not redo a whole run).
    RefreshRun.objects.filter(pk=run_id, status=RefreshRun.Status.PAUSED).update(
        status=RefreshRun.Status.RUNNING, resumes_at=None
    )
    return RefreshRun.objects.get(pk=run_id)


def _refresh_one(*, work_id: int, client: OpenAlexClient) -> str | None:
    """Refresh one paper; the reason it could not be, or None. A paper OpenAlex has merged into
    another (a 301 the client followed) hands its corpus place to that work, whose citers are
    the ones pulled."""
    try:
        record = client.get_work(work_id)
        # The data-paper check sees the fresh metadata; loading never takes a paper out.
        load_records([record], corpus="data", fetched_at=timezone.now())
        if record.id != work_id:
            move_to_merged_work(old_id=work_id, new_id=record.id)
            logger.info("W%s was merged by OpenAlex into W%s", work_id, record.id)
        pull_citers(work_id=record.id, client=client, cap=settings.DATARANK_CITER_CAP)
    except PermanentError as exc:
        logger.warning("Refresh of W%s failed: %s", work_id, exc)
        return str(exc)
    return None


def _record_paper(
    *, run_id: int, work_id: int, list_calls: int, error: str | None, skipped: list[SkippedRecord], budget: Budget
) -> None:
    # Locked and checked, so a paper counted once stays counted once whoever else writes (its
    # skipped records too); each paper is its own commit, which is what lets the admin watch the
    # run move.
    with transaction.atomic():
        run = RefreshRun.objects.select_for_update().get(pk=run_id)
        if work_id in run.done_work_ids:
            return
        run.done_work_ids = [*run.done_work_ids, work_id]
        run.papers_done = min(len(run.done_work_ids), run.papers_total)
        run.list_calls += list_calls
        if error is not None:
            run.errors = [*run.errors, {"work": work_id, "error": error}]
        run.skipped_records = [
            *run.skipped_records,
            *({"work": work_id, "record": record.key, "reason": record.reason} for record in skipped),
        ]
        said = _budget_fields(budget)
        for name, value in said.items():
            setattr(run, name, value)
        run.save(update_fields=["done_work_ids", "papers_done", "list_calls", "errors", "skipped_records", *said])


def _budget_fields(budget: Budget) -> dict[str, object]:
    """The run's budget fields as the client last heard them; none at all when the server has
    said nothing to this client yet (a redelivered task keeps the word the run already has)."""
    if budget == Budget(limit=None, remaining=None, resets_at=None):
        return {}
    return {
        "budget_limit": budget.limit,
        "budget_remaining": budget.remaining,
        "budget_resets_at": budget.resets_at,
    }


def _finish(run_id: int, *, on_finished: Callable[[], None] | None) -> RefreshRun:
    finished = RefreshRun.objects.filter(pk=run_id, status=RefreshRun.Status.RUNNING).update(
        status=RefreshRun.Status.SUCCEEDED, finished_at=timezone.now()
    )
    if finished and on_finished is not None:
        transaction.on_commit(on_finished)
    run = RefreshRun.objects.get(pk=run_id)
    logger.info(
        "Refresh run %s: %s of %s papers, %s list calls", run_id, run.papers_done, run.papers_total, run.list_calls
    )
    return run
