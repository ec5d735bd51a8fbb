"""The embed card in a real browser (Debian's Chromium), framed by a page from another origin —
a second server on another port — beside a paper page the same page tries to frame and cannot."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from scoring.dumps import write_dump
from scoring.models import ScoredWork, ScoringRun
from tests.conftest import API_DIR
from tests.pages import test_accessibility_browser as axe

pytestmark = pytest.mark.browser

# axe-core's browser and tabs (a context each, the site's CSP bypassed only so that axe can run).
browser = axe.browser
tab = axe.tab


@pytest.fixture
def ranked_paper(transactional_db) -> ScoredWork:
    call_command("load_openalex", *sorted(API_DIR.glob("*.json")), corpus="all", verbosity=0)
    call_command("rescore", verbosity=0)
    return ScoredWork.objects.ranked(ScoringRun.objects.current().id).first()


@pytest.fixture
def other_site(live_server, ranked_paper):
    """Another origin (127.0.0.1 on a port of its own, where the site is localhost on its port)
    whose one page frames the paper's card and, below it, the paper's page."""
    base = live_server.url
    key = ranked_paper.openalex_id
    page = (
        "<!doctype html><html lang='en'><head><title>A lab's page</title></head><body>"
        "<h1>Our dataset</h1>"
        f"<iframe id='card' src='{base}/embed/{key}/' title='DataRank card' width='400' height='200'></iframe>"
        f"<iframe id='paper' src='{base}/papers/{key}/' title='The paper page' width='800' height='300'></iframe>"
        "</body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def frame_by_url(page, url: str):
    return next((frame for frame in page.frames if frame.url == url), None)


def test_another_site_frames_the_card_but_not_the_paper_page(live_server, page, ranked_paper, other_site, tmp_path):
    key = ranked_paper.openalex_id
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(other_site)
    page.wait_for_load_state("load")

    card = frame_by_url(page, f"{live_server.url}/embed/{key}/")
    assert card is not None
    card.wait_for_selector(".embed-card__title")
    assert card.locator(".embed-card__score").inner_text() == f"{ranked_paper.datarank:.1f}"
    assert card.get_by_role("link", name=f"Why this DataRank? See {key} on DataRank").get_attribute("href") == (
        f"{live_server.url}/papers/{key}/"
    )
    # The paper page refuses to be framed (X-Frame-Options: DENY, frame-ancestors 'none'): the
    # frame holds the browser's error page, never the paper.
    assert frame_by_url(page, f"{live_server.url}/papers/{key}/") is None
    paper_frame = page.frame_locator("#paper")
    assert paper_frame.locator("h1").count() == 0 or "DataRank" not in paper_frame.locator("body").inner_text()
    page.screenshot(path=tmp_path / "embed-framed-1280.png")
    # The card alone at phone width: no sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 700})
    page.goto(f"{live_server.url}/embed/{key}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=tmp_path / "embed-390.png")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_paper_pages_embed_section_fits_the_screen(live_server, page, ranked_paper, width, tmp_path):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/papers/{ranked_paper.openalex_id}/")
    section = page.locator("#embed")
    section.scroll_into_view_if_needed()

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    badge = section.get_by_role("img")
    assert badge.evaluate("image => image.complete && image.naturalWidth > 0")
    assert section.get_by_label("Badge, Markdown (README)").input_value().startswith("[![DataRank score](")
    section.screenshot(path=tmp_path / f"paper-embed-section-{width}.png")
    assert page.console_errors == []


@pytest.mark.parametrize("viewport", [axe.DESKTOP, axe.PHONE], ids=["1280px", "390px"])
def test_the_card_and_the_downloads_page_have_no_serious_accessibility_violation(
    live_server, tab, ranked_paper, viewport, settings, tmp_path
):
    settings.DATARANK_DUMPS_DIR = tmp_path / "dumps"
    write_dump(run=ScoringRun.objects.current())
    page = tab(viewport)
    found: dict[str, list[dict]] = {}

    axe.check(page, f"{live_server.url}/embed/{ranked_paper.openalex_id}/", found, label="the embed card")
    axe.check(page, f"{live_server.url}/embed/W1/", found, status=404, label="the embed card of an unknown paper")
    axe.check(page, f"{live_server.url}/downloads/", found, label="the downloads page")

    assert not found, f"axe at {viewport['width']} px:\n{axe.report(found)}"
