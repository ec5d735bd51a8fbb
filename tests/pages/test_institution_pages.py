"""The institution page (/institutions/I…/) and its data.json, and the ranked list of institutions:
the researcher page's figures over every corpus paper an authorship lists the institution on,
each paper once."""

import json
import re

import pytest

from papers.models import Institution
from tests.factories import (
    affiliate,
    make_author,
    make_institution,
    make_institution_score,
    make_researcher_score,
    make_run,
    make_score,
    make_work,
    text,
    write,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
CERN, MIT, ETH = 10, 11, 12


@pytest.fixture
def cern(db):
    """CERN (I10): three corpus papers, the first with two of its researchers on it, and a citer
    that lists it too; MIT and ETH ranked beside it, and one institution not ranked."""
    run = make_run(
        papers_scored=3,
        papers_ranked=2,
        researchers_scored=3,
        researchers_ranked=2,
        institutions_scored=4,
        institutions_ranked=3,
    )
    cern = make_institution(CERN, name="CERN", country_code="CH", ror="https://ror.org/01ggx4157", type="facility")
    mit = make_institution(MIT, name="Massachusetts Institute of Technology", country_code="US", type="education")
    eth = make_institution(ETH, name="ETH Zurich", country_code="CH", type="education")
    for number, name in ((1, "Fabiola Gianotti"), (2, "Peter Higgs"), (3, "Tim Berners-Lee")):
        make_author(number, name=name)
    first = make_work(101, title="LHC open data", corpus=True, publication_year=2014, unidentified_authors=1)
    second = make_work(102, title="Collision events", corpus=True, publication_year=2016, cited_by_count=3)
    third = make_work(103, title="Detector geometry", corpus=True, publication_year=2016)
    citer = make_work(104, title="Citing work", corpus=None, publication_year=2017)
    make_score(run, first, rank=1, datarank=6.0)
    make_score(run, second, rank=2, datarank=2.0)
    make_score(run, third, rank=None, datarank=0.0)
    affiliate(first, 1, cern)
    affiliate(first, 2, cern, mit)
    affiliate(second, 2, cern)
    affiliate(third, 3, cern)
    affiliate(citer, 3, cern)
    make_researcher_score(run, 2, rank=1, researcher_score=0.8, papers=2)
    make_researcher_score(run, 1, rank=2, researcher_score=0.6)
    make_institution_score(
        run, cern, rank=2, researcher_score=0.8, sum_score=8.0, h_index=1, papers=3, ranked_papers=2, researchers=3
    )
    make_institution_score(run, mit, rank=3, researcher_score=0.6, sum_score=6.0, h_index=2, researchers=1)
    make_institution_score(run, eth, rank=1, researcher_score=2.0, sum_score=2.0, h_index=0)
    make_institution_score(run, make_institution(13, country_code="FR"), rank=None)
    return run


def page(client, key: str = "I10", **params):
    return client.get(f"/institutions/{key}/", params)


def papers_in_table(response) -> list[str]:
    table = response.content.decode().split('id="paper-table"')[1].split("</table>")[0]
    return re.findall(r'href="/papers/(W\d+)/"', table)


def test_it_names_the_institution_its_country_type_and_links(client, cern):
    response = page(client)

    html, page_text = response.content.decode(), text(response)
    assert "<h1>CERN</h1>" in html and "<title>CERN — Institution — DataRank</title>" in html
    assert '<a href="/institutions/?country=CH">CH</a> · Facility · 3 corpus papers · 3 researchers' in html
    assert '<a href="https://ror.org/01ggx4157">ROR 01ggx4157</a>' in html and 'href="https://openalex.org/I10"' in html
    assert "places it in the top 67% of 3 ranked institutions (rank 2 of 3)." in page_text


def test_it_shows_the_three_scores_over_its_papers_each_once(client, cern):
    scores = text(page(client)).split("Three institution-level scores")[1].split("Corpus papers")[0]

    assert "each over the same 3 corpus papers (each paper once, however many of its authors were there)" in scores
    assert "Researcher score 0.80 Top 67% · rank 2 of 3 The mean of its 10 best DataRanks" in scores
    assert "Sum 8.0 Σ DataRank over all its corpus papers. Scholar Data\u2019s S-index" in scores
    assert "Data h-index 1 The largest n such that n of its corpus papers" in scores


def test_its_papers_are_the_corpus_papers_listing_it_each_once(client, cern):
    response = page(client)

    assert papers_in_table(response) == ["W101", "W102", "W103"]
    assert "1 authorship on these papers carries no OpenAlex author id and counts for nobody." in text(response)


def test_the_paper_table_sorts_and_an_htmx_request_gets_it_alone(client, cern):
    response = client.get("/institutions/I10/", {"sort": "year", "dir": "asc"}, headers=HTMX)

    assert response.content.decode().lstrip().startswith('<div id="paper-table"')
    assert papers_in_table(response) == ["W101", "W102", "W103"]
    assert papers_in_table(page(client, sort="year")) == ["W102", "W103", "W101"]
    assert "HX-Request" in response["Vary"]


def test_it_lists_its_researchers_with_most_papers_there(client, cern):
    section = text(page(client)).split("Researchers")[-1]

    assert "Peter Higgs 2 papers here · researcher&nbsp;score&nbsp;0.80" in section
    assert section.index("Peter Higgs") < section.index("Fabiola Gianotti") < section.index("Tim Berners-Lee")
    # Tim Berners-Lee's citer is no corpus paper: one paper here.
    assert "Tim Berners-Lee 1 paper here" in section


def test_the_chart_has_a_point_per_scored_paper(client, cern):
    html = page(client).content.decode()

    data = json.loads(re.search(r'<script id="roll-up-chart-data" type="application/json">(.*?)</script>', html)[1])
    assert data["x"] == [2014, 2016, 2016] and data["y"] == [6.0, 2.0, 0.0]


@pytest.mark.parametrize(
    ("path", "location"),
    [("/institutions/i10/", "/institutions/I10/"), ("/institutions/i10/data.json", "/institutions/I10/data.json")],
)
def test_a_lower_case_id_redirects_permanently(client, cern, path, location):
    response = client.get(path)

    assert response.status_code == 301 and response["Location"] == location


def test_an_unknown_institution_or_one_with_no_corpus_paper_is_a_404_saying_so(client, cern):
    quiet = make_institution(20, name="Quiet Lab")
    affiliate(make_work(300, corpus=None), 1, quiet)

    assert "We hold no institution I999" in text(page(client, "I999"))
    response = page(client, "I20")
    assert response.status_code == 404 and "Quiet Lab (I20) has no paper in the data-sharing corpus" in text(response)


def test_data_json_gives_the_pages_figures(client, cern):
    data = json.loads(client.get("/institutions/I10/data.json").content)

    assert data["institution"] == {
        "openalex_id": "I10",
        "display_name": "CERN",
        "country_code": "CH",
        "type": "facility",
        "ror": "https://ror.org/01ggx4157",
        "researchers": 3,
        "openalex_url": "https://openalex.org/I10",
        "url": "http://testserver/institutions/I10/",
    }
    assert data["scores"]["sum_score"] == 8.0 and data["standing"]["ranked_institutions"] == 3
    assert [paper["openalex_id"] for paper in data["papers"]] == ["W101", "W102", "W103"]
    assert (data["top_researchers"][0]["display_name"], data["top_researchers"][0]["shared_papers"]) == (
        "Peter Higgs",
        2,
    )


@pytest.mark.parametrize("extra_papers", [0, 40])
def test_the_page_takes_the_same_number_of_queries_however_many_papers(
    client, django_assert_num_queries, cern, extra_papers
):
    institution = Institution.objects.get(id=CERN)
    for number in range(600, 600 + extra_papers):
        work = make_work(number, corpus=True, publication_year=2000 + number % 20)
        make_score(cern, work, rank=None, datarank=0.0)
        affiliate(work, 1000 + number, institution, make_institution(number))

    # The institution, the run, its score, the papers by year, the page of the table, the
    # chart's points, its researchers and their names.
    with django_assert_num_queries(8):
        assert page(client).status_code == 200
    with django_assert_num_queries(5):
        assert client.get("/institutions/I10/", {"page": "2"}, headers=HTMX).status_code == 200


# The ranked list of institutions


def institutions_in(response) -> list[str]:
    return re.findall(r'<a class="paper-title" href="/institutions/(I\d+)/"', response.content.decode())


def test_the_list_ranks_institutions_and_counts_those_not_ranked(client, cern):
    response = client.get("/institutions/")

    assert institutions_in(response) == ["I12", "I10", "I11"]
    assert "3 ranked institutions of the data-sharing corpus, and 1 institution not ranked yet" in text(response)
    assert "CERN CH · Facility · 3 researchers 0.80 · top 67% 8.0 1 2 of 3 ranked" in text(response)


@pytest.mark.parametrize(("sort", "order"), [("sum", ["I10", "I11", "I12"]), ("h", ["I11", "I10", "I12"])])
def test_the_list_sorts_by_each_score(client, cern, sort, order):
    assert institutions_in(client.get("/institutions/", {"sort": sort})) == order


@pytest.mark.parametrize("country", ["CH", "ch"])
def test_the_list_filters_by_country(client, cern, country):
    response = client.get("/institutions/", {"country": country})

    assert institutions_in(response) == ["I12", "I10"]
    assert '<option value="CH" selected>CH (2)</option>' in response.content.decode()
    assert "Institutions in CH, by researcher score" in text(response)


def test_the_country_filter_swaps_the_list_with_htmx(client, cern):
    response = client.get("/institutions/", {"country": "US", "sort": "h"}, headers=HTMX)

    assert "<html" not in response.content.decode() and institutions_in(response) == ["I11"]
    assert response["HX-Push-Url"] == "/institutions/?country=US&sort=h"


def test_a_country_that_is_no_code_is_a_400_saying_why(client, cern):
    response = client.get("/institutions/", {"country": "Switzerland"})

    assert response.status_code == 400 and "two-letter ISO code" in text(response)


@pytest.mark.parametrize("institutions", [3, 120])
def test_the_list_takes_three_queries_however_long_then_two(client, django_assert_num_queries, institutions):
    run = make_run(institutions_scored=institutions, institutions_ranked=institutions)
    for number in range(1, institutions + 1):
        make_institution_score(run, make_institution(number, country_code="DE"), rank=number)

    # The run, the countries (cached for the run), then the page.
    with django_assert_num_queries(3):
        client.get("/institutions/", {"country": "DE", "sort": "h", "page": "2"})
    with django_assert_num_queries(2):
        client.get("/institutions/", {"country": "DE", "sort": "h", "page": "2"})


def test_the_sitemap_lists_the_institutions_the_run_scored(client, cern):
    xml = client.get("/sitemap-institutions.xml").content.decode()

    assert re.findall(r"/institutions/(I\d+)/</loc>", xml) == ["I10", "I11", "I12", "I13"]


def test_a_researchers_page_links_to_their_institutions(client, cern):
    write(make_work(105, corpus=True), 2)

    assert 'href="/institutions/I11/"' in client.get("/researchers/A2/").content.decode()
