"""axe-core in a real browser (Debian's Chromium under Playwright): no page a visitor can reach,
and no admin page we own or customise, has a violation axe rates serious or critical — at 1280 px
and on a 390 px phone for the public pages, with the plotly charts drawn, so that their markup is
checked too. axe is the vendored tests/vendor/axe-core/axe.min.js (see its README), injected into
each page; the contexts bypass the site's CSP only so that it can be."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from papers.datacite import DataCiteClient
from papers.models import CorpusEntry, Correction, RefreshRun
from scoring.models import ScoringRun, SnapshotBuild
from scoring.services import rescore_corpus
from scoring.tasks import evaluate_fair
from tests.conftest import CHROMIUM
from tests.factories import BARE_PAPER, ZENODO_DATASET, make_corpus_paper, make_work
from tests.pages.test_paper_page import PAPER, build_paper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js").read_text()
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")
NOT_RANKED = 901  # a corpus paper nothing with signal cites
CITER = 10_000  # a work we hold only as a citer: its paper URL is the not-in-corpus 404
# The violations in the admin's stock templates that only a copy of a whole Django template
# would fix, each excluded by rule and selector, with why.
STOCK_ADMIN_EXCLUSIONS: dict[tuple[str, str], str] = {
    ("label-title-only", "#searchbar"): (
        "Django's changelist search box (admin/search_form.html) is labelled by a <label> holding only "
        'the magnifier icon, <img alt="Search">, and described by our search_help_text through '
        'aria-describedby. Its accessible name is "Search" (the test asserts it), beside a visible '
        "Search button; axe's best-practice rule asks for a visible text label, which would take a copy "
        "of Django's whole search form template to give."
    ),
}

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # themselves would otherwise be refused as "async unsafe".
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def tab(browser):
    """A page of its own browser context, at the viewport asked for; closed after the test."""
    contexts = []

    def open_tab(viewport: dict):
        contexts.append(browser.new_context(bypass_csp=True, viewport=viewport))
        return contexts[-1].new_page()

    yield open_tab
    for context in contexts:
        context.close()


def violations(page, *, excluded: dict[tuple[str, str], str] | None = None, seen: set | None = None) -> list[dict]:
    """The serious and critical violations axe finds in the page as it is now, less `excluded`
    (each exclusion met is added to `seen`)."""
    page.evaluate(AXE)
    found = []
    for violation in page.evaluate(RUN_AXE):
        if violation["impact"] not in BLOCKING:
            continue
        excused = {(violation["id"], t) for t in violation["targets"]} & set(excluded or {})
        if seen is not None:
            seen |= excused
        targets = [t for t in violation["targets"] if (violation["id"], t) not in excused]
        if targets:
            found.append({**violation, "targets": targets})
    return found


def report(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, page_violations in found.items():
        for v in page_violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']}: {', '.join(v['targets'][:10])}")
            if len(v["targets"]) > 10:
                lines[-1] += f" … and {len(v['targets']) - 10} more"
    return "\n".join(lines)


def check(page, url: str, found: dict, *, status: int = 200, label: str = "", **kwargs) -> None:
    response = page.goto(url)
    assert response.status == status, url
    page.wait_for_load_state("load")
    record(page, label or url, found, **kwargs)


def record(page, label: str, found: dict, **kwargs) -> None:
    page_violations = violations(page, **kwargs)
    if page_violations:
        found[label] = page_violations


@pytest.fixture
def site(fake_datacite, transactional_db):
    """A ranked paper with 30 citers, a corpus paper not ranked, a dataset with full metadata and
    a bare paper, scored and FAIR-evaluated against the fake DataCite."""
    build_paper(30)
    make_work(NOT_RANKED, title="A corpus paper nothing cites", corpus=True)
    make_corpus_paper(ZENODO_DATASET, doi="10.5281/zenodo.7504123", title="A dataset", type="dataset", is_oa=True)
    make_corpus_paper(BARE_PAPER, check_passed=False, title="Notes", type="article")
    rescore_corpus()
    ids = [PAPER, NOT_RANKED, ZENODO_DATASET, BARE_PAPER]
    evaluate_fair(work_ids=ids, client=DataCiteClient(max_retries=0, sleep=lambda s: None), now=timezone.now())


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_no_public_page_has_a_serious_or_critical_violation(live_server, tab, site, viewport):
    page = tab(viewport)
    url = live_server.url
    found: dict[str, list[dict]] = {}

    check(page, f"{url}/", found)
    check(page, f"{url}/search/?q=paper", found)
    check(page, f"{url}/search/?q=no+such+words+anywhere", found, label="search with no results")
    check(page, f"{url}/search/?q=", found, label="search with no query")
    check(page, f"{url}/ranking/", found)
    check(page, f"{url}/ranking/?tier=1", found, label="the ranking of one tier")
    check(page, f"{url}/ranking/?tier=banana", found, status=400, label="a 400 (a ranking that cannot be shown)")
    check(page, f"{url}/about/methodology/", found)
    for number in (ZENODO_DATASET, PAPER):
        page.goto(f"{url}/papers/W{number}/fair/")
        # The sub-scores chart: an SVG the page itself holds.
        page.locator("svg.fair-chart").first.wait_for()
        record(page, f"FAIR page of W{number}, chart drawn", found)
    check(page, f"{url}/papers/W{NOT_RANKED}/", found, label="a corpus paper not ranked")
    check(page, f"{url}/papers/W{BARE_PAPER}/", found, label="a paper in by override, not ranked")
    check(page, f"{url}/papers/W{CITER}/", found, status=404, label="a citer's paper URL (not in the corpus)")
    page.locator(".correction-toggle summary").click()
    page.locator(".correction-toggle textarea").wait_for()
    record(page, "the not-in-corpus page with its correction form opened", found)
    check(page, f"{url}/no/such/page/", found, status=404, label="a 404")
    check(page, f"{url}/papers/W{PAPER}/correction/", found, label="the correction form")
    page.get_by_role("button", name="Send").click()  # with no reason
    page.locator("#correction-reason-error").wait_for()
    record(page, "the correction form with an error", found)
    page.get_by_label("Why?").fill("It shares no data.")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("status").get_by_text("Thank you.").wait_for()
    assert Correction.objects.filter(work_id=PAPER).exists()
    record(page, "the correction form's thanks", found)

    # The paper page, then again with its charts drawn and its correction form opened: plotly
    # comes only when a chart nears the viewport.
    check(page, f"{url}/papers/W{PAPER}/", found, label="a ranked paper")
    page.locator("#citation-graph").scroll_into_view_if_needed()
    page.locator("#citation-graph svg.main-svg").first.wait_for()
    page.locator("#distribution-chart").scroll_into_view_if_needed()
    page.locator("#distribution-chart svg.main-svg").first.wait_for()
    page.locator(".correction-toggle summary").click()
    page.locator(".correction-toggle textarea").wait_for()
    record(page, "a ranked paper, charts drawn and correction form opened", found)

    assert not found, f"axe at {viewport['width']} px:\n{report(found)}"


@pytest.fixture
def admin_site(site):
    """The site above, with a pending correction, a running scoring run, a refresh run and a
    snapshot build, for every changelist and custom page to have rows."""
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-password")
    Correction.objects.create(work_id=CITER, kind=Correction.Kind.INCLUDE, reason="It publishes a dataset.")
    CorpusEntry.objects.filter(work_id=BARE_PAPER).update(override=CorpusEntry.Override.INCLUDE)
    running = ScoringRun.objects.create(
        algorithm="datarank-1hop-v1", damping=0.85, citer_cap=200, started_by=user, status=ScoringRun.Status.RUNNING
    )
    refresh = RefreshRun.objects.create(papers_total=4, papers_done=1, triggered_by=RefreshRun.Trigger.ADMIN)
    SnapshotBuild.objects.create(
        snapshot_path="/data/snapshot/works", threads=2, citer_cap=200, damping=0.85, run=ScoringRun.objects.first()
    )
    return {"running": running, "refresh": refresh}


def test_no_admin_page_we_own_has_a_serious_or_critical_violation(live_server, tab, admin_site, settings):
    page = tab(DESKTOP)
    admin = f"{live_server.url}/admin"
    found: dict[str, list[dict]] = {}
    seen: set[tuple[str, str]] = set()
    stock = {"excluded": STOCK_ADMIN_EXCLUSIONS, "seen": seen}

    check(page, f"{admin}/login/", found, **stock)
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{admin}/")

    pages = [
        "/",
        "/papers/",
        "/scoring/",
        "/papers/work/",
        f"/papers/work/{PAPER}/change/",
        "/papers/author/",
        "/papers/authorship/",
        "/papers/citation/",
        "/papers/corpusentry/",
        f"/papers/corpusentry/{PAPER}/change/",
        "/papers/corpusentry/track/",
        "/papers/fairsignal/",
        "/papers/refreshrun/",
        f"/papers/refreshrun/{admin_site['refresh'].pk}/change/",
        "/papers/correction/",
        f"/papers/correction/{Correction.objects.get().pk}/change/",
        "/scoring/scoringrun/",
        f"/scoring/scoringrun/{ScoringRun.objects.current().pk}/change/",
        f"/scoring/scoringrun/{admin_site['running'].pk}/change/",
        f"/scoring/scoringrun/{admin_site['running'].pk}/fail/",
        "/scoring/paperscore/",
        "/scoring/snapshotbuild/",
        f"/scoring/snapshotbuild/{SnapshotBuild.objects.get().pk}/change/",
    ]
    for path in pages:
        check(page, admin + path, found, label=f"/admin{path}", **stock)
        # What the exclusion of label-title-only on #searchbar rests on.
        if page.locator("#searchbar").count():
            assert page.get_by_role("textbox", name="Search", exact=True).count() == 1, path
    # The track page with a line that is no identifier (nothing is queued, so no broker is asked).
    settings.OPENALEX_API_KEY = "a-key"
    page.goto(f"{admin}/papers/corpusentry/track/")
    page.get_by_label("Identifiers").fill("not an identifier")
    page.get_by_role("button", name="Track").click()
    page.locator("#bad-identifiers").wait_for()
    record(page, "/admin/papers/corpusentry/track/ with a bad identifier", found, **stock)
    # The changelist's action bar after an action that needs a selection was sent without one.
    page.goto(f"{admin}/papers/correction/")
    page.locator("select[name=action]").select_option("accept")
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Items must be selected").wait_for()
    record(page, "/admin/papers/correction/ after an action with nothing selected", found, **stock)

    assert not found, f"axe on the admin:\n{report(found)}"
    # An exclusion no page needs any more goes.
    assert seen == set(STOCK_ADMIN_EXCLUSIONS)
