"""Scoring runs: load the corpus and its citers, score it with the bulk engine, save the run."""

import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, QuerySet
from django.utils import timezone

from papers.models import Citation, CitationRemoval, Work
from scoring.engine import load_corpus, score_corpus
from scoring.models import SCORE_FIELDS, PaperScore, ScoringRun

ALGORITHM = "datarank-1hop-v1"
ABANDONED = "abandoned: its worker stopped"

logger = logging.getLogger(__name__)

# PaperScore's figures, named as the engine's CorpusScores names them; paper_ids is the work.
SCORE_COLUMNS = ("paper_ids", *SCORE_FIELDS)


class RescoreAlreadyRunning(Exception):
    """Another run holds the one "running" slot; the database refused a second one."""

    def __init__(self, run: ScoringRun) -> None:
        self.run = run
        super().__init__(f"Run {run.pk} is still running (started {run.started_at:%Y-%m-%d %H:%M:%S %Z})")


def running_run() -> ScoringRun | None:
    """The run in progress, unless it has run so long that its worker must have stopped."""
    return ScoringRun.objects.filter(
        status=ScoringRun.Status.RUNNING, started_at__gte=timezone.now() - settings.DATARANK_RESCORE_STALE_AFTER
    ).first()


def _start_run(*, damping: float, cap: int, started_by: AbstractBaseUser | None) -> ScoringRun:
    """Claim the one "running" slot (the run_one_running constraint), freeing it first from a run
    whose worker was killed: such a run never finishes, and would otherwise block every rescore."""
    now = timezone.now()
    try:
        with transaction.atomic():
            ScoringRun.objects.filter(
                status=ScoringRun.Status.RUNNING, started_at__lt=now - settings.DATARANK_RESCORE_STALE_AFTER
            ).update(status=ScoringRun.Status.FAILED, finished_at=now, error=ABANDONED)
            return ScoringRun.objects.create(algorithm=ALGORITHM, damping=damping, citer_cap=cap, started_by=started_by)
    except IntegrityError:
        # The other constraints (damping in [0, 1]) raise the same error; only a running run is ours to report.
        running = ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).first()
        if running is None:
            raise
        raise RescoreAlreadyRunning(running) from None


def rescore_corpus(
    *, damping: float | None = None, cap: int | None = None, started_by: AbstractBaseUser | None = None
) -> ScoringRun:
    """Score every corpus paper as one run; the run becomes current only if it all succeeds.

    Ranks compare each paper with the whole corpus, which is why there is no per-paper rescore.
    Raises RescoreAlreadyRunning, creating no run, while another run is in progress."""
    damping = settings.DATARANK_DAMPING if damping is None else damping
    cap = settings.DATARANK_CITER_CAP if cap is None else cap
    # Saved outside the scoring transaction, so a run in progress or a failed one stays visible.
    run = _start_run(damping=damping, cap=cap, started_by=started_by)
    try:
        data_as_of = Work.objects.aggregate(newest=Max("fetched_at"))["newest"]
        inputs = load_corpus()
        scores = score_corpus(inputs, damping=damping, cap=cap)
        # tolist() turns each column into Python numbers in one call, for the model fields.
        columns = [getattr(scores, name).tolist() for name in SCORE_COLUMNS]
        with transaction.atomic():
            PaperScore.objects.bulk_create(
                (
                    PaperScore(run=run, work_id=work_id, **dict(zip(SCORE_COLUMNS[1:], figures, strict=True)))
                    for work_id, *figures in zip(*columns, strict=True)
                ),
                batch_size=5000,
            )
            run.status = ScoringRun.Status.SUCCEEDED
            run.finished_at = timezone.now()
            run.papers_scored = len(scores)
            run.links_read = len(inputs.link_cited)
            run.citers_read = len(np.unique(inputs.link_citing))
            run.data_as_of = data_as_of
            run.save(
                update_fields=["status", "finished_at", "papers_scored", "links_read", "citers_read", "data_as_of"]
            )
    except Exception as exc:
        logger.exception("Scoring run %s failed", run.pk)
        run.status = ScoringRun.Status.FAILED
        run.finished_at = timezone.now()
        run.error = f"{type(exc).__name__}: {exc}"
        run.save(update_fields=["status", "finished_at", "error"])
        raise
    logger.info("Scoring run %s scored %s papers", run.pk, run.papers_scored)
    return run


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
    """The run's diff against the previous succeeded run; None when it has none to compare with.
    Each listed score carries previous_rank, previous_tier, previous_datarank and
    previous_citing_works, and rank_change (positive: moved up) or citer_change."""
    previous = run.previous()
    if previous is None or run.status != ScoringRun.Status.SUCCEEDED:
        return None
    scores = run.scores.against(previous.pk).select_related("work")
    both = scores.filter(previous_rank__isnull=False)
    moved = both.annotate(rank_change=F("previous_rank") - F("rank"))
    citers = both.annotate(citer_change=F("citing_works") - F("previous_citing_works"))
    tier_moves = both.exclude(tier=F("previous_tier"))
    return RunDiff(
        previous=previous,
        papers_added=scores.filter(previous_rank__isnull=True).count(),
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
    citers: dict[int, list[int]] = {work_id: [] for work_id in top}
    for cited_id, citing_id in (
        links.filter(cited_id__in=top).order_by("cited_id", "citing_id").values_list("cited_id", "citing_id")
    ):
        if len(citers[cited_id]) < DIFF_CITERS_SHOWN:
            citers[cited_id].append(f"W{citing_id}")
    return CitationChanges(
        total=links.count(), papers=[(f"W{work_id}", count, citers[work_id]) for work_id, count in top.items()]
    )
