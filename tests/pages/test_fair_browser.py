"""The FAIR page in a real browser: its sub-scores chart is drawn by the page itself, with no script."""

import pytest
from django.utils import timezone

from papers.datacite import DataCiteClient
from scoring.tasks import evaluate_fair
from tests.conftest import CHROMIUM
from tests.factories import BARE_PAPER, ZENODO_DATASET
from tests.factories import make_corpus_paper as make_work

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.console_errors = errors
        yield page
        browser.close()


def test_the_fair_page_draws_its_sub_scores_chart(live_server, page, fake_datacite, transactional_db):
    make_work(ZENODO_DATASET, doi="10.5281/zenodo.7504123", title="A dataset", type="dataset", is_oa=True)
    make_work(BARE_PAPER, check_passed=False, title="Notes", type="article")
    evaluate_fair(work_ids=[ZENODO_DATASET, BARE_PAPER], client=DataCiteClient(), now=timezone.now())

    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.blockedURI));"
    )
    page.goto(f"{live_server.url}/papers/W{ZENODO_DATASET}/fair/")

    bars = page.locator("svg.fair-chart rect.fair-chart__bar")
    assert bars.count() == 4
    # Drawn to scale in the browser: a full bar spans the whole track.
    track = page.locator("svg.fair-chart rect.fair-chart__track").first.bounding_box()
    widths = [bars.nth(index).bounding_box()["width"] for index in range(4)]
    assert all(0 <= width <= track["width"] + 0.5 for width in widths) and max(widths) > 0
    assert page.get_by_role("img", name="F, A, I and R sub-scores").count() == 1
    # No chart library and no script at all: the first screen on a phone blocks on nothing.
    scripts = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name).filter(n => /\\.js/.test(n))"
    )
    assert not [name for name in scripts if "plotly" in name or "fair.js" in name]
    assert page.evaluate("window.cspViolations") == []
    assert page.console_errors == []
