"""A build_index process killed with SIGKILL — in a stage, and while publishing, with its
transaction open and written to — leaves the site's current run and every table as they were,
and the next build resumes from the stages the killed one finished, marks it abandoned and
publishes. The kills are timed by the build's own log lines ("stage …: started"), and the
publishing one by the database: the child's transaction holds written rows (PostgreSQL: its
backend has a transaction id; SQLite: it holds the write lock)."""

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from papers.models import Authorship, Citation, CorpusEntry, Work
from scoring.models import PaperScore, ScoringRun, SnapshotBuild
from tests.conftest import GEOSCIENCE_ARABIA, SNAPSHOT
from tests.papers.openalex.test_snapshot import write_manifest

ROOT = Path(__file__).resolve().parents[2]
# Long enough for any stage of these small snapshots, short enough to fail fast when stuck.
WAIT_SECONDS = 120

# transaction=True: the killed child and the test share committed rows, in the test database.
pytestmark = pytest.mark.django_db(transaction=True)


def snapshot(root: Path, *files: Path) -> Path:
    """A works folder with one part per file (in the layout OpenAlex publishes) and its manifest."""
    works = root / "works"
    for number, source in enumerate(files, start=1):
        part = works / f"updated_date=2026-01-0{number}" / "part_000.gz"
        part.parent.mkdir(parents=True)
        part.symlink_to(source)
    write_manifest(works)
    return works


def child_environment() -> dict:
    """This process's environment with DATABASE_URL naming the test database it uses."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
        if db["PASSWORD"]:
            url = url.replace("@", f":{db['PASSWORD']}@", 1)
    else:
        url = f"sqlite:///{name}"
    return {**os.environ, "DATABASE_URL": url, "DATARANK_VAR_DIR": str(settings.VAR_DIR)}


class Child:
    """`manage.py build_index` in a child process, its log lines read as they come."""

    def __init__(self, works: Path, workdir: Path) -> None:
        command = [sys.executable, str(ROOT / "manage.py"), "build_index", str(works)]
        command += ["--workdir", str(workdir), "--threads", "1"]
        self.process = subprocess.Popen(
            command, env=child_environment(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line is None:
                pytest.fail(f"the build ended before {text!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return
        pytest.fail(f"no {text!r} within {WAIT_SECONDS} s:\n{''.join(self.seen)}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT_SECONDS)
        assert self.process.returncode == -signal.SIGKILL


def writing_in_open_transaction() -> bool:
    """Whether another connection to the test database holds an open transaction that wrote."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL",
                [name],
            )
            return cursor.fetchone()[0] > 0
    # The site's SQLite transactions begin IMMEDIATE: an open one holds the write lock.
    probe = sqlite3.connect(name, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return False
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    finally:
        probe.close()


def site_state() -> dict:
    """What the site shows and holds: the current run and every table the build writes."""
    current = ScoringRun.objects.current()
    return {
        "current": (current.pk, current.papers_scored) if current else None,
        "runs": list(ScoringRun.objects.order_by("pk").values_list("pk", "status")),
        **{model.__name__: model.objects.count() for model in (Work, Citation, CorpusEntry, Authorship, PaperScore)},
    }


@pytest.fixture
def site(tmp_path) -> dict:
    """A site whose current run a first build published: the geosciencearabia works."""
    call_command(
        "build_index",
        str(snapshot(tmp_path / "first", GEOSCIENCE_ARABIA)),
        workdir=str(tmp_path / "first-work"),
        threads=1,
        stdout=StringIO(),
        stderr=StringIO(),
    )
    state = site_state()
    assert state["current"] is not None
    return state


def resume(works: Path, workdir: Path) -> SnapshotBuild:
    call_command("build_index", str(works), workdir=str(workdir), threads=1, stdout=StringIO(), stderr=StringIO())
    return SnapshotBuild.objects.latest("pk")


@pytest.mark.parametrize(
    ("stage", "finished_before"), [("extract parts", []), ("corpus_links", ["extract parts", "works", "verdicts"])]
)
def test_a_build_killed_in_a_stage_leaves_the_site_as_it_was_and_the_next_resumes(
    site, tmp_path, stage, finished_before
):
    works, workdir = snapshot(tmp_path / "second", GEOSCIENCE_ARABIA, SNAPSHOT), tmp_path / "second-work"
    child = Child(works, workdir)
    child.wait_for(f"stage {stage}: started")
    child.kill()

    # Killed inside the stage: its output was never marked done.
    marker = "works.parquet.done" if stage == "extract parts" else f"{stage}.parquet.done"
    assert not (workdir / marker).exists()
    assert site_state() == site
    killed = SnapshotBuild.objects.latest("pk")
    assert killed.status == SnapshotBuild.Status.RUNNING

    resumed = resume(works, workdir)
    assert resumed.status == SnapshotBuild.Status.SUCCEEDED
    killed.refresh_from_db()
    assert killed.status == SnapshotBuild.Status.ABANDONED
    skipped = {entry["name"] for entry in resumed.stages if entry["skipped"]}
    assert skipped == set(finished_before)
    current = ScoringRun.objects.current()
    assert current is not None and current.pk == resumed.run_id and current.pk != site["current"][0]
    assert current.papers_scored > site["current"][1]


def test_a_build_killed_while_publishing_leaves_the_site_as_it_was_and_the_next_resumes(site, tmp_path):
    works, workdir = snapshot(tmp_path / "second", GEOSCIENCE_ARABIA, SNAPSHOT), tmp_path / "second-work"
    child = Child(works, workdir)
    child.wait_for("stage publish: started")
    deadline = time.monotonic() + WAIT_SECONDS
    while not writing_in_open_transaction():
        assert child.process.poll() is None, "the build ended before its publishing transaction was seen"
        assert time.monotonic() < deadline, "no publishing transaction seen"
        time.sleep(0.002)
    child.kill()

    assert site_state() == site

    resumed = resume(works, workdir)
    assert resumed.status == SnapshotBuild.Status.SUCCEEDED
    skipped = {entry["name"] for entry in resumed.stages if entry["skipped"]}
    assert skipped == {"extract parts", "works", "verdicts", "corpus_links", "engine_papers", "engine_links"}
    current = ScoringRun.objects.current()
    assert current is not None and current.pk == resumed.run_id != site["current"][0]
