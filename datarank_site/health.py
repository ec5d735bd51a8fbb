"""GET /healthz, for a load balancer or a monitor: the database and the broker, and the last
refresh run.

Anyone can ask, so the answer is status words and times only; why a check failed (an error
message, a host, a port) goes to the log. Each check gives up within CHECK_TIMEOUT, and the two
run side by side, so the answer comes within about a second whatever is down."""

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from datarank_site.celery import app as celery_app
from papers.models import RefreshRun

logger = logging.getLogger(__name__)

# Seconds a check may take: a health check that hangs is no check.
CHECK_TIMEOUT = 1.0
# What the broker's check may take beyond that (a connection made, then a reply that never comes).
GRACE = 0.2


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 when either does not; the last refresh
    run is shown but never makes the site unhealthy."""
    deadline = time.monotonic() + CHECK_TIMEOUT + GRACE
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        broker = executor.submit(_check_broker)
        checks = {"database": _check_database(), "broker": _result(broker, deadline)}
    finally:
        # A broker that answers nothing may keep its thread a little longer; the answer won't wait.
        executor.shutdown(wait=False)
    last = None
    if checks["database"] == "ok":
        try:
            last = _last_refresh()
        except DatabaseError as exc:  # it went between the check and the query
            logger.warning("healthz: the database is down: %s: %s", type(exc).__name__, exc)
            checks["database"] = "down"
    healthy = all(result == "ok" for result in checks.values())
    body = {**checks, "last_refresh": last, "status": "ok" if healthy else "degraded"}
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def _check_database() -> str:
    pool = getattr(connection, "pool", None)
    try:
        if pool is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        else:
            # Straight from the pool, to wait CHECK_TIMEOUT rather than the pool's own timeout.
            pool.open()
            with pool.connection(timeout=CHECK_TIMEOUT) as conn:
                conn.execute("SELECT 1")
    except Exception as exc:  # refused, timed out, dropped, misconfigured: all mean "down"
        logger.warning("healthz: the database is down: %s: %s", type(exc).__name__, exc)
        return "down"
    return "ok"


def _result(check: Future[str], deadline: float) -> str:
    try:
        return check.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        logger.warning("healthz: the broker did not answer within %.1f s", CHECK_TIMEOUT)
        return "down"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write(
            settings.CELERY_BROKER_URL,
            connect_timeout=CHECK_TIMEOUT,
            transport_options={"socket_timeout": CHECK_TIMEOUT},
        ) as broker:
            # One attempt: kombu's retries would sleep 2 s before the second. (celery-types has the
            # timeout an int; kombu hands it to retry_over_time, which takes any number of seconds.)
            broker.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT)  # type: ignore[arg-type]
    except Exception as exc:  # a broker can fail in many transport-specific ways; all mean "down"
        logger.warning("healthz: the broker is down: %s: %s", type(exc).__name__, exc)
        return "down"
    return "ok"


def _last_refresh() -> dict | None:
    last = RefreshRun.objects.only("status", "started_at", "finished_at").order_by("-started_at").first()
    if last is None:
        return None
    return {"status": last.status, "started_at": last.started_at, "finished_at": last.finished_at}
