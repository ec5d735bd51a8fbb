"""The FAIR evaluation page, the paper page's FAIR sections and the methodology page, for a paper
with full metadata and one with almost none, evaluated or not."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from datarank_site.pages.fair import fair_for_page
from datarank_site.pages.templatetags.markup import code_spans
from papers.datacite import DataCiteClient
from papers.models import FairSignal
from scoring.models import FairEvaluation, PaperScore, ScoringRun
from scoring.tasks import evaluate_fair
from tests.factories import BARE_PAPER, ZENODO_DATASET, count_run
from tests.factories import FAIR_NOW as NOW
from tests.fake_datacite.app import Fault

pytestmark = pytest.mark.django_db


def text(response) -> str:
    content = response.content if hasattr(response, "content") else response.encode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", content.decode())).strip()


def evaluate(*work_ids: int) -> None:
    evaluate_fair(work_ids=list(work_ids), client=DataCiteClient(sleep=lambda s: None), now=NOW)


def test_the_fair_page_of_a_full_metadata_paper_shows_scores_checks_and_history(
    client, fake_datacite, zenodo_dataset, bare_paper, django_assert_num_queries
):
    evaluate(ZENODO_DATASET, BARE_PAPER)

    # Six to build the page, one for its version in the page cache (tests/pages/test_page_cache.py).
    with django_assert_num_queries(7):
        response = client.get(f"/papers/W{ZENODO_DATASET}/fair/")

    assert response.status_code == 200
    page = text(response)
    assert "Calibrated FAIR score 100/100" in page
    assert "Raw score" in page and "/100 Mean of F, A, I and R" in page
    assert "Passed · A licence is stated" in page
    assert "DataCite · rightsList[].rightsIdentifier: cc-by-4.0" in page
    assert "Findable (2/2)" in page
    assert "fair-metadata-v2" in page and "1 Nov 2026" in page
    # The four bars are drawn in the page itself: no chart library, no script.
    html = response.content.decode()
    assert "plotly" not in html and "<script" not in html.split("</header>", 1)[1]
    bars = re.findall(r'<rect class="fair-chart__bar" x="104" y="8" width="(\d+)"', html)
    evaluation = FairEvaluation.objects.get(work_id=ZENODO_DATASET)
    assert [int(width) for width in bars] == [
        round(176 * score / 100) for score in (evaluation.f, evaluation.a, evaluation.i, evaluation.r)
    ]
    assert '<title id="fair-chart-title">F, A, I and R sub-scores: Findable 100/100, Accessible 100/100,' in html


def test_a_failing_check_shows_its_exact_fix(client, fake_datacite, bare_paper):
    evaluate(BARE_PAPER)

    page = text(client.get(f"/papers/W{BARE_PAPER}/fair/"))

    assert "Failed · Has a persistent identifier (DOI)" in page
    assert "Fix: register a DOI for the paper" in page
    assert "Not applicable · File formats are given" in page
    # Without a DataCite record there are no formats to list: no fix is offered.
    assert "Fix: list the file formats" not in page


def test_the_fair_page_of_a_paper_never_evaluated_says_so(client, bare_paper, django_assert_num_queries):
    # Five to build the page, one for its version in the page cache.
    with django_assert_num_queries(6):
        response = client.get(f"/papers/W{BARE_PAPER}/fair/")

    assert response.status_code == 200
    page = text(response)
    assert "This paper's FAIR score has not been evaluated yet: it is computed from its OpenAlex record" in page
    assert "The FAIR checklist has not been gathered for this paper yet: it is made from the paper's OpenAlex" in page
    # Every item is shown all the same, as not checked yet.
    for item in ("Has DOI", "Indexed in repositories", "Open Access", "DataCite relations", "Linked datasets"):
        assert f"{item}: not checked yet" in page
    assert "Dataset classification: not checked yet" in page and "Findable (2 not checked yet)" in page
    assert "No evaluation yet." in page
    assert "plotly" not in response.content.decode()


def test_a_paper_whose_datacite_could_not_be_reached_shows_a_provisional_score_and_what_waits(
    client, fake_datacite, zenodo_dataset
):
    fake_datacite.inject(Fault.server_error(503), path="^/dois", times=100)
    evaluate(ZENODO_DATASET)

    page = text(client.get(f"/papers/W{ZENODO_DATASET}/fair/"))

    assert "Scores Provisional" in page
    # The record has no authorships: even its core metadata waits for DataCite's creators.
    assert "Provisional score. 7 checks still to make, left out until they are made: " in page
    assert "Other DataCite records link to it; Linked to datasets; File formats are given; " in page
    # Why is said once, by the checklist.
    assert "The FAIR checklist says why." in page and page.count("DataCite answered 503") == 1
    assert "Not checked yet · File formats are given" in page
    # What OpenAlex holds already passes the rest: they are decided.
    assert "Passed · A licence is stated" in page
    assert "DataCite relations: not checked yet" in page
    assert "Never checked before." in page
    assert page.count("will be checked when the source answers") == 1
    # No complete evaluation to place it among yet.
    assert "Pending: no complete evaluation to compare with yet" in page


def test_the_fair_page_404s_for_a_work_outside_the_corpus_and_redirects_lower_case_ids(client, bare_paper):
    assert client.get("/papers/W1/fair/").status_code == 404
    response = client.get(f"/papers/w{BARE_PAPER}/fair/")
    assert response.status_code == 301 and response["Location"] == f"/papers/W{BARE_PAPER}/fair/"


def test_the_paper_page_sections_show_the_checklist_and_the_calibrated_score(fake_datacite, zenodo_dataset):
    evaluate(ZENODO_DATASET)
    context = {"work": zenodo_dataset, **fair_for_page(zenodo_dataset)}
    request = RequestFactory().get("/")

    checklist = text(render_to_string("_fair_checklist.html", context, request=request))
    score = text(render_to_string("_fair_score.html", context, request=request))

    assert "FAIR checklist Context only (not used in score)" in checklist
    assert "Findable (2/2)" in checklist and "Reusable (1/1)" in checklist
    assert "Has DOI: yes https://doi.org/10.5281/zenodo.7504123 (registered with DataCite)" in checklist
    assert "OpenAlex · doi ·" in checklist
    assert "100/100 calibrated" in score
    assert "See the full evaluation →" in score
    assert f'href="/papers/W{ZENODO_DATASET}/fair/"' in render_to_string("_fair_score.html", context)


def test_the_paper_page_sections_keep_the_last_known_value_when_datacite_is_down(fake_datacite, zenodo_dataset):
    evaluate(ZENODO_DATASET)
    fake_datacite.inject(Fault.server_error(503), path="^/dois", times=100)
    evaluate(ZENODO_DATASET)

    checklist = text(render_to_string("_fair_checklist.html", fair_for_page(zenodo_dataset)))

    assert "DataCite relations: not checked yet" in checklist
    assert "Last known: yes (3 related identifier(s)" in checklist


def test_fair_for_page_takes_three_queries(fake_datacite, zenodo_dataset, django_assert_num_queries):
    evaluate(ZENODO_DATASET)
    with django_assert_num_queries(3):
        context = fair_for_page(zenodo_dataset)
    assert context["fair_calibrated"] == 100.0
    assert [signal.key for group in context["fair_groups"] for signal in group.items] == [
        key for key, _ in FairSignal.Key.choices
    ]


def make_run(dataranks: tuple[float, float] = (3.5, 0.2)) -> ScoringRun:
    """A run over the two papers; a DataRank of 0 is scored but not ranked."""
    ranked = [datarank for datarank in dataranks if datarank > 0]
    run = ScoringRun.objects.create(
        algorithm="datarank-1hop-v1", damping=0.85, citer_cap=200, status="succeeded", finished_at=NOW,
        papers_scored=2, papers_ranked=len(ranked),
    )  # fmt: skip
    for rank, (work_id, datarank) in enumerate(zip((ZENODO_DATASET, BARE_PAPER), dataranks, strict=True), start=1):
        figures = {"rank": rank, "top_percent": 100.0 * rank / len(ranked), "tier": rank} if datarank > 0 else {}
        PaperScore.objects.create(
            run=run, work_id=work_id, base_contribution=datarank, network_contribution=0, datarank=datarank,
            citing_works=0, citers_with_signal=0, self_citations_excluded=0, cap_bound=rank == 1, **figures,
        )  # fmt: skip
    count_run(run)
    return run


def test_the_methodology_page_explains_both_scores_with_live_figures(
    client, fake_datacite, zenodo_dataset, bare_paper, django_assert_num_queries
):
    make_run()
    evaluate(ZENODO_DATASET, BARE_PAPER)

    # The run (its figures with it), the newest evaluation's id, and the FAIR distribution and
    # the papers not evaluated yet, counted once for that evaluation and run, then cached.
    with django_assert_num_queries(4):
        response = client.get("/about/methodology/")
    with django_assert_num_queries(2):
        client.get("/about/methodology/")

    assert response.status_code == 200
    page = text(response)
    for heading in ("Description", "Intuition", "Data and calculation", "Parameters", "Limitations"):
        assert page.count(heading) >= 2, heading
    assert "The corpus holds 2 data-sharing papers today; the current scoring run ranks all 2 it scored." in page
    assert (
        "2 papers were scored: 2 are ranked, with DataRank from 0.20 to 3.5, mean 1.9."
        " 0 of the ranked papers have a cohort of 20 or more; 1 paper had more citers than the cap."
    ) in page
    html = response.content.decode()
    assert "<td>0.2 to 0.5</td><td>1</td>" in html and "<td>2 to 5</td><td>1</td>" in html
    assert "<td>under 0.1</td><td>0</td>" in html and "<td>20 and above</td><td>0</td>" in html
    assert "<td>90 to 100</td><td>1</td>" in html
    assert "2 papers completely evaluated with method fair-metadata-v2" in page
    assert "The cap's bias." in page and "1-hop only." in page and "Corpus-relative percentiles." in page
    assert "Metadata only." in page
    assert "A licence is stated FsF-R1.1-01M" in page


def test_the_methodology_page_explains_what_is_ranked_and_how(client):
    page = text(client.get("/about/methodology/"))

    assert "Only a DataRank above 0 is ranked." in page and "not ranked yet" in page
    assert "the share of ranked papers scoring at least as high as this one" in page
    assert "Ties never flatter" in page
    assert "rank 1 of N · top 100% · S5" in page
    assert "the ranked papers of the same OpenAlex subfield" in page and "published within a year of it" in page
    assert "shown from 20 papers on" in page
    assert 'id="ranks"' in client.get("/about/methodology/").content.decode()


def test_the_methodology_bands_count_ranked_papers_and_say_how_many_are_not(client, zenodo_dataset, bare_paper):
    make_run(dataranks=(3.5, 0.0))

    response = client.get("/about/methodology/")

    page = text(response)
    assert "the current scoring run ranks 1 of the 2 it scored, and 1 is not ranked yet." in page
    assert "2 papers were scored: 1 is ranked, with DataRank from 3.5 to 3.5, mean 3.5, and 1 is not ranked yet" in page
    html = response.content.decode()
    assert "<caption>DataRank of the 1 ranked paper</caption>" in html
    assert "<td>0.2 to 0.5</td><td>0</td>" in html and "<td>2 to 5</td><td>1</td>" in html
    assert '<th scope="row">0: not ranked</th><td>1</td>' in html


def test_the_methodology_page_says_when_nothing_is_scored_or_evaluated(client, django_assert_num_queries):
    # Without a run the corpus is counted: there is no big corpus before the first run.
    with django_assert_num_queries(5):
        response = client.get("/about/methodology/")

    assert response.status_code == 200
    page = text(response)
    assert "The corpus has not been scored yet" in page
    assert "No paper has been completely evaluated with method fair-metadata-v2 yet." in page


def test_the_footer_links_to_the_methodology_the_api_and_the_downloads(client):
    footer = client.get("/about/methodology/").content.decode().split('<footer class="site-footer">')[1]
    assert 'href="/about/methodology/">Methodology</a>' in footer
    assert 'href="/api/v1/docs">API</a>' in footer and 'href="/downloads/">Downloads</a>' in footer


def test_fair_fixes_show_code_not_backticks(client, fake_datacite, bare_paper):
    evaluate(BARE_PAPER)

    response = client.get(f"/papers/W{BARE_PAPER}/fair/")

    html = response.content.decode()
    fixes = re.findall(r'<p class="fair-fix">(.*?)</p>', html, flags=re.DOTALL)
    assert fixes and not any("`" in fix for fix in fixes)
    assert (
        "add a <code>descriptions</code> entry with <code>descriptionType: Abstract</code> to the DOI&#x27;s metadata"
    ) in html
    assert "Fix: add subjects (keywords" in text(response)


def test_the_code_spans_filter_escapes_the_text_and_codes_only_backtick_spans():
    assert code_spans("add `relatedIdentifiers` to it") == "add <code>relatedIdentifiers</code> to it"
    assert code_spans("<b>bold</b> `<i>` & a lone ` tick") == (
        "&lt;b&gt;bold&lt;/b&gt; <code>&lt;i&gt;</code> &amp; a lone ` tick"
    )
    assert code_spans("") == "" and code_spans(None) == ""


@pytest.fixture
def unreachable_sources(settings):
    """DataCite and doi.org/ra on a port where nothing listens: every call is refused."""
    settings.DATACITE_API_URL = "http://127.0.0.1:9"
    settings.DOI_RA_URL = "http://127.0.0.1:9/ra"


def test_an_unreachable_datacite_is_said_once(client, zenodo_dataset, unreachable_sources):
    evaluate_fair(
        work_ids=[ZENODO_DATASET], client=DataCiteClient(max_retries=0, timeout=2, sleep=lambda s: None), now=NOW
    )
    unknown = FairSignal.objects.filter(work=zenodo_dataset, status="unknown")
    # Two checklist items hang on DataCite here, and each one's evidence names the failure.
    assert unknown.count() == 2 and all("DataCite could not be reached" in s.evidence for s in unknown)

    for url in (f"/papers/W{ZENODO_DATASET}/", f"/papers/W{ZENODO_DATASET}/fair/"):
        page = text(client.get(url))
        assert page.count("DataCite could not be reached") == 1, url
        # OpenAlex names the DOI's agency (DataCite): doi.org is not asked.
        assert "doi.org/ra could not be reached" not in page, url
        assert (
            "2 items are not checked yet: DataCite could not be reached."
            " They will be checked when the source answers" in page
        ), url
        assert "DataCite relations: not checked yet Never checked before." in page, url
        assert "Linked datasets: not checked yet Never checked before." in page, url


def test_a_checklist_with_every_item_checked_has_no_could_not_check_notice(fake_datacite, zenodo_dataset):
    evaluate(ZENODO_DATASET)

    context = fair_for_page(zenodo_dataset)
    checklist = text(render_to_string("_fair_checklist.html", context))

    assert context["fair_unchecked"] == 0 and context["fair_unchecked_reasons"] == []
    assert "could not" not in checklist
    assert "https://doi.org/10.5281/zenodo.7504123 (registered with DataCite)" in checklist
