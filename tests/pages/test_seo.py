"""What crawlers and link previews read: robots.txt, sitemap.xml, titles and OpenGraph tags."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers.models import Work
from scoring.services import rescore_corpus
from tests.factories import make_run, make_score, make_work

pytestmark = pytest.mark.django_db


def og(html: str, name: str) -> str:
    match = re.search(rf'<meta property="og:{name}" content="([^"]*)">', html)
    assert match, f"no og:{name}"
    return match.group(1)


def test_robots_txt_allows_everything_but_admin_and_search_and_points_to_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /admin/" in lines and "Disallow: /search/" in lines and "Allow: /" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_the_sitemap_index_names_a_sitemap_for_the_pages_and_the_papers(client):
    make_work(1, corpus=True)

    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    xml = response.content.decode()
    assert "<sitemapindex" in xml
    assert "<loc>http://testserver/sitemap-pages.xml</loc>" in xml
    assert "<loc>http://testserver/sitemap-papers.xml</loc>" in xml


def test_the_pages_sitemap_lists_home_the_three_rankings_and_methodology(client):
    xml = client.get("/sitemap-pages.xml").content.decode()

    locations = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert locations == [
        "http://testserver/",
        "http://testserver/ranking/",
        "http://testserver/researchers/",
        "http://testserver/institutions/",
        "http://testserver/about/methodology/",
    ]


def test_the_papers_sitemap_lists_the_corpus_papers_the_run_scored_never_citers(client):
    make_work(2, corpus=True)
    make_work(1, corpus=True)
    make_work(3, corpus=False)
    make_work(4, corpus=None)
    rescore_corpus()

    xml = client.get("/sitemap-papers.xml").content.decode()

    assert re.findall(r"<loc>([^<]+)</loc>", xml) == ["http://testserver/papers/W1/", "http://testserver/papers/W2/"]


def test_the_papers_sitemap_splits_into_files_of_at_most_50000_read_as_id_ranges(client, monkeypatch):
    from datarank_site.pages.sitemaps import PapersSitemap

    assert PapersSitemap.limit == 50_000
    monkeypatch.setattr("scoring.summary.SITEMAP_LIMIT", 2)
    for number in (1, 2, 4, 7, 9):
        make_work(number, corpus=True)
    rescore_corpus()

    index = client.get("/sitemap.xml").content.decode()
    with CaptureQueriesContext(connection) as queries:
        second = client.get("/sitemap-papers.xml", {"p": "2"}).content.decode()
    # Read before the next request, which empties the query log.
    sql = [query["sql"] for query in queries.captured_queries]
    third = client.get("/sitemap-papers.xml", {"p": "3"}).content.decode()

    assert "sitemap-papers.xml?p=3</loc>" in index and "sitemap-papers.xml?p=4" not in index
    assert re.findall(r"<loc>([^<]+)</loc>", second) == ["http://testserver/papers/W4/", "http://testserver/papers/W7/"]
    assert re.findall(r"<loc>([^<]+)</loc>", third) == ["http://testserver/papers/W9/"]
    # The current run, then one id range of its scores: no COUNT, no OFFSET.
    assert len(sql) == 2
    assert not any("COUNT(" in query.upper() or "OFFSET" in query.upper() for query in sql)
    assert ">= 4" in sql[1] and "< 9" in sql[1]
    assert client.get("/sitemap-papers.xml", {"p": "4"}).status_code == 404
    assert Work.objects.count() == 5


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/", "DataRank — data-sharing papers ranked by their citation network"),
        ("/ranking/", "Ranking — DataRank"),
        ("/ranking/?tier=2", "Tier S2 — Ranking — DataRank"),
        ("/search/?q=ocean", "“ocean” — Search — DataRank"),
    ],
)
def test_every_page_has_its_own_title_and_opengraph_tags(client, url, title):
    run = make_run(papers_scored=1)
    make_score(run, make_work(1, title="Ocean", corpus=True), rank=1, datarank=1.0)

    html = client.get(url).content.decode()

    assert f"<title>{title}</title>" in html
    assert og(html, "site_name") == "DataRank" and og(html, "type") == "website"
    assert og(html, "title") and og(html, "description")
    assert og(html, "url") == "http://testserver" + url.replace("&", "&amp;")


def test_the_footer_says_when_the_scores_were_computed(client):
    run = make_run(papers_scored=1)
    make_score(run, make_work(1, corpus=True), rank=1, datarank=1.0)

    html = client.get("/ranking/").content.decode()

    footer = html[html.index('<footer class="site-footer">') :]
    assert "CC0" in footer and f"scoring run {run.pk}, finished {run.finished_at:%-d %B %Y}" in footer


def test_the_header_has_a_main_navigation_marking_the_current_page(client):
    html = client.get("/ranking/").content.decode()

    nav = html[html.index('<nav class="site-nav"') : html.index("</nav>")]
    assert 'aria-label="Main"' in nav
    assert '<a href="/ranking/" aria-current="page">Ranking</a>' in nav
    assert '<a href="/about/methodology/">Methodology</a>' in nav
