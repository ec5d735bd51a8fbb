from django.contrib import admin
from django.urls import include, path

from datarank_site import health

admin.site.site_header = "DataRank administration"
admin.site.site_title = "DataRank admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("", include("datarank_site.pages.urls")),
]
