"""SQLite: a `manage.py rescore` SIGKILLed halfway through writing its scores publishes nothing —
the previous run stays current, its scores and every page exactly as before — and blocks
nothing: the kernel let go of the dead run's lock file, so the very next `manage.py rescore`
takes the run as abandoned at once and gives the scores an uninterrupted run gives."""

import os
import signal
import sqlite3
import time
from collections.abc import Iterator

import pytest
from django.db import connection

from scoring.models import ScoringRun
from scoring.services import rescore_corpus, run_is_live
from tests.site.test_rescore_kill import (
    NEW_DAMPING,
    PAUSE_AT,
    assert_nothing_published,
    assert_rescored_as_if_uninterrupted,
    make_corpus,
    page_bodies,
    scores_of,
)
from tests.worker import start_command, wait_for

pytestmark = pytest.mark.sqlite

# SQLite has no lock for a trigger to wait on, so the paused write spins instead: a count over
# STALL_ROWS³ rows, hours of work, cut short by the kill.
STALL_ROWS = 3_000


def stall_score_write() -> None:
    """Stalls every rescore from now on at the score of W{PAUSE_AT}, the scores before it written
    in the same transaction."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE stall_rows (n INTEGER)")
        cursor.executemany("INSERT INTO stall_rows VALUES (%s)", [(n,) for n in range(STALL_ROWS)])
        cursor.execute(
            f"CREATE TRIGGER stall_score_write BEFORE INSERT ON scoring_paperscore WHEN NEW.work_id = {PAUSE_AT}"
            " BEGIN SELECT count(*) FROM stall_rows a, stall_rows b, stall_rows c; END"
        )


def unstall_score_write() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS stall_score_write")
        cursor.execute("DROP TABLE IF EXISTS stall_rows")


@pytest.fixture
def corpus(transactional_db) -> Iterator[None]:
    make_corpus()
    yield
    unstall_score_write()


def writing() -> bool:
    """Whether a rescore is in its score write: its run is claimed (the claim committed) and the
    database's one write lock is taken."""
    if not ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).exists():
        return False
    probe = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        probe.rollback()
        return False
    finally:
        probe.close()


def test_the_next_manage_py_rescore_runs_at_once_after_one_is_killed_mid_write(corpus):
    previous = rescore_corpus()
    scores, pages = scores_of(previous), page_bodies()

    stall_score_write()
    first = start_command("rescore", "--damping", str(NEW_DAMPING))
    wait_for(writing, seconds=60, process=first)
    # The rows before W{PAUSE_AT} take microseconds: past this, the write is at the stall.
    time.sleep(0.2)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    killed = assert_nothing_published(previous, scores, pages)
    # The kernel drops a process's flock with the process.
    assert not run_is_live(killed.pk)

    unstall_score_write()
    second = start_command("rescore", "--damping", str(NEW_DAMPING))
    output, _ = second.communicate(timeout=60)

    assert second.returncode == 0, output
    assert_rescored_as_if_uninterrupted(killed)
    assert page_bodies() != pages
