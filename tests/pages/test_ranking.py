"""The ranking page: the ranked papers in DataRank order, by tier, subfield and years, a page at a time."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from datarank_site.pages.views import RANKING_PAGE_SIZE
from papers.models import CorpusEntry, Work
from scoring.models import PaperScore, ScoringRun
from scoring.services import rescore_corpus
from tests.factories import count_run, make_run, make_score, make_work, text

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# The en dash between the years of a range.
DASH = "\u2013"


def scored_corpus(papers: int, *, not_ranked: int = 0, **work_fields):
    """`papers` ranked corpus papers, ranked 1…N by id with DataRank N+1-rank and tiers as the
    engine gives them (ceil(5·rank/N)), then `not_ranked` corpus papers scored 0 and not ranked."""
    run = make_run(papers_scored=papers + not_ranked, papers_ranked=papers)
    for number in range(1, papers + 1):
        work = make_work(
            number, title=f"Paper {number:03d}", corpus=True, cited_by_count=papers - number, **work_fields
        )
        make_score(run, work, rank=number, datarank=float(papers + 1 - number), tier=-(-5 * number // papers))
    for number in range(papers + 1, papers + not_ranked + 1):
        work = make_work(number, title=f"Paper {number:03d}", corpus=True, **work_fields)
        make_score(run, work, rank=None, datarank=0.0)
    return run


GEOPHYSICS = {"id": 1908, "name": "Geophysics"}
OCEANOGRAPHY = {"id": 1910, "name": "Oceanography"}


def topic(subfield: dict) -> dict:
    """A primary topic as ingest stores it: {topic, subfield, field, domain: {id, name}}."""
    return {
        "topic": {"id": 10001, "name": "A topic"},
        "subfield": subfield,
        "field": {"id": 19, "name": "Earth and Planetary Sciences"},
        "domain": {"id": 3, "name": "Physical Sciences"},
    }


def cohort_corpus():
    """Ten ranked papers: 1 to 6 Geophysics (2017 to 2022, one a year), 7 to 9 Oceanography of 2020, 10 with
    no subfield; and two Geophysics papers of 2020 that are not ranked."""
    run = make_run(papers_scored=12, papers_ranked=10)
    subfields = [GEOPHYSICS] * 6 + [OCEANOGRAPHY] * 3 + [None]
    years = [2017, 2018, 2019, 2020, 2021, 2022, 2020, 2020, 2020, 2020]
    for number, (subfield, year) in enumerate(zip(subfields, years, strict=True), start=1):
        work = make_work(
            number,
            title=f"Paper {number:03d}",
            corpus=True,
            publication_year=year,
            subfield_id=subfield["id"] if subfield else None,
            primary_topic=topic(subfield) if subfield else None,
        )
        make_score(run, work, rank=number, datarank=11.0 - number, tier=-(-5 * number // 10))
    for number in (11, 12):
        work = make_work(
            number, title=f"Paper {number:03d}", corpus=True, publication_year=2020, subfield_id=1908,
            primary_topic=topic(GEOPHYSICS),
        )  # fmt: skip
        make_score(run, work, rank=None, datarank=0.0)
    return run


def test_the_ranking_lists_papers_best_first_with_rank_tier_and_top_percent(client):
    scored_corpus(10)

    response = client.get("/ranking/")

    assert response.status_code == 200
    page = text(response)
    assert "10 ranked papers of the data-sharing corpus, best first." in page and "not ranked yet" not in page
    assert "All ranked papers" in page
    assert "1 Paper 001 Venue unknown S1 10.0 10% 9" in page
    assert "10 Paper 010 Venue unknown S5 1.0 100% 0" in page
    assert page.index("Paper 001") < page.index("Paper 002") < page.index("Paper 010")
    assert 'href="/papers/W1/"' in response.content.decode()


def test_the_ranking_lists_only_ranked_papers_and_says_how_many_are_not(client):
    scored_corpus(3, not_ranked=2)

    response = client.get("/ranking/")

    page = text(response)
    assert (
        "3 ranked papers of the data-sharing corpus, best first; 2 more are not ranked yet: no citation with signal."
        in page
    )
    assert "Paper 003" in page and "Paper 004" not in page and "Paper 005" not in page
    assert 'href="/about/methodology/#ranks"' in response.content.decode()


@pytest.mark.parametrize(
    ("ranked", "not_ranked", "sentence"),
    [
        (
            1,
            1,
            "1 ranked paper of the data-sharing corpus, best first; 1 more is not ranked yet: no citation with signal.",
        ),
        (1_204, 0, "1,204 ranked papers of the data-sharing corpus, best first. Tiers"),
        (0, 1, "The one scored paper is not ranked yet: it has no citation with signal."),
        (0, 9_880, "None of the 9,880 scored papers is ranked yet: none has a citation with signal."),
    ],
)
def test_the_lede_gives_the_split_in_words_that_fit_the_numbers(client, ranked, not_ranked, sentence):
    make_run(papers_scored=ranked + not_ranked, papers_ranked=ranked)

    assert sentence in text(client.get("/ranking/"))


def test_with_nothing_ranked_the_ranking_says_so_and_offers_no_filters(client):
    scored_corpus(0, not_ranked=2)

    response = client.get("/ranking/")

    assert "No paper is ranked yet." in text(response)
    assert 'id="ranking-tier"' not in response.content.decode() and "<table" not in response.content.decode()


def test_the_ranking_leaves_out_papers_taken_out_of_the_corpus_since_the_run(client):
    run = scored_corpus(3)
    excluded = run.scores.get(work_id=2).work.corpus_entry
    excluded.override = "exclude"
    excluded.save()

    page = text(client.get("/ranking/"))

    assert "Paper 001" in page and "Paper 003" in page and "Paper 002" not in page


def test_a_tier_shows_only_its_papers(client):
    scored_corpus(10)

    page = text(client.get("/ranking/", {"tier": "3"}))

    assert "5 Paper 005" in page and "6 Paper 006" in page
    assert "Paper 004" not in page and "Paper 007" not in page
    assert '<option value="3" selected>' in client.get("/ranking/", {"tier": "3"}).content.decode()


def test_pages_follow_one_another_with_plain_links_and_htmx(client):
    scored_corpus(RANKING_PAGE_SIZE + 5)

    first = client.get("/ranking/").content.decode()
    second = client.get("/ranking/", {"page": "2"})

    link = first[first.index('rel="next"') : first.index("Next →")]
    assert 'href="/ranking/?page=2"' in link and 'hx-get="/ranking/?page=2"' in link
    assert 'hx-target="#ranking-results"' in link and 'hx-push-url="true"' in link
    assert f"Paper {RANKING_PAGE_SIZE:03d}" in first and f"Paper {RANKING_PAGE_SIZE + 1:03d}" not in first
    page = text(second)
    assert f"{RANKING_PAGE_SIZE + 1} Paper {RANKING_PAGE_SIZE + 1:03d}" in page and "Paper 001" not in page
    assert "Next →" not in page and "← Previous" in page


def test_paging_links_keep_the_tier(client):
    scored_corpus(5 * (RANKING_PAGE_SIZE + 1))

    html = client.get("/ranking/", {"tier": "2"}).content.decode()

    assert 'href="/ranking/?tier=2&amp;page=2"' in html


def test_the_last_page_is_the_last_of_the_ranked_papers_not_of_all_scored(client):
    scored_corpus(RANKING_PAGE_SIZE + 1, not_ranked=2 * RANKING_PAGE_SIZE)

    page = text(client.get("/ranking/", {"page": "3"}))

    # Page 3 would be past the ranked papers: the view shows page 2, their last.
    assert f"{RANKING_PAGE_SIZE + 1} Paper {RANKING_PAGE_SIZE + 1:03d}" in page
    assert "Page 2" in page and "Next →" not in page


def test_an_htmx_request_gets_the_list_fragment_and_a_clean_pushed_url(client):
    scored_corpus(10)

    response = client.get(
        "/ranking/", {"tier": "", "subfield": "", "year_from": "", "year_to": "", "page": "1"}, **HTMX
    )

    html = response.content.decode()
    assert "<html" not in html and 'id="ranking-tier"' not in html and "Paper 001" in html
    assert "hx-request" in response["Vary"].lower()
    assert response["HX-Push-Url"] == "/ranking/"
    assert client.get("/ranking/", {"tier": "2"}, **HTMX)["HX-Push-Url"] == "/ranking/?tier=2"


# The cohort filter: a subfield and a span of years


def test_the_subfield_select_offers_the_subfields_of_ranked_papers_by_name(client):
    cohort_corpus()

    html = client.get("/ranking/").content.decode()

    select = html[
        html.index('<select id="ranking-subfield"') : html.index("</select>", html.index('id="ranking-subfield"'))
    ]
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options == [("", "All subfields"), ("1908", "Geophysics (6)"), ("1910", "Oceanography (3)")]
    assert '<label for="ranking-subfield">Subfield</label>' in html
    assert '<label for="ranking-year-from">From year</label>' in html and 'name="year_to"' in html


def test_the_cohort_filter_narrows_to_one_subfield_and_years(client):
    cohort_corpus()

    response = client.get("/ranking/", {"subfield": "1908", "year_from": "2019", "year_to": "2021"})

    assert response.status_code == 200
    page = text(response)
    assert f"Papers of Geophysics, 2019{DASH}2021" in page
    assert "3 Paper 003 Venue unknown · 2019 · Geophysics S2 8.0" in page
    assert "Paper 004" in page and "Paper 005" in page
    for other in ("Paper 002", "Paper 006", "Paper 007", "Paper 010", "Paper 011", "Paper 012"):
        assert other not in page, other
    assert "Rank, top % and tier are among all 10 ranked papers" in page
    html = response.content.decode()
    assert '<option value="1908" selected>Geophysics (6)</option>' in html
    assert 'id="ranking-year-from" name="year_from"' in html and 'value="2019"' in html and 'value="2021"' in html


def test_the_tier_and_cohort_filters_combine_and_the_heading_and_title_say_so(client):
    cohort_corpus()

    response = client.get("/ranking/", {"tier": "2", "subfield": "1908", "year_from": "2019", "year_to": "2021"})

    page = text(response)
    assert "Paper 003" in page and "Paper 004" in page and "Paper 005" not in page
    html = response.content.decode()
    assert f'<h2 class="ranking-heading">Tier S2 papers of Geophysics, 2019{DASH}2021</h2>' in html
    assert f"Tier S2 papers of Geophysics, 2019{DASH}2021, in DataRank order from number 1</caption>" in html
    assert f"<title>Tier S2, Geophysics, 2019{DASH}2021 — Ranking — DataRank</title>" in html


@pytest.mark.parametrize(
    ("params", "heading"),
    [
        ({"year_from": "2020", "year_to": "2020"}, "Papers published in 2020"),
        ({"year_from": "2021"}, "Papers published from 2021 on"),
        ({"subfield": "1910", "year_to": "2020"}, "Papers of Oceanography, up to 2020"),
        ({"tier": "1"}, "Tier S1 papers"),
    ],
)
def test_the_heading_names_each_filter_plainly(client, params, heading):
    cohort_corpus()

    assert f'<h2 class="ranking-heading">{heading}</h2>' in client.get("/ranking/", params).content.decode()


def test_a_subfield_no_ranked_paper_has_is_an_empty_list_that_says_so(client):
    cohort_corpus()

    response = client.get("/ranking/", {"subfield": "2211"})

    assert response.status_code == 200
    assert "The current scoring run ranks no papers of subfield 2211." in text(response)
    assert '<option value="2211" selected>Subfield 2211 (none ranked)</option>' in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"subfield": "geophysics"}, "The subfield must be given by its OpenAlex number, such as 1908 for Geophysics."),
        ({"subfield": "0"}, "The subfield must be given by its OpenAlex number"),
        ({"year_from": "20"}, "From year must be a year between 1000 and 2999."),
        ({"year_to": "3000"}, "To year must be a year between 1000 and 2999."),
        ({"year_to": "soon"}, "To year must be a year such as 2015."),
        ({"year_from": "2021", "year_to": "2019"}, "The year range starts in 2021, after it ends in 2019."),
    ],
)
def test_a_bad_subfield_or_year_is_a_400_that_says_why(client, params, message):
    cohort_corpus()

    response = client.get("/ranking/", params)

    assert response.status_code == 400
    page = text(response)
    assert "That ranking cannot be shown" in page and message in page


def test_a_bad_subfield_is_a_400_that_says_why(client):
    cohort_corpus()

    plain = client.get("/ranking/", {"subfield": "Geophysics"})
    fragment = client.get("/ranking/", {"subfield": "Geophysics"}, **HTMX)

    assert plain.status_code == 400 and "The subfield must be given by its OpenAlex number" in text(plain)
    # htmx swaps a 400 in (base.html): the reason takes the list's place, not a whole page.
    assert fragment.status_code == 400 and "<html" not in fragment.content.decode()
    assert fragment["HX-Push-Url"] == "false" and "hx-request" in fragment["Vary"].lower()
    assert "That ranking cannot be shown. The subfield must be given by its OpenAlex number" in text(fragment)


def test_the_pages_carry_every_filter(client):
    run = make_run(papers_scored=RANKING_PAGE_SIZE + 5)
    for number in range(1, RANKING_PAGE_SIZE + 6):
        work = make_work(number, title=f"Paper {number:03d}", corpus=True, publication_year=2020, subfield_id=1908,
                         primary_topic=topic(GEOPHYSICS))  # fmt: skip
        make_score(run, work, rank=number, datarank=1000.0 - number, tier=2)
    params = {"tier": "2", "subfield": "1908", "year_from": "2019", "year_to": "2021"}
    query = "tier=2&amp;subfield=1908&amp;year_from=2019&amp;year_to=2021"

    first = client.get("/ranking/", params).content.decode()
    second = client.get("/ranking/", {**params, "page": "2"}, **HTMX)

    link = first[first.index('rel="next"') : first.index("Next →")]
    assert f'href="/ranking/?{query}&amp;page=2"' in link and f'hx-get="/ranking/?{query}&amp;page=2"' in link
    html = second.content.decode()
    back = html[html.index('rel="prev"') : html.index("← Previous")]
    assert f'href="/ranking/?{query}"' in back
    assert second["HX-Push-Url"] == "/ranking/?tier=2&subfield=1908&year_from=2019&year_to=2021&page=2"
    assert f"Paper {RANKING_PAGE_SIZE + 1:03d}" in text(second) and "Paper 001" not in text(second)


def test_the_filters_work_without_javascript_and_with_htmx(client):
    cohort_corpus()

    html = client.get("/ranking/").content.decode()

    start = html.index('<form class="search-form ranking-filter"')
    form = html[start : html.index("</form>", start)]
    assert 'action="/ranking/" method="get"' in form and '<button type="submit"' in form
    fieldset = form[form.index("<fieldset") : form.index(">", form.index("<fieldset"))]
    assert 'hx-get="/ranking/"' in fieldset and 'hx-trigger="change"' in fieldset
    assert 'hx-target="#ranking-results"' in fieldset and 'hx-include="closest form"' in fieldset
    assert 'hx-push-url="true"' in fieldset
    for control in ('name="tier"', 'name="subfield"', 'name="year_from"', 'name="year_to"'):
        assert control in form, control
    fragment = client.get("/ranking/", {"subfield": "1910"}, **HTMX)
    assert fragment["HX-Push-Url"] == "/ranking/?subfield=1910"
    assert "Papers of Oceanography" in text(fragment) and "Paper 007" in text(fragment)


def test_a_page_past_the_filtered_list_says_so_and_links_to_its_first_page(client):
    scored_corpus(RANKING_PAGE_SIZE + 1)
    Work.objects.filter(id__lte=3).update(subfield_id=1908, primary_topic=topic(GEOPHYSICS))
    count_run(ScoringRun.objects.current())  # as if the papers had been of Geophysics when it was published

    response = client.get("/ranking/", {"subfield": "1908", "page": "2"})

    assert "The list of papers of Geophysics ends before page 2. Go to its first page." in text(response)
    assert 'href="/ranking/?subfield=1908">Go to its first page' in response.content.decode()


@pytest.mark.parametrize("raw", ["0", "-3", "two", "", "9" * 50])
def test_a_page_number_out_of_range_or_not_a_number_shows_a_page_that_exists(client, raw):
    scored_corpus(3)

    response = client.get("/ranking/", {"page": raw})

    assert response.status_code == 200 and "Paper 001" in text(response)


def test_a_tier_that_does_not_exist_is_a_400(client):
    scored_corpus(3)

    response = client.get("/ranking/", {"tier": "7"})

    assert response.status_code == 400 and "“7” is not a tier" in text(response)


def test_with_no_scoring_run_the_ranking_says_why_it_is_empty(client):
    make_work(1, corpus=True)

    assert "Nothing has been scored yet" in text(client.get("/ranking/"))


@pytest.mark.parametrize("papers", [3, 120])
def test_the_ranking_takes_two_queries_however_long_it_is(client, django_assert_num_queries, papers):
    scored_corpus(papers, not_ranked=papers, subfield_id=1908, primary_topic=topic(GEOPHYSICS))

    # The run, which holds the subfields the select offers, then the page of papers.
    with django_assert_num_queries(2):
        response = client.get("/ranking/", {"tier": "1", "subfield": "1908", "year_from": "2000", "page": "2"})
    assert response.status_code == 200


def test_without_a_run_the_ranking_takes_one_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        client.get("/ranking/")


def test_home_and_the_header_link_to_the_ranking(client):
    scored_corpus(3)

    html = client.get("/").content.decode()

    assert html.count('href="/ranking/"') == 2
    assert 'href="/about/methodology/"' in html


@pytest.fixture
def tied_ranking(db) -> ScoringRun:
    """230 ranked papers scored by the engine, their citation counts in steps of 23, so that ties
    of 23 papers straddle every page boundary and every tier's."""
    now = timezone.now()
    Work.objects.bulk_create(
        Work(id=number, title=f"Paper {number:03d}", cited_by_count=1 + (number - 1) // 23, fetched_at=now)
        for number in range(1, 231)
    )
    CorpusEntry.objects.bulk_create(
        CorpusEntry(work_id=number, check_passed=True, confidence=1, included=True, checked_at=now)
        for number in range(1, 231)
    )
    return rescore_corpus()


def shown(response) -> list[int]:
    return [int(number) for number in re.findall(r'href="/papers/W(\d+)/"', response.content.decode())]


@pytest.mark.parametrize("tier", [None, 1, 3, 5])
def test_pages_of_the_ranking_and_of_a_tier_seek_by_rank_and_show_what_an_offset_would(client, tied_ranking, tier):
    scores = PaperScore.objects.filter(run=tied_ranking, rank__isnull=False).order_by("rank", "work_id")
    listed = list((scores.filter(tier=tier) if tier else scores).values_list("work_id", flat=True))
    pages = [listed[start : start + RANKING_PAGE_SIZE] for start in range(0, len(listed), RANKING_PAGE_SIZE)]

    for number, expected in enumerate(pages, start=1):
        params = {"page": number, **({"tier": tier} if tier else {})}
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/ranking/", params)
        assert shown(response) == expected, number
        # The run, the page's first rank (off the (run, rank) index), the page from that rank on,
        # skipping only the papers tied with it before the page.
        page_sql = queries.captured_queries[-1]["sql"]
        assert len(queries.captured_queries) == 3
        skipped = re.search(r"OFFSET (\d+)", page_sql)
        assert skipped is None or int(skipped.group(1)) < 23, page_sql
