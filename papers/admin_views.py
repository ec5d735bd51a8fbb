"""The admin's "Track papers" page: paste identifiers, queue a tracking task for the workers; and
the broker check every admin action that queues a task makes first."""

import logging

from celery import Task
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from papers.openalex.tracking import MAX_LINE_LENGTH, BadIdentifier, parse_identifiers
from papers.tasks import track_papers_task

logger = logging.getLogger(__name__)

QUEUE_DOWN = "The task queue cannot be reached; nothing was queued."
# Seconds an admin action waits for the broker before it says so.
BROKER_TIMEOUT = 2


def queue_reachable(task: Task) -> bool:
    """Whether the broker `task` is sent to answers within BROKER_TIMEOUT seconds.

    Asked before anything is created or queued: `.delay` runs on commit, too late to take back
    what the action made for the task, and its failure there would be a 500."""
    try:
        with task.app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
    except Exception as exc:  # each transport fails its own way; all of them mean the queue is out of reach
        logger.warning("The task queue cannot be reached: %s: %s", type(exc).__name__, exc)
        return False
    return True


# A paste of thousands of lines is a job for `manage.py track --filter`, not a form.
MAX_INPUT_LENGTH = 200_000


class TrackPapersForm(forms.Form):
    identifiers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        required=False,
        max_length=MAX_INPUT_LENGTH,
        help_text=f"DOIs, DOI URLs or OpenAlex ids (W…), one a line; lines over {MAX_LINE_LENGTH} characters "
        "are refused.",
    )
    force = forms.BooleanField(
        required=False, help_text="Into the corpus whatever the data-paper check says (sets the include override)."
    )
    openalex_filter = forms.CharField(
        required=False, max_length=MAX_LINE_LENGTH, label="OpenAlex filter", help_text="For example type:dataset"
    )
    max_papers = forms.IntegerField(
        required=False, min_value=1, label="At most", help_text="How many works of the filter to track."
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if not self.errors and not data.get("identifiers", "").strip() and not data.get("openalex_filter"):
            raise forms.ValidationError("Paste at least one identifier or give an OpenAlex filter.")
        return data


@require_http_methods(["GET", "POST"])
def track_papers_view(request: HttpRequest, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    if not request.user.has_perm("papers.add_corpusentry"):
        raise PermissionDenied
    key_set = bool(settings.OPENALEX_API_KEY)
    form = TrackPapersForm(request.POST if request.method == "POST" else None)
    bad: tuple[BadIdentifier, ...] = ()
    if form.is_valid() and key_set:
        parsed = parse_identifiers(form.cleaned_data["identifiers"].splitlines())
        bad = parsed.bad
        good = parsed.as_strings()
        openalex_filter = form.cleaned_data["openalex_filter"] or None
        # With the queue down the form comes back filled in, to be sent again once the queue answers.
        down = bool(good or openalex_filter) and not queue_reachable(track_papers_task)
        if down:
            messages.error(request, QUEUE_DOWN)
        elif good or openalex_filter:
            args = (good, openalex_filter, form.cleaned_data["max_papers"], form.cleaned_data["force"])
            transaction.on_commit(lambda: track_papers_task.delay(*args))
            queued = f"{len(good)} identifier(s)" + (
                f" and the works of filter {openalex_filter!r}" if openalex_filter else ""
            )
            model_admin.message_user(request, f"Queued tracking of {queued}; the workers will add them and rescore.")
        if not bad and not down:
            return HttpResponseRedirect(reverse("admin:papers_corpusentry_changelist"))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Track papers",
        "form": form,
        "bad": bad,
        "key_set": key_set,
    }
    if request.method == "POST" and not key_set:
        messages.error(request, "Nothing was queued: live OpenAlex jobs are off until OPENALEX_API_KEY is set.")
    return TemplateResponse(request, "admin/papers/corpusentry/track_papers.html", context)
