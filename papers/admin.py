"""Admin for what we hold of OpenAlex. Works, authors, citations and FAIR signals come from
OpenAlex and are read-only here; what an admin decides is a paper's corpus override and what
becomes of visitors' corrections (to the corpus and to researchers)."""

import re
from collections.abc import Iterator
from datetime import date
from functools import partial
from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from papers.admin_views import QUEUE_DOWN, queue_reachable, track_papers_view
from papers.datapaper import check_data_paper
from papers.models import (
    Author,
    AuthorMerge,
    Authorship,
    Citation,
    CorpusEntry,
    Correction,
    FairSignal,
    RefreshRun,
    Work,
)
from papers.openalex.refresh import going_refresh
from papers.openalex.tracking import untrack_paper
from papers.search import index_for_search
from papers.tasks import refresh_papers_task
from scoring.admin_views import RESCORE_PERMISSION, queue_rescore
from scoring.tasks import FAIR_TASK_BATCH, evaluate_fair_task

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices

OPENALEX_KEY = re.compile(r"^(?:https?://openalex\.org/)?([WA])(\d{1,19})$", re.IGNORECASE)


class OpenAlexIdSearch(admin.ModelAdmin):
    """A search for `W123` / `A123` (or its openalex.org URL) finds rows by id instead of by text.
    `openalex_id_fields` maps the id's letter to the fields holding that number."""

    openalex_id_fields: dict[str, tuple[str, ...]] = {}

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        match = OPENALEX_KEY.match(search_term.strip())
        fields = self.openalex_id_fields.get(match.group(1).upper(), ()) if match else ()
        if match is None or not fields:
            return super().get_search_results(request, queryset, search_term)
        number = int(match.group(2))
        by_id = Q()
        for field in fields:
            by_id |= Q(**{field: number})
        return queryset.filter(by_id), False


class ReadOnlyFromOpenAlex(OpenAlexIdSearch):
    """Rows that OpenAlex owns: viewable and deletable, but edited only by reloading them."""

    # These tables grow to millions of rows, so the changelists avoid what scans them whole:
    # a full COUNT(*), date hierarchies, filters over unindexed columns, custom orderings
    # (the admin's default, newest primary key first, uses the index).
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    fields = ("position", "author")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("author")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class CorpusEntryInline(admin.StackedInline):
    model = CorpusEntry
    fields = ("override", "in_corpus", "check_passed", "confidence", "reasons", "included", "checked_at")
    readonly_fields = ("in_corpus", "check_passed", "confidence", "reasons", "included", "checked_at")
    can_delete = False
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EmptyShownValuesFilter(admin.AllValuesFieldListFilter):
    """A column's values as filter links, with the empty string shown as "(empty)": the stock
    filter makes it a link with no text, which a screen reader reads as nothing at all."""

    def choices(self, changelist: ChangeList) -> Iterator["_ListFilterChoices"]:
        empty = changelist.get_query_string({self.lookup_kwarg: ""}, [self.lookup_kwarg_isnull])
        for choice in super().choices(changelist):
            if choice["query_string"] == empty:
                choice = {**choice, "display": f"(empty){choice['display']}"}
            yield choice


class CorpusOverrideRowForm(forms.ModelForm):
    """A changelist row's override select, named for its work: the column heading names no row,
    so without it every select reads the same to a screen reader."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["override"].widget.attrs["aria-label"] = f"Corpus override of W{self.instance.work_id}"


# Evaluations are rows of FairEvaluation: whoever may add them may ask for new ones.
FAIR_PERMISSION = "scoring.add_fairevaluation"


class FairActions(admin.ModelAdmin):
    """The "Re-evaluate FAIR" action, for works and corpus entries alike (an entry's pk is its work's)."""

    def has_reevaluate_fair_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(FAIR_PERMISSION)

    @admin.action(description="Re-evaluate FAIR (DataCite, doi.org) on the workers", permissions=("reevaluate_fair",))
    def reevaluate_fair(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not queue_reachable(evaluate_fair_task):
            self.message_user(request, QUEUE_DOWN, messages.ERROR)
            return
        work_ids = list(queryset.values_list("pk", flat=True))
        for start in range(0, len(work_ids), FAIR_TASK_BATCH):
            batch = work_ids[start : start + FAIR_TASK_BATCH]
            transaction.on_commit(partial(evaluate_fair_task.delay, batch))
        self.message_user(request, f"Queued a FAIR evaluation of {len(work_ids)} paper(s).", messages.SUCCESS)


@admin.register(Work)
class WorkAdmin(FairActions, ReadOnlyFromOpenAlex):
    actions = ("reevaluate_fair",)
    list_display = (
        "openalex_id",
        "title",
        "publication_year",
        "venue",
        "type",
        "cited_by_count",
        "referenced_works_count",
        "corpus_entry__in_corpus",
        "is_retracted",
        "fetched_at",
    )
    list_filter = ("corpus_entry__in_corpus", ("type", EmptyShownValuesFilter), "is_oa", "is_retracted")
    list_select_related = ("corpus_entry",)
    search_fields = ("title", "=doi")
    openalex_id_fields = {"W": ("id",)}
    search_help_text = "Words from the title, an exact DOI (10.…), or an OpenAlex id (W…)."
    inlines = (CorpusEntryInline, AuthorshipInline)

    # The corpus override is edited through the inline, so the work's page must accept a POST;
    # every OpenAlex field stays read-only.
    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super(ReadOnlyFromOpenAlex, self).has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in Work._meta.fields]

    @admin.display(description="OpenAlex id", ordering="id")
    def openalex_id(self, work: Work) -> str:
        return work.openalex_id


@admin.register(Author)
class AuthorAdmin(ReadOnlyFromOpenAlex):
    list_display = ("openalex_id", "display_name", "orcid")
    search_fields = ("display_name", "=orcid")
    openalex_id_fields = {"A": ("id",)}
    search_help_text = "A name, an exact ORCID, or an OpenAlex id (A…)."

    @admin.display(description="OpenAlex id", ordering="id")
    def openalex_id(self, author: Author) -> str:
        return f"A{author.id}"


@admin.register(Authorship)
class AuthorshipAdmin(ReadOnlyFromOpenAlex):
    list_display = ("work", "position", "author")
    list_select_related = ("work", "author")
    raw_id_fields = ("work", "author")
    search_fields = ("author__display_name", "work__title")
    openalex_id_fields = {"W": ("work_id",), "A": ("author_id",)}
    search_help_text = "An author's name, words from the work's title, or an OpenAlex id (W… or A…)."


@admin.register(Citation)
class CitationAdmin(ReadOnlyFromOpenAlex):
    # `cited` has no database constraint and may not be held yet, so it is shown by id and never
    # joined: an inner join would hide the waiting links, and reading it could fail.
    list_display = ("citing_id_display", "citing_title", "cited_id_display", "pull_position", "is_self_citation")
    list_filter = ("is_self_citation",)
    list_select_related = ("citing",)
    raw_id_fields = ("citing", "cited")
    search_fields = ("citing__title",)
    openalex_id_fields = {"W": ("citing_id", "cited_id")}
    search_help_text = "Words from the citing work's title, or an OpenAlex id (W…) on either end of the link."

    @admin.display(description="Citing work", ordering="citing_id")
    def citing_id_display(self, citation: Citation) -> str:
        return f"W{citation.citing_id}"

    @admin.display(description="Citing title")
    def citing_title(self, citation: Citation) -> str:
        return citation.citing.title

    @admin.display(description="Cited work", ordering="cited_id")
    def cited_id_display(self, citation: Citation) -> str:
        return f"W{citation.cited_id}"


@admin.register(CorpusEntry)
class CorpusEntryAdmin(FairActions, OpenAlexIdSearch):
    list_display = ("work", "in_corpus", "override", "check_passed", "confidence", "included", "checked_at")
    list_editable = ("override",)
    list_filter = ("in_corpus", "override", "check_passed", "included")
    list_select_related = ("work",)
    search_fields = ("work__title", "=work__doi")
    openalex_id_fields = {"W": ("work_id",)}
    search_help_text = "Words from the title, an exact DOI, or an OpenAlex id (W…)."
    fields = ("work", "override", "in_corpus", "check_passed", "confidence", "reasons", "included", "checked_at")
    readonly_fields = ("work", "in_corpus", "check_passed", "confidence", "reasons", "included", "checked_at")
    show_full_result_count = False
    actions = (
        "force_in", "force_out", "follow_check", "untrack", "rescore", "refresh_from_openalex", "reevaluate_fair"
    )  # fmt: skip

    # Entries are made by the data-paper check when a work is loaded; an admin only overrides it
    # here, or tracks new papers from OpenAlex on the "Track papers" page.
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_changelist_form(self, request: HttpRequest, **kwargs) -> type[forms.ModelForm]:
        return super().get_changelist_form(request, form=CorpusOverrideRowForm, **kwargs)

    def get_urls(self) -> list[URLPattern]:
        track = self.admin_site.admin_view(partial(track_papers_view, model_admin=self))
        return [path("track/", track, name="papers_corpusentry_track"), *super().get_urls()]

    @admin.action(description="Untrack (leave the corpus, keep the data)")
    def untrack(self, request: HttpRequest, queryset: QuerySet) -> None:
        work_ids = list(queryset.values_list("work_id", flat=True))
        for work_id in work_ids:
            untrack_paper(work_id=work_id)
        self.message_user(request, f"{len(work_ids)} paper(s) untracked; their data stays.", messages.SUCCESS)

    def _set_override(self, request: HttpRequest, queryset: QuerySet, override: str, outcome: str) -> None:
        updated = queryset.update(override=override)
        index_for_search(queryset.values_list("work_id", flat=True))  # the papers it let in are searched
        self.message_user(request, f"{updated} entr{'y' if updated == 1 else 'ies'} {outcome}.", messages.SUCCESS)

    @admin.action(description="Force into the corpus")
    def force_in(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_override(request, queryset, CorpusEntry.Override.INCLUDE, "forced into the corpus")

    @admin.action(description="Keep out of the corpus")
    def force_out(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_override(request, queryset, CorpusEntry.Override.EXCLUDE, "kept out of the corpus")

    @admin.action(description="Follow the data-paper check")
    def follow_check(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_override(request, queryset, CorpusEntry.Override.NONE, "following the data-paper check again")

    def has_rescore_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESCORE_PERMISSION)

    # Ranks tie every score to the whole corpus, so the selection only picks the page to act from.
    @admin.action(description="Rescore the corpus", permissions=("rescore",))
    def rescore(self, request: HttpRequest, queryset: QuerySet) -> None:
        level, message = queue_rescore(request.user)
        self.message_user(request, message, level)

    @admin.action(description="Refresh from OpenAlex, then rescore the corpus", permissions=("rescore",))
    def refresh_from_openalex(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not settings.OPENALEX_API_KEY:
            self.message_user(
                request, "Nothing was queued: live OpenAlex jobs are off until OPENALEX_API_KEY is set.", messages.ERROR
            )
            return
        going = going_refresh()
        if going is not None:
            link = reverse("admin:papers_refreshrun_change", args=[going.pk])
            message = 'Refresh run {} is still going; nothing was queued. <a href="{}">Follow its progress</a>.'
            self.message_user(request, format_html(message, going.pk, link), messages.WARNING)
            return
        # Before the run is made: a run whose task never went out would stay "running" for good.
        if not queue_reachable(refresh_papers_task):
            self.message_user(request, QUEUE_DOWN, messages.ERROR)
            return
        # One refresh run, not a pull per paper beside a rescore: the run rescores once its last
        # paper is pulled, so the new scores are never computed from half-refreshed citers.
        work_ids = sorted(queryset.values_list("work_id", flat=True))
        run = RefreshRun.objects.create(papers_total=len(work_ids), triggered_by=RefreshRun.Trigger.ADMIN)
        transaction.on_commit(partial(refresh_papers_task.delay, run.pk, work_ids))
        link = reverse("admin:papers_refreshrun_change", args=[run.pk])
        message = (
            'Queued refresh run {} over {} paper(s); the corpus is rescored when it ends. <a href="{}">Follow it</a>.'
        )
        self.message_user(request, format_html(message, run.pk, len(work_ids), link), messages.SUCCESS)


@admin.register(FairSignal)
class FairSignalAdmin(ReadOnlyFromOpenAlex):
    list_display = ("work", "key", "status", "source", "field", "checked_at")
    list_filter = ("key", "status")
    list_select_related = ("work",)
    raw_id_fields = ("work",)
    search_fields = ("work__title", "evidence")
    openalex_id_fields = {"W": ("work_id",)}
    search_help_text = "Words from the work's title or the evidence, or an OpenAlex id (W…)."


@admin.register(RefreshRun)
class RefreshRunAdmin(admin.ModelAdmin):
    """Refresh runs are written by the workers; here they are watched, never edited."""

    list_display = (
        "id",
        "status",
        "progress",
        "list_calls",
        "budget_remaining",
        "started_at",
        "finished_at",
        "error_count",
        "skipped_count",
    )
    list_filter = ("status", "triggered_by")
    exclude = ("done_work_ids",)

    @admin.display(description="Progress")
    def progress(self, run: RefreshRun) -> str:
        return f"{run.papers_done}/{run.papers_total}"

    @admin.display(description="Errors")
    def error_count(self, run: RefreshRun) -> int:
        return len(run.errors)

    @admin.display(description="Skipped records")
    def skipped_count(self, run: RefreshRun) -> int:
        return len(run.skipped_records)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        progress = path(
            "<int:run_id>/progress/",
            self.admin_site.admin_view(self.progress_view),
            name="papers_refreshrun_progress",
        )
        return [progress, *super().get_urls()]

    def progress_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        """The progress fragment the change page polls while the run is going."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(RefreshRun, pk=run_id)
        return TemplateResponse(request, "admin/papers/refreshrun/progress.html", {"run": run})


class CorrectionActionForm(ActionForm):
    """The actions bar with a note beside the action: the editor says why, and it is kept with the decision."""

    note = forms.CharField(
        required=False,
        max_length=2_000,
        label="Note",
        widget=forms.TextInput(attrs={"placeholder": "Why (kept with the decision)", "size": 40}),
    )


@admin.register(Correction)
class CorrectionAdmin(OpenAlexIdSearch):
    """Visitors' corrections, to corpus membership and to researchers, in one queue. Accepting
    one applies it: a paper correction sets the work's corpus override, as "Force into the
    corpus" / "Keep out of the corpus" would; "isn't theirs" is read by the next scoring run's
    roll-up once accepted; "same person" merges the other profile into the researcher's, unless
    they are one person already. Every decision is logged with who made it and their note."""

    action_form = CorrectionActionForm
    actions = ("accept", "reject")
    list_display = ("created_at", "subject", "kind", "reason_excerpt", "status", "override_now", "decided_by")
    list_filter = ("status", "kind")
    list_select_related = ("work", "work__corpus_entry", "author", "other_author", "decided_by")
    search_fields = ("reason", "work__title", "author__display_name")
    openalex_id_fields = {"W": ("work_id",), "A": ("author_id", "other_author_id")}
    search_help_text = "Words from the reason, the work's title or the researcher's name, or an OpenAlex id (W… or A…)."
    # The queue: pending first, newest first within each group.
    ordering = (Case(When(status=Correction.Status.PENDING, then=Value(0)), default=Value(1)).asc(), "-created_at")
    fields = (
        "work", "author", "other_author", "kind", "reason", "email", "client", "created_at",
        "status", "decided_by", "decided_at", "note",
    )  # fmt: skip
    readonly_fields = (
        "work", "author", "other_author", "kind", "reason", "email", "client", "created_at",
        "status", "decided_by", "decided_at",
    )  # fmt: skip

    # Corrections come from the public forms; a decision is made by the actions, so that what it
    # changes, the decision and the log always go together.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("papers.change_correction") and request.user.has_perm("papers.change_corpusentry")

    @admin.display(description="About", ordering="work_id")
    def subject(self, correction: Correction) -> str:
        if correction.kind == Correction.Kind.SAME_PERSON:
            return format_html(
                "Merge {} into {}", self._author_link(correction.other_author), self._author_link(correction.author)
            )
        if correction.kind == Correction.Kind.NOT_THEIRS:
            return format_html("{}, not by {}", self._work_link(correction), self._author_link(correction.author))
        return self._work_link(correction)

    def _work_link(self, correction: Correction) -> str:
        work = correction.work
        assert work is not None  # every kind but "same person" is about a work
        return format_html(
            '<a href="{}">{}</a> {} (<a href="{}">page</a>)',
            reverse("admin:papers_work_change", args=[work.pk]),
            work.openalex_id,
            Truncator(work.title).chars(60),
            reverse("paper", kwargs={"key": work.openalex_id}),
        )

    def _author_link(self, author: Author | None) -> str:
        assert author is not None  # researcher corrections name theirs
        return format_html(
            '<a href="{}">A{}</a> {} (<a href="{}">page</a>)',
            reverse("admin:papers_author_change", args=[author.pk]),
            author.pk,
            Truncator(author.display_name or "unnamed").chars(60),
            reverse("researcher", kwargs={"key": f"A{author.pk}"}),
        )

    @admin.display(description="Reason")
    def reason_excerpt(self, correction: Correction) -> str:
        return Truncator(correction.reason).chars(120)

    @admin.display(description="Override now")
    def override_now(self, correction: Correction) -> str:
        if correction.work is None or correction.kind == Correction.Kind.NOT_THEIRS:
            return "—"  # researcher corrections leave the corpus alone
        entry = getattr(correction.work, "corpus_entry", None)
        if entry is None:
            return "no corpus entry"
        return entry.get_override_display()

    @admin.action(
        description="Accept: apply as suggested (corpus override, paper not theirs, or merge)", permissions=("decide",)
    )
    def accept(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, Correction.Status.ACCEPTED)

    @admin.action(description="Reject: leave it all as it is", permissions=("decide",))
    def reject(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, Correction.Status.REJECTED)

    def _decide(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        # The bar's own form is not validated here: its action choices are filled in by the changelist.
        note = request.POST.get("note", "").strip()[:2_000]
        now = timezone.now()
        pending = list(
            queryset.filter(status=Correction.Status.PENDING)
            .select_related("work", "author", "other_author")
            .order_by("created_at")
        )
        skipped = queryset.exclude(status=Correction.Status.PENDING).count()
        decided = 0
        changed: list[str] = []
        researchers: list[str] = []
        refused: list[str] = []
        with transaction.atomic():
            for correction in pending:
                applied = ""
                if status == Correction.Status.ACCEPTED:
                    if correction.kind == Correction.Kind.SAME_PERSON:
                        refusal = self._merge(correction, timezone.localdate(now))
                        if refusal:
                            refused.append(refusal)
                            continue
                        applied = f"A{correction.other_author_id} merged into A{correction.author_id}"
                        researchers.append(applied)
                    elif correction.kind == Correction.Kind.NOT_THEIRS:
                        applied = f"W{correction.work_id} no longer counts for A{correction.author_id}"
                        researchers.append(applied)
                    else:
                        self._set_override(request, correction)
                        changed.append(f"W{correction.work_id}")
                        applied = f"corpus override set to {correction.kind}"
                correction.status = status
                correction.decided_by = request.user
                correction.decided_at = now
                correction.note = note
                correction.save(update_fields=["status", "decided_by", "decided_at", "note"])
                decided += 1
                said = f"{correction.get_status_display()}" + (f": {note}" if note else "")
                self.log_change(request, correction, said + (f" ({applied})" if applied else ""))
        verb = "Accepted" if status == Correction.Status.ACCEPTED else "Rejected"
        message = f"{verb} {decided} correction{'s' if decided != 1 else ''}."
        if changed:
            message += f" Corpus override set on {', '.join(sorted(set(changed)))}; rescore the corpus for the ranks."
        if researchers:
            message += f" {'; '.join(researchers)}: researchers change at the next scoring run."
        if skipped:
            message += f" {skipped} already decided, left as they were."
        if decided or skipped or not refused:
            self.message_user(request, message, messages.SUCCESS if decided else messages.WARNING)
        for refusal in refused:
            self.message_user(request, refusal, messages.ERROR)

    def _merge(self, correction: Correction, today: date) -> str:
        """Merge the other profile into the researcher's, as a "same person" correction asks, and
        say why not when it cannot be ("" when it was merged). The profiles are taken as they are
        now: either may have been merged into another since the visitor wrote."""
        author, other = correction.author_id, correction.other_author_id
        assert author is not None and other is not None  # the constraint requires both
        into = AuthorMerge.objects.survivor(author) or author
        old = AuthorMerge.objects.survivor(other) or other
        if into == old:
            return (
                f"Correction {correction.pk} was not accepted: A{other} and A{author} are one person already "
                f"(both count as A{into}). Reject it to take it off the queue."
            )
        if AuthorMerge.objects.record([(old, author, today)], correction=correction):
            return (
                f"Correction {correction.pk} was not accepted: merging A{old} into A{author} would close a loop "
                "of merges. Nothing was changed."
            )
        return ""

    def _set_override(self, request: HttpRequest, correction: Correction) -> None:
        """The work's override as the correction asks; a work we hold only as a citer gets its
        corpus entry now, with the check's verdict for the record."""
        work = correction.work
        assert work is not None  # a paper correction is about a work (correction_subject_per_kind)
        override = CorpusEntry.Override(correction.kind)
        entry = CorpusEntry.objects.filter(work_id=work.pk).first()
        message = f"Override set to “{override.value}” by accepting correction {correction.pk}."
        if entry is not None:
            entry.override = override
            entry.save(update_fields=["override"])
            self.log_change(request, entry, message)
        else:
            verdict = check_data_paper(
                type=work.type, venue=work.venue, title=work.title, abstract=work.abstract, source_type=work.source_type
            )
            entry = CorpusEntry.objects.create(
                work=work,
                check_passed=verdict.passed,
                confidence=verdict.confidence,
                reasons=list(verdict.reasons),
                included=False,
                override=override,
                checked_at=timezone.now(),
            )
            self.log_addition(request, entry, message)
        index_for_search([work.pk])
