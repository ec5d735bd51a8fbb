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


def test_it_shows_the_last_refresh_run(client):
    RefreshRun.objects.create(status=RefreshRun.Status.FAILED, papers_total=4, finished_at=timezone.now())
    RefreshRun.objects.create(
        status=RefreshRun.Status.SUCCEEDED, papers_total=3, papers_done=3, finished_at=timezone.now()
    )

    last = client.get("/healthz").json()["last_refresh"]

    assert last["status"] == "succeeded"
    assert (last["papers_done"], last["papers_total"]) == (3, 3)
    assert last["finished_at"] and last["started_at"]


def test_it_answers_503_quickly_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ")
    assert body["status"] == "degraded"
