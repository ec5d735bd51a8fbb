"""GET /healthz, for a load balancer or a monitor: the database and the broker, and the last
refresh run."""

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from datarank_site.celery import app as celery_app
from papers.models import RefreshRun

# The broker check gives up after this many seconds: a health check that hangs is no check.
BROKER_TIMEOUT = 2


def healthz(request: HttpRequest) -> JsonResponse:
    """For a load balancer or a monitor: 200 when the database and the broker answer, 503 when
    either does not; the last refresh run is shown but never makes the site unhealthy."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    last = RefreshRun.objects.order_by("-started_at").first() if checks["database"] == "ok" else None
    healthy = all(result == "ok" for result in checks.values())
    body = {
        **checks,
        "last_refresh": None
        if last is None
        else {
            "status": last.status,
            "started_at": last.started_at,
            "finished_at": last.finished_at,
            "resumes_at": last.resumes_at,
            "papers_done": last.papers_done,
            "papers_total": last.papers_total,
        },
        "status": "ok" if healthy else "degraded",
    }
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"error: {exc}"
    return "ok"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT) as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception as exc:  # a broker can fail in many transport-specific ways; all mean "down"
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"
