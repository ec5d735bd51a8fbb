"""Scoring runs, the per-paper scores each run produced and the researcher and institution scores
rolled up from them, works as a run scores them, FAIR evaluations, and the snapshot builds that
publish a run."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import F, FilteredRelation, OuterRef, Q, Subquery

from papers.models import Author, FairSignal, Institution, Work, WorkQuerySet
from scoring.fair.metrics import METHOD_VERSION

# The PaperScore figures ScoredWork.objects.with_score() puts on each work.
SCORE_FIELDS = (
    "base_contribution",
    "network_contribution",
    "datarank",
    "citing_works",
    "citers_with_signal",
    "self_citations_excluded",
    "cap_bound",
    "rank",
    "top_percent",
    "tier",
    "cohort_size",
    "cohort_top_percent",
)


@dataclass(frozen=True, slots=True)
class RunParameters:
    """What a score depends on besides the data: d and the citer cap."""

    damping: float
    cap: int


class ScoringRunQuerySet(models.QuerySet["ScoringRun"]):
    def current(self) -> "ScoringRun | None":
        """The run pages show: the latest one that finished successfully."""
        return self.filter(status=ScoringRun.Status.SUCCEEDED).order_by("-finished_at", "-id").first()


class ScoringRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    algorithm = models.CharField(max_length=50)
    damping = models.FloatField()
    citer_cap = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    papers_scored = models.PositiveIntegerField(default=0)
    papers_ranked = models.PositiveIntegerField(
        default=0, help_text="N: the scored papers with a DataRank above zero, which alone are ranked."
    )
    links_read = models.PositiveBigIntegerField(default=0, help_text="Citation links to corpus papers the run read.")
    citers_read = models.PositiveIntegerField(default=0, help_text="Distinct citing works among those links.")
    researchers_scored = models.PositiveIntegerField(default=0, help_text="Authors with a corpus paper in the run.")
    researchers_ranked = models.PositiveIntegerField(
        default=0, help_text="Of those, the ones with a researcher score above zero, which alone are ranked."
    )
    institutions_scored = models.PositiveIntegerField(default=0)
    institutions_ranked = models.PositiveIntegerField(default=0)
    data_as_of = models.DateTimeField(
        null=True, blank=True, help_text="When the newest record the run read was fetched from OpenAlex."
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    error = models.TextField(blank=True)
    figures_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The run whose figures it kept for every paper whose inputs had not changed (empty: all recomputed).",
    )
    papers_recomputed = models.PositiveIntegerField(
        default=0, help_text="Papers whose figures the run computed from their citers; the rest it kept."
    )
    figures = models.JSONField(
        default=dict,
        blank=True,
        help_text="What pages quote about the run as a whole, computed once when it is published (scoring.summary).",
    )
    folded_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its rows repeating a paper's or researcher's previous kept row went (scoring.retention).",
    )

    objects = ScoringRunQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(damping__gte=0) & Q(damping__lte=1), name="run_damping_0_1"),
            # The database, not a check-then-act, decides that only one rescore runs at a time.
            models.UniqueConstraint(fields=["status"], condition=Q(status="running"), name="run_one_running"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.algorithm}, {self.status})"

    @property
    def papers_not_ranked(self) -> int:
        """Scored papers with a DataRank of 0, which have no rank."""
        return self.papers_scored - self.papers_ranked

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    @staticmethod
    def parameters(run: "ScoringRun | None") -> RunParameters:
        """The run's own d and cap, so that what a page explains agrees with the figures it
        explains; the settings' when there is no run yet."""
        if run is None:
            return RunParameters(damping=settings.DATARANK_DAMPING, cap=settings.DATARANK_CITER_CAP)
        return RunParameters(damping=run.damping, cap=run.citer_cap)

    def previous(self) -> "ScoringRun | None":
        """The succeeded run before this one: what this run's diff compares against."""
        earlier = ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED, pk__lt=self.pk)
        return earlier.order_by("-pk").first()


class PaperScoreQuerySet(models.QuerySet["PaperScore"]):
    def against(self, previous_run_id: int | None) -> Self:
        """Each score carries the same paper's figures from `previous_run_id` as previous_rank,
        previous_tier, previous_datarank and previous_citing_works (None where the paper was
        not scored then); one join, no extra query."""
        scores = self.annotate(
            before=FilteredRelation("work__scores", condition=Q(work__scores__run_id=previous_run_id))
        )
        return scores.annotate(
            previous_rank=F("before__rank"),
            previous_tier=F("before__tier"),
            previous_datarank=F("before__datarank"),
            previous_citing_works=F("before__citing_works"),
        )

    def history(self, work_id: int) -> Self:
        """A paper's scores in every succeeded run, oldest first."""
        scores = self.filter(work_id=work_id, run__status=ScoringRun.Status.SUCCEEDED)
        return scores.select_related("run").order_by("run__finished_at", "run_id")


class PaperScore(models.Model):
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores")
    # score_work_run_idx serves lookups by work.
    work = models.ForeignKey("papers.Work", on_delete=models.CASCADE, related_name="scores", db_index=False)
    base_contribution = models.FloatField()
    network_contribution = models.FloatField()
    datarank = models.FloatField()
    citing_works = models.PositiveIntegerField(help_text="Citers kept after the cap and the self-citation filter.")
    citers_with_signal = models.PositiveIntegerField(help_text="Kept citers with at least one citation.")
    self_citations_excluded = models.PositiveIntegerField()
    cap_bound = models.BooleanField(help_text="The paper had more citers than the cap.")
    # Empty for a paper that is not ranked (DataRank 0), all three together (DESIGN.md §1).
    rank = models.PositiveIntegerField(null=True, blank=True)
    top_percent = models.FloatField(null=True, blank=True)
    tier = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 (S1, top 20%) to 5 (S5).")
    cohort_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="Ranked papers of its subfield within a year of it, itself included."
    )
    cohort_top_percent = models.FloatField(null=True, blank=True, help_text="Given from 20 cohort papers on.")

    objects = PaperScoreQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "work"], name="score_unique_per_run"),
            models.CheckConstraint(condition=Q(base_contribution__gte=0), name="score_base_non_negative"),
            models.CheckConstraint(condition=Q(network_contribution__gte=0), name="score_network_non_negative"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="score_rank_positive"),
            models.CheckConstraint(condition=Q(tier__gte=1) & Q(tier__lte=5), name="score_tier_1_5"),
            models.CheckConstraint(
                condition=(Q(rank__isnull=True) & Q(top_percent__isnull=True) & Q(tier__isnull=True))
                | (Q(rank__isnull=False) & Q(top_percent__isnull=False) & Q(tier__isnull=False) & Q(datarank__gt=0)),
                name="score_ranked_above_zero_only",
            ),
            models.CheckConstraint(
                condition=Q(cohort_size__isnull=True) | Q(rank__isnull=False), name="score_cohort_only_if_ranked"
            ),
            models.CheckConstraint(
                condition=Q(cohort_top_percent__isnull=True) | Q(cohort_size__gte=20), name="score_cohort_from_20"
            ),
        ]
        indexes = [
            models.Index(fields=["run", "rank"], name="score_run_rank_idx"),
            models.Index(fields=["run", "tier", "rank"], name="score_run_tier_rank_idx"),
            # A paper's history, and the previous kept row a folded run compares with.
            models.Index(fields=["work", "run"], name="score_work_run_idx"),
        ]

    def __str__(self) -> str:
        return f"W{self.work_id} in run {self.run_id}: {self.datarank:.3f}"


class RollUpScore(models.Model):
    """The three researcher-level scores of DESIGN.md §4 over someone's corpus papers in one run
    (scoring.researchers computes them), ranked by the researcher score with §1's rules: 0 is not
    ranked, ties never flatter."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="+")
    papers = models.PositiveIntegerField(help_text="Their corpus papers the run scored.")
    ranked_papers = models.PositiveIntegerField(help_text="Of those, the ranked ones (DataRank above zero).")
    researcher_score = models.FloatField(help_text="theSindex's: the sum of their 10 best DataRanks / 10.")
    sum_score = models.FloatField(help_text="Scholar Data's S-index: the sum of their DataRanks.")
    h_index = models.PositiveIntegerField(help_text="CatalystNeuro's, h-like: n papers cited n times or more.")
    rank = models.PositiveIntegerField(null=True, blank=True)
    top_percent = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(researcher_score__gte=0), name="%(class)s_score_non_negative"),
            models.CheckConstraint(condition=Q(ranked_papers__lte=F("papers")), name="%(class)s_ranked_le_papers"),
            models.CheckConstraint(
                condition=(Q(rank__isnull=True) & Q(top_percent__isnull=True))
                | (Q(rank__gte=1) & Q(top_percent__isnull=False) & Q(researcher_score__gt=0)),
                name="%(class)s_ranked_above_zero_only",
            ),
        ]


class ResearcherScore(RollUpScore):
    # Indexed by researcher_author_rank_idx, which leads with the author.
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="scores", db_index=False)
    subfield_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The subfield most of their corpus papers belong to (ties: the lowest id)."
    )

    class Meta(RollUpScore.Meta):
        constraints = [
            *RollUpScore.Meta.constraints,
            models.UniqueConstraint(fields=["run", "author"], name="researcher_score_unique_per_run"),
        ]
        indexes = [
            models.Index(fields=["run", "rank"], name="researcher_run_rank_idx"),
            models.Index(fields=["run", "subfield_id", "rank"], name="researcher_run_subfield_idx"),
            models.Index(fields=["run", "-sum_score"], name="researcher_run_sum_idx"),
            models.Index(fields=["run", "-h_index"], name="researcher_run_h_idx"),
            # A search's matching authors find their rank without reading the row (matching_researchers).
            models.Index(fields=["author", "run", "rank"], name="researcher_author_rank_idx"),
        ]

    def __str__(self) -> str:
        return f"A{self.author_id} in run {self.run_id}: {self.researcher_score:.3f}"


class InstitutionScore(RollUpScore):
    """The same over an institution's corpus papers, each paper once however many of its authors
    were there."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="scores")
    researchers = models.PositiveIntegerField(help_text="Authors with a corpus paper there.")

    class Meta(RollUpScore.Meta):
        constraints = [
            *RollUpScore.Meta.constraints,
            models.UniqueConstraint(fields=["run", "institution"], name="institution_score_unique_per_run"),
        ]
        indexes = [
            models.Index(fields=["run", "rank"], name="institution_run_rank_idx"),
            models.Index(fields=["run", "-sum_score"], name="institution_run_sum_idx"),
            models.Index(fields=["run", "-h_index"], name="institution_run_h_idx"),
        ]

    def __str__(self) -> str:
        return f"I{self.institution_id} in run {self.run_id}: {self.researcher_score:.3f}"


class ScoredWorkQuerySet(WorkQuerySet["ScoredWork"]):
    def with_score(self, run_id: int | None) -> Self:
        """Each work carries its figures from scoring run `run_id` (None where it was not scored,
        or when there is no run) as attributes named after the PaperScore fields; one join, no
        extra query."""
        works = self.annotate(run_score=FilteredRelation("scores", condition=Q(scores__run_id=run_id)))
        return works.annotate(**{name: F(f"run_score__{name}") for name in SCORE_FIELDS})

    def ranked(self, run_id: int | None) -> Self:
        """Works ranked in the run (a DataRank above zero), best first; equal ranks go by id so
        the order is stable."""
        return self.with_score(run_id).filter(rank__isnull=False).order_by("rank", "id")

    def in_tier(self, tier: int) -> Self:
        """Ranked works (with_score) of one tier, read off the (run, tier, rank) index."""
        return self.filter(tier=tier)

    def from_rank(self, rank: int) -> Self:
        """Ranked works (with_score) from `rank` down, read off the (run, rank) index."""
        return self.filter(rank__gte=rank)

    def for_page(self, run_id: int | None) -> Self:
        """Works with their corpus entry, their figures from run `run_id` and when their FAIR
        signals were last checked (`enriched_at`, None before any), in one query."""
        latest_signal = FairSignal.objects.filter(work_id=OuterRef("id")).order_by("-checked_at")
        return (
            self.select_related("corpus_entry")
            .with_score(run_id)
            .annotate(enriched_at=Subquery(latest_signal.values("checked_at")[:1]))
        )


ScoredWorkManager = models.Manager.from_queryset(ScoredWorkQuerySet)


class ScoredWork(Work):
    """A work as the scoring runs see it: the same rows, with the reads that join its scores."""

    objects: ClassVar[ScoredWorkManager] = ScoredWorkManager()

    # Put on by the querysets' annotations, so present only on works read through them: the
    # SCORE_FIELDS by with_score (None where the run did not score the work; rank, top_percent
    # and tier also where it scored 0), enriched_at by for_page, self_citation by capped_citers_of.
    base_contribution: float | None
    network_contribution: float | None
    datarank: float | None
    citing_works: int | None
    citers_with_signal: int | None
    self_citations_excluded: int | None
    cap_bound: bool | None
    rank: int | None
    top_percent: float | None
    tier: int | None
    cohort_size: int | None
    cohort_top_percent: float | None
    enriched_at: datetime | None
    self_citation: bool

    class Meta:
        proxy = True


class FairEvaluationQuerySet(models.QuerySet["FairEvaluation"]):
    def current(self) -> Self:
        """Each work's latest evaluation under the method in use."""
        return self.filter(is_latest=True, method_version=METHOD_VERSION)

    def calibrating(self) -> Self:
        """What calibration ranks against: the current evaluations that are complete (a
        provisional score is placed in this pool but not part of it)."""
        return self.current().filter(provisional=False)


class FairEvaluation(models.Model):
    """One FAIR evaluation of a work (history kept: one row per evaluation). The calibrated score
    is not stored: it is the raw score's percentile among the current evaluations, read when shown,
    so adding papers recalibrates everyone without fetching anything again."""

    work = models.ForeignKey("papers.Work", on_delete=models.CASCADE, related_name="fair_evaluations")
    method_version = models.CharField(max_length=40)
    evaluated_at = models.DateTimeField()
    f = models.FloatField()
    a = models.FloatField()
    i = models.FloatField()
    r = models.FloatField()
    raw = models.FloatField()
    checks = models.JSONField(
        default=list, help_text="[{key, principle, metric, title, passed, pending, evidence, fix}]"
    )
    provisional = models.BooleanField(
        default=False, help_text="Some checks wait for a source that has not answered (listed as pending)."
    )
    is_latest = models.BooleanField(default=True)

    objects = FairEvaluationQuerySet.as_manager()

    class Meta:
        # The table it had when it lived in papers, kept across the move (migration scoring.0004).
        db_table = "papers_fairevaluation"
        ordering = ["-evaluated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["work"], condition=Q(is_latest=True), name="fair_one_latest_per_work"),
            *(
                models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}) & Q(**{f"{name}__lte": 100}),
                                       name=f"fair_{name}_0_100")
                for name in ("f", "a", "i", "r", "raw")
            ),
        ]  # fmt: skip
        indexes = [models.Index(fields=["is_latest", "method_version", "raw"], name="fair_current_raw_idx")]

    def __str__(self) -> str:
        return f"W{self.work_id} FAIR {self.raw:.1f} ({self.method_version}, {self.evaluated_at:%Y-%m-%d})"


class SnapshotBuild(models.Model):
    """One `build_index` over an OpenAlex snapshot, written as the build goes: a build in
    progress shows its finished stages, a failed one its error, and a killed one stays "running"
    until the next build marks it abandoned."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned"

    snapshot_path = models.CharField(max_length=1000)
    manifest_date = models.DateField(
        null=True,
        blank=True,
        help_text="The newest updated_date partition of the snapshot: OpenAlex's manifest carries no date of its own.",
    )
    fingerprint = models.CharField(max_length=64, blank=True, help_text="Of the parts, their sizes and the settings.")
    workdir = models.CharField(max_length=1000, blank=True)
    threads = models.PositiveSmallIntegerField()
    memory_limit = models.CharField(max_length=50, blank=True, help_text="DuckDB's; empty: its default.")
    citer_cap = models.PositiveIntegerField()
    damping = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stages = models.JSONField(
        default=list,
        help_text="[{name, seconds, rows, skipped}] in order; skipped: its output was there from an earlier build.",
    )
    records = models.PositiveBigIntegerField(default=0, help_text="Non-empty lines of the parts.")
    works = models.PositiveBigIntegerField(default=0, help_text="Distinct works kept.")
    duplicates = models.PositiveBigIntegerField(default=0, help_text="Older copies of a work dropped.")
    legacy_dropped = models.PositiveBigIntegerField(default=0, help_text="Legacy grant records dropped.")
    bad_lines = models.JSONField(default=list, help_text="[{part, line, reason}], the first ones only.")
    bad_lines_total = models.PositiveBigIntegerField(default=0)
    mismatched_parts = models.JSONField(
        default=list, help_text="Parts not as the manifest lists them; a build with any publishes nothing."
    )
    peak_memory = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Bytes: the build's process at its largest (getrusage), DuckDB included."
    )
    error = models.TextField(blank=True)
    run = models.ForeignKey(
        ScoringRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshot_builds"
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Build {self.pk} of {self.snapshot_path} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None
