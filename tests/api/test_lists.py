"""/api/v1/search, /ranking and /runs: the site's search and ranking, cursor-paged, each page
read from one run."""

import pytest

from scoring.models import ScoringRun
from scoring.retention import fold_old_runs
from scoring.services import rescore_corpus
from tests.api.conftest import DOI, RANKED, UNCITED, make_citers
from tests.factories import make_work

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search"
RANKING = "/api/v1/ranking"


@pytest.fixture
def ranked_corpus(db) -> ScoringRun:
    """Twelve ranked papers in two subfields, 2010 to 2021, each cited more than the last."""
    for i in range(12):
        paper = make_work(
            100 + i,
            title=f"Seismic dataset {i}",
            corpus=True,
            cited_by_count=10 * (i + 1),
            publication_year=2010 + i,
            subfield_id=1908 if i % 2 else 2305,
        )
        make_citers(paper, 2, first=20_000 + 10 * i)
    return rescore_corpus()


def collect(get, url: str, path: str) -> list[str]:
    ids = []
    while url:
        page = get(url, path).json()
        ids += [paper["openalex_id"] for paper in page["results"]]
        url = page["next_cursor"] and f"{url.split('cursor=')[0].rstrip('&')}&cursor={page['next_cursor']}"
    return ids


# --- search ---


def test_search_finds_papers_by_title_with_their_figures(world, api_get):
    page = api_get(f"{SEARCH}?q=seismic", SEARCH).json()
    assert [paper["openalex_id"] for paper in page["results"]] == [f"W{RANKED}"]
    assert page["results"][0]["rank"] == 1
    assert page["run"]["id"] == world.id


@pytest.mark.parametrize("q", [DOI, f"https://doi.org/{DOI}", f"W{RANKED}"])
def test_search_for_an_identifier_finds_its_paper(world, api_get, q):
    assert [paper["openalex_id"] for paper in api_get(f"{SEARCH}?q={q}", SEARCH).json()["results"]] == [f"W{RANKED}"]


def test_search_is_cursor_paged_in_the_order_asked(ranked_corpus, api_get):
    ids = collect(api_get, f"{SEARCH}?q=seismic&sort=datarank&limit=5", SEARCH)
    assert ids == [f"W{100 + i}" for i in range(11, -1, -1)]


def test_search_filters_as_the_search_page_does(ranked_corpus, api_get):
    page = api_get(f"{SEARCH}?q=seismic&year_from=2019&year_to=2020&sort=year", SEARCH).json()
    assert [paper["publication_year"] for paper in page["results"]] == [2020, 2019]


def test_search_refuses_what_the_search_page_refuses(world, api_get):
    error = api_get(f"{SEARCH}?q=x&year_from=2020&year_to=2010", SEARCH, status=400).json()
    assert error == {"error": "bad_request", "detail": "The year range starts in 2020, after it ends in 2010."}
    assert api_get(SEARCH, SEARCH, status=400).json()["detail"] == "q: Field required"
    assert api_get(f"{SEARCH}?q=" + "x" * 301, SEARCH, status=400).json()["error"] == "bad_request"


def test_a_page_of_search_says_why_a_paper_has_no_rank(world, api_get):
    page = api_get(f"{SEARCH}?q=uncited", SEARCH).json()
    (paper,) = page["results"]
    assert paper["openalex_id"] == f"W{UNCITED}"
    reasons = {item["field"]: item["reason"] for item in paper["null_reasons"]}
    assert reasons["rank"].startswith("Not ranked yet")


# --- ranking ---


def test_the_ranking_is_cursor_paged_in_rank_order(ranked_corpus, api_get):
    assert collect(api_get, f"{RANKING}?limit=5", RANKING) == [f"W{100 + i}" for i in range(11, -1, -1)]


def test_the_ranking_pages_stay_on_the_run_they_started_on(ranked_corpus, api_get):
    first = api_get(f"{RANKING}?limit=5", RANKING).json()
    rescore_corpus()
    second = api_get(f"{RANKING}?limit=5&cursor={first['next_cursor']}", RANKING).json()
    assert second["run"]["id"] == ranked_corpus.id
    assert second["run"]["current"] is False
    assert [paper["rank"] for paper in second["results"]] == [6, 7, 8, 9, 10]


def test_a_cursor_on_a_folded_run_says_so(ranked_corpus, api_get, settings):
    first = api_get(f"{RANKING}?limit=5", RANKING).json()
    settings.DATARANK_SCORE_RUNS_KEPT = 2
    for _ in range(2):
        rescore_corpus()
    fold_old_runs()  # what follows each run's commit, which the test's transaction never reaches

    error = api_get(f"{RANKING}?limit=5&cursor={first['next_cursor']}", RANKING, status=400).json()

    assert error["detail"] == "That cursor's scoring run is no longer kept whole: start again without the cursor."


def test_the_ranking_filters_as_the_ranking_page_does(ranked_corpus, api_get):
    page = api_get(f"{RANKING}?subfield=1908&year_from=2015", RANKING).json()
    assert [paper["openalex_id"] for paper in page["results"]] == ["W111", "W109", "W107", "W105"]
    # S1 is the top 20% of twelve: k = 1 and 2.
    page = api_get(f"{RANKING}?tier=1", RANKING).json()
    assert [paper["openalex_id"] for paper in page["results"]] == ["W111", "W110"]
    error = api_get(f"{RANKING}?tier=9", RANKING, status=400).json()
    assert error["error"] == "bad_request"


def test_the_ranking_before_any_run_is_empty_and_says_why(db, api_get):
    page = api_get(RANKING, RANKING).json()
    assert (page["run"], page["results"], page["next_cursor"]) == (None, [], None)
    assert {item["field"] for item in page["null_reasons"]} == {"run", "next_cursor"}


# --- runs ---


def test_the_current_run_and_any_run_by_id(world, api_get):
    current = api_get("/api/v1/runs/current", "/api/v1/runs/current").json()
    assert (current["id"], current["current"], current["citer_cap"], current["damping"]) == (world.id, True, 200, 0.85)
    later = rescore_corpus()
    old = api_get(f"/api/v1/runs/{world.id}", "/api/v1/runs/{run_id}").json()
    assert (old["id"], old["current"]) == (world.id, False)
    assert api_get("/api/v1/runs/current", "/api/v1/runs/current").json()["id"] == later.id


def test_runs_that_do_not_exist_are_json_404s(db, api_get):
    assert api_get("/api/v1/runs/current", "/api/v1/runs/current", status=404).json() == {
        "error": "not_found",
        "detail": "Nothing has been scored yet.",
    }
    assert (
        api_get("/api/v1/runs/77", "/api/v1/runs/{run_id}", status=404).json()["detail"]
        == "There is no scoring run 77."
    )
