"""The benchmarks' view of the server's own time: how long Django took over a request, from the
first middleware in to the response coming back out, as a Server-Timing header (milliseconds).
Waitress keeps no access log with times, so bench/load.py reads this instead."""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTiming:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return response
