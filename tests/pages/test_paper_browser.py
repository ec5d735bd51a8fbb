"""The paper page in a real browser (Debian's Chromium under Playwright) with the site's
Content-Security-Policy: the sections, the citation graph and its interactions, the htmx table."""

import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from papers.models import Citation, CorpusEntry, Work
from scoring.services import rescore_corpus
from tests.pages.test_paper_page import PAPER, build_paper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DIM = 0.12
NODES = "#citation-graph .scatterlayer .trace:last-child path.point"


@pytest.fixture
def paper_page(live_server, page):
    cache.clear()
    build_paper(30)
    rescore_corpus()
    response = page.goto(f"{live_server.url}/papers/W{PAPER}/")
    assert response.status == 200
    assert "script-src 'self';" in response.headers["content-security-policy"]
    # plotly.js comes when the graph nears the viewport; mouse positions are in the viewport too.
    page.locator("#citation-graph").scroll_into_view_if_needed()
    page.wait_for_function("() => document.getElementById('citation-graph').dataset.selected === ''")
    return page


# The plotly.js bundles the page has fetched (not the loader, static/js/plotly-loader.js).
PLOTLY_LOADED = "() => performance.getEntriesByType('resource').map(e => e.name).filter(n => /vendor\\/plotly/.test(n))"
RECORD_CSP_VIOLATIONS = """window.cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));"""
# Every chart's config as plotly resolved it, and the titles of its modebar's buttons.
CHART_CONFIG = """(id) => {
    const gd = document.getElementById(id);
    return {
        displaylogo: gd._context.displaylogo,
        showSendToCloud: gd._context.showSendToCloud,
        removed: gd._context.modeBarButtonsToRemove,
        buttons: [...gd.querySelectorAll('.modebar-btn')].map(b => b.getAttribute('data-title')),
        logo: gd.querySelectorAll('.modebar a[href*="plotly"], .plotlyjsicon').length,
    };
}"""


def graph_data(tab, expression: str):
    return tab.evaluate(f"(() => {{ const gd = document.getElementById('citation-graph'); return {expression}; }})()")


def node_index(tab, openalex_id: str) -> int:
    return graph_data(tab, f"gd.data[2].customdata.indexOf({openalex_id!r})")


def click_at(tab, x: float, y: float) -> None:
    """Move there as a hand would, so plotly's throttled hover has caught up, then click once
    the double-click window of any earlier click has passed."""
    tab.mouse.move(x, y, steps=8)
    tab.wait_for_timeout(400)
    tab.mouse.click(x, y)


def click_node(tab, index: int) -> None:
    box = tab.locator(NODES).nth(index).bounding_box()
    click_at(tab, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def opacities(tab) -> list[float]:
    return graph_data(tab, "gd.data[2].marker.opacity")


def test_every_section_is_there_and_the_graph_draws_every_node(paper_page):
    for heading in (
        "Abstract",
        "Data sources & pipeline",
        "FAIR checklist",
        "Calibrated FAIR score",
        "DataRank breakdown",
        "Top 5 citers driving the network score",
        "Why this DataRank?",
        "Citation graph",
        "Every citer and what it adds",
        "Where it sits in the corpus",
    ):
        assert paper_page.get_by_role("heading", name=heading).count() == 1, heading
    # The paper, 30 citers and the self-citation, all as SVG points (no WebGL canvas).
    assert paper_page.locator(NODES).count() == 32
    assert paper_page.locator("#citation-graph canvas").count() == 0
    assert paper_page.locator("#distribution-chart .barlayer .point").count() > 0
    assert paper_page.console_errors == []


@pytest.fixture
def unscrolled_page(live_server, page):
    """The paper page as it opens, with every CSP violation the page meets recorded."""
    cache.clear()
    build_paper(30)
    rescore_corpus()
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    assert page.goto(f"{live_server.url}/papers/W{PAPER}/").status == 200
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    return page


def test_plotly_is_loaded_only_when_the_graph_nears_the_viewport_and_then_draws(unscrolled_page):
    tab = unscrolled_page
    # The graph starts further below the window than the loader's margin (800 px).
    assert tab.evaluate("document.getElementById('citation-graph').getBoundingClientRect().top - innerHeight") > 800
    assert tab.evaluate("() => typeof window.Plotly") == "undefined"
    assert tab.evaluate(PLOTLY_LOADED) == []
    assert tab.locator("#citation-graph svg, #distribution-chart svg").count() == 0

    tab.locator("#citation-graph").scroll_into_view_if_needed()

    tab.wait_for_function("() => document.getElementById('citation-graph').dataset.selected === ''")
    assert tab.locator(NODES).count() == 32
    # One fetch of the basic bundle, for both charts: the histogram, further down, is drawn too.
    tab.wait_for_selector("#distribution-chart .barlayer .point")
    loaded = tab.evaluate(PLOTLY_LOADED)
    assert len(loaded) == 1 and "vendor/plotly-basic/plotly-basic.min" in loaded[0]
    assert tab.locator("script[src*='plotly-basic']").count() == 1
    assert tab.evaluate("window.cspViolations") == []
    assert tab.console_errors == []


def test_scrolling_straight_to_the_histogram_loads_plotly_once_for_both_charts(unscrolled_page):
    tab = unscrolled_page
    tab.locator("#distribution-chart").scroll_into_view_if_needed()

    tab.wait_for_selector("#distribution-chart .barlayer .point")
    tab.wait_for_function("() => document.getElementById('citation-graph').dataset.selected === ''")
    assert len(tab.evaluate(PLOTLY_LOADED)) == 1
    # The histogram: bars from the bins Python computed, the line and label marking this paper.
    assert tab.locator("#distribution-chart .shapelayer path").count() == 1
    assert tab.locator("#distribution-chart .annotation-text").text_content() == "This paper"
    assert tab.evaluate("window.cspViolations") == []
    assert tab.console_errors == []


def test_the_modebar_has_no_plotly_logo_and_no_cloud_button(paper_page):
    paper_page.locator("#citation-graph").hover()

    graph = paper_page.evaluate(CHART_CONFIG, "citation-graph")
    assert graph["displaylogo"] is False and graph["showSendToCloud"] is False
    assert {"sendChartToCloud", "sendDataToCloud"} <= set(graph["removed"])
    assert "Reset axes" in graph["buttons"] and "Pan" in graph["buttons"]
    assert not [title for title in graph["buttons"] if "share" in title.lower() or "cloud" in title.lower()]
    assert graph["logo"] == 0
    paper_page.wait_for_selector("#distribution-chart .barlayer .point")
    histogram = paper_page.evaluate(CHART_CONFIG, "distribution-chart")
    assert histogram["displaylogo"] is False and histogram["showSendToCloud"] is False
    assert histogram["buttons"] == [] and histogram["logo"] == 0
    assert paper_page.console_errors == []


def test_clicking_a_node_highlights_exactly_its_neighbours_and_empty_space_clears_it(paper_page):
    clicked, paper, cited = (node_index(paper_page, key) for key in ("W10000", f"W{PAPER}", "W10001"))

    click_node(paper_page, clicked)

    paper_page.wait_for_function("() => document.getElementById('citation-graph').dataset.selected === 'W10000'")
    lit = {index for index, opacity in enumerate(opacities(paper_page)) if opacity == 1}
    assert lit == {clicked, paper, cited}
    assert all(opacity == DIM for index, opacity in enumerate(opacities(paper_page)) if index not in lit)

    box = paper_page.locator("#citation-graph .nsewdrag").bounding_box()
    click_at(paper_page, box["x"] + 3, box["y"] + 3)

    paper_page.wait_for_function("() => document.getElementById('citation-graph').dataset.selected === ''")
    assert set(opacities(paper_page)) == {1}
    assert paper_page.console_errors == []


def test_scrolling_zooms_and_the_reset_button_restores_the_view(paper_page):
    before = graph_data(paper_page, "gd.layout.xaxis.range.slice()")
    box = paper_page.locator("#citation-graph .nsewdrag").bounding_box()
    paper_page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    paper_page.mouse.wheel(0, -400)
    paper_page.wait_for_timeout(500)

    after = graph_data(paper_page, "gd.layout.xaxis.range.slice()")
    assert after[1] - after[0] < before[1] - before[0]

    paper_page.get_by_role("button", name="Reset view").click()
    paper_page.wait_for_timeout(300)
    assert graph_data(paper_page, "gd.layout.xaxis.range.slice()") == pytest.approx(before)
    assert paper_page.console_errors == []


def test_dragging_pans_the_graph(paper_page):
    before = graph_data(paper_page, "gd.layout.xaxis.range.slice()")
    box = paper_page.locator("#citation-graph .nsewdrag").bounding_box()
    x, y = box["x"] + 20, box["y"] + 20

    paper_page.mouse.move(x, y)
    paper_page.mouse.down()
    paper_page.mouse.move(x + 120, y + 40, steps=5)
    paper_page.mouse.up()
    paper_page.wait_for_timeout(300)

    after = graph_data(paper_page, "gd.layout.xaxis.range.slice()")
    assert after[0] < before[0] and after[1] - after[0] == pytest.approx(before[1] - before[0])


def test_the_citer_table_pages_in_place_with_htmx(paper_page):
    paper_page.evaluate("window.stillTheSamePage = true")

    paper_page.locator("#citer-table").get_by_role("link", name="Next →").click()

    paper_page.wait_for_url("**/?page=2")
    paper_page.wait_for_selector("#citer-table >> text=Page 2 of 2")
    assert paper_page.evaluate("window.stillTheSamePage") is True
    paper_page.locator("#citer-table").get_by_role("link", name="Citations").click()
    paper_page.wait_for_url("**/?sort=citations")
    first = paper_page.locator("#citer-table tbody tr").first.inner_text()
    assert "Citer 29" in first
    assert paper_page.evaluate("window.stillTheSamePage") is True
    assert paper_page.console_errors == []


def test_a_graph_of_two_thousand_citers_draws_and_answers_a_click_in_time(live_server, page, settings):
    """The brief asks for a graph usable at 2,000 nodes: drawn in seconds, a click answered at once."""
    settings.DATARANK_CITER_CAP = 2_000
    paper = Work.objects.create(id=PAPER, title="Big dataset", cited_by_count=5_000, fetched_at=timezone.now())
    CorpusEntry.objects.create(work=paper, check_passed=True, confidence=0.9, included=True, checked_at=timezone.now())
    Work.objects.bulk_create(
        Work(id=10_000 + i, title=f"Citer {i}", cited_by_count=i, referenced_works_count=20, fetched_at=timezone.now())
        for i in range(2_000)
    )
    links = [(10_000 + i, PAPER) for i in range(2_000)] + [(10_000 + i, 10_001 + i) for i in range(1_999)]
    Citation.objects.bulk_create(Citation(citing_id=citing, cited_id=cited) for citing, cited in links)
    rescore_corpus()

    started = time.monotonic()
    page.goto(f"{live_server.url}/papers/W{PAPER}/")
    page.locator("#citation-graph").scroll_into_view_if_needed()
    page.wait_for_function("() => document.getElementById('citation-graph').dataset.selected === ''")
    drawn = time.monotonic() - started
    assert page.locator(NODES).count() == 2_001
    box = page.locator(NODES).nth(0).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    page.wait_for_timeout(400)
    started = time.monotonic()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.getElementById('citation-graph').dataset.selected !== ''")
    answered = time.monotonic() - started

    print(f"2,001 nodes: page and graph drawn in {drawn:.2f} s, a click highlighted in {answered:.2f} s")
    # Generous bounds for a loaded two-core machine; the printed figures are the measurement.
    assert drawn < 15 and answered < 3
    assert page.console_errors == []
