"""Corrections a visitor sends the editors: that the data-paper check got a work wrong — a corpus
paper that shares no data, or a work we hold that does — or that OpenAlex got a researcher wrong:
a paper that is not theirs, or two profiles of one person.

GET is the form: the paper, not-in-corpus and researcher pages fetch it only when the visitor
opens it, so those pages carry no per-visitor token and can be cached. POST files the correction
into the editors' queue (the papers admin) and thanks the visitor. An htmx request gets the
form's fragment, any other a full page, so the form works without JavaScript. Both forms count
against one rate limit per client: a bot kept off one is kept off the other."""

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_ratelimit.decorators import ratelimit

from datarank_site.pages.clients import client_fingerprint, rate_limit_key
from datarank_site.pages.errors import NotFound, Redirect
from datarank_site.pages.http import HtmxHttpRequest
from datarank_site.pages.paper import MAX_WORK_ID
from datarank_site.pages.templatetags.titles import title_text
from papers.models import (
    CORRECTION_REASON_MAX_LENGTH,
    Author,
    AuthorMerge,
    Authorship,
    CorpusEntry,
    Correction,
    Work,
)

TEMPLATE = "pages/correction.html"
RESEARCHER_TEMPLATE = "pages/researcher_correction.html"
# Submissions per client address (as DATARANK_TRUSTED_PROXY_HOPS reads it), over all works and
# researchers: a person has a handful to make, a bot a great many.
SUBMISSIONS_RATE = "5/h"
# django-ratelimit counts per group, which defaults to the view's name: both views name this one,
# so that they share the count.
RATE_GROUP = "datarank_site.pages.corrections"
RETRY_AFTER_SECONDS = 3600
# The field a person never sees (CSS moves it off screen, and it is hidden from screen readers):
# whatever fills it is a bot.
HONEYPOT = "website"
# Bidirectional overrides and isolates can make the admin show text in another order than it was
# written; no reason needs them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ReasonField(forms.CharField):
    def to_python(self, value: str | None) -> str:
        # Browsers send a textarea's line breaks as CRLF but count each as one character against
        # its maxlength; counting them as one here too keeps the two limits the same.
        return (super().to_python(value) or "").replace("\r\n", "\n").replace("\r", "\n")


class CorrectionForm(forms.Form):
    reason = ReasonField(
        label="Why?",
        max_length=CORRECTION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Please say why: the editors decide on the reason you give.",
            "max_length": "Please keep the reason to 2,000 characters (it has %(show_value)d). Nothing was filed.",
        },
    )
    email = forms.EmailField(
        label="Your e-mail (optional)",
        required=False,
        help_text="Only if you would like to hear what the editors decide. It is not shown anywhere.",
        error_messages={"invalid": "That is not an e-mail address; leave the field empty if you prefer."},
    )
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, data: QueryDict | None = None, **kwargs) -> None:
        super().__init__(data, auto_id="correction-%s", **kwargs)

    def is_bot(self) -> bool:
        """True when the honeypot is filled; decided before validation, so a bot learns nothing from errors."""
        return self.is_bound and bool(self.data.get(HONEYPOT, "").strip())

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"]
        refused = {
            ch for ch in reason if ch in BIDI_CONTROLS or (unicodedata.category(ch) == "Cc" and ch not in "\n\t")
        }
        if refused:
            raise forms.ValidationError(
                "The reason holds control characters (%(codes)s); please remove them. Nothing was filed.",
                params={"codes": ", ".join(f"U+{ord(ch):04X}" for ch in sorted(refused))},
                code="control_characters",
            )
        return reason


@never_cache
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@ratelimit(group=RATE_GROUP, key=rate_limit_key, rate=SUBMISSIONS_RATE, method="POST", block=False)
def correction(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """GET: the form. POST: file the correction, or say why not (400), or that the client has
    sent too many (429)."""
    work = held_work(key)
    entry: CorpusEntry | None = getattr(work, "corpus_entry", None)
    kind = Correction.Kind.EXCLUDE if entry is not None and entry.in_corpus else Correction.Kind.INCLUDE
    context = {"work": work, "kind": kind, "paper_url": reverse("paper", kwargs={"key": work.openalex_id})}
    if request.method == "GET":
        return respond(request, {**context, "form": CorrectionForm()})
    if getattr(request, "limited", False):
        response = respond(request, {**context, "limited": True}, status=429)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    form = CorrectionForm(request.POST)
    if form.is_bot():
        # The same thanks a person gets, so that the bot has no reason to try another way.
        shown = request.POST.get("reason", "")[:CORRECTION_REASON_MAX_LENGTH]
        return respond(request, {**context, "thanks": True, "reason": shown})
    if not form.is_valid():
        return respond(request, {**context, "form": form}, status=400)
    filed = Correction.objects.create(
        work=work,
        kind=kind,
        reason=form.cleaned_data["reason"],
        email=form.cleaned_data["email"],
        client=client_fingerprint(request),
    )
    return respond(request, {**context, "thanks": True, "reason": filed.reason})


def held_work(key: str) -> Work:
    """The work `key` names, in the corpus or not, with its corpus entry (one query). Raises
    Redirect for a non-canonical key and NotFound for a work we do not hold."""
    number = int(key[1:])
    if not 0 < number <= MAX_WORK_ID:
        raise NotFound(f"{key} is not a valid OpenAlex work id.")
    canonical = f"W{number}"
    if key != canonical:
        raise Redirect(reverse("paper_correction", kwargs={"key": canonical}), permanent=True)
    work = (
        Work.objects.select_related("corpus_entry")
        .only("id", "title", "corpus_entry__in_corpus", "corpus_entry__override")
        .filter(id=number)
        .first()
    )
    if work is None:
        raise NotFound(
            f"We hold no work {canonical}, so there is nothing to correct.",
            openalex_url=f"https://openalex.org/{canonical}",
        )
    return work


def respond(request: HtmxHttpRequest, context: dict, *, status: int = 200, template: str = TEMPLATE) -> HttpResponse:
    return render(request, f"{template}#form" if request.htmx else template, context, status=status)


# --- Researchers ---

RESEARCHER_KINDS = (Correction.Kind.NOT_THEIRS, Correction.Kind.SAME_PERSON)
# Author ids are 64-bit integers in the database, as work ids are.
MAX_AUTHOR_ID = 2**63 - 1
# The other profile as a visitor finds it: its id, its address on openalex.org or the API, or
# the ORCID it holds (bare or as its orcid.org address; the last character may be an X).
AUTHOR_KEY = re.compile(r"^(?:(?:https?://)?(?:api\.)?openalex\.org/(?:authors/)?)?A([0-9]{1,19})$", re.IGNORECASE)
ORCID_KEY = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?orcid\.org/)?([0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X])$", re.IGNORECASE
)
WORK_KEY = re.compile(r"^(?:(?:https?://)?openalex\.org/)?W?([0-9]{1,19})$", re.IGNORECASE)
OTHER_MAX_LENGTH = 200
PAPER_LABEL_LENGTH = 100


class ResearcherCorrectionForm(CorrectionForm):
    """The paper form's reason, e-mail and honeypot, with what the kind is about: for "isn't
    theirs" the paper, one of `papers` (the corpus papers credited to `author`, as (id, title));
    for "same person" the other profile, which cleans to the Author to merge into `author`."""

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        author: Author,
        kind: str,
        papers: Sequence[tuple[int, str]] = (),
        **kwargs,
    ) -> None:
        super().__init__(data, **kwargs)
        self.author = author
        if kind == Correction.Kind.NOT_THEIRS:
            labels = [
                (str(number), f"{Truncator(title_text(title)).chars(PAPER_LABEL_LENGTH)} (W{number})")
                for number, title in papers
            ]
            # No paper is chosen for the visitor: a select that opens on the first one would file
            # it for whoever did not look.
            self.paper_choices = [("", "Choose the paper…"), *labels]
            self.fields["work"] = forms.TypedChoiceField(
                label="Which paper is not theirs?",
                choices=self.paper_choices,
                coerce=int,
                error_messages={
                    "required": "Please choose the paper that is not theirs.",
                    "invalid_choice": f"That paper is not one of A{author.id}'s in our corpus, so it cannot be "
                    "marked as not theirs. Nothing was filed.",
                },
            )
        else:
            self.fields["other"] = forms.CharField(
                label="The other profile",
                max_length=OTHER_MAX_LENGTH,
                help_text="Its OpenAlex id (A…), its openalex.org address, or the ORCID it holds.",
                error_messages={
                    "required": "Please give the other profile: its OpenAlex id (A…), its openalex.org address "
                    "or its ORCID.",
                    "max_length": "That is too long to be an OpenAlex id or an ORCID. Nothing was filed.",
                },
            )

    def paper_options(self) -> list[tuple[str, str, bool]]:
        """(value, label, selected) for the paper select, the chosen or preselected one selected."""
        chosen = str(self["work"].value() or "")
        return [(value, label, value == chosen) for value, label in self.paper_choices]

    def clean_other(self) -> Author:
        given = self.cleaned_data["other"]
        if match := AUTHOR_KEY.match(given):
            return self._other_by_id(int(match.group(1)))
        if match := ORCID_KEY.match(given):
            return self._other_by_orcid(match.group(1).upper())
        raise forms.ValidationError(
            "“%(given)s” is neither an OpenAlex author id (such as A5023888391), an openalex.org address nor an "
            "ORCID (such as 0000-0002-1825-0097). Nothing was filed.",
            params={"given": given},
            code="not_an_id",
        )

    def _other_by_id(self, number: int) -> Author:
        if not 0 < number <= MAX_AUTHOR_ID:
            raise forms.ValidationError(f"A{number} is not a valid OpenAlex author id. Nothing was filed.")
        survivor = AuthorMerge.objects.survivor(number) or number
        if survivor == self.author.id:
            if number == self.author.id:
                raise forms.ValidationError(
                    f"A{number} is this profile: please give the other one. Nothing was filed.", code="itself"
                )
            raise forms.ValidationError(
                f"A{number} is merged into this profile already: they are one person. Nothing was filed.",
                code="one_person",
            )
        return self._held(survivor)

    def _other_by_orcid(self, orcid: str) -> Author:
        spellings = [f"https://orcid.org/{orcid}", f"http://orcid.org/{orcid}", orcid]
        holders = list(Author.objects.filter(orcid__in=spellings).values_list("id", flat=True))
        merged = dict(AuthorMerge.objects.filter(old_id__in=holders).values_list("old_id", "into_id"))
        # Profiles merged into one another are one person, and this profile is not the other one.
        people = {merged.get(holder, holder) for holder in holders} - {self.author.id}
        if not holders:
            raise forms.ValidationError(
                f"No researcher we hold has the ORCID {orcid}; please give the other profile's OpenAlex id (A…). "
                "Nothing was filed.",
                code="no_orcid",
            )
        if not people:
            raise forms.ValidationError(
                f"The ORCID {orcid} is this profile's own; please give the other profile's OpenAlex id (A…). "
                "Nothing was filed.",
                code="own_orcid",
            )
        if len(people) > 1:
            raise forms.ValidationError(
                f"{len(people)} researchers we hold have the ORCID {orcid}; please give the OpenAlex id (A…) of "
                "the one you mean. Nothing was filed.",
                code="many_orcid",
            )
        return self._held(people.pop())

    def _held(self, number: int) -> Author:
        other = Author.objects.only("id", "display_name").filter(id=number).first()
        if other is None:
            raise forms.ValidationError(
                f"We hold no researcher A{number}, so there is no profile to merge. Nothing was filed.",
                code="not_held",
            )
        return other


@never_cache
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@ratelimit(group=RATE_GROUP, key=rate_limit_key, rate=SUBMISSIONS_RATE, method="POST", block=False)
def researcher_correction(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """GET: the form `?kind=` asks for — `not_theirs` (the paper preselected by `?work=`) or
    `same_person` —, or a choice of the two without it. POST: file the correction, or say why not
    (400), or that the client has sent too many, paper corrections included (429)."""
    author = held_author(key, request.GET)
    kind = request.GET.get("kind", "")
    form_url = reverse("researcher-correction", kwargs={"key": f"A{author.id}"})
    context = {
        "author": author,
        "kind": kind,
        "form_url": form_url,
        "action": f"{form_url}?{urlencode({'kind': kind})}",
        "researcher_url": researcher_url(author.id),
    }
    if request.method == "POST" and getattr(request, "limited", False):
        response = respond(request, {**context, "limited": True}, status=429, template=RESEARCHER_TEMPLATE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if kind not in RESEARCHER_KINDS:
        # Without a kind the visitor chooses one; a kind we do not know is a broken link.
        status = 400 if kind or request.method == "POST" else 200
        return respond(
            request, {**context, "kind": "", "unknown_kind": kind}, status=status, template=RESEARCHER_TEMPLATE
        )

    papers = credited_papers(author.id) if kind == Correction.Kind.NOT_THEIRS else []
    if request.method == "GET":
        form = ResearcherCorrectionForm(author=author, kind=kind, papers=papers)
        unlisted = ""
        if kind == Correction.Kind.NOT_THEIRS and (match := WORK_KEY.match(request.GET.get("work", "").strip())):
            number = int(match.group(1))
            if any(number == paper for paper, _ in papers):
                form.initial["work"] = str(number)
            else:
                unlisted = f"W{number}"
        return respond(request, {**context, "form": form, "unlisted": unlisted}, template=RESEARCHER_TEMPLATE)

    form = ResearcherCorrectionForm(request.POST, author=author, kind=kind, papers=papers)
    if form.is_bot():
        # The same thanks a person gets, so that the bot has no reason to try another way.
        shown = request.POST.get("reason", "")[:CORRECTION_REASON_MAX_LENGTH]
        return respond(request, {**context, "thanks": True, "reason": shown}, template=RESEARCHER_TEMPLATE)
    if not form.is_valid():
        return respond(request, {**context, "form": form}, status=400, template=RESEARCHER_TEMPLATE)
    filed = Correction.objects.create(
        kind=kind,
        author=author,
        work_id=form.cleaned_data.get("work"),
        other_author=form.cleaned_data.get("other"),
        reason=form.cleaned_data["reason"],
        email=form.cleaned_data["email"],
        client=client_fingerprint(request),
    )
    return respond(
        request, {**context, "thanks": True, "reason": filed.reason, "filed": filed}, template=RESEARCHER_TEMPLATE
    )


def held_author(key: str, query: QueryDict) -> Author:
    """The researcher `key` names (one query, two when it is held). Raises Redirect for a
    non-canonical key or an id merged into another (to the survivor's form, keeping `query`) and
    NotFound for a researcher we do not hold."""
    number = int(key[1:])
    if not 0 < number <= MAX_AUTHOR_ID:
        raise NotFound(f"{key} is not a valid OpenAlex author id.")
    survivor = AuthorMerge.objects.survivor(number)
    if survivor is not None or key != f"A{number}":
        # As the researcher page redirects, for good; the query keeps the kind and the paper.
        url = reverse("researcher-correction", kwargs={"key": f"A{survivor or number}"})
        raise Redirect(f"{url}?{query.urlencode()}" if query else url, permanent=True)
    author = Author.objects.only("id", "display_name").filter(id=number).first()
    if author is None:
        raise NotFound(f"We hold no researcher A{number}, so there is nothing to correct.")
    return author


def credited_papers(author_id: int) -> list[tuple[int, str]]:
    """The corpus papers that count for the researcher as (id, title), by title (one query):
    those their roll-up reads, and so the ones a visitor can say are not theirs."""
    credited = Authorship.objects.credited_to(author_id).values("work_id")
    rows = Work.objects.in_corpus().filter(id__in=credited).values_list("id", "title")
    return sorted(rows, key=lambda row: (title_text(row[1]).casefold(), row[0]))


def researcher_url(author_id: int) -> str:
    return reverse("researcher", kwargs={"key": f"A{author_id}"})


class EditorCorrection(NamedTuple):
    """An editor's accepted correction to a researcher's profile: "isn't theirs" names the paper
    (`work_id`, `work_title`) that no longer counts for them, "same person" the profile
    (`merged_id`) merged into theirs."""

    kind: str
    decided_at: datetime
    work_id: int | None
    work_title: str
    merged_id: int | None


def editor_corrections(author_id: int) -> list[EditorCorrection]:
    """The accepted corrections that shape `author_id`'s profile, earliest decision first (one
    query): papers found not theirs, on them or on an id merged into them, and the profiles an
    editor merged into theirs (through AuthorMerge, so a merge into an id since merged into them
    counts as well)."""
    merged_in = AuthorMerge.objects.filter(into_id=author_id).values("old_id")
    rows = (
        Correction.objects.filter(status=Correction.Status.ACCEPTED)
        .filter(
            Q(kind=Correction.Kind.NOT_THEIRS) & (Q(author_id=author_id) | Q(author_id__in=merged_in))
            | Q(kind=Correction.Kind.SAME_PERSON, merge__into_id=author_id)
        )
        .order_by("decided_at", "id")
        .values_list("kind", "decided_at", "work_id", "work__title", "merge__old_id")
    )
    seen: set[tuple[str, int | None, int | None]] = set()
    corrections = []
    for kind, decided_at, work_id, work_title, merged_id in rows:
        # A paper found not theirs twice (on them and on an id merged in) is one correction to show.
        # decided_at is never None on an accepted one (correction_decided_at_with_decision).
        if (kind, work_id, merged_id) not in seen and decided_at is not None:
            seen.add((kind, work_id, merged_id))
            corrections.append(EditorCorrection(kind, decided_at, work_id, work_title or "", merged_id))
    return corrections
