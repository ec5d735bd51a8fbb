"""A real Celery worker, in its own process, on the configured broker (the file-system
default, or Redis on the PostgreSQL leg of CI), carries out work the site enqueues."""

from datetime import UTC, datetime

import pytest

from datarank_site.celery import app as celery_app
from papers.models import CorpusEntry, Work
from scoring.models import PaperScore, ScoringRun
from scoring.tasks import rescore_corpus_task
from tests.worker import start_worker, stop_worker, wait_for


@pytest.fixture
def worker(transactional_db):
    celery_app.control.purge()
    process = start_worker()
    yield process
    stop_worker(process)


def test_a_worker_process_runs_a_rescore_enqueued_by_the_site(worker):
    now = datetime.now(UTC)
    for number, citations in ((1, 10), (2, 3)):
        work = Work.objects.create(id=number, title=f"Dataset {number}", cited_by_count=citations, fetched_at=now)
        CorpusEntry.objects.create(work=work, check_passed=True, confidence=0.9, included=True, checked_at=now)

    rescore_corpus_task.delay()

    wait_for(lambda: ScoringRun.objects.filter(status="succeeded").exists(), seconds=90, process=worker)
    run = ScoringRun.objects.current()
    assert run.papers_scored == 2
    assert list(PaperScore.objects.filter(run=run).order_by("rank").values_list("work_id", flat=True)) == [1, 2]


@pytest.mark.redis
def test_the_broker_on_this_leg_is_a_live_redis():
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1)
        assert broker.transport.driver_type == "redis"
