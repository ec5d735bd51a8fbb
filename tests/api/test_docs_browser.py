"""The API's docs page in a real browser, under the site's Content-Security-Policy: Swagger UI
runs from our static files, lists every endpoint, and nothing is refused or fetched elsewhere."""

import pytest

from tests.pages.conftest import page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_shows_every_endpoint_under_the_csp(live_server, page):  # noqa: F811
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/api/v1/papers/{key}", "/api/v1/papers/batch", "/api/v1/search", "/api/v1/ranking"} <= {
        path.replace("\u200b", "") for path in paths
    }
    assert page.console_errors == []
    assert all(url.startswith(live_server.url) for url in requested), requested
