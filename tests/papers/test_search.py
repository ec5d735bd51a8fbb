"""Search as you type: htmx fragments, jumps by DOI or OpenAlex id, sorting and year filters."""

import pytest

from papers.models import Work
from tests.papers.test_views import make_run, make_score, make_work, text

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def vary(response) -> list[str]:
    return [header.strip().lower() for header in response.get("Vary", "").split(",")]


def titles_in_order(response, *titles: str) -> bool:
    page = text(response)
    return all(title in page for title in titles) and sorted(titles, key=page.index) == list(titles)


@pytest.fixture
def ocean(db):
    run = make_run(papers_scored=3)
    first = make_work(1, title="Ocean heat atlas", corpus=True, doi="10.5194/essd-1-1", publication_year=2012)
    second = make_work(2, title="Deep ocean temperatures", corpus=True, cited_by_count=900, publication_year=2020)
    third = make_work(3, title="Ocean", corpus=True, cited_by_count=5, publication_year=2016)
    make_score(run, first, rank=1, datarank=9.0)
    make_score(run, second, rank=2, datarank=5.0)
    make_score(run, third, rank=3, datarank=1.0)
    return run


# Fragments for htmx


def test_an_htmx_request_gets_only_the_results_fragment(client, ocean):
    response = client.get("/search/", {"q": "ocean"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<title>" not in html and 'id="search-q"' not in html
    assert "3 papers match “ocean”" in text(response) and 'href="/papers/W1/"' in html


def test_a_plain_request_gets_the_whole_page_around_the_same_results(client, ocean):
    response = client.get("/search/", {"q": "ocean"})

    html = response.content.decode()
    assert "<title>“ocean” — Search — DataRank</title>" in html and 'id="search-results"' in html
    assert "3 papers match “ocean”" in text(response)


@pytest.mark.parametrize("params", [{"q": "ocean"}, {"q": ""}, {"q": "a" * 301}, {"q": "W1"}])
def test_every_answer_varies_on_hx_request(client, ocean, params):
    assert "hx-request" in vary(client.get("/search/", params))
    assert "hx-request" in vary(client.get("/search/", params, **HTMX))


def test_an_empty_htmx_query_gets_the_prompt_fragment(client):
    response = client.get("/search/", {"q": ""}, **HTMX)

    assert "<html" not in response.content.decode()
    assert "Type one or more words from a paper's title" in text(response)


def test_both_search_boxes_search_as_you_type_and_still_submit_without_javascript(client):
    # Any page but home and search shows the header box; a 404 page will do.
    other = client.get("/doi/not-a-doi").content.decode()
    page = client.get("/search/").content.decode()

    for html, box in ((other, 'id="header-q"'), (page, 'id="search-q"')):
        tag = html[html.index(box) : html.index(">", html.index(box))]
        assert 'hx-get="/search/"' in tag and 'hx-push-url="true"' in tag
        assert 'hx-trigger="input changed delay:300ms, search"' in tag and "hx-target=" in tag
        assert 'action="/search/" method="get"' in html
    assert 'hx-target="#search-results"' in page and 'id="search-results"' in page


def test_the_fragment_takes_three_queries_for_a_page_of_results(client, django_assert_num_queries):
    run = make_run(papers_scored=30)
    for number in range(1, 31):
        work = make_work(number, title=f"Dataset {number}", corpus=True, publication_year=2000 + number)
        make_score(run, work, rank=number, datarank=1.0)
    params = {"q": "dataset", "sort": "citations", "year_from": "2001"}

    with django_assert_num_queries(3):
        response = client.get("/search/", params, **HTMX)
    assert "30 papers match" in text(response)


# Jumping to a paper by its identifier


@pytest.mark.parametrize(
    "query",
    [
        "10.5194/ESSD-1-1",
        "doi:10.5194/essd-1-1",
        "https://doi.org/10.5194/essd-1-1",
        "W1",
        "w1",
        "https://openalex.org/W1",
    ],
)
def test_a_doi_or_openalex_id_of_a_corpus_paper_redirects_to_it(client, ocean, query):
    response = client.get("/search/", {"q": query})

    assert response.status_code == 302 and response["Location"] == "/papers/W1/"


def test_an_htmx_request_for_an_identifier_gets_an_hx_redirect(client, ocean):
    response = client.get("/search/", {"q": "10.5194/essd-1-1"}, **HTMX)

    assert response.status_code == 200 and response["HX-Redirect"] == "/papers/W1/"
    assert "hx-request" in vary(response)


@pytest.mark.parametrize("query", ["10.9999/unknown", "W424242", f"W{2**64}"])
def test_an_identifier_we_do_not_hold_says_so_on_the_results_page(client, ocean, query):
    response = client.get("/search/", {"q": query})

    assert response.status_code == 200
    assert "We hold no corpus paper with that identifier" in text(response)


def test_an_identifier_of_a_work_outside_the_corpus_is_not_jumped_to(client, ocean):
    make_work(7, title="Citer", corpus=None, doi="10.1234/citer")

    response = client.get("/search/", {"q": "10.1234/citer"})

    assert response.status_code == 200 and "We hold no corpus paper with that identifier" in text(response)


# /doi/…


@pytest.mark.parametrize("path", ["/doi/10.5194/essd-1-1", "/doi/10.5194/ESSD-1-1", "/doi/doi:10.5194/essd-1-1"])
def test_the_doi_url_redirects_to_the_papers_page(client, ocean, path):
    response = client.get(path)

    assert response.status_code == 302 and response["Location"] == "/papers/W1/"


def test_the_doi_url_of_a_doi_we_do_not_hold_is_a_404_that_says_so(client, ocean):
    response = client.get("/doi/10.9999/Unknown")

    assert response.status_code == 404
    assert "We hold no corpus paper with the DOI 10.9999/unknown." in text(response)


def test_the_doi_url_of_something_that_is_not_a_doi_is_a_404_that_says_so(client):
    response = client.get("/doi/not-a-doi")

    assert response.status_code == 404 and "is not a DOI" in text(response)


# Sorting and filters


def test_relevance_puts_the_exact_title_first_then_datarank(client, ocean):
    assert titles_in_order(client.get("/search/", {"q": "ocean"}), "Ocean heat atlas", "Deep ocean temperatures")
    page = text(client.get("/search/", {"q": "ocean"}))
    assert page.index("Ocean Venue") < page.index("Ocean heat atlas")


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("datarank", ["Ocean heat atlas", "Deep ocean temperatures", "Ocean Venue"]),
        ("citations", ["Deep ocean temperatures", "Ocean Venue", "Ocean heat atlas"]),
        ("year", ["Deep ocean temperatures", "Ocean Venue", "Ocean heat atlas"]),
    ],
)
def test_results_can_be_sorted(client, ocean, sort, order):
    assert titles_in_order(client.get("/search/", {"q": "ocean", "sort": sort}), *order)


def test_a_year_range_keeps_papers_published_within_it(client, ocean):
    page = text(client.get("/search/", {"q": "ocean", "year_from": "2013", "year_to": "2016"}))

    assert "1 paper match" in page and "Ocean Venue unknown · 2016" in page


def test_pagination_links_keep_the_query_sort_and_years(client):
    for number in range(1, 31):
        make_work(number, title=f"Dataset {number}", corpus=True, publication_year=2000 + number % 5)

    html = client.get("/search/", {"q": "dataset", "sort": "year", "year_from": "2000"}).content.decode()

    assert 'href="/search/?q=dataset&amp;sort=year&amp;year_from=2000&amp;page=2"' in html
    assert '<option value="year" selected>' in html and 'value="2000"' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "random"}, "“random” is not a way to sort"),
        ({"year_from": "twenty"}, "From year must be a year such as 2015."),
        ({"year_to": "99999999999999999999"}, "To year must be a year between 1000 and 2999."),
        ({"year_from": "2020", "year_to": "2010"}, "The year range starts in 2020, after it ends in 2010."),
        ({"q": "x" * 10_000}, "A search can be at most 300 characters long (yours has 10000)"),
    ],
)
def test_invalid_parameters_get_a_400_page_with_a_clear_message(client, params, message):
    response = client.get("/search/", {"q": "ocean", **params})

    assert response.status_code == 400 and message in text(response)


@pytest.mark.parametrize(
    "query", ["<script>alert(1)</script>", "%", "'; DROP TABLE papers_work; --", "W1'; --", "10.1/<script>"]
)
def test_hostile_input_is_harmless_in_fragments_too(client, ocean, query):
    for headers in ({}, HTMX):
        response = client.get("/search/", {"q": query, "sort": "relevance"}, **headers)
        assert response.status_code == 200
        assert "<script>alert" not in response.content.decode() and "<script>" not in text(response)
    assert Work.objects.count() == 3
