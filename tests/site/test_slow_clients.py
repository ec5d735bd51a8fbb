"""Slow clients never hold a Django thread: the production server, as docs/operations.md gives
it (`python -m datarank_site.serve`, waitress), started for real on a free loopback port against
the test database, keeps answering while 20 sockets send their headers a byte a second.

Under 3 gunicorn sync workers each such socket held a worker until the worker was killed for its
timeout (30 s): a probe waited 32 s behind 3 such sockets and 205 s behind 20. waitress reads
whole requests in its event loop, so the sockets hold only connections. The server runs in
production mode behind a pretend TLS proxy (the probes send X-Forwarded-Proto: https), so the
redirect to https must not fire either."""

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from scoring.models import ScoringRun
from tests.conftest import API_DIR
from tests.worker import worker_database_url

ROOT = Path(__file__).resolve().parents[2]
SLOW_SOCKETS = 20
THREADS = 3  # as many as the gunicorn workers that 3 slow sockets were enough to block
# A probe answers in milliseconds; behind a slow socket holding a thread it waited 30 s and more.
ANSWER_WITHIN = 5.0
PROBE_ROUNDS = 3
TRICKLED_HEADER = b"X-Slow: "
# Production settings, but static files named as they are (no collectstatic manifest to build).
SETTINGS = """from datarank_site.settings import *  # noqa: F403
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, *, timeout: float) -> tuple[int, bytes, float]:
    """Status, body and seconds from sending the request to the last byte of the response."""
    started = time.monotonic()
    connection = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "localhost", "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, body, time.monotonic() - started


@pytest.fixture
def paper_path(transactional_db) -> str:
    """The sample records loaded and scored, committed where the server's process can read them."""
    call_command("load_openalex", *sorted(API_DIR.glob("*.json")), corpus="all", stdout=StringIO(), stderr=StringIO())
    call_command("rescore", stdout=StringIO())
    top = ScoringRun.objects.current().scores.order_by("rank").first()
    return f"/papers/W{top.work_id}/"


@pytest.fixture
def server(paper_path, tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "slow_clients_settings.py").write_text(SETTINGS + f"STATIC_ROOT = {str(tmp_path / 'static')!r}\n")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "slow_clients_settings",
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DATARANK_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost",
        "SECURE_HSTS_SECONDS": "0",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "THREADS": str(THREADS),
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "datarank_site.serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"the server died:\n{log.read_text()}"
            try:
                if get(port, "/robots.txt", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"nothing served within 30 s:\n{log.read_text()}"
            time.sleep(0.2)
        yield port, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def still_open_and_unanswered(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        sock.recv(1)  # returns b"" if the server closed it, bytes if it answered: either way, not held
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_twenty_slow_header_sockets_leave_healthz_and_a_paper_page_answering_promptly(server, paper_path):
    port, log = server
    slow: list[socket.socket] = []
    stop = threading.Event()

    def trickle() -> None:
        # One more header byte a second on every socket ("X-Slow: aaa…"), the header never finished.
        sent = 0
        while not stop.wait(1.0):
            byte = TRICKLED_HEADER[sent : sent + 1] or b"a"
            sent += 1
            for sock in slow:
                with contextlib.suppress(OSError):  # a closed socket is checked for below
                    sock.send(byte)

    # Each page once before: what is measured is waiting behind slow sockets, not a cold start.
    for path in ("/healthz", paper_path):
        assert get(port, path, timeout=30)[0] == 200
    trickler = threading.Thread(target=trickle, daemon=True)
    try:
        for _ in range(SLOW_SOCKETS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            slow.append(sock)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        trickler.start()
        time.sleep(2)  # every socket accepted and a couple of bytes into its header

        timings, paper_pages = [], []
        for _ in range(PROBE_ROUNDS):
            for path in ("/healthz", paper_path):
                status, body, seconds = get(port, path, timeout=10)
                timings.append((path, status, round(seconds, 3)))
                if path == paper_path:
                    paper_pages.append(body)
            time.sleep(1)
        print(f"probe times with {SLOW_SOCKETS} slow sockets open: {timings}")

        assert all(status == 200 for _, status, _ in timings), f"{timings}\n{log.read_text()}"
        assert all(seconds < ANSWER_WITHIN for _, _, seconds in timings), timings
        assert all(b"DataRank" in page for page in paper_pages)
        # The sockets were held open all along, mid-header, not shed to make room.
        assert all(still_open_and_unanswered(sock) for sock in slow)
    finally:
        stop.set()
        if trickler.is_alive():
            trickler.join(timeout=5)
        for sock in slow:
            sock.close()
