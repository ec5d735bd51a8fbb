"""A real Celery worker, in its own process, on the configured broker (the file-system
default, or Redis on the PostgreSQL leg of CI), carries out work the site enqueues."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from datarank_site.celery import app as celery_app
from papers.models import CorpusEntry, Work
from scoring.models import PaperScore, ScoringRun
from scoring.tasks import rescore_corpus_task

ROOT = Path(__file__).resolve().parents[2]


def worker_database_url() -> str:
    """The URL of the database this test session uses, for a worker in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db):
    celery_app.control.purge()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "datarank_site", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": worker_database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def wait_for(predicate, *, seconds: float, process: subprocess.Popen):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        assert process.poll() is None, f"the worker died:\n{process.stdout.read()}"
        time.sleep(0.25)
    process.terminate()
    pytest.fail(f"timed out after {seconds}s; the worker said:\n{process.communicate(timeout=30)[0]}")


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
