"""Badges: `/badges/W….svg` and `/badges/doi/10.….svg` are SVG images that say what the paper
page says ("DataRank 30.6 · top 0.7%", "· FAIR 59" on asking), honestly when there is nothing to
say, in words for screen readers, kept an hour by browsers and proxies; `/badges/W….json` is the
same for shields.io."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from scoring.fair.metrics import METHOD_VERSION
from scoring.models import FairEvaluation
from tests.factories import NOW, make_run, make_score, make_work, text

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
# find_paper: the current run, then the paper with its figures.
BADGE_QUERIES = 2
# The paper's latest FAIR evaluation, and its calibration among all of them.
FAIR_QUERIES = 2
# The DOI's corpus paper first.
DOI_QUERIES = 1


@pytest.fixture
def corpus():
    """ImageNet's figures: 30.6, ranked 1 of 150 (top 0.67%, shown "top 0.7%"), with a DOI;
    and a corpus paper nobody cites with signal (DataRank 0, not ranked)."""
    run = make_run(papers_scored=151, papers_ranked=150)
    imagenet = make_work(
        1, title="ImageNet: A large-scale hierarchical image database", corpus=True, doi="10.1109/cvpr.2009.5206848"
    )
    make_score(run, imagenet, rank=1, datarank=30.5542, top_percent=100 / 150)
    quiet = make_work(2, title="A quiet dataset", corpus=True)
    make_score(run, quiet, rank=None, datarank=0.0)
    return run


def evaluate(number: int, raw: float, *, provisional: bool = False) -> None:
    FairEvaluation.objects.create(
        work_id=number,
        method_version=METHOD_VERSION,
        evaluated_at=NOW - timedelta(days=1),
        f=raw,
        a=raw,
        i=raw,
        r=raw,
        raw=raw,
        provisional=provisional,
    )


def parsed(response) -> ET.Element:
    """The badge as XML (it must parse), asserting it is served as SVG."""
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    return ET.fromstring(response.content)


def shown(svg: ET.Element) -> list[str]:
    """The distinct texts the badge draws, left to right (each is drawn twice: shadow, then text)."""
    return list(dict.fromkeys(node.text for node in svg.iter(f"{SVG}text")))


def title(svg: ET.Element) -> str:
    return svg.find(f"{SVG}title").text


def test_a_ranked_papers_badge_says_what_its_page_says(client, corpus):
    svg = parsed(client.get("/badges/W1.svg"))

    assert shown(svg) == ["DataRank", "30.6 · top 0.7%"]
    assert title(svg).startswith("DataRank 30.6, top 0.7% of 150 ranked papers.")
    page = text(client.get("/papers/W1/"))
    assert "It has a DataRank of 30.6, placing it in the top 0.7%" in page


def test_the_badge_adds_the_calibrated_fair_score_on_asking_as_the_page_rounds_it(client, corpus):
    # Six evaluations, W1's the fourth lowest: 4/6 = 66.67 at or below it, shown "67/100".
    for number, raw in ((1, 50.0), (2, 10.0), (3, 20.0), (4, 30.0), (5, 80.0), (6, 90.0)):
        if number > 2:
            make_work(number, corpus=True)
        evaluate(number, raw)

    svg = parsed(client.get("/badges/W1.svg?fair=1"))

    assert shown(svg) == ["DataRank", "30.6 · top 0.7% · FAIR 67"]
    assert "calibrated FAIR score 67/100" in title(svg)
    assert "Its calibrated FAIR score is 67/100." in text(client.get("/papers/W1/"))
    # Unasked, the badge is DataRank's alone.
    assert shown(parsed(client.get("/badges/W1.svg"))) == ["DataRank", "30.6 · top 0.7%"]


def test_a_paper_without_a_fair_evaluation_shows_none_even_when_asked(client, corpus):
    assert shown(parsed(client.get("/badges/W1.svg?fair=1"))) == ["DataRank", "30.6 · top 0.7%"]


def test_a_paper_with_a_datarank_of_zero_is_not_ranked_yet(client, corpus):
    svg = parsed(client.get("/badges/W2.svg"))

    assert shown(svg) == ["DataRank", "not ranked yet"]
    assert title(svg) == "DataRank 0: not ranked yet, no citation with signal. W2: A quiet dataset"


def test_a_corpus_paper_the_latest_run_did_not_score_is_not_ranked_yet(client, corpus):
    make_work(3, title="Just added", corpus=True)

    svg = parsed(client.get("/badges/W3.svg"))

    assert shown(svg) == ["DataRank", "not ranked yet"]
    assert title(svg) == "DataRank: not ranked yet, not scored by the latest run. W3: Just added"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("/badges/W99.svg", "We hold no work W99."),
        ("/badges/W0.svg", "W0 is not a valid OpenAlex work id."),
        ("/badges/doi/10.1234/nothing-here.svg", "We hold no corpus paper with the DOI 10.1234/nothing-here."),
        ("/badges/doi/not-a-doi.svg", "“not-a-doi” is not a DOI."),
    ],
)
def test_a_badge_for_an_unknown_paper_says_so_with_a_200(client, corpus, url, why):
    response = client.get(url)

    # 200, not 404: GitHub's image proxy turns an error status into a broken image, which
    # would hide the honest answer (datarank_site/pages/badges.py).
    assert response.status_code == 200
    svg = parsed(response)
    assert shown(svg) == ["DataRank", "unknown paper"]
    assert why in title(svg)


def test_a_work_held_outside_the_corpus_has_the_unknown_paper_badge(client, corpus):
    make_work(7, title="A citer", corpus=None)

    assert shown(parsed(client.get("/badges/W7.svg"))) == ["DataRank", "unknown paper"]


def test_the_doi_badge_is_the_papers_badge_whatever_the_dois_case_or_form(client, corpus):
    by_id = client.get("/badges/W1.svg").content

    assert client.get("/badges/doi/10.1109/cvpr.2009.5206848.svg").content == by_id
    assert client.get("/badges/doi/10.1109/CVPR.2009.5206848.svg").content == by_id
    assert client.get("/badges/doi/https://doi.org/10.1109/cvpr.2009.5206848.svg").content == by_id


def test_a_non_canonical_id_redirects_to_the_canonical_badge(client, corpus):
    response = client.get("/badges/w01.svg")

    assert response.status_code == 301 and response["Location"] == "/badges/W1.svg"


def test_badges_are_kept_an_hour_and_answer_304_to_the_etag_they_gave(client, corpus):
    first = client.get("/badges/W1.svg")

    assert set(first["Cache-Control"].split(", ")) == {"public", "max-age=3600"}
    assert re.fullmatch(r'"[0-9a-f]{32}"', first["ETag"])
    again = client.get("/badges/W1.svg", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/badges/W1.svg?fair=1")["ETag"] == first["ETag"]  # no FAIR score: the same bytes
    assert client.get("/badges/W2.svg")["ETag"] != first["ETag"]
    assert client.get("/badges/W99.svg")["Cache-Control"] == first["Cache-Control"]


def test_a_badge_draws_no_script_and_fetches_nothing(client, corpus):
    content = client.get("/badges/W1.svg").content.decode()

    assert "<script" not in content and "href" not in content and "<image" not in content
    assert "@import" not in content and "url(http" not in content


def test_each_badge_is_as_wide_as_its_measured_text(client, corpus):
    widths = set()
    for key in ("W1", "W2", "W99"):
        svg = parsed(client.get(f"/badges/{key}.svg"))
        boxes = [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect") if rect.get("height") == "20"]
        left, right = boxes[1], boxes[2]  # boxes[0] is the rounded clip
        # The text is drawn at a tenth of its size: its measured length plus 5 px either side.
        lengths = [float(node.get("textLength")) / 10 for node in svg.iter(f"{SVG}text")]
        assert left == pytest.approx(lengths[0] + 10) and right == pytest.approx(lengths[-1] + 10)
        widths.add(float(svg.get("width")))
    assert len(widths) == 3


def test_the_shields_endpoint_gives_the_same_message(client, corpus):
    evaluate(1, 50.0)

    response = client.get("/badges/W1.json?fair=1")

    assert response["Content-Type"] == "application/json"
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=3600"}
    assert json.loads(response.content) == {
        "schemaVersion": 1,
        "label": "DataRank",
        "message": "30.6 · top 0.7% · FAIR 100",
        "color": "0b5cad",
        "labelColor": "555",
        "cacheSeconds": 3600,
    }
    unknown = json.loads(client.get("/badges/W99.json").content)
    assert unknown["message"] == "unknown paper" and unknown["isError"] is True
    assert json.loads(client.get("/badges/doi/10.1109/cvpr.2009.5206848.json").content)["message"] == "30.6 · top 0.7%"


def test_a_badge_costs_two_queries_the_fair_score_two_more_a_doi_one_more(client, corpus, django_assert_num_queries):
    evaluate(1, 50.0)
    with django_assert_num_queries(BADGE_QUERIES):
        client.get("/badges/W1.svg")
    with django_assert_num_queries(BADGE_QUERIES + FAIR_QUERIES):
        client.get("/badges/W1.svg?fair=1")
    with django_assert_num_queries(DOI_QUERIES + BADGE_QUERIES):
        client.get("/badges/doi/10.1109/cvpr.2009.5206848.svg")
    with django_assert_num_queries(BADGE_QUERIES):
        client.get("/badges/W1.json")
    with django_assert_num_queries(BADGE_QUERIES):
        client.get("/badges/W99.svg")
