"""The admin's rescoring: the "Rescore the corpus" button, the progress fragment a run's page
polls, and "Mark this run failed" with its confirmation page."""

from functools import partial

from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from papers.admin_views import QUEUE_DOWN, queue_reachable
from scoring.models import ScoringRun
from scoring.services import fail_run, run_is_live, running_run
from scoring.tasks import rescore_corpus_task

RESCORE_PERMISSION = "scoring.add_scoringrun"


def queue_rescore(user: AbstractBaseUser | AnonymousUser) -> tuple[int, str]:
    """Queue a whole-corpus rescore unless one is going; returns the message level and text for the admin.

    The check only spares the admin a queued task that would find the slot taken: the
    run_one_running constraint is what keeps two rescores from running at once."""
    running = running_run()
    if running is not None:
        link = reverse("admin:scoring_scoringrun_change", args=[running.pk])
        return messages.WARNING, format_html(
            'Run {} is still running; no new rescore was queued. <a href="{}">Follow its progress</a>.',
            running.pk,
            link,
        )
    if not queue_reachable(rescore_corpus_task):
        return messages.ERROR, QUEUE_DOWN
    transaction.on_commit(partial(rescore_corpus_task.delay, started_by_id=user.pk))
    return messages.SUCCESS, "Rescore of the corpus queued; the new run appears here once a worker starts it."


@require_POST
def rescore_view(request: HttpRequest, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    if not request.user.has_perm(RESCORE_PERMISSION):
        raise PermissionDenied
    level, message = queue_rescore(request.user)
    model_admin.message_user(request, message, level)
    return HttpResponseRedirect(reverse("admin:scoring_scoringrun_changelist"))


def progress_view(request: HttpRequest, run_id: int, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    """The progress fragment the run's page polls while the run is going."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    run = get_object_or_404(ScoringRun.objects.select_related("started_by"), pk=run_id)
    return TemplateResponse(request, "admin/scoring/scoringrun/progress.html", {"run": run})


@require_http_methods(["GET", "POST"])
def fail_view(request: HttpRequest, run_id: int, *, model_admin: admin.ModelAdmin) -> HttpResponse:
    """The "Mark this run failed" page: GET asks for confirmation, POST frees the slot for a new rescore.

    For a run whose process is alive but stuck (a dead one is abandoned by the next rescore
    anyway); should that process come back, it publishes nothing. Whoever may rescore may do it;
    a run that is not running is refused and left as it is."""
    if not request.user.has_perm(RESCORE_PERMISSION):
        raise PermissionDenied
    run = get_object_or_404(ScoringRun.objects.select_related("started_by"), pk=run_id)
    run_page = reverse("admin:scoring_scoringrun_change", args=[run.pk])
    if run.status != ScoringRun.Status.RUNNING:
        message = f"Run {run.pk} is not running ({run.get_status_display().lower()}); it was left as it is."
        model_admin.message_user(request, message, messages.ERROR)
        return HttpResponseRedirect(run_page)
    if request.method == "POST":
        # fail_run decides, not the read above: the run may have finished since.
        if fail_run(run=run, error=f"marked failed in the admin by {request.user}"):
            model_admin.log_change(request, run, "Marked failed.")
            model_admin.message_user(request, f"Run {run.pk} was marked failed; a new rescore may start.")
        else:
            model_admin.message_user(request, f"Run {run.pk} finished meanwhile; it was left as it is.", messages.ERROR)
        return HttpResponseRedirect(run_page)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Mark run {run.pk} failed?",
        "run": run,
        "live": run_is_live(run.pk),
    }
    return TemplateResponse(request, "admin/scoring/scoringrun/fail_confirmation.html", context)
