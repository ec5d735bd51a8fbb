"""The embed card, `/embed/W…/`: title, DataRank, standing, FAIR score and a link back, in a page
any site may frame — the only one: every other page still refuses to be framed. And the paper
page's "Embed and badge" section, whose snippets paste the badge and the card elsewhere."""

import html
import re

import pytest
from django.test import Client

from tests.factories import make_run, make_score, make_work, text
from tests.pages.test_badges import evaluate

pytestmark = pytest.mark.django_db

# The page cache's version, find_paper's two, the FAIR evaluation and its calibration.
EMBED_QUERIES = 5
# Served from the page cache: the version alone.
CACHED_QUERIES = 1


@pytest.fixture
def corpus():
    run = make_run(papers_scored=151, papers_ranked=150)
    imagenet = make_work(1, title="ImageNet: A large-scale <i>hierarchical</i> image database", corpus=True)
    make_score(run, imagenet, rank=1, datarank=30.5542, top_percent=100 / 150)
    make_score(run, make_work(2, title="A quiet dataset", corpus=True), rank=None, datarank=0.0)
    evaluate(1, 50.0)
    return run


def csp(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


def test_the_card_shows_title_datarank_standing_fair_and_links_back(client, corpus):
    response = client.get("/embed/W1/")

    assert response.status_code == 200
    card = text(response)
    assert "ImageNet: A large-scale hierarchical image database" in card
    assert "DataRank 30.6 Standing top 0.7% rank 1 of 150 FAIR 100/100 calibrated" in card
    links = re.findall(r'<a href="([^"]+)" target="_blank" rel="noopener">', response.content.decode())
    assert links == ["http://testserver/papers/W1/"] * 2
    assert "<script" not in response.content.decode()
    assert '<meta name="robots" content="noindex">' in response.content.decode()


def test_a_paper_not_ranked_says_so_on_its_card(client, corpus):
    card = text(client.get("/embed/W2/"))

    assert "DataRank 0 Standing not ranked yet no citation with signal FAIR — not evaluated yet" in card


def test_the_card_may_be_framed_by_any_site(client, corpus):
    response = client.get("/embed/W1/")

    assert "X-Frame-Options" not in response
    policy = csp(response)
    assert policy["frame-ancestors"] == "*"
    # Everything else the card's policy says is the site's.
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"


@pytest.mark.parametrize("url", ["/papers/W1/", "/papers/W1/fair/", "/", "/ranking/", "/downloads/", "/embed/W99/x"])
def test_every_other_page_still_refuses_to_be_framed(client, corpus, url):
    response = client.get(url)

    assert response["X-Frame-Options"] == "DENY"
    assert csp(response)["frame-ancestors"] == "'none'"


def test_an_unknown_paper_gets_a_404_card_that_says_why(client, corpus):
    make_work(7, title="A citer", corpus=None)

    for url, why in (
        ("/embed/W99/", "We hold no work W99."),
        ("/embed/W7/", "W7 is in our database as a citing work but is not in the data-sharing corpus."),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert f"Unknown paper {why}" in text(response)
        # Said inside the frame: the embedding page shows it rather than a refused frame.
        assert "X-Frame-Options" not in response and csp(response)["frame-ancestors"] == "*"


def test_a_non_canonical_id_redirects_to_the_canonical_card(client, corpus):
    response = client.get("/embed/w01/")

    assert response.status_code == 301 and response["Location"] == "/embed/W1/"


def test_the_card_is_cached_as_the_paper_page_is_and_answers_304(client, corpus, django_assert_num_queries):
    with django_assert_num_queries(EMBED_QUERIES):
        first = client.get("/embed/W1/")
    with django_assert_num_queries(CACHED_QUERIES):
        second = client.get("/embed/W1/")

    assert second.content == first.content and second["ETag"] == first["ETag"]
    assert "X-Frame-Options" not in second and csp(second)["frame-ancestors"] == "*"
    assert client.get("/embed/W1/", headers={"If-None-Match": first["ETag"]}).status_code == 304


# The paper page's section


def test_the_paper_page_offers_the_badge_and_the_card_as_snippets_to_paste(corpus, settings):
    settings.ALLOWED_HOSTS = ["datarank.example.org"]
    response = Client(HTTP_HOST="datarank.example.org").get("/papers/W1/")

    page = response.content.decode()
    section = page[page.index('id="embed-heading"') : page.index("</section>", page.index('id="embed-heading"'))]
    snippets = dict(
        (name, html.unescape(value))
        for name, value in re.findall(r'<textarea id="embed-(\w+)"[^>]*>([^<]*)</textarea>', section)
    )
    origin = "http://datarank.example.org"
    assert snippets["markdown"] == f"[![DataRank score]({origin}/badges/W1.svg)]({origin}/papers/W1/)"
    assert (
        snippets["html"] == f'<a href="{origin}/papers/W1/"><img src="{origin}/badges/W1.svg" alt="DataRank score"></a>'
    )
    assert snippets["iframe"] == (
        f'<iframe src="{origin}/embed/W1/" title="DataRank of ImageNet: A large-scale hierarchical image database" '
        'width="400" height="200" style="border:0" loading="lazy"></iframe>'
    )
    assert snippets["shields"] == (
        "https://img.shields.io/endpoint?url=http%3A%2F%2Fdatarank.example.org%2Fbadges%2FW1.json"
    )
    # A preview of the badge, and the way to the bulk downloads.
    assert f'<img src="{origin}/badges/W1.svg"' in section and 'href="/downloads/"' in section


def test_each_snippet_works_as_pasted(client, corpus):
    page = client.get("/papers/W1/").content.decode()
    urls = {html.unescape(url) for url in re.findall(r"http://testserver(/[^\s\"&)]+)", page)}

    for url in {"/badges/W1.svg", "/embed/W1/", "/papers/W1/"}:
        assert url in urls
        assert client.get(url).status_code == 200
