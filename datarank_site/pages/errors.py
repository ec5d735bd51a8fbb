"""What a page view raises instead of returning a response its caller must unpack: NotFound (a
404 that says what is missing) and Redirect. PageErrorsMiddleware renders them, the same whether
DEBUG is on or off (Django's own Http404 page would show its debug page instead)."""

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render


class NotFound(Http404):
    """`correction_url`, for a work we hold outside the corpus, is where a visitor suggests it;
    `editor_classified` says an editor's override, not the check, keeps it out."""

    def __init__(
        self, message: str, *, openalex_url: str = "", correction_url: str = "", editor_classified: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.openalex_url = openalex_url
        self.correction_url = correction_url
        self.editor_classified = editor_classified


class Redirect(Exception):
    def __init__(self, url: str, *, permanent: bool = False) -> None:
        super().__init__(url)
        self.url = url
        self.permanent = permanent


class PageErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            context = {
                "message": exception.message,
                "openalex_url": exception.openalex_url,
                "correction_url": exception.correction_url,
                "editor_classified": exception.editor_classified,
            }
            return render(request, "404.html", context, status=404)
        if isinstance(exception, Redirect):
            return redirect(exception.url, permanent=exception.permanent)
        return None
