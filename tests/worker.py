"""Real Celery workers and management commands in their own processes, on the test database
and the configured broker (the file-system default, or Redis on the PostgreSQL leg of CI)."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def worker_database_url() -> str:
    """The URL of the database this test session uses, for a worker in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(*, queues: str = "celery", env: dict[str, str] | None = None) -> subprocess.Popen:
    """A solo-pool worker consuming `queues`; `env` adds to the environment it inherits."""
    worker = ["-m", "celery", "-A", "datarank_site", "worker", "--pool=solo", "--loglevel=INFO", "-Q", queues]
    return _start(worker, env)


def start_command(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`manage.py *args` on the test database, as start_worker starts a worker."""
    return _start(["manage.py", *args], env)


def _start(args: list[str], env: dict[str, str] | None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    process.wait(timeout=30)


def wait_for(predicate: Callable[[], bool], *, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        assert process.poll() is None, f"the worker died:\n{process.stdout.read()}"
        time.sleep(0.25)
    process.terminate()
    pytest.fail(f"timed out after {seconds}s; the worker said:\n{process.communicate(timeout=30)[0]}")
