"""The public pages: home, search and the paper page, built on rows made with the ORM."""

import math
import re

import pytest
from django.core.cache import cache

from papers.models import CorpusEntry, Work
from scoring.models import ScoringRun
from tests.factories import IMAGENET, cite, make_run, make_score, make_work, text, write

pytestmark = pytest.mark.django_db

# Home


def test_home_lists_the_top_ranked_papers_of_the_current_run_linked_to_their_pages(client):
    run = make_run(papers_scored=3)
    second = make_work(2, title="Second best dataset", corpus=True, venue="Data in Brief", publication_year=2019)
    first = make_work(1, title="Best dataset", corpus=True, cited_by_count=61487, venue="Scientific Data")
    third = make_work(3, title="Third dataset", corpus=True)
    make_score(run, first, rank=1, datarank=30.61, top_percent=0.66)
    make_score(run, second, rank=2, datarank=12.3, top_percent=28.4)
    make_score(run, third, rank=3, datarank=1.0, top_percent=100.0)

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Best dataset") < html.index("Second best dataset") < html.index("Third dataset")
    assert 'href="/papers/W1/"' in html and 'href="/papers/W2/"' in html
    page = text(response)
    assert "Best dataset Scientific Data 30.6 0.7% 61,487" in page
    assert "Second best dataset Data in Brief · 2019 12.3 29%" in page


def test_home_gives_the_split_of_ranked_and_not_yet_cited_papers(client):
    run = make_run(papers_scored=11_084, papers_ranked=1_204)
    make_score(run, make_work(1, title="Best dataset", corpus=True), rank=1, datarank=30.61)
    make_score(run, make_work(2, title="Uncited dataset", corpus=True), rank=None, datarank=0.0)

    response = client.get("/")

    page = text(response)
    assert "11,084 papers scored, 1,204 ranked, 9,880 not yet cited." in page
    assert "Browse the whole ranking (1,204 ranked, 9,880 not yet cited) by tier, subfield and year →" in page
    assert "Best dataset" in page and "Uncited dataset" not in page
    assert 'href="/about/methodology/#ranks"' in response.content.decode()


def test_home_leaves_out_the_not_yet_cited_part_when_every_paper_is_ranked(client):
    run = make_run(papers_scored=1)
    make_score(run, make_work(1, title="Best dataset", corpus=True), rank=1, datarank=3.0)

    page = text(client.get("/"))

    assert "1 paper scored, 1 ranked." in page and "not yet cited" not in page
    assert "Browse the whole ranking (1 ranked) by tier, subfield and year →" in page


def test_home_says_so_when_papers_are_scored_but_none_is_ranked(client):
    run = make_run(papers_scored=2, papers_ranked=0)
    for number in (1, 2):
        make_score(run, make_work(number, title=f"Uncited dataset {number}", corpus=True), rank=None, datarank=0.0)

    page = text(client.get("/"))

    assert f"No paper is ranked yet: the 2 papers of scoring run {run.pk} have no citation with signal." in page
    assert "Uncited dataset" not in page and "Nothing has been scored yet" not in page


def test_home_shows_small_dataranks_with_two_significant_digits(client):
    run = make_run(papers_scored=1)
    make_score(run, make_work(1, title="Faint dataset", corpus=True), rank=1, datarank=0.0312, top_percent=100.0)

    html = client.get("/").content.decode()

    assert '<data value="0.0312">0.031</data>' in html


def test_home_shows_the_latest_successful_run_only(client):
    paper = make_work(1, title="A dataset", corpus=True)
    old = make_run(finished_minutes_ago=60, papers_scored=1)
    make_score(old, paper, rank=1, datarank=1.11)
    current = make_run(finished_minutes_ago=10, papers_scored=1)
    make_score(current, paper, rank=1, datarank=2.22)
    failed = make_run(finished_minutes_ago=0, status=ScoringRun.Status.FAILED)
    make_score(failed, paper, rank=1, datarank=3.33)

    page = text(client.get("/"))

    assert "2.2" in page
    assert "1.1" not in page and "3.3" not in page


def test_home_says_so_when_nothing_has_been_scored_yet(client):
    make_work(1, title="A dataset", corpus=True)

    response = client.get("/")

    assert response.status_code == 200
    assert "Nothing has been scored yet" in text(response)
    assert "A dataset" not in text(response)


def test_home_leaves_out_a_paper_taken_out_of_the_corpus_after_the_run(client):
    run = make_run(papers_scored=2)
    kept = make_work(1, title="Kept dataset", corpus=True)
    removed = make_work(2, title="Removed dataset", corpus=True)
    make_score(run, kept, rank=1, datarank=2.0)
    make_score(run, removed, rank=2, datarank=1.0)
    CorpusEntry.objects.filter(work=removed).update(override=CorpusEntry.Override.EXCLUDE)

    page = text(client.get("/"))

    assert "Kept dataset" in page and "Removed dataset" not in page


def test_home_has_a_plain_get_search_form(client):
    html = client.get("/").content.decode()

    assert re.search(r'<form[^>]*action="/search/"[^>]*method="get"', html)
    assert re.search(r'<label for="home-q">', html) and 'id="home-q" name="q"' in html


def test_home_takes_two_queries_however_many_papers_it_lists(client, django_assert_num_queries):
    run = make_run(papers_scored=30)
    for number in range(1, 31):
        make_score(run, make_work(number, corpus=True), rank=number, datarank=100.0 - number)

    with django_assert_num_queries(2):
        assert client.get("/").status_code == 200


# Search


def test_an_empty_query_shows_the_prompt(client):
    for url in ("/search/", "/search/?q=", "/search/?q=%20%20%20"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Type one or more words from a paper's title" in text(response)


def test_search_finds_corpus_papers_by_every_word_of_their_title_and_links_them(client):
    make_work(1, title="Global Ocean Temperature dataset", corpus=True)
    make_work(2, title="Ocean salinity atlas", corpus=True)
    make_work(3, title="Ocean temperature, cited only", corpus=None)
    make_work(4, title="Ocean temperature, failed the check", corpus=False)

    response = client.get("/search/", {"q": "  temperature OCEAN "})

    assert response.status_code == 200
    page = text(response)
    assert "1 paper match “temperature OCEAN”" in page
    assert 'href="/papers/W1/"' in response.content.decode()
    assert "salinity" not in page and "cited only" not in page and "failed the check" not in page


def test_search_shows_scores_and_says_when_a_paper_is_not_yet_scored_or_not_ranked(client):
    run = make_run(papers_scored=3, papers_ranked=1)
    make_score(run, make_work(1, title="Scored dataset", corpus=True), rank=1, datarank=4.56, top_percent=50.0)
    make_work(2, title="Unscored dataset", corpus=True)
    make_score(run, make_work(3, title="Uncited dataset", corpus=True), rank=None, datarank=0.0)

    page = text(client.get("/search/", {"q": "dataset"}))

    assert "DataRank 4.6 · top 50%" in page
    assert "Unscored dataset Venue unknown Not yet scored" in page
    assert "Uncited dataset Venue unknown Not ranked yet · DataRank 0" in page
    assert page.index("Scored dataset") < page.index("Unscored dataset")


def test_search_says_plainly_when_nothing_matches(client):
    make_work(1, title="Ocean atlas", corpus=True)

    response = client.get("/search/", {"q": "glacier"})

    assert response.status_code == 200
    assert "No paper in the data-sharing corpus has every word of “glacier” in its title, authors or venue" in text(
        response
    )


def test_search_paginates_and_an_out_of_range_page_shows_the_last_one(client):
    for number in range(1, 31):
        make_work(number, title=f"Dataset number {number}", corpus=True)

    first = client.get("/search/", {"q": "dataset"})
    second = client.get("/search/", {"q": "dataset", "page": "2"})
    beyond = client.get("/search/", {"q": "dataset", "page": "999999999999999999999"})
    garbage = client.get("/search/", {"q": "dataset", "page": "<script>"})

    assert "Page 1 of 2" in text(first) and 'href="/search/?q=dataset&amp;page=2"' in first.content.decode()
    assert "Page 2 of 2" in text(second) and "Dataset number 30" in text(second)
    assert beyond.status_code == 200 and "Page 2 of 2" in text(beyond)
    assert garbage.status_code == 200 and "Page 1 of 2" in text(garbage)


def test_a_301_character_query_gets_a_400_page_with_a_clear_message(client):
    response = client.get("/search/", {"q": "a" * 301})

    assert response.status_code == 400
    assert "A search can be at most 300 characters long (yours has 301)" in text(response)


def test_a_300_character_query_is_searched(client):
    response = client.get("/search/", {"q": "a" * 300})

    assert response.status_code == 200


def test_a_query_with_a_null_character_gets_a_400_not_a_500(client):
    response = client.get("/search/", {"q": "ocean\x00"})

    assert response.status_code == 400
    assert "Null characters are not allowed" in text(response)


@pytest.mark.parametrize(
    "query",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "' OR 1=1 --",
        "%",
        "_",
        "100%_done\\",
        "Robert'); DROP TABLE papers_work;--",
        "Ωμέγα 数据集 🚀",
        "{{ 7*7 }} {% debug %}",
    ],
)
def test_hostile_queries_are_harmless(client, query):
    make_work(1, title="Harmless dataset", corpus=True)

    response = client.get("/search/", {"q": query})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    # Wildcards are matched literally, not as LIKE patterns.
    assert "Harmless dataset" not in html
    assert Work.objects.filter(id=1).exists()


# The paper page


@pytest.fixture
def imagenet(db):
    """ImageNet with the figures of DESIGN.md's worked example, and a few citers of each kind."""
    run = make_run(papers_scored=150)
    paper = make_work(
        IMAGENET,
        title="ImageNet: A large-scale hierarchical image database",
        corpus=True,
        doi="10.1109/cvpr.2009.5206848",
        venue="2009 IEEE Conference on Computer Vision and Pattern Recognition",
        publication_year=2009,
        cited_by_count=61487,
        abstract="The explosion of image data on the Internet has the potential to foster more sophisticated models.",
    )
    make_score(
        run,
        paper,
        rank=1,
        datarank=30.6,
        base_contribution=1.654,
        network_contribution=28.9,
        citing_works=193,
        citers_with_signal=190,
        self_citations_excluded=1,
        top_percent=0.66,
    )
    write(paper, 1)
    return run, paper


def test_the_paper_page_shows_the_papers_metadata_and_score(client, imagenet):
    response = client.get(f"/papers/W{IMAGENET}/")

    assert response.status_code == 200
    html, page = response.content.decode(), text(response)
    assert "<title>ImageNet: A large-scale hierarchical image database — DataRank</title>" in html
    assert "2009 IEEE Conference on Computer Vision and Pattern Recognition · 2009" in page
    assert 'href="https://doi.org/10.1109/cvpr.2009.5206848"' in html
    assert f'href="https://openalex.org/W{IMAGENET}"' in html
    assert "The explosion of image data on the Internet" in page
    assert "It has a DataRank of 30.6, placing it in the top 0.7% of the data-sharing corpus" in page
    assert "(rank 1 of 150)" in page
    assert "It has been cited 61,487 times, with 193 citing works in its 1-hop citation network." in page
    assert "Base score contribution 1.7 From this paper's citation signal (61,487 citations)" in page
    assert "Citation network contribution 28.9 From 190 citing papers with measurable signal" in page
    assert "<dt>Citing works kept</dt><dd>193</dd>" in html
    assert "<dt>Self-citations excluded</dt><dd>1</dd>" in html


def test_a_paper_without_an_abstract_says_openalex_has_none(client, imagenet):
    Work.objects.filter(id=IMAGENET).update(abstract="")

    assert "OpenAlex has no abstract for this work." in text(client.get(f"/papers/W{IMAGENET}/"))


def test_a_paper_not_in_the_latest_run_says_it_is_not_yet_scored(client, imagenet):
    newcomer = make_work(5, title="Newcomer dataset", corpus=True, cited_by_count=3)

    response = client.get(f"/papers/W{newcomer.id}/")

    assert response.status_code == 200
    page = text(response)
    assert "This paper has not been scored yet" in page
    assert "It has been cited 3 times and has no DataRank yet." in page


def test_a_paper_says_it_is_not_yet_scored_when_no_run_has_finished(client):
    make_work(5, title="Early dataset", corpus=True)
    make_run(status=ScoringRun.Status.RUNNING)

    response = client.get("/papers/W5/")

    assert response.status_code == 200
    assert "no scoring run has finished so far" in text(response)


def test_the_paper_title_renders_harmless_markup_and_escapes_the_rest(client):
    make_work(7, title="CO<sub>2</sub> <i>in situ</i> <script>alert(1)</script>", corpus=True)

    html = client.get("/papers/W7/").content.decode()

    assert "<h1>CO<sub>2</sub> <i>in situ</i> &lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html
    assert "<title>CO2 in situ &lt;script&gt;alert(1)&lt;/script&gt; — DataRank</title>" in html


def test_a_lowercase_id_redirects_to_the_canonical_url(client, imagenet):
    response = client.get(f"/papers/w{IMAGENET}/")

    assert response.status_code == 301
    assert response["Location"] == f"/papers/W{IMAGENET}/"


def test_an_id_with_leading_zeros_redirects_to_the_canonical_url(client, imagenet):
    response = client.get(f"/papers/W00{IMAGENET}/")

    assert response.status_code == 301
    assert response["Location"] == f"/papers/W{IMAGENET}/"


def test_a_work_held_only_as_a_citer_is_a_404_that_says_so_and_links_to_openalex(client):
    make_work(3000000001, title="A citing work", corpus=None)

    response = client.get("/papers/W3000000001/")

    assert response.status_code == 404
    assert "W3000000001 is in our database as a citing work but is not in the data-sharing corpus." in text(response)
    assert 'href="https://openalex.org/W3000000001"' in response.content.decode()


def test_a_work_that_failed_the_data_paper_check_is_a_404_that_says_why(client):
    make_work(8, title="Not a data paper", corpus=False)

    response = client.get("/papers/W8/")

    assert response.status_code == 404
    assert "the data-paper check did not find it to be a data-sharing paper" in text(response)


def test_a_work_an_admin_took_out_of_the_corpus_is_a_404_that_says_so(client):
    make_work(9, title="Taken out", corpus=True)
    CorpusEntry.objects.filter(work_id=9).update(override=CorpusEntry.Override.EXCLUDE)

    response = client.get("/papers/W9/")

    assert response.status_code == 404
    assert "an administrator took it out" in text(response)


def test_an_unknown_id_is_a_404(client):
    response = client.get("/papers/W123456789/")

    assert response.status_code == 404
    assert "We hold no work W123456789." in text(response)
    assert 'href="https://openalex.org/W123456789"' in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/papers/X123/",
        "/papers/W12a/",
        "/papers/W/",
        "/papers/W0/",
        "/papers/W-5/",
        "/papers/W9223372036854775808/",
        "/papers/W" + "9" * 25 + "/",
        "/papers/https://openalex.org/W1/",
        "/papers/W1%00/",
    ],
)
def test_a_malformed_id_is_a_404(client, path):
    assert client.get(path).status_code == 404


@pytest.fixture
def citers(imagenet):
    """ImageNet's citers: two corpus papers (one scored), plain citers, a self-citation, a zero."""
    run, paper = imagenet
    scored = make_work(20, title="ILSVRC", corpus=True, cited_by_count=40012, venue="IJCV", publication_year=2015)
    make_score(run, scored, rank=2, datarank=7.21)
    unscored = make_work(21, title="Unscored corpus citer", corpus=True, cited_by_count=29031)
    swin = make_work(22, title="Swin <i>Transformer</i>", corpus=None, cited_by_count=18798, venue="ICCV")
    tie_low = make_work(23, title="Tie, lower id", corpus=None, cited_by_count=13214)
    tie_high = make_work(24, title="Tie, higher id", corpus=None, cited_by_count=13214)
    sixth = make_work(25, title="Sixth citer", corpus=None, cited_by_count=10)
    self_citer = make_work(26, title="By the same authors", corpus=None, cited_by_count=99999)
    write(self_citer, 1)
    for citer in (scored, unscored, swin, tie_low, tie_high, sixth, self_citer):
        cite(citer, paper)
    return run, paper


def test_the_top_five_citers_are_ranked_by_citations_then_id_without_self_citations(client, citers):
    page = top_citers(client.get(f"/papers/W{IMAGENET}/"))

    order = ["ILSVRC", "Unscored corpus citer", "Swin Transformer", "Tie, lower id", "Tie, higher id"]
    positions = [page.index(title) for title in order]
    assert positions == sorted(positions)
    assert "Sixth citer" not in page
    assert "By the same authors" not in page


def test_a_scored_corpus_citer_shows_its_full_datarank_and_is_linked(client, citers):
    response = client.get(f"/papers/W{IMAGENET}/")

    assert 'href="/papers/W20/"' in response.content.decode()
    assert "ILSVRC IJCV · 2015 40,012 citations DataRank 7.2" in text(response)


def test_a_citer_outside_the_scored_corpus_shows_its_base_only_datarank(client, citers):
    response = client.get(f"/papers/W{IMAGENET}/")

    page = text(response)
    swin_base = f"{0.15 * math.log1p(18798):.1f}"
    assert f"Swin Transformer ICCV 18,798 citations DataRank {swin_base} base only" in page
    # A corpus paper the run did not score is linked, with its base-only value.
    unscored_base = f"{0.15 * math.log1p(29031):.1f}"
    assert f"29,031 citations DataRank {unscored_base} base only" in page
    html = response.content.decode()
    assert 'href="/papers/W21/"' in html
    assert 'href="/papers/W22/"' not in html
    assert "Swin <i>Transformer</i>" in html


def test_the_top_citers_stay_within_the_runs_cap(client, citers):
    run, _ = citers
    # With a cap of 3 the engine keeps the 3 most cited citers, then drops the self-citation among them.
    ScoringRun.objects.filter(pk=run.pk).update(citer_cap=3)

    response = client.get(f"/papers/W{IMAGENET}/")
    page = top_citers(response)

    assert "ILSVRC" in page and "Unscored corpus citer" in page
    assert "Swin" not in page and "By the same authors" not in page
    assert "Top 2 citers driving the network score" in text(response)


def test_a_paper_with_no_citers_says_so(client, imagenet):
    assert "We hold no works citing this paper" in text(client.get(f"/papers/W{IMAGENET}/"))


def top_citers(response) -> str:
    """The text of the top-citers section alone: every citer is also in the table and the graph."""
    page = text(response)
    return page[page.index("citers driving the network score") : page.index("Why this DataRank?")]


@pytest.mark.parametrize("extra_citers", [0, 40])
def test_the_paper_page_takes_ten_queries_however_many_citers_it_has(
    client, citers, django_assert_num_queries, extra_citers, settings
):
    # The page as it is built: the rendered-page cache, off here, adds one (test_page_cache.py).
    settings.DATARANK_PAGE_CACHE_SECONDS = 0
    _, paper = citers
    for number in range(extra_citers):
        cite(make_work(1000 + number, corpus=True, cited_by_count=number), paper)
    # The citation graph and the distribution are cached: count them being computed.
    cache.clear()

    with django_assert_num_queries(10):
        assert client.get(f"/papers/W{IMAGENET}/").status_code == 200


# Every page


def test_htmx_is_loaded_once_as_a_static_file_with_no_nonce(client):
    response = client.get("/")

    html = response.content.decode()
    scripts = re.findall(r"<script [^>]*>", html)
    assert len([s for s in scripts if "htmx-2.min.js" in s]) == 1
    # Pages are cached and served to everyone alike: no script may need a per-response nonce.
    assert all(" src=" in script and "nonce" not in script for script in scripts)
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert "nonce" not in response["Content-Security-Policy"]


def test_every_page_names_its_data_source_and_licence(client, imagenet):
    for url in ("/", "/search/?q=imagenet", f"/papers/W{IMAGENET}/", "/papers/W1/"):
        html = client.get(url).content.decode()
        assert 'href="https://openalex.org/">OpenAlex</a>' in html
        assert "CC0" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_htmx_runs_in_a_browser_under_the_sites_content_security_policy(live_server):
    # Imported here because the test is skipped, not failed, where playwright is missing.
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM

    make_work(1, title="A dataset", corpus=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        for path in ("/", "/search/?q=dataset", "/papers/W1/"):
            response = page.goto(live_server.url + path)
            assert response.status == 200
            assert "script-src 'self';" in response.headers["content-security-policy"]
            assert page.evaluate("typeof window.htmx") == "object", path
        browser.close()

    assert problems == []


def test_the_score_history_and_the_histogram_caption_follow_the_display_rule(client, imagenet):
    """DataRank figures: one decimal from 1 up, two significant digits below (DESIGN.md §1)."""
    run, paper = imagenet
    make_score(run, make_work(30, title="Small dataset", corpus=True), rank=2, datarank=0.0312)
    earlier = make_run(finished_minutes_ago=60, papers_scored=150)
    make_score(earlier, paper, rank=40, datarank=0.52)

    html = client.get(f"/papers/W{IMAGENET}/").content.decode()

    history = html[html.index('id="history-heading"') :]
    assert '<td class="num" data-label="DataRank">30.6</td>' in history
    assert '<td class="num" data-label="DataRank">0.52</td>' in history
    assert "30.60" not in history
    assert "from 0.031 to 30.6)" in html
