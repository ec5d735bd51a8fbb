"""The FAIR page in a real browser: the chart is drawn under the Content-Security-Policy."""

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
    page.wait_for_selector("#fair-chart svg.main-svg")

    assert page.locator("#fair-chart .bars path").count() == 4
    # The vendored basic bundle, fetched once; no modebar, so no plotly logo or cloud button.
    bundles = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name).filter(n => /plotly/.test(n))"
    )
    assert [name for name in bundles if "/vendor/" in name] == [
        f"{live_server.url}/static/vendor/plotly-basic/plotly-basic.min.js"
    ]
    config = page.evaluate(
        "() => { const c = document.getElementById('fair-chart')._context;"
        " return {displaylogo: c.displaylogo, showSendToCloud: c.showSendToCloud,"
        " modeBarButtonsToRemove: c.modeBarButtonsToRemove}; }"
    )
    assert config["displaylogo"] is False and config["showSendToCloud"] is False
    assert {"sendChartToCloud", "sendDataToCloud"} <= set(config["modeBarButtonsToRemove"])
    assert page.locator("#fair-chart .modebar-btn, #fair-chart .plotlyjsicon").count() == 0
    assert page.evaluate("window.cspViolations") == []
    assert page.console_errors == []
