"""The fake OpenAlex answers as the real one did in the recorded responses."""

import json

import pytest
import requests

from tests.conftest import API_DIR
from tests.fake_openalex.app import RECORDED, Fault, synthetic_work


def recorded(name: str) -> dict:
    return json.loads((API_DIR / name).read_text())


def get(fake, path: str, **params: str) -> requests.Response:
    return requests.get(f"{fake.url}{path}", params=params, timeout=5, allow_redirects=False)


@pytest.mark.parametrize(
    ("filter", "page"),
    [
        ("cites:W3046863325|W3045921891", "snowball_citers_cites_W3046863325_or_W3045921891.json"),
        ("openalex:W3045921891|W3046863325", "snowball_seeds_W3045921891_W3046863325.json"),
        ("cited_by:W3046863325|W3045921891", "snowball_references_cited_by_W3046863325_or_W3045921891.json"),
    ],
)
def test_it_answers_the_recorded_list_calls_with_the_recorded_works(fake_openalex, filter, page):
    real = recorded(page)

    answer = get(fake_openalex, "/works", filter=filter, **{"per-page": "200", "cursor": "*"}).json()

    assert {work["id"] for work in answer["results"]} == {work["id"] for work in real["results"]}
    assert answer["meta"]["count"] == real["meta"]["count"]
    assert answer["meta"].keys() >= real["meta"].keys()
    assert answer["meta"]["page"] is None
    assert answer["meta"]["next_cursor"]


def test_its_default_order_is_the_recorded_one(fake_openalex):
    real = recorded("snowball_citers_cites_W3046863325_or_W3045921891.json")

    answer = get(fake_openalex, "/works", filter="cites:W3046863325", cursor="*").json()

    assert [work["id"] for work in answer["results"]] == [work["id"] for work in real["results"]]


def test_a_cursor_walks_every_result_then_ends_with_an_empty_page(fake_openalex):
    fake_openalex.add_works([synthetic_work(1), *(synthetic_work(100 + n, cites=[1]) for n in range(5))])
    seen, cursor = [], "*"
    while cursor:
        meta_and_results = get(fake_openalex, "/works", filter="cites:W1", per_page="2", cursor=cursor).json()
        seen += [work["id"] for work in meta_and_results["results"]]
        cursor = meta_and_results["meta"]["next_cursor"]

    assert sorted(seen) == [f"https://openalex.org/W{100 + n}" for n in range(5)]
    assert meta_and_results["results"] == []


def test_it_sorts_by_citations_with_ties_by_id(fake_openalex):
    fake_openalex.add_works(
        [synthetic_work(1), *(synthetic_work(n, cites=[1], cited_by_count=c) for n, c in [(30, 5), (20, 5), (10, 9)])]
    )

    answer = get(fake_openalex, "/works", filter="cites:W1", sort="cited_by_count:desc").json()

    assert [work["id"][21:] for work in answer["results"]] == ["W10", "W20", "W30"]


@pytest.mark.parametrize("spelling", ["per_page", "per-page"])
def test_it_allows_200_a_page_and_no_more(fake_openalex, spelling):
    assert get(fake_openalex, "/works", filter="type:article", **{spelling: "200"}).status_code == 200
    assert get(fake_openalex, "/works", filter="type:article", **{spelling: "201"}).status_code == 400


def test_a_bad_filter_gets_the_real_400_body(fake_openalex):
    answer = get(fake_openalex, "/works", filter="DOESNTEXIST:1")

    assert answer.status_code == 400
    assert answer.json() == RECORDED["filter"]


@pytest.mark.parametrize("field", ["DOESNTEXIST", "primary_location.source"])
def test_a_bad_or_nested_select_gets_the_real_400_body(fake_openalex, field):
    answer = get(fake_openalex, "/works/W3046863325", select=field)

    assert answer.status_code == 400
    assert answer.json()["message"] == field + RECORDED["select"]["message"].removeprefix("DOESNTEXIST")


def test_select_keeps_only_the_fields_asked_for(fake_openalex):
    answer = get(fake_openalex, "/works", filter="openalex:W3046863325", select="id,cited_by_count").json()

    assert answer["results"] == [{"id": "https://openalex.org/W3046863325", "cited_by_count": 5}]


def test_xpac_works_are_hidden_unless_asked_for(fake_openalex):
    fake_openalex.add_works([synthetic_work(1), synthetic_work(2, cites=[1], is_xpac=True)])

    assert get(fake_openalex, "/works", filter="cites:W1").json()["meta"]["count"] == 0
    assert get(fake_openalex, "/works", filter="cites:W1", include_xpac="true").json()["meta"]["count"] == 1


def test_it_requires_the_key_when_told_with_the_real_401_body(fake_openalex):
    fake_openalex.require_key = True

    refused = get(fake_openalex, "/works", filter="type:article")

    assert refused.status_code == 401
    assert refused.json() == {"error": "Invalid or missing API key", "message": "API key not found"}
    assert get(fake_openalex, "/works", filter="type:article", api_key="test-key").status_code == 200


def test_list_calls_count_the_budget_down_and_singletons_are_free(fake_openalex):
    first = get(fake_openalex, "/works", filter="type:article")
    single = get(fake_openalex, "/works/W3046863325")
    second = get(fake_openalex, "/works", filter="type:article")

    assert [r.headers["X-RateLimit-Remaining"] for r in (first, single, second)] == ["9999", "9999", "9998"]
    assert first.headers["X-RateLimit-Limit"] == "10000"
    assert single.headers["X-RateLimit-Credits-Used"] == "0"


def test_a_spent_budget_answers_429_insufficient_budget(fake_openalex):
    fake_openalex.remaining = 0

    answer = get(fake_openalex, "/works", filter="type:article")

    assert answer.status_code == 429
    assert answer.json()["message"].startswith("Insufficient budget")
    assert answer.headers["Retry-After"] == answer.headers["X-RateLimit-Reset"]


def test_a_merged_work_redirects_to_its_new_id(fake_openalex):
    fake_openalex.merge(5, 3046863325)

    answer = get(fake_openalex, "/works/W5", api_key="test-key")

    assert answer.status_code == 301
    assert answer.headers["Location"] == f"{fake_openalex.url}/works/W3046863325?api_key=test-key"


def test_an_unknown_work_is_404_json(fake_openalex):
    answer = get(fake_openalex, "/works/W999")

    assert answer.status_code == 404
    assert answer.json()["message"] == "Work W999 not found"


def test_faults_are_served_in_order_to_matching_requests_only(fake_openalex):
    fake_openalex.inject(Fault.server_error(503), path="cites:", times=2)

    assert get(fake_openalex, "/works/W3046863325").status_code == 200
    assert get(fake_openalex, "/works", filter="cites:W3046863325").status_code == 503
    assert get(fake_openalex, "/works", filter="cites:W3046863325").status_code == 503
    assert get(fake_openalex, "/works", filter="cites:W3046863325").status_code == 200
    assert [entry.status for entry in fake_openalex.log] == [200, 503, 503, 200]
