from django.urls import path, re_path

from papers import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    # Either case is accepted so that the view can redirect `w123` to the canonical `W123`;
    # 19 digits hold any 64-bit id, and longer keys are not ids at all.
    re_path(r"^papers/(?P<key>[Ww][0-9]{1,19})/$", views.paper, name="paper"),
    path("doi/<path:doi>", views.doi, name="doi"),
    path("healthz", views.healthz, name="healthz"),
]
