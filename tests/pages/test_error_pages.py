"""Custom error pages: they render with DEBUG off, and the 400 and 500 pages need no context."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.template.loader import render_to_string
from django.urls import include, path

pytestmark = pytest.mark.django_db


def broken_view(request):
    raise RuntimeError("the view broke")


def suspicious_view(request):
    raise SuspiciousOperation("bad input")


# This module doubles as a URLconf so the tests can reach views that fail.
urlpatterns = [
    path("boom/", broken_view),
    path("suspicious/", suspicious_view),
    path("", include("datarank_site.pages.urls")),
]


def test_an_unknown_url_gets_the_custom_404_page(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html
    assert "There is no page at <code>/no/such/page/</code>" in html
    assert 'href="/"' in html


def test_the_404_page_escapes_the_path_it_shows(client):
    response = client.get("/<script>alert(1)</script>/")

    assert response.status_code == 404
    assert "<script>alert(1)" not in response.content.decode()


@pytest.mark.urls(__name__)
def test_an_unhandled_exception_gets_the_custom_500_page(client):
    client.raise_request_exception = False

    response = client.get("/boom/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "the view broke" not in html


def test_the_500_page_renders_without_any_context_or_request():
    html = render_to_string("500.html")

    assert "Something went wrong on our side" in html
    assert "<script" not in html


@pytest.mark.urls(__name__)
def test_a_suspicious_request_gets_the_custom_400_page(client):
    response = client.get("/suspicious/")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Bad request" in html
    assert "bad input" not in html


def test_the_400_page_renders_without_a_request():
    assert "The request could not be understood." in render_to_string("400.html")


# Requests that are themselves what is wrong. The error page must not read them again.
SITE_HOST = "datarank.example.org"
TOO_MANY_PARAMETERS = "&".join(f"p{number}=1" for number in range(1_001))


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [SITE_HOST]


def assert_the_400_page(response) -> None:
    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>Bad request</h1>" in html and "The request could not be understood." in html


def test_a_host_not_in_allowed_hosts_gets_the_400_page(client, production):
    response = client.get("/", HTTP_HOST="evil.example")

    assert_the_400_page(response)
    assert "evil.example" not in response.content.decode()


# Pages that read the parameters, and a 404 of a view (base.html shows the search box's `q`).
@pytest.mark.parametrize("path", ["/search/", "/ranking/", "/papers/W1/"])
def test_more_than_1000_query_parameters_get_the_400_page(client, production, path):
    assert_the_400_page(client.get(f"{path}?{TOO_MANY_PARAMETERS}", HTTP_HOST=SITE_HOST))


def test_an_unknown_url_with_more_than_1000_query_parameters_is_still_a_plain_404(client, production):
    response = client.get(f"/no/such/page/?{TOO_MANY_PARAMETERS}", HTTP_HOST=SITE_HOST)

    assert response.status_code == 404
    assert "There is no page at <code>/no/such/page/</code>" in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/admin/login/"])
def test_an_over_long_cookie_gets_the_400_page(client, production, path):
    client.cookies["sessionid"] = "x" * 10_000

    assert_the_400_page(client.get(path, HTTP_HOST=SITE_HOST))


def test_cookies_of_the_size_browsers_send_are_fine(client, production):
    client.cookies["sessionid"] = "x" * 4_000

    assert client.get("/", HTTP_HOST=SITE_HOST).status_code == 200


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_a_malformed_multipart_post_gets_the_400_page(client, production, content_type):
    body = b'--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nadmin'

    assert_the_400_page(client.post("/admin/login/", body, content_type=content_type, HTTP_HOST=SITE_HOST))


def test_the_503_page_renders_without_any_context_or_request():
    html = render_to_string("503.html")

    assert "DataRank is unavailable for a moment" in html
    assert "<script" not in html and "{%" not in html


# Under `make run` DEBUG is on, and Django answers a URL that resolves to nothing with its
# technical 404 page: the last URL pattern resolves everything, so the site's own page shows.
def test_an_unknown_url_renders_the_sites_404_even_in_debug(client, settings):
    settings.DEBUG = True

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html and "There is no page at <code>/no/such/page/</code>" in html
    assert "Django tried these URL patterns" not in html and "urlconf" not in html.lower()


def test_a_view_404_still_renders_the_sites_page_in_debug(client, settings):
    settings.DEBUG = True

    response = client.get("/papers/W1/")

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()


@pytest.mark.parametrize("debug", [True, False])
def test_a_missing_slash_still_redirects_to_the_page_and_an_unknown_one_is_a_404(client, settings, debug):
    settings.DEBUG = debug

    response = client.get("/search?q=ocean")
    assert response.status_code == 301 and response["Location"] == "/search/?q=ocean"
    assert client.get("/about/methodology").status_code == 301
    assert client.get("/no-such-page").status_code == 404


def test_a_post_to_an_unknown_url_is_a_404_not_a_csrf_failure(settings):
    from django.test import Client

    settings.DEBUG = True
    response = Client(enforce_csrf_checks=True).post("/no/such/page/", {"a": "1"})

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()


def test_the_admin_keeps_its_own_urls(client):
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin").status_code == 301


def test_favicon_ico_leads_to_the_sites_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"
    assert 'rel="icon" href="/static/favicon.svg" type="image/svg+xml"' in client.get("/").content.decode()
