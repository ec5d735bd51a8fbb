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
