"""When the database's connections die or the database is down: the pool replaces dead
connections before a request sees them, and pages answer a plain 503 quickly instead of a 500."""

import time
import urllib.error
import urllib.request

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.utils import load_backend

from datarank_site.settings import check_pooled_connection, database_from_url

REQUESTS = 12
KILL_EVERY_BACKEND = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def terminate_every_backend() -> int:
    """From a connection of our own, as an operator or a failover would: every other backend of
    the test database goes, the pool's idle connections with them."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or None,
        autocommit=True,
    ) as admin:  # fmt: skip
        return admin.execute(KILL_EVERY_BACKEND).fetchone()[0]


@pytest.mark.postgres
def test_every_request_after_the_backends_are_terminated_answers_200(live_server):
    # The live server's request threads take a connection from the pool and give it back after
    # each request, as gunicorn's workers do; the test client would keep one connection instead.
    pool = connection.pool
    assert pool is not None
    assert settings.DATABASES["default"]["OPTIONS"]["pool"]["check"] is check_pooled_connection
    assert get(live_server.url + "/") == 200
    # This thread must hold no connection of its own when they are killed.
    connection.close()
    lost_before = pool.get_stats().get("connections_lost", 0)

    statuses, timings, killed = [], [], 0
    for _ in range(REQUESTS):
        killed += terminate_every_backend()
        started = time.monotonic()
        statuses.append(get(live_server.url + "/"))
        timings.append(time.monotonic() - started)

    assert statuses == [200] * REQUESTS
    # Not after psycopg_pool's backoff between failed checks (1 s for the second dead connection);
    # a request takes some milliseconds, so the bound leaves a loaded machine room.
    assert max(timings) < 0.9, timings
    # The connections really were killed under the pool, and its check threw them away.
    assert killed >= REQUESTS
    assert pool.get_stats().get("connections_lost", 0) - lost_before >= REQUESTS


@pytest.fixture
def database_down(settings, django_db_blocker):
    """The default database, configured as production configures it (pool and all), on a
    port nothing listens on. Its own alias keeps its pool apart from the real one."""
    settings.DEBUG = False
    real = connections["default"]
    down_settings = connections.configure_settings(
        {"default": database_from_url("postgres://datarank@127.0.0.1:1/datarank")}
    )
    down = load_backend(down_settings["default"]["ENGINE"]).DatabaseWrapper(down_settings["default"], alias="down")
    connections["default"] = down
    try:
        with django_db_blocker.unblock():
            yield down
    finally:
        connections["default"] = real
        down.close_pool()


def test_with_the_database_down_a_page_answers_the_503_page_without_waiting_long(client, database_down, caplog):
    client.raise_request_exception = False

    started = time.monotonic()
    response = client.get("/")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    # The pool gives up after DATABASE_POOL_TIMEOUT (1 s); psycopg_pool's own default is 30 s.
    assert elapsed < 10, elapsed
    html = response.content.decode()
    assert "DataRank is unavailable for a moment" in html
    assert "127.0.0.1" not in html and "OperationalError" not in html
    assert response["Retry-After"]
    # The pool gave up waiting; the log says so, with the traceback.
    assert "Service Unavailable: /" in caplog.text and "couldn't get a connection" in caplog.text


def test_with_the_database_down_healthz_answers_503_without_waiting_long(client, database_down, caplog):
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    # Each check gives up within CHECK_TIMEOUT (1 s); psycopg_pool's own default wait is 30 s.
    assert elapsed < 10, elapsed
    assert response.json() == {"database": "down", "broker": "ok", "last_refresh": None, "status": "degraded"}
    # What went wrong is in the log, for the operator, not in the answer.
    logged = [record.getMessage() for record in caplog.records if record.name == "datarank_site.health"]
    assert any("the database is down: PoolTimeout" in message for message in logged), logged
