"""The site's URLs plus the page benchmark's minimal view (bench/settings.py)."""

from django.urls import include, path

from bench.views import minimal

urlpatterns = [
    path("bench/minimal/<int:number>/", minimal, name="bench_minimal"),
    path("", include("datarank_site.urls")),
]
