"""Every page kind on a 390 px phone (Debian's Chromium driven by Playwright), on the sample data
with its FAIR evaluations: nothing is wider than the screen, so the page never scrolls sideways.
Long code tokens, DOIs, URLs and the FAIR history table made paper and FAIR pages 418-499 px."""

import re

import pytest
from django.core.management import call_command
from django.db.models.functions import Length
from django.utils import timezone

from papers.datacite import DataCiteClient
from papers.models import FairSignal, Work
from scoring.models import ScoredWork, ScoringRun
from scoring.tasks import evaluate_fair
from tests.conftest import API_DIR

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# What sticks out past the right edge and is not inside something that scrolls or clips it.
OVERFLOWING = """(width) => {
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5 && !clipped(el))
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)} px): `
      + (el.textContent || "").trim().slice(0, 60));
}"""


@pytest.fixture
def sample_site(transactional_db, fake_datacite, settings):
    """The sample corpus, scored, every paper FAIR-evaluated against the fake DataCite; then two
    evaluated again with DataCite and doi.org unreachable, so their checklists say "not checked
    yet" beside their last known answers."""
    call_command("load_openalex", *sorted(API_DIR.glob("*.json")), corpus="all", verbosity=0)
    call_command("rescore", verbosity=0)
    ids = list(Work.objects.in_corpus().order_by("id").values_list("id", flat=True))
    evaluate_fair(work_ids=ids, client=DataCiteClient(max_retries=0, sleep=lambda s: None), now=timezone.now())
    # DataCite DOIs: only they wait for DataCite (a Crossref paper is settled from its record).
    with_doi = [
        work.id for work in Work.objects.in_corpus().exclude(doi="").order_by("id") if "datacite" in work.indexed_in
    ][:2]
    settings.DATACITE_API_URL, settings.DOI_RA_URL = "http://127.0.0.1:9", "http://127.0.0.1:9/ra"
    evaluate_fair(work_ids=with_doi, client=DataCiteClient(max_retries=0, sleep=lambda s: None), now=timezone.now())
    assert FairSignal.objects.filter(work_id__in=with_doi, status="unknown").exists()
    return sorted(set(wide_papers()) | set(with_doi))


def wide_papers() -> list[int]:
    """The papers likeliest to be wide: the top of the ranking, and the longest DOIs, titles and
    unbroken title words."""
    run = ScoringRun.objects.current()
    top = list(ScoredWork.objects.in_corpus().ranked(run.id).values_list("id", flat=True)[:3])
    works = Work.objects.in_corpus()
    longest_doi = list(works.order_by(Length("doi").desc()).values_list("id", flat=True)[:3])
    longest_title = list(works.order_by(Length("title").desc()).values_list("id", flat=True)[:2])
    titles = dict(works.values_list("id", "title"))
    longest_word = sorted(titles, key=lambda key: -max(map(len, re.split(r"\s+", titles[key] or " "))))[:2]
    return top + longest_doi + longest_title + longest_word


def assert_fits(page, url: str) -> None:
    response = page.goto(url)
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{url} is {width} px wide at 390: {page.evaluate(OVERFLOWING, PHONE['width'])}"
    return response


def test_no_page_scrolls_sideways_on_a_390_px_phone(live_server, page, sample_site):
    page.set_viewport_size(PHONE)
    paper = sample_site[0]
    fixed = [
        "/",
        "/search/?q=data",
        "/ranking/",
        "/about/methodology/",
        f"/papers/W{paper}/correction/",
    ]
    for path in fixed:
        assert assert_fits(page, live_server.url + path).status == 200, path
    for path in ("/no/such/page/", "/" + "a-long-unknown-path-with-no-break" * 4 + "/", "/papers/W1/"):
        assert assert_fits(page, live_server.url + path).status == 404, path
    for key in sample_site:
        for path in (f"/papers/W{key}/", f"/papers/W{key}/fair/"):
            assert assert_fits(page, live_server.url + path).status == 200, path
    # The FAIR pages shown had their evaluation, with its history table, and the checklist.
    assert page.locator(".fair-history").count() == 1
    # The console logs each 404 document as a resource that failed to load; nothing else may fail.
    assert [error for error in page.console_errors if "status of 404" not in error] == []
    assert len(page.console_errors) == 3


def test_the_home_page_with_results_typed_in_fits_a_phone(live_server, page, sample_site):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")

    page.get_by_label("Search papers by title, author or venue").press_sequentially("data", delay=30)
    page.wait_for_url("**/search/?q=data")
    page.locator("#results-heading").wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_fair_history_table_scrolls_inside_a_region_the_keyboard_can_reach(live_server, page, sample_site):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/papers/W{sample_site[0]}/fair/")

    region = page.get_by_role("region", name="Table of the evaluations")
    assert region.get_attribute("tabindex") == "0"
    # Seven columns do not fit 390 px (less the margins): the table scrolls, inside its region only.
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    region.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)  # a smooth scroll; wait_for_function would need 'unsafe-eval' under the CSP
    assert region.evaluate("el => el === document.activeElement && el.scrollLeft > 0")
