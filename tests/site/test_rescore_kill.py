"""PostgreSQL: a rescore SIGKILLed halfway through writing its scores publishes nothing — the
previous run stays current, its scores and every page exactly as before — and blocks nothing:
the server let go of the dead run's advisory lock, so the very next rescore (`manage.py
rescore`, or the task Redis hands to another worker) takes the run as abandoned at once and
gives the scores an uninterrupted run gives."""

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client

from scoring.models import SCORE_FIELDS, PaperScore, ScoringRun
from scoring.services import ABANDONED, rescore_corpus, run_is_live
from scoring.tasks import rescore_corpus_task
from tests.scoring.test_rescore import cites, work
from tests.worker import start_command, start_worker, stop_worker, wait_for

pytestmark = pytest.mark.postgres

PAPERS = 40
# The run is stopped at this paper's score, the scores before it written (papers are scored by id).
PAUSE_AT = 10 * (PAPERS // 2)
# The same data under another damping: every score the stopped run would publish differs.
NEW_DAMPING = 0.5
# Seconds before Redis hands an unacknowledged task to another worker, for the workers started here.
VISIBILITY_TIMEOUT = 3
# The advisory lock the paused score write waits for (no run's lock: those take two keys).
PAUSE_KEY = 7_357
PAGES = ("/", "/papers/W10/", f"/papers/W{PAUSE_AT}/", "/search/?q=Work")


def make_corpus() -> None:
    """PAPERS corpus papers (W10, W20, …), each cited by a few of twenty citers."""
    papers = [work(10 * n, cited_by_count=n, corpus=True) for n in range(1, PAPERS + 1)]
    for n in range(1, 21):
        citer = work(10_000 + n, cited_by_count=3 * n, referenced_works_count=n)
        cites(citer, *papers[n - 1 :: 7])


def page_bodies() -> dict[str, bytes]:
    client = Client()
    bodies = {}
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        # Pages carry nothing per response (no CSP nonce): they must match byte for byte.
        bodies[url] = response.content
    return bodies


def scores_of(run: ScoringRun) -> list[tuple]:
    return list(PaperScore.objects.filter(run=run).order_by("work_id").values_list("work_id", *SCORE_FIELDS))


def raw_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


@contextmanager
def score_write_paused() -> Iterator[psycopg.Connection]:
    """Stops every rescore at the score of W{PAUSE_AT}, the scores before it written in the same
    INSERT: a trigger makes that row wait for an advisory lock held here. Yields the holding
    connection; leaving the block lets the waiting writes go on (the trigger passes from then on)."""
    with raw_connection() as pauser:
        pauser.execute(
            "CREATE OR REPLACE FUNCTION pause_score_write() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN PERFORM pg_advisory_xact_lock_shared({PAUSE_KEY}); RETURN NEW; END $$"
        )
        pauser.execute(
            "CREATE OR REPLACE TRIGGER pause_score_write BEFORE INSERT ON scoring_paperscore FOR EACH ROW"
            f" WHEN (NEW.work_id = {PAUSE_AT}) EXECUTE FUNCTION pause_score_write()"
        )
        pauser.execute("SELECT pg_advisory_lock(%s)", (PAUSE_KEY,))
        try:
            yield pauser
        finally:
            pauser.execute("SELECT pg_advisory_unlock(%s)", (PAUSE_KEY,))


def paused(observer: psycopg.Connection) -> bool:
    """Whether some session's score write waits at W{PAUSE_AT}."""
    row = observer.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND objid = %s AND NOT granted",
        (PAUSE_KEY,),
    ).fetchone()
    return row[0] > 0


@pytest.fixture
def corpus(transactional_db) -> Iterator[None]:
    make_corpus()
    yield
    with raw_connection() as cleaner:
        # DROP waits for the dead run's session, which ends once it finds its client gone.
        cleaner.execute("SET lock_timeout = '30s'")
        cleaner.execute("DROP TRIGGER IF EXISTS pause_score_write ON scoring_paperscore")
        cleaner.execute("DROP FUNCTION IF EXISTS pause_score_write()")


def killed_mid_write(process, pauser: psycopg.Connection) -> float:
    """SIGKILLs `process` once its score write is paused; returns the time of death."""
    wait_for(lambda: paused(pauser), seconds=60, process=process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return time.monotonic()


def assert_nothing_published(previous: ScoringRun, scores: list[tuple], pages: dict[str, bytes]) -> ScoringRun:
    """The run that was killed: still "running", with no score; the previous run as it was."""
    killed = ScoringRun.objects.exclude(pk=previous.pk).get()
    assert killed.status == ScoringRun.Status.RUNNING
    assert not PaperScore.objects.filter(run=killed).exists()
    assert ScoringRun.objects.current() == previous
    assert scores_of(previous) == scores
    assert page_bodies() == pages
    return killed


def assert_rescored_as_if_uninterrupted(killed: ScoringRun) -> ScoringRun:
    """The killed run abandoned, and the run after it current, with an uninterrupted run's scores."""
    killed.refresh_from_db()
    assert (killed.status, killed.error) == (ScoringRun.Status.FAILED, ABANDONED)
    current = ScoringRun.objects.current()
    assert current.pk > killed.pk
    assert current.damping == NEW_DAMPING
    uninterrupted = rescore_corpus(damping=NEW_DAMPING)
    assert scores_of(current) == scores_of(uninterrupted)
    return current


def test_the_next_manage_py_rescore_runs_at_once_after_one_is_killed_mid_write(corpus):
    previous = rescore_corpus()
    scores, pages = scores_of(previous), page_bodies()

    with score_write_paused() as pauser:
        first = start_command("rescore", "--damping", str(NEW_DAMPING))
        killed_mid_write(first, pauser)
    killed = assert_nothing_published(previous, scores, pages)
    # The server ends the dead process's idle lock connection as soon as its socket closes.
    deadline = time.monotonic() + 5
    while run_is_live(killed.pk) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not run_is_live(killed.pk)

    second = start_command("rescore", "--damping", str(NEW_DAMPING))
    output, _ = second.communicate(timeout=60)

    assert second.returncode == 0, output
    assert "Scoring run" in output
    assert_rescored_as_if_uninterrupted(killed)
    assert page_bodies() != pages


@pytest.fixture
def workers(corpus) -> Iterator:
    """Starts rescoring workers with a short visibility timeout; stops them after."""
    # A database of its own: no task left over from another test may be redelivered into this one.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    env = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "DATARANK_DAMPING": str(NEW_DAMPING)}
    started = []

    def start():
        started.append(start_worker(env=env))
        return started[-1]

    yield start
    for process in started:
        stop_worker(process)


@pytest.mark.redis
def test_the_task_redelivered_after_its_worker_is_killed_mid_write_rescores_at_once(workers):
    previous = rescore_corpus()
    scores, pages = scores_of(previous), page_bodies()

    with score_write_paused() as pauser:
        first = workers()
        rescore_corpus_task.delay()
        killed_at = killed_mid_write(first, pauser)
    killed = assert_nothing_published(previous, scores, pages)

    # No second task: the one the dead worker held comes back once the visibility timeout passes.
    second = workers()
    wait_for(lambda: ScoringRun.objects.current() != previous, seconds=30, process=second)

    current = assert_rescored_as_if_uninterrupted(killed)
    # Done before the timeout could hand the task out once more, and long before the hour's cutoff.
    assert (current.finished_at - current.started_at).total_seconds() < VISIBILITY_TIMEOUT
    assert time.monotonic() - killed_at < 30
    assert ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).count() == 3
    assert page_bodies() != pages
