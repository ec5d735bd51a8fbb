"""The researcher page (/researchers/A…/) and its data.json, the ranked list of researchers, and
the ways in: bylines on paper pages and search results, and search's Researchers group."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from datarank_site.pages import researchers
from papers.models import AuthorMerge, Correction
from papers.search import index_for_search, interpret
from scoring.fair.metrics import METHOD_VERSION
from scoring.models import FairEvaluation, ScoringRun
from tests.factories import (
    affiliate,
    make_author,
    make_institution,
    make_researcher_score,
    make_run,
    make_score,
    make_work,
    text,
    write,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# The typographic apostrophe and the en dash between years, as the pages print them.
APOSTROPHE, DASH = "\u2019", "\u2013"
LOVELACE, BABBAGE, SOMERVILLE, BABBAGE_OLD, KING, HERSCHEL = 1, 2, 3, 4, 5, 6
LONDON, CAMBRIDGE = 10, 11
# Lovelace's papers: four under her id, one under an id merged into hers, one an editor found not hers.
P1, P2, P3, P4, P5, NOT_HERS = 101, 102, 103, 104, 105, 106
GEOPHYSICS = {"id": 1908, "name": "Geophysics"}
TOPIC = {"subfield": GEOPHYSICS, "field": {"id": 19, "name": "Earth and Planetary Sciences"}}


def corpus_paper(run: ScoringRun, number: int, *, year: int, rank: int | None, datarank: float, **fields):
    work = make_work(
        number,
        title=f"Dataset {number}",
        corpus=True,
        publication_year=year,
        subfield_id=GEOPHYSICS["id"],
        primary_topic=TOPIC,
        cited_by_count=int(datarank * 2),
        **{name: fields.pop(name) for name in ("unidentified_authors",) if name in fields},
    )
    make_score(run, work, rank=rank, datarank=datarank, **fields)
    return work


def evaluate(work, raw: float) -> None:
    FairEvaluation.objects.create(
        work=work, method_version=METHOD_VERSION, evaluated_at=timezone.now(), f=raw, a=raw, i=raw, r=raw, raw=raw
    )


@pytest.fixture
def lovelace(db):
    """Ada Lovelace (A1): five corpus papers, one of them under A5, merged into hers; a sixth an
    editor found not hers. Charles Babbage shares four of them, one under his old id A4;
    Mary Somerville one. Her papers list the University of London, then Cambridge."""
    run = make_run(
        papers_scored=7,
        papers_ranked=5,
        researchers_scored=5,
        researchers_ranked=4,
        institutions_scored=2,
        institutions_ranked=2,
    )
    make_author(LOVELACE, name="Ada Lovelace", orcid="https://orcid.org/0000-0001-2345-6789")
    make_author(BABBAGE, name="Charles Babbage")
    make_author(SOMERVILLE, name="Mary Somerville")
    make_author(BABBAGE_OLD, name="C. Babbage")
    make_author(KING, name="Ada King")
    make_author(HERSCHEL, name="Caroline Herschel")
    AuthorMerge.objects.create(old_id=BABBAGE_OLD, into_id=BABBAGE)
    AuthorMerge.objects.create(old_id=KING, into_id=LOVELACE)
    london = make_institution(LONDON, name="University of London", country_code="GB")
    cambridge = make_institution(CAMBRIDGE, name="University of Cambridge", country_code="GB")

    p1 = corpus_paper(
        run, P1, year=2011, rank=1, datarank=8.0, unidentified_authors=2, cohort_size=25, cohort_top_percent=4.0
    )
    p2 = corpus_paper(run, P2, year=2012, rank=2, datarank=5.0, cohort_size=7)
    p3 = corpus_paper(run, P3, year=2013, rank=3, datarank=2.5)
    p4 = corpus_paper(run, P4, year=2015, rank=None, datarank=0.0)
    p5 = corpus_paper(run, P5, year=2016, rank=4, datarank=1.0)
    not_hers = corpus_paper(run, NOT_HERS, year=2014, rank=5, datarank=0.5)
    for work in (p1, p2, p3):
        affiliate(work, LOVELACE, london)
        affiliate(work, BABBAGE)
    affiliate(p4, LOVELACE, cambridge)
    affiliate(p4, BABBAGE_OLD)
    affiliate(p4, SOMERVILLE)
    affiliate(p5, KING, cambridge)
    affiliate(not_hers, LOVELACE, london)
    affiliate(not_hers, HERSCHEL)
    Correction.objects.create(
        work=not_hers,
        author_id=LOVELACE,
        kind=Correction.Kind.NOT_THEIRS,
        status=Correction.Status.ACCEPTED,
        reason="Another Ada.",
        decided_at=timezone.now(),
    )
    index_for_search([P1, P2, P3, P4, P5, NOT_HERS])
    evaluate(p1, 80.0)
    evaluate(p2, 40.0)
    make_researcher_score(
        run,
        LOVELACE,
        rank=1,
        researcher_score=1.65,
        sum_score=16.5,
        h_index=3,
        papers=5,
        ranked_papers=4,
        subfield_id=GEOPHYSICS["id"],
    )
    make_researcher_score(
        run,
        BABBAGE,
        rank=2,
        researcher_score=1.55,
        sum_score=15.5,
        h_index=4,
        papers=4,
        ranked_papers=3,
        subfield_id=GEOPHYSICS["id"],
    )
    make_researcher_score(run, HERSCHEL, rank=3, researcher_score=0.05, sum_score=0.5, h_index=1)
    make_researcher_score(run, SOMERVILLE, rank=None)
    return run


def page(client, key: str = "A1", **params):
    return client.get(f"/researchers/{key}/", params)


def script_data(response, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(found.group(1))


def papers_in_table(response) -> list[str]:
    table = response.content.decode().split('id="paper-table"')[1].split("</table>")[0]
    return re.findall(r'href="/papers/(W\d+)/"', table)


# Who they are and their three scores


def test_it_names_the_researcher_with_their_orcid_and_openalex_links(client, lovelace):
    response = page(client)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Ada Lovelace</h1>" in html
    assert '<a href="https://orcid.org/0000-0001-2345-6789">ORCID 0000-0001-2345-6789</a>' in html
    assert 'href="https://openalex.org/A1"' in html and 'href="/researchers/A1/data.json"' in html
    assert "<title>Ada Lovelace — Researcher — DataRank</title>" in html


def test_it_shows_the_three_scores_each_with_its_definition_and_whose_it_is(client, lovelace):
    scores = text(page(client)).split("Three researcher-level scores")[1].split("Corpus papers")[0]

    assert "Researcher score 1.6 Top 25% · rank 1 of 4 The mean of their 10 best DataRanks, a missing paper " in scores
    assert f"(the sum of the 10 best ÷ 10), so one lucky paper does not top the list. theSindex{APOSTROPHE}s" in scores
    assert f"Sum 16.5 Σ DataRank over all their corpus papers. Scholar Data{APOSTROPHE}s S-index" in scores
    assert "Data h-index 3 The largest n such that n of their corpus papers have each been cited at least n " in scores
    assert f"CatalystNeuro{APOSTROPHE}s S-index, which is h-like" in scores


def test_it_says_where_they_stand_among_the_ranked_researchers(client, lovelace):
    assert "places them in the top 25% of 4 ranked researchers (rank 1 of 4)." in text(page(client))


def test_it_rounds_the_scores_and_the_percentile_as_paper_pages_do(client, lovelace):
    page_text = text(page(client, "A6"))

    # 0.05 has two significant digits; the sum 0.5 too, and "top 75%" is 3 of 4 rounded up.
    assert "Researcher score 0.050 Top 75% · rank 3 of 4" in page_text
    assert "Sum 0.50" in page_text


def test_a_researcher_whose_score_is_0_is_not_ranked_and_is_told_why(client, lovelace):
    page_text = text(page(client, "A3"))

    assert (
        "Not ranked yet: none of their corpus papers has a citation with signal, so their researcher score is 0; "
        "no other researcher of the 5 scored is in that state."
    ) in page_text
    assert "Researcher score 0 Not ranked yet" in page_text


def test_a_lone_ranked_researcher_is_told_that_being_first_says_nothing(client):
    run = make_run(papers_scored=1, researchers_scored=1, researchers_ranked=1)
    make_author(7, name="Solo")
    work = corpus_paper(run, 1, year=2020, rank=1, datarank=3.0)
    write(work, 7)
    make_researcher_score(run, 7, rank=1, researcher_score=0.3)

    page_text = text(page(client, "A7"))

    assert "top 100% of 1 ranked researcher (rank 1 of 1)" in page_text
    assert "It is the only ranked researcher, so being first says nothing." in page_text


def test_it_counts_the_authorships_that_carry_no_author_id(client, lovelace):
    assert "2 authorships on these papers carry no OpenAlex author id and count for nobody." in text(page(client))


def test_a_researcher_the_run_did_not_score_says_so(client, lovelace):
    make_author(8, name="Newcomer")
    write(make_work(200, title="A late dataset", corpus=True, publication_year=2024), 8)

    page_text = text(page(client, "A8"))

    assert f"Not scored yet: the latest scoring run (run {lovelace.pk}," in page_text and "A late dataset" in page_text


# Which papers are theirs


def test_their_papers_are_their_own_and_those_of_ids_merged_into_theirs_less_those_found_not_theirs(client, lovelace):
    response = page(client)

    assert papers_in_table(response) == ["W101", "W102", "W103", "W105", "W104"]
    assert "5 corpus papers" in text(response)


@pytest.mark.parametrize(
    ("params", "order"),
    [
        ({}, ["W101", "W102", "W103", "W105", "W104"]),
        ({"sort": "datarank", "dir": "asc"}, ["W104", "W105", "W103", "W102", "W101"]),
        ({"sort": "rank"}, ["W101", "W102", "W103", "W105", "W104"]),
        ({"sort": "year"}, ["W105", "W104", "W103", "W102", "W101"]),
        ({"sort": "year", "dir": "asc"}, ["W101", "W102", "W103", "W104", "W105"]),
        ({"sort": "cohort"}, ["W101", "W102", "W103", "W105", "W104"]),
        ({"sort": "fair"}, ["W101", "W102", "W103", "W105", "W104"]),
        ({"sort": "fair", "dir": "asc"}, ["W102", "W101", "W103", "W105", "W104"]),
        ({"sort": "nonsense", "page": "<script>"}, ["W101", "W102", "W103", "W105", "W104"]),
    ],
)
def test_the_paper_table_sorts_by_each_column(client, lovelace, params, order):
    assert papers_in_table(page(client, **params)) == order


def test_the_paper_table_shows_rank_cohort_and_fair_score(client, lovelace):
    table = text(page(client)).split("Corpus papers of Ada Lovelace")[1].split("DataRank by publication year")[0]

    def row(number: int) -> str:
        return f"Dataset {number} Venue unknown · Geophysics · Not theirs? Tell the editors about W{number} "

    assert row(101) + "2011 8.0 1 · top 20% top 4.0% 100" in table
    assert row(102) + "2012 5.0 2 · top 40% n/a (n = 7) 50" in table
    assert row(104) + "2015 0 not ranked — —" in table


def test_the_sort_links_work_without_javascript_and_swap_the_table_with_htmx(client, lovelace):
    html = page(client, sort="year").content.decode()

    header = re.search(r'<th scope="col" class="num" aria-sort="descending">\s*<a ([^>]*)>Year ▼', html).group(1)
    assert 'href="?sort=year&amp;dir=asc#papers"' in header
    assert 'hx-get="?sort=year&amp;dir=asc"' in header and 'hx-target="#paper-table"' in header


def test_an_htmx_request_gets_the_paper_table_alone(client, lovelace):
    response = client.get("/researchers/A1/", {"sort": "year"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="paper-table"') and "<html" not in html
    assert papers_in_table(response)[0] == "W105"
    assert "HX-Request" in response["Vary"]


def test_the_paper_table_pages_25_at_a_time(client, lovelace):
    for number in range(300, 330):
        write(corpus_paper(lovelace, number, year=2000, rank=None, datarank=0.0), LOVELACE)

    first, second = page(client), page(client, page="2")

    assert len(papers_in_table(first)) == 25 and len(papers_in_table(second)) == 35 - 25
    assert "Page 1 of 2" in text(first) and 'href="?page=2#papers"' in first.content.decode()


def test_the_paper_rows_link_to_the_paper_pages(client, lovelace):
    assert '<a class="paper-title" href="/papers/W101/">Dataset 101</a>' in page(client).content.decode()


# Corrections


def test_each_paper_and_the_profile_link_to_the_corrections_form(client, lovelace):
    html = page(client).content.decode()

    assert 'href="/researchers/A1/correction/?kind=not_theirs&amp;work=W101">Not theirs?' in html
    assert '<a href="/researchers/A1/correction/?kind=same_person">Another profile is the same person</a>' in html


def test_the_page_says_what_an_editor_corrected_and_when(client, lovelace):
    decided = Correction.objects.get(work_id=NOT_HERS).decided_at

    notice = text(page(client)).split("Corrected by an editor.")[1].split("Three researcher-level")[0]

    assert f"on {decided:%-d %b %Y}, Dataset 106 was found not theirs." in notice
    assert 'href="/papers/W106/"' in page(client).content.decode()


def test_the_institution_page_has_no_not_theirs_links(client, lovelace):
    assert "Not theirs?" not in client.get(f"/institutions/I{LONDON}/").content.decode()


# Institutions, co-authors and the chart


def test_it_lists_their_institutions_over_time_latest_first(client, lovelace):
    section = text(page(client)).split("Institutions over time")[1].split("Co-authors")[0]

    assert f"University of Cambridge GB 2015{DASH}2016 2 University of London GB 2011{DASH}2013 3" in section
    assert '<a class="paper-title" href="/institutions/I11/">' in page(client).content.decode()


def test_its_co_authors_are_those_sharing_most_papers_each_under_their_surviving_id(client, lovelace):
    section = text(page(client)).split("Co-authors")[1]

    # Babbage's fourth paper is under his old id A4; Herschel's only paper is not Lovelace's.
    assert "Charles Babbage 4 shared papers · researcher&nbsp;score&nbsp;1.6" in section
    assert "Mary Somerville 1 shared paper · not ranked yet" in section
    assert "Herschel" not in section and "C. Babbage" not in section
    assert 'href="/researchers/A2/"' in page(client).content.decode()


def test_the_chart_gets_each_papers_datarank_by_year(client, lovelace):
    response = page(client)

    chart = script_data(response, "roll-up-chart-data")
    assert chart["x"] == [2011, 2012, 2013, 2016, 2015]
    assert chart["y"] == [8.0, 5.0, 2.5, 1.0, 0.0]
    assert chart["ranked"] == [True, True, True, True, False]
    assert chart["url"][0] == "/papers/W101/" and chart["text"][0] == "Dataset 101<br>2011 · DataRank 8.0"
    html = response.content.decode()
    assert 'id="roll-up-chart"' in html and "js/researcher-chart.js" in html and "js/plotly-loader.js" in html
    # The same figures as a table, for whoever cannot see the chart.
    assert "Year Papers Ranked Best DataRank 2011 1 1 8.0 2012 1 1 5.0" in text(response)


def test_hover_text_keeps_a_titles_markup_as_text(client, lovelace):
    work = make_work(400, title="CO<sub>2</sub> & <b onclick=x>", corpus=True, publication_year=2020)
    make_score(lovelace, work, rank=6, datarank=0.2)
    write(work, LOVELACE)

    hover = script_data(page(client), "roll-up-chart-data")["text"][-2]

    assert hover == "CO2 &amp; &lt;b onclick=x&gt;<br>2020 · DataRank 0.20"


def test_the_main_subfield_links_to_the_list_of_its_researchers(client, lovelace):
    html = page(client).content.decode()

    assert 'mostly <a href="/researchers/?subfield=1908">Geophysics</a>' in html


# Addresses: redirects and 404s


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/researchers/A5/", "/researchers/A1/"),
        ("/researchers/a5/", "/researchers/A1/"),
        ("/researchers/A5/data.json", "/researchers/A1/data.json"),
        ("/researchers/a1/", "/researchers/A1/"),
        ("/researchers/A01/", "/researchers/A1/"),
        ("/researchers/a1/data.json", "/researchers/A1/data.json"),
    ],
)
def test_a_merged_away_or_non_canonical_id_redirects_permanently(client, lovelace, path, location):
    response = client.get(path)

    assert response.status_code == 301 and response["Location"] == location


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("A999", "We hold no researcher A999"),
        ("A0", "A0 is not a valid OpenAlex author id."),
        (f"A{2**63}", "is not a valid OpenAlex author id."),
    ],
)
def test_an_unknown_id_is_the_sites_404_saying_why(client, lovelace, key, message):
    response = page(client, key)

    assert response.status_code == 404 and message in text(response)


def test_an_author_with_no_corpus_paper_is_a_404_saying_so(client, lovelace):
    make_author(9, name="Only A Citer")
    write(make_work(500, title="A citing work", corpus=None), 9)

    response = page(client, "A9")

    assert response.status_code == 404
    assert "Only A Citer (A9) has no paper in the data-sharing corpus" in text(response)


# data.json


def test_data_json_gives_the_pages_figures(client, lovelace):
    response = client.get("/researchers/A1/data.json")

    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json"
    assert data["researcher"]["display_name"] == "Ada Lovelace"
    assert data["researcher"]["url"] == "http://testserver/researchers/A1/"
    assert data["researcher"]["main_subfield"] == {"id": 1908, "name": "Geophysics"}
    assert data["scores"] == {
        "researcher_score": 1.65,
        "sum_score": 16.5,
        "h_index": 3,
        "papers": 5,
        "ranked_papers": 4,
        "rank": 1,
        "top_percent": 25.0,
    }
    assert data["display"] == {"researcher_score": "1.6", "sum_score": "16.5", "top_percent": "top 25%"}
    assert data["standing"]["text"] == "top 25% of 4 ranked researchers (rank 1 of 4)"
    assert data["definitions"][0]["whose"] == f"theSindex{APOSTROPHE}s definition"
    assert data["corpus_papers"] == 5 and data["unidentified_authorships"] == 2
    assert [paper["openalex_id"] for paper in data["papers"]] == ["W101", "W102", "W103", "W105", "W104"]
    assert data["papers"][0]["fair"] == {"raw": 80.0, "calibrated": 100.0, "provisional": False}
    assert data["papers"][0]["cohort_top_percent"] == 4.0
    assert [span["openalex_id"] for span in data["institutions"]] == ["I11", "I10"]
    assert [(p["openalex_id"], p["shared_papers"]) for p in data["co_authors"]] == [("A2", 4), ("A3", 1)]


# Query counts


@pytest.mark.parametrize("extra_papers", [0, 40])
def test_the_page_takes_the_same_number_of_queries_however_many_papers(
    client, django_assert_num_queries, lovelace, extra_papers
):
    for number in range(600, 600 + extra_papers):
        work = corpus_paper(lovelace, number, year=2000 + number % 20, rank=None, datarank=0.0)
        affiliate(work, LOVELACE, make_institution(number))
        affiliate(work, 1000 + number)

    # The merge, the author, the run, their score, the papers by year, the page of the table, the
    # chart's points, the main subfield's name, the institutions, the co-authors and their names,
    # and the editors' corrections.
    with django_assert_num_queries(12):
        assert page(client).status_code == 200
    # The table alone: the first five, then its page.
    with django_assert_num_queries(6):
        assert client.get("/researchers/A1/", {"page": "2"}, headers=HTMX).status_code == 200


# The ranked list of researchers


def researchers_in(response) -> list[str]:
    return re.findall(r'<a class="paper-title" href="/researchers/(A\d+)/"', response.content.decode())


def test_the_list_ranks_researchers_by_their_researcher_score_and_counts_those_not_ranked(client, lovelace):
    response = client.get("/researchers/")

    assert researchers_in(response) == ["A1", "A2", "A6"]
    assert "4 ranked researchers of the data-sharing corpus, and 1 researcher not ranked yet" in text(response)


@pytest.mark.parametrize(
    ("sort", "order"), [("score", ["A1", "A2", "A6"]), ("sum", ["A1", "A2", "A6"]), ("h", ["A2", "A1", "A6"])]
)
def test_the_list_sorts_by_each_score(client, lovelace, sort, order):
    assert researchers_in(client.get("/researchers/", {"sort": sort})) == order


def test_the_list_filters_by_main_subfield(client, lovelace):
    response = client.get("/researchers/", {"subfield": "1908"})

    assert researchers_in(response) == ["A1", "A2"]
    assert '<option value="1908" selected>Geophysics (2)</option>' in response.content.decode()
    assert "Researchers mostly in Geophysics, by researcher score" in text(response)


def test_a_subfield_no_ranked_researcher_has_lists_nobody_and_says_so(client, lovelace):
    response = client.get("/researchers/", {"subfield": "1234"})

    assert researchers_in(response) == []
    assert "Subfield 1234 (none ranked)" in text(response)


def test_the_list_filters_and_sorts_with_plain_links_and_forms_and_swaps_with_htmx(client, lovelace):
    html = client.get("/researchers/", {"sort": "sum"}).content.decode()

    assert '<form class="search-form ranking-filter" action="/researchers/" method="get">' in html
    assert 'hx-get="/researchers/" hx-trigger="change" hx-target="#researcher-results"' in html
    assert '<a href="/researchers/?sort=h" hx-get="/researchers/?sort=h"' in html
    fragment = client.get("/researchers/", {"sort": "h"}, headers=HTMX)
    assert "<html" not in fragment.content.decode() and researchers_in(fragment) == ["A2", "A1", "A6"]
    assert fragment["HX-Push-Url"] == "/researchers/?sort=h" and "HX-Request" in fragment["Vary"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "random"}, "“random” is not a way to sort this list"),
        ({"subfield": "geo"}, "The subfield must be given by its OpenAlex"),
    ],
)
def test_an_unreadable_filter_is_a_400_saying_why(client, lovelace, params, message):
    response = client.get("/researchers/", params)
    fragment = client.get("/researchers/", params, headers=HTMX)

    assert response.status_code == fragment.status_code == 400
    assert message in text(response) and message in text(fragment) and fragment["HX-Push-Url"] == "false"


def test_the_list_pages_50_at_a_time(client):
    run = make_run(researchers_scored=60, researchers_ranked=60)
    for number in range(1, 61):
        make_researcher_score(run, make_author(number), rank=number, researcher_score=100.0 - number)

    first, second = client.get("/researchers/"), client.get("/researchers/", {"page": "2"})

    assert len(researchers_in(first)) == 50 and researchers_in(second)[0] == "A51"
    assert 'href="/researchers/?page=2"' in first.content.decode() and "Next" not in text(second)
    assert researchers_in(client.get("/researchers/", {"page": "99"}))[0] == "A51"


def test_without_a_run_the_list_says_nothing_is_scored_yet(client):
    assert "Nothing has been scored yet" in text(client.get("/researchers/"))


@pytest.mark.parametrize("researchers", [3, 120])
def test_the_list_takes_four_queries_however_long_then_two(client, django_assert_num_queries, researchers):
    run = make_run(researchers_scored=researchers, researchers_ranked=researchers)
    for number in range(1, researchers + 1):
        make_researcher_score(run, make_author(number), rank=number, subfield_id=1908)

    # The run, the subfields (their counts and names, cached for the run), then the page.
    with django_assert_num_queries(4):
        client.get("/researchers/", {"subfield": "1908", "sort": "sum", "page": "2"})
    with django_assert_num_queries(2):
        client.get("/researchers/", {"subfield": "1908", "sort": "sum", "page": "2"})


# The ways in: the header, paper pages, search and the sitemap


def test_the_header_links_to_the_researchers_and_institutions(client, lovelace):
    html = client.get("/researchers/").content.decode()

    assert '<a href="/researchers/" aria-current="page">Researchers</a>' in html
    assert '<a href="/institutions/">Institutions</a>' in html


def test_a_paper_page_names_its_authors_with_links_to_their_pages(client, lovelace, settings):
    settings.DATARANK_PAGE_CACHE_SECONDS = 0
    html = client.get(f"/papers/W{P4}/").content.decode()

    byline = re.search(r'<p class="byline">(.*?)</p>', html).group(1)
    assert byline == (
        '<a href="/researchers/A1/">Ada Lovelace</a>, <a href="/researchers/A4/">C. Babbage</a>, '
        '<a href="/researchers/A3/">Mary Somerville</a>'
    )


def test_a_byline_stops_at_20_and_counts_the_authors_without_an_id(client, lovelace, settings):
    settings.DATARANK_PAGE_CACHE_SECONDS = 0
    work = make_work(700, title="A consortium dataset", corpus=True, unidentified_authors=3)
    for number in range(800, 825):
        write(work, number)

    html = client.get("/papers/W700/").content.decode()

    byline = re.sub(r"<[^>]+>", "", re.search(r'<p class="byline">(.*?)</p>', html).group(1))
    assert byline.startswith("Author 800, Author 801, ")
    assert byline.endswith("Author 818, Author 819 and 5 more; 3 authors without an OpenAlex id")


def test_a_papers_data_json_lists_its_authors_with_their_pages(client, lovelace):
    data = json.loads(client.get(f"/papers/W{P1}/data.json").content)

    assert [(author["openalex_id"], author["url"]) for author in data["authors"]] == [
        ("A1", "http://testserver/researchers/A1/"),
        ("A2", "http://testserver/researchers/A2/"),
    ]
    assert data["unidentified_authors"] == 2


def test_search_results_name_their_first_authors_with_links(client, lovelace):
    html = client.get("/search/", {"q": "dataset 104"}).content.decode()

    assert (
        '<span class="byline"><a href="/researchers/A1/">Ada Lovelace</a>, <a href="/researchers/A4/">C. Babbage</a>, '
        '<a href="/researchers/A3/">Mary Somerville</a></span>'
    ) in html


def test_search_lists_the_researchers_whose_name_matches_above_the_papers(client, lovelace):
    response = client.get("/search/", {"q": "babbage"})

    page_text = text(response)
    assert "Researchers Charles Babbage Researcher&nbsp;score&nbsp;1.6 · top&nbsp;50% · 4 corpus papers" in page_text
    assert page_text.index("Charles Babbage Researcher&nbsp;score") < page_text.index("papers match")
    # Only researchers have a group entry: A4, merged into A2, has no score of its own.
    assert researchers_in(response) == ["A2"]


def test_search_ranks_matching_researchers_by_their_researcher_score(client, lovelace):
    for number, rank in ((20, 2), (21, None), (22, 1)):
        make_researcher_score(lovelace, make_author(number, name=f"Ada Byron {number}"), rank=rank)

    group = text(client.get("/search/", {"q": "ada"})).split("Researchers")[2].split("match")[0]

    # Ranked first by score (rank), then the ones not ranked; A5 (Ada King) was merged away.
    found = re.findall(r"Ada [A-Za-z]+(?: \d+)?", group)
    assert found == ["Ada Lovelace", "Ada Byron 22", "Ada Byron 20", "Ada Byron 21"]


@pytest.mark.parametrize("named_authors", [100, 1])
def test_search_ranks_researchers_the_same_whether_their_names_are_few_or_many(
    client, lovelace, monkeypatch, named_authors
):
    # Few names are looked up in the names' index; a name more papers hold than NAMED_AUTHORS is
    # looked for among the first papers' authors, and here both find the same researchers.
    monkeypatch.setattr(researchers, "NAMED_AUTHORS", named_authors)
    for number, rank in ((20, 2), (21, None), (22, 1), (23, 3), (24, 4), (25, 5)):
        make_researcher_score(lovelace, make_author(number, name=f"Ada Byron {number}"), rank=rank)
        affiliate(corpus_paper(lovelace, 900 + number, year=2020, rank=None, datarank=0.0), number)
        index_for_search([900 + number])

    with CaptureQueriesContext(connection) as captured:
        group = text(client.get("/search/", {"q": "ada"})).split("Researchers")[2].split("match")[0]

    assert re.findall(r"Ada [A-Za-z]+(?: \d+)?", group) == [
        "Ada Lovelace",
        "Ada Byron 22",
        "Ada Byron 20",
        "Ada Byron 23",
        "Ada Byron 24",
    ]
    if connection.vendor == "postgresql":
        (sql,) = [q["sql"] for q in captured.captured_queries if "scoring_researcherscore" in q["sql"]]
        assert ("WITH named" in sql) == (named_authors == 100)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the names' GIN index is PostgreSQL's")
@pytest.mark.parametrize("unscored", [0, 5])
def test_search_reads_researchers_in_one_query_that_runs_one_arm(client, lovelace, monkeypatch, unscored):
    # At 500,000 researchers the planner, given only the name condition, walked every score: 2.5 s.
    # Six papers hold "ada", so at most six researchers are named so: the names' index is read,
    # and when more authors than that are named (authors with no score), the first papers' are.
    monkeypatch.setattr(researchers, "NAMED_AUTHORS", interpret("ada").words[0].held)
    for number in range(unscored):
        make_author(700 + number, name=f"Ada Citer {number}")
    with CaptureQueriesContext(connection) as captured:
        client.get("/search/", {"q": "ada"}, headers=HTMX)
    (sql,) = [q["sql"] for q in captured.captured_queries if "scoring_researcherscore" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]["Plan"]

    def arms(node: dict) -> list[tuple[str, bool]]:
        here = [(node["One-Time Filter"], node["Plans"][-1]["Actual Loops"] > 0)] if "One-Time Filter" in node else []
        return here + [arm for child in node.get("Plans", []) for arm in arms(child)]

    # The arm looked up by id, or the one among the first papers' authors, never both.
    assert interpret("ada").words[0].held == 6
    assert [test.split()[1] for test, _ in arms(plan)] == ["<=", ">"]
    assert [ran for _, ran in arms(plan)] == [unscored == 0, unscored == 5]


def test_search_finds_researchers_by_the_start_of_the_last_word(client, lovelace):
    assert "Mary Somerville" in text(client.get("/search/", {"q": "mary somer"}, headers=HTMX)).split("papers")[0]


@pytest.mark.parametrize("query", ["<script>alert(1)</script>", "'); DROP TABLE papers_author; --", "a:* | !b", "\x00"])
def test_search_for_researchers_takes_hostile_input_as_words(client, lovelace, query):
    response = client.get("/search/", {"q": query})

    assert response.status_code in (200, 400) and "<script>alert" not in response.content.decode()


def test_search_takes_one_more_query_for_the_researchers_and_one_for_the_authors(
    client, django_assert_num_queries, lovelace
):
    # The vocabulary, the run, the researchers, the first matches (every bucket and band of
    # positions in one query: papers.search.first_matches), the page's rows with their authors.
    with django_assert_num_queries(5):
        assert client.get("/search/", {"q": "dataset"}, headers=HTMX).status_code == 200


def test_the_sitemap_lists_the_researchers_the_run_scored(client, lovelace):
    xml = client.get("/sitemap-researchers.xml").content.decode()

    assert re.findall(r"<loc>http://testserver/researchers/(A\d+)/</loc>", xml) == ["A1", "A2", "A3", "A6"]


def test_the_methodology_page_defines_the_three_researcher_scores_and_whose_they_are(client):
    page = text(client.get("/about/methodology/"))

    assert "The sum of their 10 best DataRanks ÷ 10, a missing paper counting 0" in page
    assert "theSindex's definition" in page and "Scholar Data's S-index" in page and "CatalystNeuro's" in page
    assert "an authorship without an author id counts for nobody" in page
    assert 'href="/researchers/"' in client.get("/about/methodology/").content.decode()
