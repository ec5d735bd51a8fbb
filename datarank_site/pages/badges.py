"""Badges: a paper's DataRank as a small SVG image for READMEs and web pages, and as a
shields.io endpoint for those who draw theirs with shields.

The SVG is drawn by badgepy (a maintained fork of Google's pybadges, which no longer imports on
Python 3.13): shields' flat style, text widths measured from DejaVu Sans's own metrics with
kerning, not guessed; no script, no font or image fetched, nothing asked of any service. It
says what the paper page says, with the same rounding (scoring.datarank): "DataRank | 30.6 ·
top 0.7%", with "· FAIR 59" on asking (`?fair=1`), and honestly when there is nothing to show:
"not ranked yet", or "unknown paper" for an id or DOI that names no corpus paper. Its <title>
says it in words for screen readers.

An unknown paper's badge answers 200, like shields' own error badges: badges are mostly seen
through image proxies (GitHub's camo) that turn any error status into a broken image, which
would hide the honest answer, and the paper may join the corpus later under the same URL. The
embed card, a page, answers 404 (embeds.py)."""

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from badgepy import badge as draw_badge
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import floatformat
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import quote_etag

from datarank_site.pages.errors import NotFound
from datarank_site.pages.paper import find_paper
from datarank_site.pages.templatetags.titles import title_text
from papers.models import Work
from papers.openalex.records import normalize_doi
from scoring.datarank import format_score, format_top_percent
from scoring.fair import metrics
from scoring.fair.calibration import calibrated
from scoring.models import FairEvaluation, ScoredWork, ScoringRun

# Browsers and image proxies may keep a badge an hour without asking again.
MAX_AGE = 3600
LABEL = "DataRank"
LABEL_COLOR = "#555"
# White text on each keeps WCAG AA contrast (4.5:1 and more).
COLORS = {"ranked": "#0b5cad", "not_ranked": "#6a6a6a", "unknown": "#767676"}
SVG_TYPE = "image/svg+xml; charset=utf-8"
# The query parameter that adds the FAIR score, and the values that mean yes.
FAIR_PARAMETER = "fair"
YES = frozenset({"1", "true", "yes", "on"})


class State(StrEnum):
    RANKED = "ranked"
    NOT_RANKED = "not_ranked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Figures:
    """What a badge and an embed card show of a paper, already as the pages write it."""

    state: State
    openalex_id: str = ""
    title: str = ""
    datarank: str = ""
    """"30.6" (format_score); empty for a paper not scored in the current run."""
    top: str = ""
    """"0.7%" (format_top_percent); empty unless ranked."""
    rank: int | None = None
    ranked_papers: int = 0
    fair: str = ""
    """The calibrated FAIR score as the page rounds it ("59"); empty without one or unasked."""
    fair_provisional: bool = False
    why_unknown: str = ""

    @property
    def message(self) -> str:
        """The badge's right-hand text."""
        if self.state == State.UNKNOWN:
            return "unknown paper"
        parts = [f"{self.datarank} · top {self.top}" if self.state == State.RANKED else "not ranked yet"]
        if self.fair:
            parts.append(f"FAIR {self.fair}")
        return " · ".join(parts)

    @property
    def spoken(self) -> str:
        """The badge in words, for its <title>."""
        if self.state == State.UNKNOWN:
            return f"DataRank: unknown paper. {self.why_unknown}".strip()
        if self.state == State.RANKED:
            said = f"DataRank {self.datarank}, top {self.top} of {self.ranked_papers:,} ranked papers"
        elif self.datarank:
            said = "DataRank 0: not ranked yet, no citation with signal"
        else:
            said = "DataRank: not ranked yet, not scored by the latest run"
        if self.fair:
            said += f"; calibrated FAIR score {self.fair}/100" + (", provisional" if self.fair_provisional else "")
        return f"{said}. {self.openalex_id}: {self.title}" if self.title else f"{said}. {self.openalex_id}"


def figures_of(work: ScoredWork, run: ScoringRun | None, *, fair: bool) -> Figures:
    """A corpus paper's figures from find_paper's answer; `fair` adds its calibrated FAIR
    score (two queries, as the paper page reads it)."""
    fair_score, provisional = fair_of(work) if fair else ("", False)
    figures = Figures(
        state=State.NOT_RANKED,
        openalex_id=work.openalex_id,
        title=title_text(work.title),
        fair=fair_score,
        fair_provisional=provisional,
    )
    if work.datarank is None or run is None:
        return figures
    if work.rank is None or work.top_percent is None:
        return dataclasses.replace(figures, datarank=format_score(work.datarank))
    return dataclasses.replace(
        figures,
        state=State.RANKED,
        datarank=format_score(work.datarank),
        top=format_top_percent(work.top_percent),
        rank=work.rank,
        ranked_papers=run.papers_ranked,
    )


def fair_of(work: Work) -> tuple[str, bool]:
    """The calibrated FAIR score as the paper page shows it ("59"), and whether it is provisional;
    ("", False) without a current evaluation of today's method."""
    evaluation = FairEvaluation.objects.filter(work=work, is_latest=True).first()
    if evaluation is None or evaluation.method_version != metrics.METHOD_VERSION:
        return "", False
    score, _ = calibrated(evaluation.raw)
    if score is None:
        return "", False
    return floatformat(score, 0), evaluation.provisional


def figures_for_key(key: str, *, view: str, fair: bool) -> Figures:
    """The figures of the corpus paper `key` (W…) names; raises Redirect, as its page does, for a
    non-canonical key."""
    try:
        work, run = find_paper(key, view=view)
    except NotFound as missing:
        return Figures(state=State.UNKNOWN, openalex_id=key, why_unknown=missing.message)
    return figures_of(work, run, fair=fair)


def figures_for_doi(doi: str, *, fair: bool) -> Figures:
    try:
        bare = normalize_doi(doi)
    except ValueError:
        return Figures(state=State.UNKNOWN, why_unknown=f"“{doi}” is not a DOI.")
    number = Work.objects.in_corpus().filter(doi=bare).values_list("id", flat=True).first()
    if number is None:
        return Figures(state=State.UNKNOWN, why_unknown=f"We hold no corpus paper with the DOI {bare}.")
    return figures_for_key(f"W{number}", view="badge_svg", fair=fair)


def wants_fair(request: HttpRequest) -> bool:
    return request.GET.get(FAIR_PARAMETER, "").lower() in YES


def svg(figures: Figures) -> str:
    return draw_badge(
        left_text=LABEL,
        right_text=figures.message,
        left_color=LABEL_COLOR,
        right_color=COLORS[figures.state],
        whole_title=figures.spoken,
        # Element ids unique to the paper, so two badges inlined in one page do not share them.
        id_suffix=f"-{figures.openalex_id or 'unknown'}",
    )


def endpoint(figures: Figures) -> dict:
    """The shields.io endpoint schema (shields.io/badges/endpoint-badge); an unknown paper is
    marked `isError`, which shields draws in its error colour."""
    data = {
        "schemaVersion": 1,
        "label": LABEL,
        "message": figures.message,
        "color": COLORS[figures.state].lstrip("#"),
        "labelColor": LABEL_COLOR.lstrip("#"),
        "cacheSeconds": MAX_AGE,
    }
    if figures.state == State.UNKNOWN:
        data["isError"] = True
    return data


def badge_response(request: HttpRequest, figures: Figures, *, kind: str) -> HttpResponse:
    """The badge as SVG (`kind` "svg") or shields JSON ("json"), with an ETag of its bytes, a
    304 when the asker holds them, and an hour's max-age."""
    if kind == "svg":
        content, content_type = svg(figures).encode(), SVG_TYPE
    else:
        content = json.dumps(endpoint(figures), ensure_ascii=False).encode()
        content_type = "application/json"
    response = HttpResponse(content, content_type=content_type)
    etag = quote_etag(hashlib.sha256(content).hexdigest()[:32])
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    conditional = get_conditional_response(request, etag=etag, response=response)
    return response if conditional is None else conditional
