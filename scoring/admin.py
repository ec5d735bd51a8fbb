"""Admin for scoring runs and their scores. Both are written by the rescoring service only,
so they are read-only here (a hand-edited score would no longer follow from the data); the one
change an admin makes is to mark a stuck run failed, which frees the slot for a new rescore.
Snapshot builds, written by build_index as it goes, are read-only for the same reason."""

from functools import partial

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from papers.admin import OpenAlexIdSearch
from scoring.admin_views import RESCORE_PERMISSION, fail_view, progress_view, rescore_view
from scoring.diff import diff_run
from scoring.models import PaperScore, ScoringRun, SnapshotBuild


class WrittenByScoring(OpenAlexIdSearch):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    # Old runs are the score history and the basis of each run's diff.
    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ScoringRun)
class ScoringRunAdmin(WrittenByScoring):
    list_display = (
        "id",
        "algorithm",
        "status",
        "damping",
        "citer_cap",
        "papers_scored",
        "papers_recomputed",
        "links_read",
        "data_as_of",
        "started_at",
        "duration",
        "started_by",
    )
    list_filter = ("status", "algorithm")
    list_select_related = ("started_by",)
    search_fields = ("algorithm", "error")
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-id")
    actions = ("mark_failed",)
    # What pages read about the run (scoring.summary): lists of ids and counts, not for reading here.
    exclude = ("figures",)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        run = self.get_object(request, object_id)
        diff = diff_run(run=run) if run is not None else None
        context = {**(extra_context or {}), "diff": diff, "kept_runs": settings.DATARANK_SCORE_RUNS_KEPT}
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        rescore = self.admin_site.admin_view(partial(rescore_view, model_admin=self))
        progress = self.admin_site.admin_view(partial(progress_view, model_admin=self))
        fail = self.admin_site.admin_view(partial(fail_view, model_admin=self))
        return [
            path("rescore/", rescore, name="scoring_scoringrun_rescore"),
            path("<int:run_id>/progress/", progress, name="scoring_scoringrun_progress"),
            path("<int:run_id>/fail/", fail, name="scoring_scoringrun_fail"),
            *super().get_urls(),
        ]

    def has_rescore_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESCORE_PERMISSION)

    # At most one run is running (run_one_running), so the action leads to that run's confirmation page.
    @admin.action(description="Mark this run failed", permissions=("rescore",))
    def mark_failed(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        not_running = sorted(queryset.exclude(status=ScoringRun.Status.RUNNING).values_list("pk", flat=True))
        if not_running:
            listed = ", ".join(f"run {pk}" for pk in not_running)
            message = f"Only a running run can be marked failed ({listed}: not running); nothing was changed."
            self.message_user(request, message, messages.ERROR)
            return None
        return HttpResponseRedirect(reverse("admin:scoring_scoringrun_fail", args=[queryset.get().pk]))


@admin.register(PaperScore)
class PaperScoreAdmin(WrittenByScoring):
    list_display = (
        "work",
        "run",
        "rank",
        "datarank",
        "base_contribution",
        "network_contribution",
        "top_percent",
        "tier",
        "citing_works",
        "citers_with_signal",
        "self_citations_excluded",
        "cap_bound",
    )
    list_filter = ("run__status", "tier", "cap_bound", "run")
    list_select_related = ("work", "run")
    raw_id_fields = ("work", "run")
    search_fields = ("work__title", "=work__doi")
    search_help_text = "Words from the paper's title, an exact DOI, or an OpenAlex id (W…: its score in every run)."
    openalex_id_fields = {"W": ("work_id",)}
    ordering = ("-run_id", "rank", "work_id")
    show_full_result_count = False


@admin.register(SnapshotBuild)
class SnapshotBuildAdmin(WrittenByScoring):
    list_display = (
        "id",
        "status",
        "snapshot_path",
        "manifest_date",
        "records",
        "works",
        "bad_lines_total",
        "peak_memory_mib",
        "run",
        "started_at",
        "duration",
    )
    list_filter = ("status",)
    list_select_related = ("run",)
    search_fields = ("snapshot_path", "fingerprint", "error")
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-id")
    readonly_fields = ("stage_times", "peak_memory_mib")

    @admin.display(description="peak memory (MiB)")
    def peak_memory_mib(self, build: SnapshotBuild) -> str | None:
        # None: the admin's own mark for an empty value.
        return f"{build.peak_memory / 2**20:,.0f}" if build.peak_memory is not None else None

    @admin.display(description="stage times")
    def stage_times(self, build: SnapshotBuild) -> str:
        return "; ".join(
            f"{stage['name']} {stage['seconds']:,.2f} s, {stage['rows']:,} rows"
            + (" (done before)" if stage["skipped"] else "")
            for stage in build.stages
        )
