from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, re_path

from datarank_site.pages import corrections, views
from datarank_site.pages.sitemaps import SITEMAPS

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("ranking/", views.ranking, name="ranking"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("sitemap.xml", sitemap_views.index, {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap"}, name="sitemaps"),
    path("sitemap-<section>.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    # Either case is accepted so that the view can redirect `w123` to the canonical `W123`;
    # 19 digits hold any 64-bit id, and longer keys are not ids at all.
    re_path(r"^papers/(?P<key>[Ww][0-9]{1,19})/$", views.paper, name="paper"),
    re_path(r"^papers/(?P<key>[Ww][0-9]{1,19})/citers\.csv$", views.paper_citers_csv, name="paper_citers_csv"),
    re_path(r"^papers/(?P<key>[Ww][0-9]{1,19})/data\.json$", views.paper_data, name="paper_data"),
    re_path(r"^papers/(?P<key>[Ww][0-9]{1,19})/fair/$", views.paper_fair, name="paper_fair"),
    re_path(r"^papers/(?P<key>[Ww][0-9]{1,19})/correction/$", corrections.correction, name="paper_correction"),
    path("about/methodology/", views.methodology, name="methodology"),
    path("doi/<path:doi>", views.doi, name="doi"),
]
