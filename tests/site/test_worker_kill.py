"""A worker killed in the middle of a refresh run loses nothing: Redis hands the unacknowledged
task to another worker after the visibility timeout, which finishes the run, skipping the papers
already done, and leaves every paper with its whole citer set."""

import os
import signal
import time

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from papers.models import Citation, CorpusEntry, RefreshRun
from papers.openalex.ingest import load_records
from papers.openalex.records import parse_work
from papers.tasks import refresh_papers_task
from tests.fake_openalex.app import synthetic_work
from tests.worker import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PAPERS = tuple(range(1, 9))
CITERS_EACH = 3
VISIBILITY_TIMEOUT = 3


def citer_ids(paper: int) -> set[int]:
    return {paper * 100 + n for n in range(1, CITERS_EACH + 1)}


@pytest.fixture
def corpus(transactional_db, fake_openalex):
    raws = [synthetic_work(paper, type="dataset") for paper in PAPERS]
    load_records([parse_work(raw) for raw in raws], corpus="all", fetched_at=timezone.now())
    fake_openalex.add_works(
        raws + [synthetic_work(citer, cites=[paper]) for paper in PAPERS for citer in citer_ids(paper)]
    )
    # Slow enough that the run is caught in the middle: two requests a paper.
    fake_openalex.latency = 0.25
    return fake_openalex


@pytest.fixture
def workers(corpus):
    """Starts workers on the "openalex" queue with a short visibility timeout; stops them after."""
    # A database of its own (14 here, 15 in CI): no leftover task may be redelivered into this test.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    env = {
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "OPENALEX_API_URL": corpus.url,
        "OPENALEX_API_KEY": corpus.api_key,
        "DATARANK_CITER_CAP": str(settings.DATARANK_CITER_CAP),
    }
    started = []

    def start():
        started.append(start_worker(queues="openalex", env=env))
        return started[-1]

    yield start
    for process in started:
        stop_worker(process)


def test_a_run_whose_worker_is_killed_is_finished_by_another_worker(corpus, workers):
    run = RefreshRun.objects.create(papers_total=len(PAPERS), triggered_by=RefreshRun.Trigger.ADMIN)
    first = workers()
    refresh_papers_task.delay(run.pk, list(PAPERS))

    wait_for(lambda: RefreshRun.objects.get(pk=run.pk).papers_done >= 2, seconds=30, process=first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.monotonic()
    run.refresh_from_db()
    assert run.status == RefreshRun.Status.RUNNING
    assert run.papers_done < len(PAPERS)

    second = workers()
    wait_for(lambda: RefreshRun.objects.get(pk=run.pk).finished_at is not None, seconds=40, process=second)

    assert time.monotonic() - killed_at >= VISIBILITY_TIMEOUT
    run.refresh_from_db()
    assert run.status == RefreshRun.Status.SUCCEEDED
    assert (run.papers_done, run.errors) == (len(PAPERS), [])
    assert sorted(run.done_work_ids) == list(PAPERS)
    for paper in PAPERS:
        pulled = Citation.objects.filter(cited_id=paper, pull_position__isnull=False)
        assert set(pulled.values_list("citing_id", flat=True)) == citer_ids(paper), f"W{paper}"
    assert not CorpusEntry.objects.filter(work_id__in=PAPERS, citers_pulled_at__isnull=True).exists()
