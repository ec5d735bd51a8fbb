"""A rescore whose worker is SIGKILLed in the middle of writing its scores publishes nothing:
the previous run stays current, every page reads exactly as before, and once the dead run is
taken as abandoned a new worker completes a fresh run."""

import os
import re
import signal
import time

import psycopg
import pytest
from django.db import connection
from django.test import Client

from datarank_site.celery import app as celery_app
from scoring.models import PaperScore, ScoringRun
from scoring.services import ABANDONED, rescore_corpus
from scoring.tasks import rescore_corpus_task
from tests.scoring.test_rescore import cites, work
from tests.worker import start_worker, stop_worker, wait_for

# The test holds a PostgreSQL table lock to stop the run mid-write; SQLite has no such lock
# that would leave the run's own first writes free.
pytestmark = pytest.mark.postgres

STALE_AFTER_SECONDS = 2
NEW_DAMPING = "0.5"
NONCE = re.compile(rb'nonce="[^"]*"')
PAGES = ("/", "/papers/W10/", "/papers/W20/", "/search/?q=Work")


def page_bodies() -> dict[str, bytes]:
    client = Client()
    bodies = {}
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        # The CSP nonce is new on every response; everything else must match byte for byte.
        bodies[url] = NONCE.sub(b'nonce=""', response.content)
    return bodies


def raw_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params)


def waiting_for_lock(observer: psycopg.Connection) -> bool:
    """Whether some session waits for a lock on the score table: the run, stopped mid-write."""
    row = observer.execute(
        "SELECT count(*) FROM pg_locks WHERE relation = 'scoring_paperscore'::regclass AND NOT granted"
    ).fetchone()
    return row[0] > 0


@pytest.fixture
def workers(transactional_db):
    celery_app.control.purge()
    started = []

    def start(**env):
        started.append(start_worker(env=env))
        return started[-1]

    yield start
    for process in started:
        stop_worker(process)


def test_a_rescore_killed_mid_write_leaves_the_previous_run_current_and_pages_unchanged(workers):
    papers = [work(10, cited_by_count=50, corpus=True), work(20, cited_by_count=20, corpus=True)]
    cites(work(100, cited_by_count=10, referenced_works_count=1), papers[1])
    previous = rescore_corpus()
    before = page_bodies()

    with raw_connection() as blocker, raw_connection() as observer:
        observer.autocommit = True
        # Lets the run claim its slot and read the corpus, but not write a single score.
        blocker.execute("LOCK TABLE scoring_paperscore IN SHARE ROW EXCLUSIVE MODE")
        # The same data under another damping: every score the run would publish differs.
        first = workers(DATARANK_DAMPING=NEW_DAMPING)
        rescore_corpus_task.delay()
        wait_for(lambda: waiting_for_lock(observer), seconds=60, process=first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        blocker.rollback()
        # The dead worker's session ends once it finds its client gone; its INSERT never commits.
        deadline = time.monotonic() + 30
        while waiting_for_lock(observer) and time.monotonic() < deadline:
            time.sleep(0.1)

    killed = ScoringRun.objects.exclude(pk=previous.pk).get()
    assert killed.status == ScoringRun.Status.RUNNING
    assert not PaperScore.objects.filter(run=killed).exists()
    assert ScoringRun.objects.current() == previous
    assert page_bodies() == before

    time.sleep(STALE_AFTER_SECONDS)
    second = workers(DATARANK_DAMPING=NEW_DAMPING, DATARANK_RESCORE_STALE_AFTER_SECONDS=str(STALE_AFTER_SECONDS))
    rescore_corpus_task.delay()
    wait_for(lambda: ScoringRun.objects.filter(status="succeeded").count() == 2, seconds=90, process=second)

    killed.refresh_from_db()
    assert (killed.status, killed.error) == (ScoringRun.Status.FAILED, ABANDONED)
    current = ScoringRun.objects.current()
    assert current not in (previous, killed)
    assert current.damping == float(NEW_DAMPING)
    assert page_bodies() != before
