"""Corrections to corpus membership: a visitor tells the editors that the data-paper check got a
work wrong — a corpus paper that shares no data, or a work we hold that does.

GET is the form: the paper page and the not-in-corpus page fetch it only when the visitor opens
it, so those pages carry no per-visitor token and can be cached. POST files the correction into
the editors' queue (the papers admin) and thanks the visitor. An htmx request gets the form's
fragment, any other a full page, so the form works without JavaScript."""

import unicodedata

from django import forms
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_ratelimit.decorators import ratelimit

from datarank_site.pages.clients import client_fingerprint, rate_limit_key
from datarank_site.pages.errors import NotFound, Redirect
from datarank_site.pages.http import HtmxHttpRequest
from datarank_site.pages.paper import MAX_WORK_ID
from papers.models import CORRECTION_REASON_MAX_LENGTH, CorpusEntry, Correction, Work

TEMPLATE = "pages/correction.html"
# Submissions per client address (as DATARANK_TRUSTED_PROXY_HOPS reads it), over all works:
# a person has a handful to make, a bot a great many.
SUBMISSIONS_RATE = "5/h"
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
@ratelimit(key=rate_limit_key, rate=SUBMISSIONS_RATE, method="POST", block=False)
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


def respond(request: HtmxHttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    template = f"{TEMPLATE}#form" if request.htmx else TEMPLATE
    return render(request, template, context, status=status)
