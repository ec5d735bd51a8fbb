"""What a scoring run changed against the succeeded run before it, for admins: papers added and
dropped, tier changes, risers and fallers, and the citers that arrived or left in between."""

from dataclasses import dataclass

from django.db.models import Count, F, QuerySet

from papers.models import Citation, CitationRemoval
from scoring.models import PaperScore, ScoringRun

# How many papers each list of a run's diff shows.
DIFF_ROWS = 10


# How many citers each paper of a diff's citer changes names.
DIFF_CITERS_SHOWN = 5


@dataclass(frozen=True)
class CitationChanges:
    """Citation links that arrived at, or left, the run's papers between two runs: how many,
    and the papers with the most, each as (OpenAlex id, how many, the first few citers' ids)."""

    total: int
    papers: list[tuple[str, int, list[str]]]


@dataclass(frozen=True)
class RunDiff:
    """What changed between a run and the succeeded run before it, for admins."""

    previous: ScoringRun
    papers_added: int
    papers_dropped: int
    tier_changes: int
    risers: list[PaperScore]
    fallers: list[PaperScore]
    citer_gains: list[PaperScore]
    citer_losses: list[PaperScore]
    tier_moves: list[PaperScore]
    new_citers: CitationChanges
    lost_citers: CitationChanges


def diff_run(*, run: ScoringRun) -> RunDiff | None:
    """The run's diff against the previous succeeded run; None when it has none to compare with,
    or one of the two is folded (scoring.retention).
    Each listed score carries previous_rank, previous_tier, previous_datarank and
    previous_citing_works, and rank_change (positive: moved up) or citer_change."""
    previous = run.previous()
    # A folded run no longer holds the rows of papers that did not change: nothing to compare.
    if previous is None or run.status != ScoringRun.Status.SUCCEEDED or run.folded_at or previous.folded_at:
        return None
    scores = run.scores.against(previous.pk).select_related("work")
    # datarank is never empty on a score row, so it says whether the paper was scored then; rank
    # and tier are empty for a paper not ranked, so movers are the papers ranked in both runs.
    # The ignores: django-stubs checks filter() keywords against the model's fields, and does not
    # see the previous_* ones that against() annotates.
    both = scores.filter(previous_datarank__isnull=False)  # type: ignore[misc]
    ranked_in_both = both.filter(previous_rank__isnull=False, rank__isnull=False)  # type: ignore[misc]
    moved = ranked_in_both.annotate(rank_change=F("previous_rank") - F("rank"))
    citers = both.annotate(citer_change=F("citing_works") - F("previous_citing_works"))
    tier_moves = ranked_in_both.exclude(tier=F("previous_tier"))
    return RunDiff(
        previous=previous,
        papers_added=scores.filter(previous_datarank__isnull=True).count(),  # type: ignore[misc]
        papers_dropped=previous.scores.exclude(work_id__in=run.scores.values("work_id")).count(),
        tier_changes=tier_moves.count(),
        risers=list(moved.filter(rank_change__gt=0).order_by("-rank_change", "rank")[:DIFF_ROWS]),
        fallers=list(moved.filter(rank_change__lt=0).order_by("rank_change", "rank")[:DIFF_ROWS]),
        citer_gains=list(citers.filter(citer_change__gt=0).order_by("-citer_change", "rank")[:DIFF_ROWS]),
        citer_losses=list(citers.filter(citer_change__lt=0).order_by("citer_change", "rank")[:DIFF_ROWS]),
        tier_moves=list(tier_moves.order_by("rank")[:DIFF_ROWS]),
        new_citers=_citation_changes(
            Citation.objects.filter(first_seen_at__gt=previous.started_at, first_seen_at__lte=run.started_at), run=run
        ),
        lost_citers=_citation_changes(
            CitationRemoval.objects.filter(removed_at__gt=previous.started_at, removed_at__lte=run.started_at), run=run
        ),
    )


def _citation_changes(links: QuerySet, *, run: ScoringRun) -> CitationChanges:
    """Links dated between the previous run's start and this one's are the ones this run was
    the first to see (or the first to miss); only links to the papers it scored count."""
    links = links.filter(cited_id__in=run.scores.values("work_id"))
    per_paper = links.values("cited_id").annotate(count=Count("*")).order_by("-count", "cited_id")
    top = {row["cited_id"]: row["count"] for row in per_paper[:DIFF_ROWS]}
    citers: dict[int, list[str]] = {work_id: [] for work_id in top}
    for cited_id, citing_id in (
        links.filter(cited_id__in=top).order_by("cited_id", "citing_id").values_list("cited_id", "citing_id")
    ):
        if len(citers[cited_id]) < DIFF_CITERS_SHOWN:
            citers[cited_id].append(f"W{citing_id}")
    return CitationChanges(
        total=links.count(), papers=[(f"W{work_id}", count, citers[work_id]) for work_id, count in top.items()]
    )
