"""The ranking page: the whole corpus in DataRank order, by tier, a page at a time."""

import pytest

from datarank_site.pages.views import RANKING_PAGE_SIZE
from tests.factories import make_run, make_score, make_work, text

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def scored_corpus(papers: int):
    """`papers` corpus papers ranked 1…N by id, tiers as the engine gives them: ceil(5·rank/N)."""
    run = make_run(papers_scored=papers)
    for number in range(1, papers + 1):
        work = make_work(number, title=f"Paper {number:03d}", corpus=True, cited_by_count=papers - number)
        make_score(run, work, rank=number, datarank=float(papers - number), tier=-(-5 * number // papers))
    return run


def test_the_ranking_lists_papers_best_first_with_rank_tier_and_top_percent(client):
    scored_corpus(10)

    response = client.get("/ranking/")

    assert response.status_code == 200
    page = text(response)
    assert "All 10 scored papers of the data-sharing corpus, best first." in page
    assert "1 Paper 001 Venue unknown S1 9.0 10% 9" in page
    assert "10 Paper 010 Venue unknown S5 0.0 100% 0" in page
    assert page.index("Paper 001") < page.index("Paper 002") < page.index("Paper 010")
    assert 'href="/papers/W1/"' in response.content.decode()


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


def test_an_htmx_request_gets_the_list_fragment_and_a_clean_pushed_url(client):
    scored_corpus(10)

    response = client.get("/ranking/", {"tier": "", "page": "1"}, **HTMX)

    html = response.content.decode()
    assert "<html" not in html and 'id="ranking-tier"' not in html and "Paper 001" in html
    assert "hx-request" in response["Vary"].lower()
    assert response["HX-Push-Url"] == "/ranking/"
    assert client.get("/ranking/", {"tier": "2"}, **HTMX)["HX-Push-Url"] == "/ranking/?tier=2"


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
    scored_corpus(papers)

    with django_assert_num_queries(2):
        client.get("/ranking/", {"tier": "1", "page": "2"})


def test_home_and_the_header_link_to_the_ranking(client):
    scored_corpus(3)

    html = client.get("/").content.decode()

    assert html.count('href="/ranking/"') == 2
    assert 'href="/about/methodology/"' in html
