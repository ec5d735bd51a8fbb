"""What every answer under /api/ gets, whatever view (or no view) made it: ApiMiddleware counts
the client against its rate limit, answers CORS preflights, turns any error page into JSON, and
gives GET answers their cache headers, ETag and 304. Paper endpoints validate against the key
their pages are cached under (page_cache.page_version), before any of the answer is built.

CORS is one fixed policy on one path prefix (any origin, GET and HEAD, no credentials), so it is
a few lines here rather than django-cors-headers, whose settings would apply site-wide and whose
options (origin lists, credentials) this policy has no use for."""

import hashlib
import json
import time
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag
from django_ratelimit.core import get_usage

from datarank_site.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from datarank_site.pages.clients import rate_limit_key
from datarank_site.pages.page_cache import code_stamp, page_version
from datarank_site.pages.paper import MAX_WORK_ID

PREFIX = "/api/"
RATE_GROUP = "api"
# Shared caches may keep an answer this long; a paper's ETag changes with what its page shows.
MAX_AGE = 3600
CORS_METHODS = "GET, HEAD, OPTIONS"
# What a script may send beside the safelisted headers (revalidation), and read beside the
# safelisted ones (Cache-Control, Content-Type, Last-Modified… are readable anyway).
CORS_REQUEST_HEADERS = "If-None-Match, If-Modified-Since"
CORS_EXPOSED_HEADERS = "ETag, Retry-After"
PREFLIGHT_MAX_AGE = 86400
# How long the first sighting of a paper's version is remembered as its Last-Modified.
SEEN_SECONDS = 7 * 24 * 3600
ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    412: "bad_request",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}
DETAILS = {
    400: "The request cannot be read.",
    500: "Something went wrong on our side; it has been logged.",
    503: f"The database cannot be reached just now; try again in {RETRY_AFTER_SECONDS} seconds.",
}


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(PREFIX)


def error_code(status: int) -> str:
    return ERROR_CODES.get(status, "bad_request" if status < 500 else "server_error")


def error_response(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"error": error_code(status), "detail": detail}, status=status)


class ApiMiddleware:
    """Put right after SecurityMiddleware: outside everything that can answer an error page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_api(request):
            return self.get_response(request)
        if request.method == "OPTIONS":
            # A preflight is the browser asking, not the client: it is not counted.
            response: HttpResponseBase = HttpResponse(status=204)
            response["Allow"] = CORS_METHODS
            response["Access-Control-Allow-Methods"] = CORS_METHODS
            response["Access-Control-Allow-Headers"] = CORS_REQUEST_HEADERS
            response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
            return cors(response)
        head = request.method == "HEAD"
        if head:
            # Answered as the GET it asks about, without the body.
            request.method = "GET"
        response = self.limited(request) or self.get_response(request)
        response = as_json_error(request, response)
        if request.method == "GET":
            response = cacheable(request, response)
            cors(response)
        if head and isinstance(response, HttpResponse):
            response.content = b""
        return response

    def limited(self, request: HttpRequest) -> HttpResponse | None:
        """The 429 when the client has spent its requests of the period; counts this one."""
        rate = settings.DATARANK_API_RATE
        try:
            usage = get_usage(request, group=RATE_GROUP, key=rate_limit_key, rate=rate, increment=True)
        except DATABASE_UNAVAILABLE:
            # The counters live in the database; without it no answer could be given anyway.
            response = error_response(503, DETAILS[503])
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        if usage is None or not usage["should_limit"]:
            return None
        wait = max(1, usage["time_left"])
        response = error_response(
            429, f"More than {rate.replace('/', ' requests per ')} from your address: try again in {wait} s."
        )
        response["Retry-After"] = str(wait)
        response["Cache-Control"] = "no-store"
        return response


def as_json_error(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """An error answered by anything but the API's views (Django's 404 and 500 pages, a 405 from
    ninja's dispatch, the 400 of a refused request) as the API's JSON error, keeping its headers."""
    status = response.status_code
    if status < 400 or response.get("Content-Type", "").startswith("application/json"):
        return response
    if status == 404:
        detail = f"No API endpoint at {quote(request.path)}: the endpoints are listed at /api/v1/docs."
    elif status == 405:
        detail = f"{request.method} is not allowed here: use {response.get('Allow', 'GET')}."
    else:
        detail = DETAILS.get(status) or HTTPStatus(status).phrase
    body = json.dumps({"error": error_code(status), "detail": detail}).encode()
    if not isinstance(response, HttpResponse):
        return error_response(status, detail)
    response.content = body
    response["Content-Type"] = "application/json"
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(body))
    return response


def cors(response: HttpResponseBase) -> HttpResponseBase:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
    return response


def cacheable(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """A successful GET answer as caches may keep it: the validators a paper view set from its
    version, or else a hash of the bytes; 304 when the client holds them."""
    if response.status_code not in (200, 304) or response.has_header("Cache-Control"):
        return response
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    validators = getattr(request, "api_validators", None)
    if validators is not None:
        etag, last_modified = validators
        response["ETag"] = etag
        response["Last-Modified"] = http_date(last_modified)
        return response
    if response.status_code != 200 or not isinstance(response, HttpResponse):
        return response
    etag = quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
    response["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response) or response


def paper_not_modified(request: HttpRequest, number: int, *, endpoint: str) -> HttpResponse | None:
    """The 304 for a paper answer the client holds, judged before anything of it is built: from
    the version the paper's page is cached under (its run, its own stamps, the FAIR calibration,
    the code), the endpoint and the full URL. None when the answer is to be built; a work that is
    no corpus paper has no version, and its 404 is the view's to explain."""
    version = page_version(number) if 0 < number <= MAX_WORK_ID else None
    if version is None:
        return None
    named = repr(("api-v1", code_stamp(), endpoint, request.build_absolute_uri(), version))
    etag = quote_etag(hashlib.sha256(named.encode()).hexdigest()[:32])
    # When this version was first answered: it never falls before a change the version sees.
    seen = f"api-seen:v1:{etag}"
    cache.add(seen, int(time.time()), SEEN_SECONDS)
    last_modified = cache.get(seen) or int(time.time())
    request.api_validators = (etag, last_modified)  # type: ignore[attr-defined]
    return get_conditional_response(request, etag=etag, last_modified=last_modified)
