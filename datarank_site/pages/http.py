"""The request the public pages' views are handed: an HttpRequest that HtmxMiddleware has given
its `htmx` (django-htmx's HtmxDetails), typed so that the views' `request.htmx` is checked."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
