"""The embed card, `/embed/W…/`: a paper's title, DataRank, standing and FAIR score in a small
page any site may put in an iframe, and the copy-paste snippets (Markdown, HTML, iframe) the
paper page's "Embed and badge" section offers.

Only the card may be framed, and by anyone: its view is exempt from X-Frame-Options and its CSP
says `frame-ancestors *`. Every other page keeps X_FRAME_OPTIONS = "DENY" and the settings'
`frame-ancestors 'none'`. The card runs no script, and its links open the paper on DataRank in
a new tab rather than inside the frame."""

import html
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from datarank_site.pages.badges import Figures, figures_of
from scoring.models import ScoredWork, ScoringRun

# The settings' policy, with framing allowed from anywhere: the one change the card needs.
EMBED_CSP = {**settings.SECURE_CSP, "frame-ancestors": ["*"]}
# The iframe the snippet proposes; the card fits it at any title length (CSS clamps the title).
FRAME_WIDTH = 400
FRAME_HEIGHT = 200


def embed_context(request: HttpRequest, work: ScoredWork, run: ScoringRun | None) -> dict:
    figures: Figures = figures_of(work, run, fair=True)
    return {
        "figures": figures,
        "work": work,
        "run": run,
        "paper_url": request.build_absolute_uri(reverse("paper", kwargs={"key": work.openalex_id})),
    }


@dataclass(frozen=True, slots=True)
class Snippets:
    badge_url: str
    fair_badge_url: str
    shields_url: str
    embed_url: str
    paper_url: str
    markdown: str
    html: str
    iframe: str


def snippets(request: HttpRequest, *, openalex_id: str, title: str) -> Snippets:
    """The paper's badge and card as a visitor pastes them elsewhere, with absolute URLs."""

    def url(name: str) -> str:
        return request.build_absolute_uri(reverse(name, kwargs={"key": openalex_id}))

    badge_url, paper_url, embed_url = url("badge_svg"), url("paper"), url("embed")
    alt = "DataRank score"
    frame_title = html.escape(f"DataRank of {title}" if title else f"DataRank of {openalex_id}")
    return Snippets(
        badge_url=badge_url,
        fair_badge_url=f"{badge_url}?fair=1",
        shields_url="https://img.shields.io/endpoint?url=" + quote(url("badge_json"), safe=""),
        embed_url=embed_url,
        paper_url=paper_url,
        markdown=f"[![{alt}]({badge_url})]({paper_url})",
        html=f'<a href="{html.escape(paper_url)}"><img src="{html.escape(badge_url)}" alt="{alt}"></a>',
        iframe=(
            f'<iframe src="{html.escape(embed_url)}" title="{frame_title}" width="{FRAME_WIDTH}" '
            f'height="{FRAME_HEIGHT}" style="border:0" loading="lazy"></iframe>'
        ),
    )
