"""The site's error handlers (handler400, handler404 and handler500 in datarank_site/urls.py).

An error page is rendered from static text and its status alone, never from the request: the
request may be what is wrong (a Host not in ALLOWED_HOSTS raises again on build_absolute_uri,
1,001 query parameters raise again on request.GET), so the templates are rendered without it
and no context processor runs. A database that cannot be reached is not a bug of ours: its pages
answer a 503 that says to come back, and the details go to the log as for any 500. And a request
no browser would send (RequestLimitsMiddleware) gets the 400 page before anything reads it."""

import sys
from collections.abc import Callable
from urllib.parse import quote

from django.core.exceptions import BadRequest
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# The errors that mean the database cannot be reached: a refused or dropped connection, the pool's
# timeout (psycopg_pool.PoolTimeout, which Django wraps), a locked SQLite file. (SQLite says a
# missing table with OperationalError too: a 503 then, logged with its traceback all the same.)
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
# A browser sends no cookie over 4,096 bytes and ours are a few dozen: a longer Cookie header is
# garbage or an attack. 8,190 bytes is also where gunicorn (and nginx's 8k buffers) stop a header.
MAX_COOKIE_HEADER_BYTES = 8190


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponse(render_to_string("400.html"), status=400)


def page_not_found(request: HttpRequest, exception: Exception | None) -> HttpResponse:
    # The path is the one thing shown, quoted as Django's own handler does; reading it never raises.
    return HttpResponse(render_to_string("404.html", {"request_path": quote(request.path)}), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception (from a view, a middleware or a template).
    if isinstance(sys.exception(), DATABASE_UNAVAILABLE):
        return service_unavailable()
    return HttpResponse(render_to_string("500.html"), status=500)


def service_unavailable() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class RequestLimitsMiddleware:
    """Refuses, with the 400 page, what Django itself would accept but no browser sends."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        size = len(request.META.get("HTTP_COOKIE", ""))
        if size > MAX_COOKIE_HEADER_BYTES:
            raise BadRequest(f"A Cookie header of {size} bytes (at most {MAX_COOKIE_HEADER_BYTES})")
        return self.get_response(request)
