from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from datarank_site.api.http import error_response
from datarank_site.api.views import api


@csrf_exempt
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other URL under /api/: the API's JSON 404, never the site's page (nor its slash redirect)."""
    return error_response(404, f"No API endpoint at {request.path}: the endpoints are listed at /api/v1/docs.")


urlpatterns = [
    path("v1/", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found, name="api_not_found"),
]
