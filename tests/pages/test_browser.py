"""The pages in a real browser (Debian's Chromium driven by Playwright), on real sample data."""

import pytest
from django.core.management import call_command

from tests.conftest import API_DIR

pytestmark = pytest.mark.browser


@pytest.fixture
def sample_corpus(transactional_db):
    call_command("load_openalex", *sorted(API_DIR.glob("*.json")), corpus="all", verbosity=0)
    call_command("rescore", verbosity=0)


def test_a_visitor_searches_by_title_and_opens_a_paper_page(live_server, page, sample_corpus):
    page.goto(live_server.url + "/")
    page.get_by_role("searchbox").first.fill("altmetrics")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=altmetrics*")
    page.get_by_role("link", name="Trends of Publications").first.click()
    page.wait_for_url("**/papers/W3046863325/")
    assert "DataRank" in page.content()
    assert page.title().startswith("Trends of Publications")
    # The Content-Security-Policy lets our own scripts run and nothing else; a refused
    # script or style would show here.
    assert page.console_errors == []
