from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import Resolver404, path, re_path, resolve
from django.utils.http import escape_leading_slashes
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt

from datarank_site import errors
from datarank_site.pages import corrections, researchers, views
from datarank_site.pages.sitemaps import SITEMAPS


def favicon(request: HttpRequest) -> HttpResponse:
    # Not permanent: the static URL carries a content hash in production and changes with the icon.
    response = HttpResponseRedirect(static("favicon.svg"))
    response["Cache-Control"] = "max-age=86400"
    return response


@csrf_exempt
@no_append_slash
def not_found(request: HttpRequest, url: str) -> HttpResponse:
    """The 404 of a URL no view answers, rendered as datarank_site.errors renders every 404. It
    appends a missing slash as CommonMiddleware would, which a URL that resolves cannot have
    done for it: `/search` goes to `/search/` when that is a page."""
    if settings.APPEND_SLASH and not url.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            match = resolve(f"{request.path_info}/", getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        if match is not None and getattr(match.func, "should_append_slash", True):
            return HttpResponsePermanentRedirect(escape_leading_slashes(request.get_full_path(force_append_slash=True)))
    return errors.page_not_found(request, None)


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
    # Researchers (OpenAlex author ids) and institutions, each case accepted as for papers.
    path("researchers/", researchers.researchers, name="researchers"),
    re_path(r"^researchers/(?P<key>[Aa][0-9]{1,19})/$", researchers.researcher, name="researcher"),
    re_path(r"^researchers/(?P<key>[Aa][0-9]{1,19})/data\.json$", researchers.researcher_data, name="researcher_data"),
    re_path(
        r"^researchers/(?P<key>[Aa][0-9]{1,19})/correction/$",
        corrections.researcher_correction,
        name="researcher-correction",
    ),
    path("institutions/", researchers.institutions, name="institutions"),
    re_path(r"^institutions/(?P<key>[Ii][0-9]{1,19})/$", researchers.institution, name="institution"),
    re_path(
        r"^institutions/(?P<key>[Ii][0-9]{1,19})/data\.json$", researchers.institution_data, name="institution_data"
    ),
    # Badges, the embed card (the one page other sites may frame) and the bulk dumps.
    re_path(r"^badges/(?P<key>[Ww][0-9]{1,19})\.svg$", views.badge_svg, name="badge_svg"),
    re_path(r"^badges/(?P<key>[Ww][0-9]{1,19})\.json$", views.badge_json, name="badge_json"),
    re_path(r"^badges/doi/(?P<doi>.+)\.(?P<kind>svg|json)$", views.doi_badge, name="doi_badge"),
    re_path(r"^embed/(?P<key>[Ww][0-9]{1,19})/$", views.embed, name="embed"),
    path("downloads/", views.downloads, name="downloads"),
    re_path(
        r"^downloads/files/(?P<folder>run-[0-9]{1,19})/(?P<name>[A-Za-z0-9.-]{1,80})$",
        views.download_file,
        name="download_file",
    ),
    path("doi/<path:doi>", views.doi, name="doi"),
    # Browsers ask for /favicon.ico whatever the page links: the icon is the SVG the pages link.
    path("favicon.ico", favicon, name="favicon"),
    # Last: any other URL gets the site's own 404 page, DEBUG on or off (Django's technical 404
    # answers only URLs that resolve to nothing, and this resolves everything).
    re_path(r"^(?P<url>.*)$", not_found, name="not_found"),
]
