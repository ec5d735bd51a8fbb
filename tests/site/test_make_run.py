"""`make run`, as the README gives it, builds the bundled sample through build_index and serves
its real papers with a worker beside it."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture
def make_run(tmp_path):
    port = free_port()
    log = tmp_path / "make-run.log"
    # The embedded default: no database or broker server named.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    # The worker's FAIR evaluation asks DataCite and doi.org: here, a port nothing listens on.
    closed = f"http://127.0.0.1:{free_port()}"
    services = {"DATACITE_API_URL": closed, "DOI_RA_URL": f"{closed}/ra", "OPENALEX_API_URL": closed}
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=ROOT,
            env={**env, **services, "DATARANK_VAR_DIR": str(tmp_path / "var")},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # As from a terminal: a suite started in the background (`… &` in a script) ignores
            # SIGINT, and every process make starts would inherit that and outlive Ctrl-C.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    yield f"http://127.0.0.1:{port}", log
    # Ctrl-C, as a user stops it: the whole foreground group gets SIGINT.
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)
    assert group_is_gone(process.pid, seconds=30), f"processes outlived make run:\n{log.read_text()}"


def group_is_gone(pgid: int, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    os.killpg(pgid, signal.SIGKILL)
    return False


def test_make_run_serves_the_home_page_and_a_sample_paper_page_with_a_worker(make_run):
    base, log = make_run
    deadline = time.monotonic() + 300
    while True:
        try:
            status, home = get(base + "/")
            break
        except OSError:
            assert time.monotonic() < deadline, f"nothing served within 300 s:\n{log.read_text()}"
            time.sleep(1)
    assert status == 200
    paper_path = re.search(r'href="(/papers/W\d+/)"', home).group(1)
    status, paper = get(base + paper_path)
    assert status == 200
    assert "DataRank" in paper

    while "ready." not in log.read_text():
        assert time.monotonic() < deadline, f"the Celery worker never became ready:\n{log.read_text()}"
        time.sleep(1)
    # The sample's snapshot went in through build_index, recorded as build 1.
    assert "Building the index from the sample snapshot" in log.read_text()
    assert "Build 1 recorded" in log.read_text()
