"""GET /healthz: what a load balancer or a monitor asks."""

import socket
import time

import pytest
from django.utils import timezone

from papers.models import RefreshRun

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_answers_200_when_the_database_and_the_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "last_refresh": None, "status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_it_shows_the_last_refresh_run_by_its_status_and_times(client):
    RefreshRun.objects.create(status=RefreshRun.Status.FAILED, papers_total=4, finished_at=timezone.now())
    RefreshRun.objects.create(
        status=RefreshRun.Status.SUCCEEDED, papers_total=3, papers_done=3, finished_at=timezone.now()
    )

    last = client.get("/healthz").json()["last_refresh"]

    assert set(last) == {"status", "started_at", "finished_at"}
    assert last["status"] == "succeeded"
    assert last["finished_at"] and last["started_at"]


def test_with_the_broker_unreachable_it_answers_503_promptly_with_status_words_only(client, settings, caplog):
    port = closed_port()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    # The broker check gives up within CHECK_TIMEOUT + GRACE (1.2 s); kombu's own retries would
    # wait far longer. The bound leaves a loaded machine room.
    assert elapsed < 10, elapsed
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "down", "last_refresh": None, "status": "degraded"}
    # Why is for the operator's log, not for whoever asks: no address, no error text.
    text = response.content.decode()
    assert str(port) not in text and "127.0.0.1" not in text and "rror" not in text
    assert any(str(port) in record.getMessage() for record in caplog.records if record.name == "datarank_site.health")
