"""/api/v1/papers: a paper by id or DOI in any spelling, its citers, a batch — every figure from
the current run, every null with its reason, every answer as the OpenAPI document says."""

import math

import pytest

from datarank_site.api.schemas import MAX_BATCH
from papers.models import CorpusEntry
from scoring.fair.calibration import calibrated
from scoring.fair.metrics import METHOD_VERSION
from scoring.models import PaperScore
from scoring.services import rescore_corpus
from tests.api.conftest import CITER_ONLY, DOI, LATE, RANKED, UNCITED, evaluate, make_citers
from tests.factories import make_work

pytestmark = pytest.mark.django_db

PAPER = "/api/v1/papers/{key}"
BY_DOI = "/api/v1/papers"
CITERS = "/api/v1/papers/{key}/citers"
BATCH = "/api/v1/papers/batch"


def nulls(data: dict) -> dict[str, str]:
    return {item["field"]: item["reason"] for item in data["null_reasons"]}


def null_paths(data: dict, prefix: str = "") -> set[str]:
    found = set()
    for name, value in data.items():
        if value is None:
            found.add(prefix + name)
        elif isinstance(value, dict) and "null_reasons" not in value:
            found |= null_paths(value, f"{prefix}{name}.")
    return found


def test_a_paper_answers_the_figures_of_the_current_run(world, api_get):
    paper = api_get(f"/api/v1/papers/W{RANKED}", PAPER).json()
    score = PaperScore.objects.get(run=world, work_id=RANKED)
    assert paper["openalex_id"] == f"W{RANKED}"
    assert paper["doi"] == DOI
    assert paper["url"] == f"http://testserver/papers/W{RANKED}/"
    for name in ("datarank", "base_contribution", "network_contribution", "citing_works", "citers_with_signal",
                 "self_citations_excluded", "rank", "top_percent", "tier"):  # fmt: skip
        assert paper[name] == getattr(score, name), name
    assert (paper["citing_works"], paper["self_citations_excluded"]) == (30, 1)
    assert paper["run"] == {
        "id": world.id,
        "algorithm": world.algorithm,
        "status": "succeeded",
        "current": True,
        "damping": 0.85,
        "citer_cap": 200,
        "started_at": paper["run"]["started_at"],
        "finished_at": paper["run"]["finished_at"],
        "data_as_of": paper["run"]["data_as_of"],
        "papers_scored": 2,
        "papers_ranked": 1,
        "papers_not_ranked": 1,
        "null_reasons": [],
    }
    assert paper["display"]["tier"] == f"S{score.tier}"
    assert paper["display"]["top_percent"] == "top 100%"


def test_it_says_how_much_of_the_citation_network_we_hold(world, api_get):
    coverage = api_get(f"/api/v1/papers/W{RANKED}", PAPER).json()["coverage"]
    # 30 citers and one self-citation held, of 120 that OpenAlex counts: fewer than min(120, 200).
    assert coverage == {
        "cited_by_count": 120,
        "citers_held": 31,
        "citer_cap": 200,
        "cap_reached": False,
        "self_citations_excluded": 1,
        "citers_complete": False,
    }


def test_coverage_is_complete_at_the_cap_and_says_the_cap_was_reached(db, api_get):
    paper = make_work(1, corpus=True, cited_by_count=1000)
    make_citers(paper, 5)
    rescore_corpus(cap=4)
    coverage = api_get("/api/v1/papers/W1", PAPER).json()["coverage"]
    assert coverage | {"self_citations_excluded": None} == {
        "cited_by_count": 1000,
        "citers_held": 6,
        "citer_cap": 4,
        "cap_reached": True,
        "self_citations_excluded": None,
        "citers_complete": True,
    }


def test_it_gives_the_fair_score_calibrated_and_raw_and_whether_it_is_provisional(world, api_get):
    evaluate(make_work(600, corpus=True), raw=40.0)
    fair = api_get(f"/api/v1/papers/W{RANKED}", PAPER).json()["fair"]
    score, among = calibrated(60.0)
    assert fair | {"evaluated_at": None} == {
        "method_version": METHOD_VERSION,
        "current_method": True,
        "evaluated_at": None,
        "raw": 60.0,
        "calibrated": score,
        "calibrated_among": among,
        "provisional": True,
        "f": 60.0,
        "a": 60.0,
        "i": 60.0,
        "r": 60.0,
    }
    assert (score, among) == (100.0, 1)


def test_a_paper_not_ranked_has_null_ranks_each_with_its_reason(world, api_get):
    paper = api_get(f"/api/v1/papers/W{UNCITED}", PAPER).json()
    assert paper["datarank"] == 0.0
    assert paper["rank"] is paper["top_percent"] is paper["tier"] is paper["cohort_size"] is None
    reasons = nulls(paper)
    assert reasons["rank"].startswith("Not ranked yet: no citation with signal")
    assert reasons["fair"] == "This paper has not been evaluated for FAIR yet."
    assert set(reasons) == null_paths(paper)


def test_a_paper_the_run_did_not_score_says_so_for_every_figure(world, api_get):
    paper = api_get(f"/api/v1/papers/W{LATE}", PAPER).json()
    reasons = nulls(paper)
    assert paper["datarank"] is None
    assert (
        reasons["datarank"] == f"Scoring run {world.id} did not score this paper: it joined the corpus after the run."
    )
    assert reasons["doi"] == "OpenAlex records no DOI for this work."
    assert set(reasons) == null_paths(paper)


def test_every_null_of_every_paper_has_a_reason(world, api_get):
    for number in (RANKED, UNCITED, LATE):
        paper = api_get(f"/api/v1/papers/W{number}", PAPER).json()
        assert set(nulls(paper)) == null_paths(paper), number


@pytest.mark.parametrize(
    "key",
    [
        DOI,
        DOI.upper(),
        DOI.replace("/", "%2F"),
        f"doi:{DOI}",
        f"https://doi.org/{DOI}",
        # A proxy merged the // of the URL.
        f"https:/doi.org/{DOI}",
        f"w{RANKED}",
        f"https://openalex.org/W{RANKED}",
    ],
)
def test_a_paper_is_found_by_its_doi_or_id_in_any_spelling(world, api_get, key):
    assert api_get(f"/api/v1/papers/{key}", PAPER).json()["openalex_id"] == f"W{RANKED}"


@pytest.mark.parametrize("doi", [DOI, f"https://doi.org/{DOI}", f"https:/doi.org/{DOI}", "DOI:" + DOI.upper()])
def test_a_paper_is_found_by_the_doi_query_in_any_spelling(world, api_get, client, doi):
    response = client.get(BY_DOI, {"doi": doi})
    assert response.status_code == 200
    assert response.json()["openalex_id"] == f"W{RANKED}"


def test_the_doi_query_takes_only_dois(world, api_get):
    error = api_get(f"/api/v1/papers?doi=W{RANKED}", BY_DOI, status=400).json()
    assert error == {"error": "bad_request", "detail": f"“W{RANKED}” is not a DOI: a DOI looks like 10.1234/abc."}


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        ("W999", "We hold no work W999."),
        (
            f"W{CITER_ONLY}",
            f"W{CITER_ONLY} is in our database as a citing work but is not in the data-sharing corpus.",
        ),
        ("10.5555/nothing", "We hold no work with the DOI 10.5555/nothing."),
        ("lorem", "“lorem” is neither an OpenAlex work id (W…) nor a DOI (10.…)."),
        ("W99999999999999999999", "W99999999999999999999 is not a valid OpenAlex work id."),
    ],
)
def test_a_paper_we_cannot_answer_is_a_json_404_that_says_why(world, api_get, key, detail):
    assert api_get(f"/api/v1/papers/{key}", PAPER, status=404).json() == {"error": "not_found", "detail": detail}


def test_a_paper_taken_out_by_an_editor_says_so(world, api_get):
    CorpusEntry.objects.filter(work_id=UNCITED).update(override=CorpusEntry.Override.EXCLUDE)
    detail = api_get(f"/api/v1/papers/W{UNCITED}", PAPER, status=404).json()["detail"]
    assert (
        detail == f"W{UNCITED} is in our database but is not in the data-sharing corpus: an administrator took it out."
    )


# --- citers ---


def test_citers_come_in_cap_order_each_with_its_contribution(world, api_get):
    page = api_get(f"/api/v1/papers/W{RANKED}/citers?limit=200", CITERS).json()
    citers = page["results"]
    assert [c["position"] for c in citers] == list(range(1, 31))
    assert [c["cited_by_count"] for c in citers] == list(range(30, 0, -1))
    assert math.isclose(sum(c["contribution"] for c in citers), page["network_contribution"])
    assert page["network_contribution"] == PaperScore.objects.get(work_id=RANKED).network_contribution
    assert (page["citing_works"], page["self_citations_excluded"], page["next_cursor"]) == (30, 1, None)
    assert nulls(page) == {"next_cursor": "This is the last page."}
    assert all(set(nulls(c)) == {"doi", "venue"} for c in citers)


def test_citers_are_cursor_paged(world, api_get):
    seen, url = [], f"/api/v1/papers/W{RANKED}/citers?limit=12"
    while url:
        page = api_get(url, CITERS).json()
        seen += [citer["position"] for citer in page["results"]]
        url = page["next_cursor"] and f"/api/v1/papers/W{RANKED}/citers?limit=12&cursor={page['next_cursor']}"
    assert seen == list(range(1, 31))


def test_the_citers_route_is_matched_before_a_doi_with_slashes(world, api_get):
    page = api_get(f"/api/v1/papers/{DOI}/citers", CITERS).json()
    assert (page["openalex_id"], len(page["results"])) == (f"W{RANKED}", 30)


def test_a_cursor_not_ours_is_a_400(world, api_get):
    error = api_get(f"/api/v1/papers/W{RANKED}/citers?cursor=bogus", CITERS, status=400).json()
    assert error == {"error": "bad_request", "detail": "That cursor is not one this API gave: start again without it."}


# --- batch ---


def post_batch(client, ids):
    return client.post(BATCH, {"ids": ids}, content_type="application/json")


def test_a_batch_answers_each_id_in_its_place_and_reports_the_unknown_ones(world, client, openapi):
    from tests.api.conftest import assert_conforms

    response = post_batch(client, [DOI, "W999", f"W{UNCITED}", "nonsense", "10.5555/none", f"W{CITER_ONLY}"])
    assert response.status_code == 200
    assert_conforms(openapi, response, BATCH, "post")
    results = response.json()["results"]
    assert [item["id"] for item in results] == [
        DOI,
        "W999",
        f"W{UNCITED}",
        "nonsense",
        "10.5555/none",
        f"W{CITER_ONLY}",
    ]
    assert [item["paper"] and item["paper"]["openalex_id"] for item in results] == [
        f"W{RANKED}", None, f"W{UNCITED}", None, None, None
    ]  # fmt: skip
    assert [item["error"] for item in results if item["error"]] == [
        {"error": "not_found", "detail": "We hold no work W999."},
        {"error": "bad_request", "detail": "“nonsense” is neither an OpenAlex work id (W…) nor a DOI (10.…)."},
        {"error": "not_found", "detail": "We hold no work with the DOI 10.5555/none."},
        {
            "error": "not_found",
            "detail": f"W{CITER_ONLY} is in our database as a citing work but is not in the data-sharing corpus.",
        },
    ]
    assert nulls(results[1]) == {"paper": "There is no such paper: see error."}


def test_a_batch_gives_the_same_paper_as_the_paper_endpoint(world, client):
    single = client.get(f"/api/v1/papers/W{RANKED}").json()
    assert post_batch(client, [f"W{RANKED}"]).json()["results"][0]["paper"] == single


def test_a_batch_holds_at_most_100_ids(world, client, openapi):
    from tests.api.conftest import assert_conforms

    assert post_batch(client, [f"W{RANKED}"] * MAX_BATCH).status_code == 200
    response = post_batch(client, [f"W{RANKED}"] * (MAX_BATCH + 1))
    assert response.status_code == 400
    assert_conforms(openapi, response, BATCH, "post")
    assert response.json() == {
        "error": "bad_request",
        "detail": "ids: Value error, a batch holds at most 100 ids; this one has 101",
    }
    assert post_batch(client, []).status_code == 400


def test_a_batch_costs_the_same_queries_for_one_paper_or_many(world, client, django_assert_num_queries):
    for number in range(700, 720):
        evaluate(make_work(number, corpus=True, doi=f"10.5555/{number}"), raw=60.0)
    rescore_corpus()
    client.get("/api/v1/runs/current")  # the client's rate-limit counter exists from here on
    with django_assert_num_queries(BATCH_QUERIES):
        post_batch(client, [DOI])
    with django_assert_num_queries(BATCH_QUERIES):
        assert len(post_batch(client, [f"10.5555/{n}" for n in range(700, 720)]).json()["results"]) == 20


# --- queries ---

# The client's rate-limit counter in the "ratelimit" cache, a database table: django-ratelimit's
# add (count, savepoint, select, insert refused, rollback, release), then its incr (a read, then
# a set: count, savepoint, select, update, release).
RATE_LIMIT_QUERIES = 12
# The page version, the run and the paper, its citers counted, its FAIR evaluation and its calibration.
PAPER_QUERIES = RATE_LIMIT_QUERIES + 6
# No page version (a POST is not cached); the DOIs, the run, the papers, their citers counted and
# their FAIR evaluations, each for the whole batch at once, and a calibration per distinct raw
# FAIR score (one here).
BATCH_QUERIES = RATE_LIMIT_QUERIES + 6


def test_a_paper_costs_the_same_queries_however_many_citers_it_has(db, client, django_assert_num_queries):
    few, many = make_work(1, corpus=True, cited_by_count=10), make_work(2, corpus=True, cited_by_count=500)
    make_citers(few, 2, first=10_000)
    make_citers(many, 60, first=20_000)
    rescore_corpus()
    evaluate(few, raw=10.0)
    evaluate(many, raw=20.0)
    client.get("/api/v1/runs/current")  # the client's rate-limit counter exists from here on
    for number in (1, 2):
        with django_assert_num_queries(PAPER_QUERIES):
            assert client.get(f"/api/v1/papers/W{number}").status_code == 200
