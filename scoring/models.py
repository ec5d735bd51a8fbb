"""Scoring runs and the per-paper scores each run produced."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, FilteredRelation, Q


class ScoringRunQuerySet(models.QuerySet):
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
    links_read = models.PositiveBigIntegerField(default=0, help_text="Citation links to corpus papers the run read.")
    citers_read = models.PositiveIntegerField(default=0, help_text="Distinct citing works among those links.")
    data_as_of = models.DateTimeField(
        null=True, blank=True, help_text="When the newest record the run read was fetched from OpenAlex."
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    error = models.TextField(blank=True)

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
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    def previous(self) -> "ScoringRun | None":
        """The succeeded run before this one: what this run's diff compares against."""
        earlier = ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED, pk__lt=self.pk)
        return earlier.order_by("-pk").first()


class PaperScoreQuerySet(models.QuerySet):
    def against(self, previous_run_id: int | None) -> "PaperScoreQuerySet":
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

    def history(self, work_id: int) -> "PaperScoreQuerySet":
        """A paper's scores in every succeeded run, oldest first."""
        scores = self.filter(work_id=work_id, run__status=ScoringRun.Status.SUCCEEDED)
        return scores.select_related("run").order_by("run__finished_at", "run_id")


class PaperScore(models.Model):
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores")
    work = models.ForeignKey("papers.Work", on_delete=models.CASCADE, related_name="scores")
    base_contribution = models.FloatField()
    network_contribution = models.FloatField()
    datarank = models.FloatField()
    citing_works = models.PositiveIntegerField(help_text="Citers kept after the cap and the self-citation filter.")
    citers_with_signal = models.PositiveIntegerField(help_text="Kept citers with at least one citation.")
    self_citations_excluded = models.PositiveIntegerField()
    cap_bound = models.BooleanField(help_text="The paper had more citers than the cap.")
    rank = models.PositiveIntegerField()
    top_percent = models.FloatField()
    tier = models.PositiveSmallIntegerField(help_text="1 (S1, top 20%) to 5 (S5).")

    objects = PaperScoreQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "work"], name="score_unique_per_run"),
            models.CheckConstraint(condition=Q(base_contribution__gte=0), name="score_base_non_negative"),
            models.CheckConstraint(condition=Q(network_contribution__gte=0), name="score_network_non_negative"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="score_rank_positive"),
            models.CheckConstraint(condition=Q(tier__gte=1) & Q(tier__lte=5), name="score_tier_1_5"),
        ]
        indexes = [models.Index(fields=["run", "rank"], name="score_run_rank_idx")]

    def __str__(self) -> str:
        return f"W{self.work_id} in run {self.run_id}: {self.datarank:.3f}"
