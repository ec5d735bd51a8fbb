"""Facets beside the search results (issue 16): counted over the first matches, each a link that
works without JavaScript and swaps the search page in place with it; and bad input."""

import pytest

from tests.factories import make_run, make_score, make_work, text

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def topic(number: int, name: str) -> dict:
    return {"id": f"https://openalex.org/T{number}", "subfield": {"id": number, "name": name}}


@pytest.fixture
def glaciers(db):
    run = make_run(papers_scored=4, papers_ranked=3)
    rows = [
        (1, 2021, "dataset", 1904, "Earth-Surface Processes", 1),
        (2, 2015, "article", 1904, "Earth-Surface Processes", 2),
        (3, 2016, "dataset", 2303, "Ecology", 3),
        (4, 1985, "dataset", None, None, None),
    ]
    for number, year, kind, subfield, name, rank in rows:
        work = make_work(
            number,
            title=f"Glacier survey {number}",
            corpus=True,
            publication_year=year,
            type=kind,
            subfield_id=subfield,
            primary_topic=topic(subfield, name) if subfield else None,
        )
        make_score(run, work, rank=rank, datarank=4.0 - (rank or 4), tier=rank if rank else None)
    return run


def shows(label: str, count: int) -> str:
    return f'{label}</a> <span class="facet__count">{count}<'


def facet(html: str, heading: str) -> str:
    start = html.index(f">{heading}</h3>")
    return html[start : html.index("</section>", start)]


def test_each_facet_counts_the_matches_by_its_values(client, glaciers):
    html = client.get("/search/", {"q": "glacier"}).content.decode()

    assert "Narrow the results" in html
    years = facet(html, "Published")
    assert shows("2020 on", 1) in years and shows("2010\u20132019", 2) in years
    assert shows("Before 1990", 1) in years
    assert ">S1</a>" in facet(html, "Tier") and ">S3</a>" in facet(html, "Tier")
    ranked = facet(html, "Ranked")
    assert shows("Ranked", 3) in ranked and shows("Not yet ranked", 1) in ranked
    kinds = facet(html, "Type")
    assert shows("Dataset", 3) in kinds and shows("Article", 1) in kinds
    subfields = facet(html, "Subfield")
    assert subfields.index("Earth-Surface Processes") < subfields.index("Ecology")


def test_a_facet_is_a_plain_link_and_an_htmx_swap_of_the_search_page(client, glaciers):
    html = client.get("/search/", {"q": "glacier"}).content.decode()

    link = 'href="/search/?q=glacier&amp;type=article" hx-get="/search/?q=glacier&amp;type=article"'
    assert link in facet(html, "Type") and 'hx-target="#search-page"' in facet(html, "Type")


def test_following_a_facet_narrows_the_results_and_offers_to_lift_it(client, glaciers):
    page = client.get("/search/", {"q": "glacier", "subfield": "1904"})
    html = page.content.decode()

    assert "2 papers match" in text(page) and "Glacier survey 3" not in text(page)
    assert 'aria-current="true">Earth-Surface Processes</span>' in html
    assert 'class="facet__clear" href="/search/?q=glacier"' in html
    # The form carries the choice, so that typing on keeps it.
    assert '<input type="hidden" name="subfield" value="1904">' in html


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"ranked": "no"}, ["Glacier survey 4"]),
        ({"ranked": "yes", "year_from": "2016"}, ["Glacier survey 1", "Glacier survey 3"]),
        ({"type": "article"}, ["Glacier survey 2"]),
        ({"year_to": "1989"}, ["Glacier survey 4"]),
    ],
)
def test_every_facet_filters(client, glaciers, params, found):
    page = text(client.get("/search/", {"q": "glacier", **params}))

    assert [title for title in (f"Glacier survey {n}" for n in range(1, 5)) if title in page] == found


def test_an_htmx_facet_click_gets_the_form_and_the_results_together(client, glaciers):
    response = client.get("/search/", {"q": "glacier", "type": "article"}, HTTP_HX_TARGET="search-page", **HTMX)

    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="search-page">')
    assert 'id="search-q"' in html and 'name="type" value="article"' in html and "1 paper match" in text(response)


def test_past_the_cap_facets_count_the_first_matches_and_say_so(client, monkeypatch):
    monkeypatch.setattr("datarank_site.pages.views.SEARCH_COUNT_CAP", 3)
    for number in range(1, 6):
        make_work(number, title=f"Dataset {number}", corpus=True, type="dataset")

    html = client.get("/search/", {"q": "dataset"}).content.decode()

    assert "More than 3 papers match" in html and "Counted over the first 3 matches." in html
    assert 'Dataset</a> <span class="facet__count">3+</span>' in html


@pytest.mark.parametrize("value", [{"ranked": "maybe"}, {"type": "Robert'); DROP"}, {"subfield": "0"}])
def test_a_facet_value_that_cannot_be_one_gets_a_400(client, value):
    assert client.get("/search/", {"q": "glacier", **value}).status_code == 400


def test_the_facets_page_takes_a_fixed_number_of_queries(client, glaciers, django_assert_num_queries):
    # The vocabulary, the run, the researchers, the first matches (every bucket and band in one
    # query, where each band and bucket took one), the page's rows with their authors; the
    # subfields' names come from the run's stored figures.
    with django_assert_num_queries(5):
        response = client.get("/search/", {"q": "glacier"}, **HTMX)
    assert "4 papers match" in text(response)


def test_a_subfield_no_ranked_paper_has_is_named_from_its_papers(client, glaciers, django_assert_num_queries):
    work = make_work(
        5, title="Glacier survey 5", corpus=True, subfield_id=3106, primary_topic=topic(3106, "Nuclear and High Energy")
    )
    make_score(glaciers, work, rank=None, datarank=0.0)

    # One query more than above: the run's figures hold only the ranked papers' subfields.
    with django_assert_num_queries(6):
        page = client.get("/search/", {"q": "glacier"}, **HTMX).content.decode()
    assert shows("Nuclear and High Energy", 1) in page and shows("Ecology", 1) in page


# Bad input


@pytest.mark.parametrize(
    "query",
    [
        "glacier\u2028survey",
        "glacier\x00survey",
        "<script>alert(1)</script> glacier",
        "glacier' OR 1=1; --",
        "glacier:* & !survey | (a <-> b)",
    ],
)
def test_bad_input_is_searched_as_words_and_shown_escaped(client, glaciers, query):
    for headers in ({}, HTMX):
        response = client.get("/search/", {"q": query}, **headers)
        assert response.status_code in (200, 400)
        assert "<script>alert" not in response.content.decode()


def test_ten_thousand_characters_are_refused_with_the_reason(client):
    response = client.get("/search/", {"q": "glacier " * 1250})

    assert response.status_code == 400 and "at most 300 characters" in text(response)


def test_a_query_past_ten_words_says_which_were_left_out(client, glaciers):
    page = text(client.get("/search/", {"q": "glacier survey " + "x " * 20}))

    assert "Only the first 10 words are searched: the last 12 were ignored." in page
