"""Search and the ranking in a real browser (Debian's Chromium driven by Playwright), under the
site's Content-Security-Policy: results as you type, htmx paging, clean URLs, no console errors."""

import pytest

from tests.factories import make_run, make_score, make_work

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def corpus():
    run = make_run(papers_scored=60)
    for number in range(1, 61):
        title = f"Ocean dataset {number:02d}" if number <= 30 else f"Glacier survey {number:02d}"
        work = make_work(number, title=title, corpus=True, publication_year=2000 + number % 20)
        make_score(run, work, rank=number, datarank=100.0 - number, tier=1 + (number - 1) // 12)


def mark_document(tab) -> None:
    """A flag on the window that a full page load would wipe out, to tell htmx swaps from loads."""
    tab.evaluate("window.__noReload = true")


def still_same_document(tab) -> bool:
    return tab.evaluate("window.__noReload === true")


def test_typing_a_query_updates_the_results_and_the_address_bar(live_server, page, corpus):
    page.goto(live_server.url + "/search/")
    mark_document(page)

    page.get_by_label("Words from the title, authors or venue, a DOI or an OpenAlex id").press_sequentially(
        "glac", delay=40
    )

    page.get_by_role("heading", name="30 papers match “glac”").wait_for()
    page.wait_for_url("**/search/?q=glac")
    assert still_same_document(page)
    assert "Glacier survey 31" in page.inner_text("#search-results")
    assert page.console_errors == []


def test_typing_in_the_home_search_box_shows_results_in_place(live_server, page, corpus):
    page.goto(live_server.url + "/")
    mark_document(page)

    page.get_by_label("Search papers by title, author or venue").press_sequentially("ocean", delay=40)

    page.get_by_role("heading", name="30 papers match “ocean”").wait_for()
    page.wait_for_url("**/search/?q=ocean")
    assert still_same_document(page)
    assert page.console_errors == []


@pytest.fixture
def benthic_papers():
    run = make_run(papers_scored=3)
    titles = ("Benthic foraminifera of the Arctic shelf", "Benthic algae of tidal flats", "Planktic foraminifera")
    for number, title in enumerate(titles, start=101):
        make_score(run, make_work(number, title=title, corpus=True), rank=number - 100, datarank=10.0 - number / 100)


def test_the_home_search_box_survives_the_results_and_keeps_the_keys_typed_after_a_pause(
    live_server, page, benthic_papers
):
    page.goto(live_server.url + "/")
    mark_document(page)
    box = page.get_by_label("Search papers by title, author or venue")

    box.press_sequentially("benth", delay=40)
    # Past the 300 ms pause: the results for "benth" come in while the visitor goes on typing.
    page.wait_for_timeout(600)
    page.get_by_role("heading", name="2 papers match “benth”").wait_for()
    page.keyboard.type("ic foram", delay=40)

    page.get_by_role("heading", name="1 paper match “benthic foram”").wait_for()
    page.wait_for_url("**/search/?q=benthic+foram")
    assert still_same_document(page)
    assert box.input_value() == "benthic foram"
    assert page.evaluate("document.activeElement.id") == "home-q"
    results = page.inner_text("#search-results")
    assert "Benthic foraminifera of the Arctic shelf" in results and "Benthic algae" not in results
    # The hero and its box stay; the results take the ranking's place.
    assert page.get_by_role("heading", name="Data-sharing papers, ranked by who cites them").is_visible()
    assert page.locator("#ranking-heading").count() == 0
    assert page.console_errors == []


def test_a_filter_change_refreshes_the_results_with_a_clean_url(live_server, page, corpus):
    page.goto(live_server.url + "/search/?q=ocean")
    mark_document(page)

    page.get_by_role("combobox", name="Tier").select_option("2")

    page.get_by_role("heading", name="12 papers match “ocean”").wait_for()
    page.wait_for_url("**/search/?q=ocean&tier=2")
    assert still_same_document(page) and "year_from" not in page.url
    assert page.console_errors == []


def test_next_pages_through_the_results_without_reloading(live_server, page, corpus):
    page.goto(live_server.url + "/search/?q=ocean")
    mark_document(page)

    page.get_by_role("link", name="Next →").click()

    page.get_by_text("Page 2 of 2").wait_for()
    page.wait_for_url("**/search/?q=ocean&page=2")
    assert still_same_document(page)
    assert "Ocean dataset 26" in page.inner_text("#search-results")
    page.go_back()
    page.wait_for_url("**/search/?q=ocean")
    assert page.console_errors == []


def test_the_ranking_pages_and_filters_by_tier_in_place(live_server, page, corpus):
    page.goto(live_server.url + "/ranking/")
    mark_document(page)

    page.get_by_label("Tier").select_option("5")
    page.wait_for_url("**/ranking/?tier=5")
    page.get_by_role("link", name="Glacier survey 49").wait_for()

    assert still_same_document(page) and "Ocean dataset 01" not in page.inner_text("#ranking-results")
    assert page.console_errors == []


def test_a_facet_narrows_the_results_in_place_and_the_form_keeps_it(live_server, page, corpus):
    page.goto(f"{live_server.url}/search/?q=ocean")
    mark_document(page)

    page.locator(".facet", has_text="Tier").get_by_role("link", name="S3").click()

    page.get_by_role("heading", name="6 papers match “ocean”").wait_for()
    page.wait_for_url("**/search/?q=ocean&tier=3")
    assert still_same_document(page) and page.get_by_role("combobox", name="Tier").input_value() == "3"
    # Typing on keeps the facet's choice: the form was swapped in with it.
    page.get_by_label("Words from the title, authors or venue, a DOI or an OpenAlex id").fill("ocean d")
    page.wait_for_url("**/search/?q=ocean+d&tier=3")
    assert page.console_errors == []
