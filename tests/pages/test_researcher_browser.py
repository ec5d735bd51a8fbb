"""The researcher, institution and researcher-list pages in a real browser (Debian's Chromium under
Playwright), at 1280 px and on a 390 px phone: no console error, nothing wider than the phone,
no axe violation rated serious or critical with the chart drawn, and the paper table and the
list sorted, paged and filtered through htmx without a page load."""

import pytest

from tests.factories import affiliate, make_institution
from tests.pages.test_accessibility_browser import DESKTOP, PHONE, browser, report, violations  # noqa: F401
from tests.pages.test_researcher_pages import LONDON, LOVELACE, corpus_paper, lovelace  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Lovelace's five papers and these make two pages of her paper table.
EXTRA_PAPERS = 30


@pytest.fixture
def site(lovelace):  # noqa: F811
    london = make_institution(LONDON + 100, name="Royal Institution", country_code="GB")
    for number in range(300, 300 + EXTRA_PAPERS):
        affiliate(corpus_paper(lovelace, number, year=1990 + number % 25, rank=None, datarank=0.0), LOVELACE, london)
    return lovelace


@pytest.fixture
def tab(browser):  # noqa: F811
    """A page of its own browser context, at the viewport asked for, keeping its console errors
    in `console_errors`; the context bypasses the site's CSP only so that axe can be injected."""
    contexts = []

    def open_tab(viewport: dict):
        contexts.append(browser.new_context(bypass_csp=True, viewport=viewport))
        page = contexts[-1].new_page()
        errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.console_errors = errors
        return page

    yield open_tab
    for context in contexts:
        context.close()


def drawn(page) -> None:
    """Wait for the chart: plotly.js comes only when it nears the viewport."""
    page.locator("#roll-up-chart").scroll_into_view_if_needed()
    page.locator('#roll-up-chart[data-drawn="true"] svg.main-svg').first.wait_for()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_the_pages_draw_fit_and_pass_axe(live_server, tab, site, viewport):
    page = tab(viewport)
    found: dict[str, list[dict]] = {}
    for path, chart in (
        ("/researchers/A1/", True),
        (f"/institutions/I{LONDON}/", True),
        ("/researchers/", False),
        ("/researchers/?subfield=1908&sort=h", False),
        ("/institutions/", False),
    ):
        assert page.goto(live_server.url + path).status == 200, path
        page.wait_for_load_state("load")
        if chart:
            drawn(page)
            # One dot per paper with a year and a score, all of them here.
            points = page.evaluate("JSON.parse(document.getElementById('roll-up-chart-data').textContent).x.length")
            assert page.locator("#roll-up-chart .scatterlayer .point").count() == points
        if viewport == PHONE:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width} px wide on a phone"
        if page_violations := violations(page):
            found[path] = page_violations
    assert page.console_errors == []
    assert not found, f"axe at {viewport['width']} px:\n{report(found)}"


def test_the_paper_table_pages_and_sorts_in_place(live_server, tab, site):
    page = tab(DESKTOP)
    page.goto(f"{live_server.url}/researchers/A1/")
    # Lost if anything reloads the page rather than swapping the table.
    page.evaluate("window.stayed = true")

    page.locator("#paper-table").get_by_role("link", name="Next →").click()
    page.locator("#paper-table").get_by_text("Page 2 of 2").wait_for()
    assert page.url.endswith("/researchers/A1/?page=2")

    page.locator("#paper-table th").get_by_role("link", name="Year").click()
    page.locator('#paper-table th[aria-sort="descending"]').get_by_text("Year").wait_for()
    assert page.url.endswith("/researchers/A1/?sort=year")
    first = page.locator("#paper-table tbody tr").first.locator("td").nth(1).inner_text()
    assert first == "2016"
    page.locator("#paper-table th").get_by_role("link", name="Year ▼").click()
    page.locator('#paper-table th[aria-sort="ascending"]').wait_for()
    assert page.locator("#paper-table tbody tr").first.locator("td").nth(1).inner_text() == "1990"
    assert page.evaluate("window.stayed") is True
    assert page.console_errors == []


def test_the_list_filters_and_sorts_in_place(live_server, tab, site):
    page = tab(PHONE)
    page.goto(f"{live_server.url}/researchers/")
    page.evaluate("window.stayed = true")

    page.get_by_label("Sort by").select_option("h")
    page.get_by_role("heading", name="All ranked researchers, by data h-index").wait_for()
    assert page.url.endswith("/researchers/?sort=h")
    page.get_by_label("Main subfield").select_option("1908")
    page.get_by_role("heading", name="Researchers mostly in Geophysics, by data h-index").wait_for()
    names = page.locator("#researcher-results tbody .paper-title").all_inner_texts()
    assert names == ["Charles Babbage", "Ada Lovelace"]
    assert page.url.endswith("/researchers/?subfield=1908&sort=h")
    assert page.evaluate("window.stayed") is True
    assert page.console_errors == []
