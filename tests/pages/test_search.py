"""Search as you type: htmx fragments, jumps by DOI or OpenAlex id, sorting and year filters."""

import pytest

from papers.models import SearchEntry, Work
from tests.factories import make_run, make_score, make_work, text

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


def test_the_fragment_takes_a_fixed_number_of_queries_for_a_page_of_results(client, django_assert_num_queries):
    run = make_run(papers_scored=30)
    for number in range(1, 31):
        work = make_work(number, title=f"Dataset {number}", corpus=True, publication_year=2000 + number)
        make_score(run, work, rank=number, datarank=1.0, tier=1 + (number - 1) // 6)
    params = {"q": "dataset", "sort": "citations", "year_from": "2001", "tier": "1"}

    # The vocabulary (the words' corrections), the run, the researchers whose names match, the
    # first matches (every bucket and band in one query: four before, one per band and bucket),
    # the matches in the order asked, then the page's rows with their first authors (one query:
    # two before). On PostgreSQL the first matches once took three more, to run without workers.
    with django_assert_num_queries(6):
        response = client.get("/search/", params, **HTMX)
    assert "6 papers match" in text(response)


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


def test_relevance_orders_papers_holding_every_word_as_typed_by_datarank(client, ocean):
    page = client.get("/search/", {"q": "ocean"})

    assert titles_in_order(page, "Ocean heat atlas", "Deep ocean temperatures", "Ocean Venue")


def test_papers_the_run_did_not_rank_come_after_the_ranked_ones(client, ocean):
    make_score(ocean, make_work(4, title="Ocean floor", corpus=True), rank=None, datarank=0.0)
    make_work(5, title="Ocean tides", corpus=True)  # not scored yet: after the run's papers

    page = client.get("/search/", {"q": "ocean"})

    assert titles_in_order(page, "Ocean heat atlas", "Deep ocean", "Ocean Venue", "Ocean floor", "Ocean tides")


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


def test_an_htmx_search_pushes_a_clean_url_without_empty_fields(client, ocean):
    params = {"q": "ocean", "sort": "relevance", "year_from": "", "year_to": "", "tier": ""}

    response = client.get("/search/", params, **HTMX)

    assert response["HX-Push-Url"] == "/search/?q=ocean"
    pushed = client.get("/search/", {"q": "ocean", "sort": "year", "year_from": "2013", "page": "1"}, **HTMX)
    assert pushed["HX-Push-Url"] == "/search/?q=ocean&sort=year&year_from=2013"


def test_an_empty_htmx_search_pushes_the_bare_search_url(client):
    assert client.get("/search/", {"q": "", "year_from": ""}, **HTMX)["HX-Push-Url"] == "/search/"


def test_an_htmx_request_with_bad_input_gets_a_400_fragment_with_the_message(client, ocean):
    response = client.get("/search/", {"q": "ocean", "year_from": "2020", "year_to": "2010"}, **HTMX)

    assert response.status_code == 400 and "hx-request" in vary(response)
    html = response.content.decode()
    assert "<html" not in html and 'role="alert"' in html
    assert "The year range starts in 2020, after it ends in 2010." in text(response)


def test_htmx_is_told_to_swap_400_responses_and_not_to_inject_styles(client):
    html = client.get("/search/").content.decode()

    config = html[html.index('name="htmx-config"') :]
    config = config[: config.index(">")]
    assert '"includeIndicatorStyles": false' in config
    assert '{"code": "400", "swap": true}' in config
    assert config.index('"400"') < config.index('"[45].."')


def test_the_header_box_gets_the_results_in_their_own_region_and_the_search_page_gets_its_inside(client, ocean):
    from_header = client.get("/search/", {"q": "ocean"}, HTTP_HX_TARGET="main", **HTMX).content.decode()
    from_page = client.get("/search/", {"q": "ocean"}, HTTP_HX_TARGET="search-results", **HTMX).content.decode()

    assert from_header.lstrip().startswith('<div id="search-results"')
    assert 'id="search-results"' not in from_page and "3 papers match" in from_page


def test_results_are_paged_through_htmx_with_plain_links_underneath(client):
    for number in range(1, 31):
        make_work(number, title=f"Dataset {number}", corpus=True)

    html = client.get("/search/", {"q": "dataset", "year_from": ""}, HTTP_HX_TARGET="search-results", **HTMX)
    html = html.content.decode()

    link = html[html.index('rel="next"') : html.index("Next →")]
    assert 'href="/search/?q=dataset&amp;page=2"' in link and 'hx-get="/search/?q=dataset&amp;page=2"' in link
    assert 'hx-target="#search-results"' in link
    second = client.get("/search/", {"q": "dataset", "page": "2"}, HTTP_HX_TARGET="search-results", **HTMX)
    assert second["HX-Push-Url"] == "/search/?q=dataset&page=2" and "Page 2 of 2" in text(second)


def test_the_tier_filter_keeps_papers_of_that_tier(client, ocean):
    first, second = ocean.scores.get(work_id=1), ocean.scores.get(work_id=2)
    first.tier, second.tier = 1, 3
    first.save(), second.save()
    SearchEntry.objects.place(ocean.scores.all())  # as the run's publication would have

    page = text(client.get("/search/", {"q": "ocean", "tier": "3"}))

    assert "1 paper match" in page and "Deep ocean temperatures" in page and "Ocean heat atlas" not in page


def test_the_tier_filter_is_offered_next_to_the_years_and_keeps_its_choice(client, ocean):
    html = client.get("/search/", {"q": "ocean", "tier": "2"}).content.decode()

    assert '<label for="search-tier">Tier</label>' in html
    assert '<option value="2" selected>S2 (20 to 40%)</option>' in html
    assert html.index('id="search-tier"') < html.index('id="search-year-from"')


@pytest.mark.parametrize("tier", ["0", "6", "S1", "1.5"])
def test_a_tier_that_does_not_exist_gets_a_400(client, tier):
    response = client.get("/search/", {"q": "ocean", "tier": tier})

    assert response.status_code == 400 and "is not a tier: use 1 to 5" in text(response)


def test_results_show_each_papers_tier(client, ocean):
    assert "S1 DataRank 9.0" in text(client.get("/search/", {"q": "ocean heat"}))


def test_a_scored_paper_that_is_not_ranked_says_so_instead_of_a_tier_and_rank(client):
    run = make_run(papers_scored=2, papers_ranked=1)
    make_score(run, make_work(1, title="Cited glacier survey", corpus=True), rank=1, datarank=2.0, top_percent=100.0)
    make_score(run, make_work(2, title="Uncited glacier survey", corpus=True), rank=None, datarank=0.0)

    response = client.get("/search/", {"q": "glacier"})

    page = text(response)
    assert "Uncited glacier survey Venue unknown Not ranked yet · DataRank 0 · 0 citations" in page
    assert "Cited glacier survey Venue unknown S1 DataRank 2.0 · top 100%" in page
    assert response.content.decode().count('class="tier tier--') == 1
    # Sorted by DataRank, the ranked paper comes first.
    assert titles_in_order(client.get("/search/", {"q": "glacier", "sort": "datarank"}), "Cited", "Uncited")


def test_a_tier_filter_leaves_out_papers_that_are_not_ranked(client):
    run = make_run(papers_scored=2, papers_ranked=1)
    make_score(run, make_work(1, title="Cited glacier survey", corpus=True), rank=1, datarank=2.0, tier=5)
    make_score(run, make_work(2, title="Uncited glacier survey", corpus=True), rank=None, datarank=0.0)

    page = text(client.get("/search/", {"q": "glacier", "tier": "5"}))

    assert "1 paper match" in page and "Uncited" not in page


@pytest.mark.parametrize(("datarank", "shown"), [(30.554, "30.6"), (0.52, "0.52"), (0.0312, "0.031")])
def test_results_show_datarank_by_the_display_rule(client, datarank, shown):
    run = make_run(papers_scored=1)
    make_score(run, make_work(1, title="Glacier survey", corpus=True), rank=1, datarank=datarank)

    assert f"DataRank {shown} ·" in text(client.get("/search/", {"q": "glacier"}))


def test_a_search_matching_more_than_the_cap_says_so_without_counting_them_all(client, monkeypatch):
    monkeypatch.setattr("datarank_site.pages.views.SEARCH_COUNT_CAP", 4)
    for number in range(1, 8):
        make_work(number, title=f"Dataset {number}", corpus=True)

    page = text(client.get("/search/", {"q": "dataset"}))

    assert "More than 4 papers match “dataset”" in page


# The simple word match (SQLite)


@pytest.mark.sqlite
def test_sqlite_matches_every_word_as_a_case_insensitive_substring(client, ocean):
    assert "1 paper match" in text(client.get("/search/", {"q": "OCEAN TEMP"}))
    assert "No paper in the data-sharing corpus" in text(client.get("/search/", {"q": "ocean glacier"}))


@pytest.mark.sqlite
def test_sqlite_relevance_is_every_word_as_typed_then_as_the_start_of_a_word():
    make_work(1, title="Sea and ocean heatwaves", corpus=True)
    make_work(2, title="Ocean heat", corpus=True)
    make_work(3, title="Oceans and their heat budget", corpus=True)

    found = Work.objects.search("ocean heat").order_by("-relevance", "id")

    assert [(work.id, work.relevance) for work in found] == [(2, 3), (1, 2), (3, 2)]


# Full-text search (PostgreSQL)


@pytest.fixture
def library(db):
    titles = {
        1: "Foraminifera of the North Atlantic: a census dataset",
        2: "A global dataset of planktonic foraminifera and ocean temperature",
        3: "Ocean datasets for machine learning",
        4: "Soil carbon stocks of European forests",
        5: "Foraminiferal isotopes",
    }
    for number, title in titles.items():
        make_work(number, title=title, corpus=True)
    make_work(6, title="Foraminifera citing work outside the corpus", corpus=None)


def found(query: str) -> list[int]:
    return [work.id for work in Work.objects.search(query).order_by("-relevance", "id")]


@pytest.mark.postgres
def test_postgres_matches_the_last_word_as_a_prefix(library):
    assert set(found("foramin")) == {1, 2, 5}
    assert found("soil car") == [4]


@pytest.mark.postgres
def test_postgres_stems_words_so_plurals_find_singulars(library):
    assert set(found("datasets")) == {1, 2, 3}
    assert set(found("forest")) == {4}


@pytest.mark.postgres
def test_postgres_needs_every_word_in_the_title(library):
    assert found("foraminifera ocean temperature") == [2]


@pytest.mark.postgres
def test_postgres_puts_every_word_as_typed_above_the_last_as_a_prefix(library):
    make_work(7, title="Ocean data", corpus=True)

    ranked = list(Work.objects.search("ocean data").order_by("-relevance", "id"))

    assert [(work.id, work.relevance) for work in ranked] == [(7, 3), (2, 2), (3, 2)]


@pytest.mark.postgres
def test_postgres_buckets_come_before_datarank_on_the_results_page(client, library):
    make_work(7, title="Ocean data", corpus=True)
    run = make_run(papers_scored=3)
    for rank, number in enumerate((3, 2, 7), start=1):
        make_score(run, Work.objects.get(id=number), rank=rank, datarank=10.0 - rank)

    page = client.get("/search/", {"q": "ocean data"})

    assert titles_in_order(page, "Ocean data", "Ocean datasets for", "A global dataset of planktonic")


@pytest.mark.postgres
def test_postgres_corrects_typos_against_the_vocabulary(library):
    assert {1, 2} <= set(found("foramnifera"))
    assert found("soil carbn") == [4]


@pytest.mark.postgres
def test_postgres_typo_search_through_the_page(client, library):
    page = text(client.get("/search/", {"q": "foramnifera"}))

    assert "Foraminifera of the North Atlantic" in page and "Soil carbon" not in page


@pytest.mark.postgres
def test_postgres_never_finds_works_outside_the_corpus(library):
    assert 6 not in found("citing work") and 6 not in found("foraminifera")


HOSTILE = [
    "'&|!:*()<>\\",
    "foram:* | !soil",
    "ocean' & 'x",
    "'); DROP TABLE papers_work; --",
    "%s %% %(x)s",
    "données océaniques ∑ 数据集 🌊",
    "a" * 300,
    "ocean " * 50,
    "the of and",
    "\x00",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_never_errors(client, library, query):
    for headers in ({}, HTMX):
        response = client.get("/search/", {"q": query[:300]}, **headers)
        assert response.status_code in (200, 400)
    assert Work.objects.count() == 6


@pytest.mark.postgres
@pytest.mark.parametrize("query", HOSTILE)
def test_postgres_search_takes_hostile_input_as_words(library, query):
    list(Work.objects.search(query[:300]))


@pytest.mark.postgres
def test_postgres_operators_typed_by_a_visitor_are_taken_as_separators(library):
    # As tsquery operators, `|` would find either word (2 and 3) and `!` would leave a word's
    # titles out; as separators, every word typed must be in the title.
    assert found("ocean temperature") == [2]
    assert found("ocean | temperature") == [2]
    assert found("ocean & !temperature") == [2]
    assert set(found("!foramin")) == {1, 2, 5}
