from django.contrib import admin
from django.urls import include, path

from datarank_site import health

# Error pages from static text and the status, never from the request (datarank_site/errors.py).
handler400 = "datarank_site.errors.bad_request"
handler404 = "datarank_site.errors.page_not_found"
handler500 = "datarank_site.errors.server_error"

admin.site.site_header = "DataRank administration"
admin.site.site_title = "DataRank admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    # Before the pages: their catch-all would answer an HTML 404 for any API URL.
    path("api/", include("datarank_site.api.urls")),
    path("", include("datarank_site.pages.urls")),
]
