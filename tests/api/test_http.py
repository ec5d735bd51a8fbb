"""What every answer under /api/ gets: ETag, Last-Modified and 304s (a paper's from the key its
page is cached under), public caching for an hour, CORS for GET, a per-client rate limit
answered with 429 and Retry-After, and JSON errors — never an HTML page — whatever went wrong."""

import pytest
from django.test import Client, override_settings
from django.utils.http import http_date

from datarank_site.api import views
from scoring.services import rescore_corpus
from tests.api.conftest import RANKED, assert_conforms, evaluate
from tests.factories import make_work

pytestmark = pytest.mark.django_db

PAPER_URL = f"/api/v1/papers/W{RANKED}"


# --- caching ---


def test_answers_may_be_kept_by_anyone_for_an_hour_and_carry_validators(world, client):
    response = client.get(PAPER_URL)
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"]


def test_a_paper_the_client_holds_is_a_304_without_building_it(world, client, openapi, django_assert_max_num_queries):
    etag = client.get(PAPER_URL)["ETag"]
    client.get("/api/v1/runs/current")
    # The rate-limit counter and the page version: nothing of the paper is read.
    with django_assert_max_num_queries(13):
        response = client.get(PAPER_URL, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert_conforms(openapi, response, "/api/v1/papers/{key}", "get")
    assert (response["ETag"], response["Cache-Control"]) == (etag, "public, max-age=3600")


def test_if_modified_since_is_answered_too(world, client):
    last_modified = client.get(PAPER_URL)["Last-Modified"]
    assert client.get(PAPER_URL, headers={"If-Modified-Since": last_modified}).status_code == 304


def test_a_new_run_or_a_new_fair_evaluation_is_a_new_etag(world, client):
    first = client.get(PAPER_URL)["ETag"]
    rescore_corpus()
    second = client.get(PAPER_URL, headers={"If-None-Match": first})
    assert second.status_code == 200
    evaluate(make_work(600, corpus=True), raw=10.0)
    third = client.get(PAPER_URL, headers={"If-None-Match": second["ETag"]})
    assert third.status_code == 200
    assert len({first, second["ETag"], third["ETag"]}) == 3


def test_the_citers_have_their_own_etag_per_page(world, client):
    first = client.get(f"{PAPER_URL}/citers?limit=5")
    other = client.get(f"{PAPER_URL}/citers?limit=6")
    assert first["ETag"] != other["ETag"] != client.get(PAPER_URL)["ETag"]
    assert client.get(f"{PAPER_URL}/citers?limit=5", headers={"If-None-Match": first["ETag"]}).status_code == 304


def test_other_answers_are_validated_by_their_bytes(world, client):
    response = client.get("/api/v1/ranking")
    assert response["Cache-Control"] == "public, max-age=3600"
    assert client.get("/api/v1/ranking", headers={"If-None-Match": response["ETag"]}).status_code == 304


def test_head_is_answered_as_get_without_the_body(world, client):
    response = client.head(PAPER_URL)
    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == client.get(PAPER_URL)["ETag"]


# --- CORS ---


def test_any_origin_may_read_an_answer(world, client):
    response = client.get(PAPER_URL, headers={"Origin": "https://example.org"})
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]


def test_a_preflight_is_answered_for_get(world, client):
    response = client.options(
        PAPER_URL,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "If-None-Match" in response["Access-Control-Allow-Headers"]


def test_errors_are_readable_across_origins_too(world, client):
    assert client.get("/api/v1/papers/W999")["Access-Control-Allow-Origin"] == "*"


def test_the_pages_are_not_opened_to_other_origins(world, client):
    assert not client.get(f"/papers/W{RANKED}/").has_header("Access-Control-Allow-Origin")


# --- the rate limit ---


@override_settings(DATARANK_API_RATE="3/m")
def test_a_client_past_its_rate_gets_a_429_with_retry_after(world, client, openapi):
    for _ in range(3):
        assert client.get(PAPER_URL).status_code == 200
    response = client.get(PAPER_URL)
    assert response.status_code == 429
    assert_conforms(openapi, response, "/api/v1/papers/{key}", "get")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"] == "rate_limited"
    assert response.json()["detail"].startswith("More than 3 requests per m from your address: try again in ")
    assert response["Cache-Control"] == "no-store"
    assert response["Access-Control-Allow-Origin"] == "*"
    # Another address has its own count.
    assert Client(REMOTE_ADDR="192.0.2.7").get(PAPER_URL).status_code == 200


@override_settings(DATARANK_API_RATE="3/m", DATARANK_TRUSTED_PROXY_HOPS=1)
def test_behind_a_proxy_the_client_is_the_address_the_proxy_saw(world):
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(3):
        proxy.get(PAPER_URL, headers={"X-Forwarded-For": "198.51.100.1"})
    assert proxy.get(PAPER_URL, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert proxy.get(PAPER_URL, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200


def test_the_rate_is_a_setting_that_refuses_nonsense(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from datarank_site.settings import env_rate

    monkeypatch.setenv("DATARANK_API_RATE", "1000/h")
    assert env_rate("DATARANK_API_RATE", "60/m") == "1000/h"
    monkeypatch.setenv("DATARANK_API_RATE", "lots")
    with pytest.raises(ImproperlyConfigured, match="DATARANK_API_RATE='lots' is not a rate such as 60/m"):
        env_rate("DATARANK_API_RATE", "60/m")


# --- errors ---


@pytest.mark.parametrize(
    "url",
    ["/api/v1/nothing-here", "/api/nothing", "/api/v1/", "/api/v1/runs/1/", "/api/v1/runs/current/"],
)
def test_an_unknown_api_url_is_a_json_404(world, client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def test_a_method_not_allowed_is_a_json_405(world, client):
    response = client.delete(PAPER_URL)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "method_not_allowed", "detail": "DELETE is not allowed here: use GET."}
    assert client.get("/api/v1/papers/batch").json()["detail"] == "GET is not allowed here: use POST."


def test_a_parameter_of_the_wrong_type_is_a_json_400(world, client):
    response = client.get(f"{PAPER_URL}/citers?limit=0")
    assert response.status_code == 400
    assert response.json() == {"error": "bad_request", "detail": "limit: Input should be greater than or equal to 1"}


def test_a_bug_is_a_json_500(world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.answers, "papers_data", broken)
    response = Client(raise_request_exception=False).get(PAPER_URL)
    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "detail": "Something went wrong on our side; it has been logged.",
    }


def test_a_request_refused_before_any_view_is_a_json_400(world, client):
    response = client.get(PAPER_URL, headers={"Cookie": "x=" + "y" * 9000})
    assert response.status_code == 400
    assert response.json() == {"error": "bad_request", "detail": "The request cannot be read."}


def test_the_last_modified_is_when_the_version_was_first_answered(world, client, monkeypatch):
    monkeypatch.setattr("datarank_site.api.http.time.time", lambda: 1_700_000_000)
    assert client.get(PAPER_URL)["Last-Modified"] == http_date(1_700_000_000)
    monkeypatch.setattr("datarank_site.api.http.time.time", lambda: 1_700_000_500)
    assert client.get(PAPER_URL)["Last-Modified"] == http_date(1_700_000_000)
