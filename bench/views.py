"""The page benchmark's baseline: the least a page of ours can do — read one row and render a
tiny template — served through the same middleware as every other page."""

from django.http import Http404, HttpRequest, HttpResponse
from django.template import engines

from papers.models import Work

# Compiled once, as the site's file templates are by the cached loader in production.
MINIMAL = engines["django"].from_string(
    "<!doctype html><html lang=en><title>{{ work.title }}</title><h1>{{ work.title }}</h1>"
    "<p>{{ work.openalex_id }}</p></html>"
)


def minimal(request: HttpRequest, number: int) -> HttpResponse:
    try:
        work = Work.objects.only("id", "title").get(pk=number)
    except Work.DoesNotExist:
        raise Http404(f"No work W{number}") from None
    return HttpResponse(MINIMAL.render({"work": work}, request))
