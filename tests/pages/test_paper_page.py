"""The full paper page: every section, the citer table and its htmx partial, the downloads,
and what the page says when data is missing."""

import csv
import io
import json
import math
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from papers.models import CorpusEntry, FairSignal, Work
from scoring.datarank import format_score
from scoring.fair.metrics import METHOD_VERSION
from scoring.models import FairEvaluation, ScoringRun
from scoring.services import rescore_corpus
from tests.factories import NOW, cite, make_corpus_paper, make_run, make_score, make_work, text, write

pytestmark = pytest.mark.django_db

PAPER = 500


@pytest.fixture(autouse=True)
def empty_cache():
    # The graph and the distribution are cached; every test starts from a cold cache.
    cache.clear()
    yield
    cache.clear()


def build_paper(citer_count: int, *, number: int = PAPER, first_citer: int = 10_000) -> Work:
    """A corpus paper with `citer_count` citers (C = 1..n, R = 10..), one self-citation, one
    citer citing another, and nothing scored yet."""
    paper = make_work(number, title=f"Paper {number} dataset", corpus=True, cited_by_count=120, publication_year=2015)
    write(paper, 1)
    citers = [
        make_work(
            first_citer + i,
            title=f"Citer {i}",
            corpus=None,
            cited_by_count=i + 1,
            referenced_works_count=10 + i,
            publication_year=2000 + i % 20,
        )
        for i in range(citer_count)
    ]
    for citer in citers:
        cite(citer, paper)
    if len(citers) > 1:
        cite(citers[0], citers[1])
    own = make_work(first_citer + citer_count, title="Our own follow-up", corpus=None, cited_by_count=500)
    write(own, 1)
    cite(own, paper)
    return paper


@pytest.fixture
def scored():
    """A paper with 30 citers and two corpus neighbours, scored by a real run."""
    paper = build_paper(30)
    corpus_citer = make_work(900, title="A corpus citer", corpus=True, cited_by_count=40, referenced_works_count=4)
    cite(corpus_citer, paper)
    make_work(901, title="Another corpus paper", corpus=True, cited_by_count=3)
    rescore_corpus()
    return paper


def page_of(client, number: int = PAPER, **params):
    return client.get(f"/papers/W{number}/", params)


# Query counts: the page as it is built, with the rendered-page cache off
# (tests/pages/test_page_cache.py counts the page served from it).


@pytest.fixture
def page_cache_off(settings):
    settings.DATARANK_PAGE_CACHE_SECONDS = 0


@pytest.mark.parametrize("citer_count", [3, 60])
@pytest.mark.usefixtures("page_cache_off")
def test_the_page_takes_the_same_number_of_queries_however_many_citers(client, django_assert_num_queries, citer_count):
    build_paper(citer_count)
    rescore_corpus()

    # The run, the paper, its citers, its byline, the links among them, the distribution (2),
    # the score history and the FAIR context (2).
    with django_assert_num_queries(10):
        assert page_of(client).status_code == 200


@pytest.mark.usefixtures("page_cache_off")
def test_a_second_view_reads_the_graph_and_distribution_from_the_cache(client, django_assert_num_queries, scored):
    page_of(client)

    with django_assert_num_queries(7):
        assert page_of(client).status_code == 200


def test_a_new_citer_changes_the_cached_graph(client, scored):
    page_of(client)
    cite(make_work(950, title="A late citer", corpus=None, cited_by_count=2), scored)

    assert "W950" in script_data(page_of(client), "citation-graph-data")["nodes"]["id"]


# Sections


def test_every_section_is_on_the_page_in_the_seeds_order(client, scored):
    html = page_of(client).content.decode()

    markers = [
        "<h1>",
        'class="summary"',
        'id="abstract-heading"',
        'id="pipeline"',
        'id="fair-checklist"',
        'id="fair-score"',
        'id="breakdown"',
        'id="top-citers"',
        'id="why"',
        'id="graph"',
        'id="citers"',
        'id="distribution"',
    ]
    positions = [html.index(marker) for marker in markers]
    assert positions == sorted(positions)


def test_the_summary_and_breakdown_use_the_runs_figures(client, scored):
    run = ScoringRun.objects.current()
    score = scored.scores.get(run=run)
    page = text(page_of(client))

    assert "Paper 500 dataset is a data-sharing paper published in 2015." in page
    assert f"It has a DataRank of {score.datarank:.1f}, placing it in the top " in page
    assert f"(rank {score.rank} of 3)" in page
    assert "It has been cited 120 times, with 31 citing works in its 1-hop citation network." in page
    base_percent = round(100 * score.base_contribution / score.datarank)
    assert f"Base {base_percent}% · Citation network {100 - base_percent}%" in page
    assert "From this paper's citation signal (120 citations)" in page
    assert "From 31 citing papers with measurable signal" in page


def test_why_explains_the_score_with_this_papers_numbers(client, scored):
    score = scored.scores.get(run=ScoringRun.objects.current())
    page = text(page_of(client))

    assert f"Base score B(p) = {math.log1p(120):.3f}" in page
    assert f"Network N(p) = {score.network_contribution / 0.85:.3f}" in page
    assert "Damping factor d = 0.85" in page
    assert f"= {score.base_contribution:.3f} + {score.network_contribution:.3f} = {score.datarank:.3f}" in page
    assert "Self-citations excluded: 1" in page and "1 of this paper's citers did" in page
    assert "Citer cap: 200, not reached" in page


def test_why_says_when_the_cap_bound(client):
    build_paper(5)
    rescore_corpus(cap=3)

    page = text(page_of(client))

    assert "Citer cap: 3, reached" in page
    assert "only its 3 most cited count" in page


def test_the_top_five_citers_come_in_cap_order_without_the_self_citation(client, scored):
    page = text(page_of(client))
    top = page[page.index("Top 5 citers") : page.index("Why this DataRank?")]

    titles = re.findall(r"(A corpus citer|Citer \d+)", top)
    assert titles == ["A corpus citer", "Citer 29", "Citer 28", "Citer 27", "Citer 26"]
    assert "Our own follow-up" not in top


def test_the_pipeline_shows_each_stage_with_its_status_and_time(client, scored):
    CorpusEntry.objects.filter(work=scored).update(citers_pulled_at=NOW)
    html = page_of(client).content.decode()
    pipeline = text_of(html[html.index('id="pipeline"') : html.index('id="fair-checklist"')])

    for stage in ("Metadata", "Data-paper check", "Enrichment", "Citation network", "Scoring"):
        assert stage in pipeline
    run = ScoringRun.objects.current()
    assert f"Scored by run {run.pk}, algorithm datarank-1hop-v1" in pipeline
    assert "Not yet: the FAIR signals" in pipeline
    assert f"Citers pulled from OpenAlex (most cited first) on {NOW:%-d %b %Y}" in pipeline
    assert "We hold 32 citers within the cap of 200: 31 counted, 1 self-citation left out." in pipeline


def test_the_pipeline_shows_when_the_fair_signals_were_checked(client, scored):
    FairSignal.objects.create(work=scored, key="has_doi", status="yes", checked_at=NOW)

    assert f"last checked on {NOW:%-d %b %Y}" in text(page_of(client))


def test_a_retracted_paper_carries_a_warning(client, scored):
    Work.objects.filter(id=PAPER).update(is_retracted=True)

    response = page_of(client)

    assert 'role="alert"' in response.content.decode()
    assert "Retracted. OpenAlex marks this work as retracted." in text(response)


def test_the_header_shows_dataset_and_open_access_badges(client, scored):
    Work.objects.filter(id=PAPER).update(type="dataset", is_oa=True, oa_status="green")

    page = text(page_of(client))

    assert "Dataset Open Access · green" in page
    assert "is a dataset published in 2015" in page


def test_the_graph_holds_the_paper_its_citers_the_self_citation_and_the_links_among_them(client, scored):
    response = page_of(client)
    graph = script_data(response, "citation-graph-data")

    assert graph["nodes"]["id"][0] == f"W{PAPER}"
    assert len(graph["nodes"]["id"]) == 33
    roles = dict(zip(graph["nodes"]["id"], graph["nodes"]["role"], strict=True))
    assert roles["W900"] == "corpus" and roles["W10000"] == "citer" and roles["W10030"] == "self"
    index = {node: position for position, node in enumerate(graph["nodes"]["id"])}
    assert sorted([index["W10000"], index["W10001"]]) in graph["links"]
    assert len(graph["links"]) == 32 + 1
    assert "with 33 citation links, 1 of them between citers" in text(response)


def test_the_distribution_counts_every_scored_paper_and_marks_this_one(client, scored):
    response = page_of(client)

    assert sum(script_data(response, "distribution-data")["y"]) == 3
    score = scored.scores.get()
    assert f'data-value="{score.datarank!r}"' in response.content.decode()


def test_the_score_history_lists_each_succeeded_run(client, scored):
    failed = make_run(status=ScoringRun.Status.FAILED)
    make_score(failed, scored, rank=1, datarank=99.0)
    rescore_corpus()

    page = text(page_of(client))

    assert "Score history" in page
    runs = [run.pk for run in ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED)]
    assert len(runs) == 2
    assert "99.00" not in page
    assert f"{runs[1]} current" in page


def evaluated(work_id: int, raw: float, *, provisional: bool = False) -> None:
    FairEvaluation.objects.create(
        work_id=work_id, method_version=METHOD_VERSION, evaluated_at=timezone.now(), f=raw, a=raw, i=raw, r=raw,
        raw=raw, provisional=provisional,
    )  # fmt: skip


def test_the_summary_gives_the_calibrated_fair_score_when_there_is_one(client, scored):
    others = [make_corpus_paper(9100000000031, title="Other one"), make_corpus_paper(9100000000032, title="Two")]
    evaluated(scored.id, 40.0)
    evaluated(others[0].id, 20.0)
    evaluated(others[1].id, 90.0)

    # 2 of the 3 evaluated papers score at most 40: 66.7, shown whole.
    assert "Its calibrated FAIR score is 67/100." in text(page_of(client))


def test_the_summary_says_when_the_fair_score_is_provisional(client, scored):
    make_corpus_paper(9100000000031, title="Other one")
    evaluated(9100000000031, 20.0)
    evaluated(scored.id, 40.0, provisional=True)

    # Placed among the complete evaluations, of which it is not one: 1 of 1 at or below.
    assert "Its calibrated FAIR score is 100/100 (provisional: some checks are still to make)." in text(page_of(client))


# The citer table


def test_the_table_lists_every_counted_citer_with_its_contribution(client, scored):
    html = page_of(client, sort="citations").content.decode()
    table = text_of(html[html.index('id="citer-table"') :])

    # Citer 29: C = 30, R = 39.
    term = math.log1p(30) / 39
    base_only = 0.15 * math.log1p(30)
    # Below 1, two significant digits (DESIGN.md §1, display).
    assert f"Citer 29 Venue unknown · W10029 2009 30 39 {format_score(base_only)}base {0.85 * term:.4f}" in table
    assert "A corpus citer Venue unknown · W900 — 40 4 " in table
    assert "Page 1 of 2" in table
    assert "Our own follow-up" not in table


def test_the_table_sorts_by_a_column_and_the_header_flips_it(client, scored):
    html = page_of(client, sort="citations", asc="1").content.decode()
    table = html[html.index('id="citer-table"') :]

    assert re.findall(r"Citer \d+|A corpus citer", text_of(table))[:3] == ["Citer 0", "Citer 1", "Citer 2"]
    assert 'aria-sort="ascending"' in table
    assert 'href="?sort=citations#citers"' in table
    assert 'href="?sort=title&amp;asc=1#citers"' in table


def test_the_second_page_is_a_plain_link_that_works_without_javascript(client, scored):
    first = page_of(client).content.decode()
    assert 'href="?page=2#citers"' in first

    second = page_of(client, page="2").content.decode()
    table = text_of(second[second.index('id="citer-table"') :])

    assert "Page 2 of 2" in table
    assert len(re.findall(r"· W\d+", table)) == 31 - 25


@pytest.mark.parametrize("params", [{"sort": "nonsense"}, {"page": "<script>"}, {"page": "999"}, {"asc": "maybe"}])
def test_an_unreadable_sort_or_page_shows_a_table_anyway(client, scored, params):
    response = page_of(client, **params)

    assert response.status_code == 200
    assert "Page " in text(response)


@pytest.mark.usefixtures("page_cache_off")
def test_an_htmx_request_gets_the_table_alone(client, django_assert_num_queries, scored):
    with django_assert_num_queries(3):
        response = client.get(f"/papers/W{PAPER}/", {"page": "2"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="citer-table"')
    assert "<html" not in html and 'id="graph"' not in html
    assert "Page 2 of 2" in text(response)
    assert "HX-Request" in response["Vary"]
    assert "HX-Request" in page_of(client)["Vary"]


# Downloads


def test_the_csv_lists_the_counted_citers_in_cap_order_with_exact_figures(client, scored):
    response = client.get(f"/papers/W{PAPER}/citers.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="W{PAPER}-citers.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["openalex_id"] for row in rows[:3]] == ["W900", "W10029", "W10028"]
    assert len(rows) == 31
    assert "W10030" not in {row["openalex_id"] for row in rows}
    assert float(rows[1]["term"]) == math.log1p(30) / 39
    network = scored.scores.get().network_contribution
    assert math.fsum(float(row["contribution"]) for row in rows) == pytest.approx(network, rel=1e-12)
    assert rows[0]["in_corpus"] == "True" and rows[1]["in_corpus"] == "False"


def test_the_json_holds_the_paper_its_score_run_citers_and_fair_context(client, scored):
    response = client.get(f"/papers/W{PAPER}/data.json")

    data = response.json()
    run = ScoringRun.objects.current()
    assert data["work"]["openalex_id"] == f"W{PAPER}" and data["work"]["cited_by_count"] == 120
    assert data["run"]["id"] == run.pk and data["run"]["algorithm"] == "datarank-1hop-v1"
    score = scored.scores.get()
    assert data["score"]["datarank"] == score.datarank and data["score"]["citing_works"] == 31
    assert len(data["citers"]) == 31 and data["citers"][0]["openalex_id"] == "W900"
    assert data["self_citations_excluded"] == [
        {"openalex_id": "W10030", "title": "Our own follow-up", "cited_by_count": 500}
    ]
    assert "fair" in data and data["data_paper_check"]["passed"] is True
    # The same citers, the same columns and the same figures as the CSV.
    rows = list(csv.DictReader(io.StringIO(client.get(f"/papers/W{PAPER}/citers.csv").content.decode())))
    assert list(data["citers"][1]) == list(rows[1])
    assert data["citers"][1]["contribution"] == float(rows[1]["contribution"])


def test_the_downloads_of_a_non_corpus_work_are_404s(client):
    make_work(7, corpus=None)

    assert client.get("/papers/W7/citers.csv").status_code == 404
    assert client.get("/papers/W7/data.json").status_code == 404
    assert client.get("/papers/w7/data.json").status_code == 301


# Missing data


def test_a_paper_with_no_citers_says_so_in_every_citer_section(client):
    make_work(PAPER, title="Lonely dataset", corpus=True)
    rescore_corpus()

    response = page_of(client)

    assert response.status_code == 200
    page = text(response)
    assert "We hold no works citing this paper" in page
    assert "There is no graph to draw: we hold no works citing this paper." in page
    assert "No citer counts toward this paper's score: we hold no works citing it." in page
    assert "This paper's DataRank is 0" in page
    assert 'id="citation-graph-data"' not in response.content.decode()


def test_a_paper_cited_only_by_its_own_authors_says_so(client):
    paper = make_work(PAPER, title="Self-cited dataset", corpus=True, cited_by_count=3)
    write(paper, 1)
    own = make_work(11, corpus=None, cited_by_count=8)
    write(own, 1)
    cite(own, paper)
    rescore_corpus()

    page = text(page_of(client))

    assert "We hold no works citing this paper apart from 1 self-citation" in page
    assert "the only citers we hold are self-citations" in page
    # Its one citer is well cited, so "Why" must not blame uncited citers.
    assert "its citers add nothing, as no citer counts toward it once self-citations are left out" in page


def test_a_paper_without_an_abstract_says_why(client, scored):
    assert "OpenAlex has no abstract for this work. Publishers do not always share abstracts" in text(page_of(client))


def test_a_record_cut_to_size_says_so_at_its_title_its_abstract_and_in_a_notice(client):
    truncated = {
        "title": {"length": 52_428_800, "kept": 2_000},
        "abstract": {"length": 250_000, "kept": 100_000},
        "doi": {"length": 300, "kept": 0},
    }
    make_work(610, title="T" * 2_000, abstract="a" * 100_000, corpus=True, truncated=truncated)
    make_work(611, title="Whole dataset", abstract="Complete.", corpus=True)

    response = page_of(client, 610)

    html = response.content.decode()
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    assert text_of(heading) == "T" * 2_000 + " … [truncated by DataRank: the record's title had 52,428,800 characters]"
    abstract = text_of(re.search(r'<p class="abstract">(.*?)</p>', html, re.S).group(1))
    assert abstract == "a" * 100_000 + " … [truncated by DataRank: the record's abstract had 250,000 characters]"
    notice = text_of(re.search(r'<p class="notice" id="truncated-fields">(.*?)</p>', html, re.S).group(1))
    assert notice == (
        "Shortened record. The OpenAlex record held fields longer than DataRank keeps: "
        "abstract (250,000 characters, the first 100,000 kept), doi (300 characters, left out), "
        "title (52,428,800 characters, the first 2,000 kept). OpenAlex has the full record."
    )
    whole = page_of(client, 611).content.decode()
    assert "truncated" not in whole.lower() and "Shortened record" not in whole


def test_a_paper_not_in_the_run_says_so_everywhere(client, scored):
    make_work(600, title="Newcomer dataset", corpus=True, cited_by_count=4)

    response = page_of(client, 600)

    assert response.status_code == 200
    page = text(response)
    assert "It has been cited 4 times and has no DataRank yet." in page
    assert "This paper has not been scored yet: it is not part of the latest scoring run" in page
    assert "There is nothing to explain until the paper is scored." in page
    assert "it has no place in the distribution yet" in page


def test_a_paper_with_no_run_at_all_says_so(client):
    build_paper(3)

    response = page_of(client)

    assert response.status_code == 200
    page = text(response)
    assert "no scoring run has finished so far" in page
    assert "No scoring run has finished yet, so there is no distribution to show." in page
    assert "Citer 2" in page  # the citers are still listed, with their base-only figures


def test_a_paper_without_a_fair_evaluation_has_no_fair_sentence(client, scored):
    page = text(page_of(client))

    assert "calibrated FAIR score is" not in page


def script_data(response, element_id: str):
    """What the page hands its scripts through json_script."""
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(found.group(1))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


# Standing: ranked, not ranked, cohorts (DESIGN.md §1)

GEOPHYSICS = {
    "topic": {"id": 10399, "name": "Seismic imaging"},
    "subfield": {"id": 1908, "name": "Geophysics"},
    "field": {"id": 19, "name": "Earth and Planetary Sciences"},
    "domain": {"id": 3, "name": "Physical Sciences"},
}


def standing_world(*, cohort_size, cohort_top_percent, rank=3, top_percent=0.62):
    run = make_run(papers_scored=11_084, papers_ranked=1_204)
    paper = make_work(77, title="A seismic velocity", corpus=True, publication_year=2020, primary_topic=GEOPHYSICS)
    Work.objects.filter(id=77).update(subfield_id=1908)
    make_score(
        run,
        paper,
        rank=rank,
        datarank=2.5 if rank else 0.0,
        top_percent=top_percent,
        tier=1 if rank else None,
        cohort_size=cohort_size,
        cohort_top_percent=cohort_top_percent,
    )
    return paper


def test_a_ranked_paper_shows_its_cohort_beside_the_corpus_figure(client):
    standing_world(cohort_size=840, cohort_top_percent=11.3)

    page = text(client.get("/papers/W77/"))

    assert "placing it in the top 0.7% of the data-sharing corpus (rank 3 of 1,204)" in page
    assert "top 12% of Geophysics papers, 2019–2021 (n = 840)" in page  # noqa: RUF001 — the page's en dash


def test_a_cohort_under_20_papers_says_why_it_has_no_percentile(client):
    standing_world(cohort_size=7, cohort_top_percent=None)

    assert "n/a: only 7 ranked papers in this cohort" in text(client.get("/papers/W77/"))


def test_a_paper_scoring_zero_is_not_ranked_and_says_how_many_share_that(client):
    standing_world(cohort_size=None, cohort_top_percent=None, rank=None, top_percent=None)

    page = text(client.get("/papers/W77/"))

    notice = "Not ranked yet: no citation with signal; 9,879 other corpus papers of the 11,084 scored share that state."
    assert notice in page
    assert "top " not in page.split("Not ranked yet")[0].split("It has a DataRank")[-1]
    assert "Tier S" not in page
    data = client.get("/papers/W77/data.json").json()
    assert data["score"]["rank"] is None and data["score"]["tier"] is None and data["score"]["top_percent"] is None
    assert data["standing"]["ranked"] is False and data["standing"]["not_ranked_papers"] == 9_880


def test_a_lone_ranked_paper_is_told_that_being_first_says_nothing(client):
    run = make_run(papers_scored=3, papers_ranked=1)
    paper = make_work(78, title="The only cited dataset", corpus=True)
    make_score(run, paper, rank=1, datarank=0.3, top_percent=100.0, tier=5)

    page = text(client.get("/papers/W78/"))

    assert "top 100% of the data-sharing corpus (rank 1 of 1)" in page
    assert "It is the only ranked paper, so being first says nothing." in page


def test_the_json_gives_the_standing_and_the_cohort_it_is_based_on(client):
    standing_world(cohort_size=840, cohort_top_percent=11.3)

    standing = client.get("/papers/W77/data.json").json()["standing"]

    assert standing["ranked"] is True and standing["ranked_papers"] == 1_204
    assert standing["cohort"] == "top 12% of Geophysics papers, 2019\u20132021 (n\u00a0=\u00a0840)"
    assert standing["cohort_definition"] == {"subfield": "Geophysics", "subfield_id": 1908, "years": [2019, 2021]}
