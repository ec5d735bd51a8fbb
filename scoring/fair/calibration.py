"""The calibrated FAIR score: a raw score's percentile among the current complete evaluations,
read from stored raw scores only, so adding papers recalibrates everyone without fetching
anything. Provisional scores are left out of the pool, so that a paper waiting for DataCite
moves no one else."""

from django.db.models import Count, Exists, OuterRef, Q

from papers.models import Work
from scoring.models import FairEvaluation


def calibrated(raw: float) -> tuple[float | None, int]:
    """The calibrated score of a raw score among the current complete evaluations, and how many
    there are: one aggregate query."""
    counts = FairEvaluation.objects.calibrating().aggregate(
        total=Count("id"), at_or_below=Count("id", filter=Q(raw__lte=raw))
    )
    if not counts["total"]:
        return None, 0
    return 100.0 * counts["at_or_below"] / counts["total"], counts["total"]


def fair_distribution() -> dict:
    """How many papers are completely evaluated and how their raw scores spread, in ten bands of
    ten points, and how many scores are provisional (one query)."""
    complete = Q(provisional=False)
    bands = {
        f"band{low}": Count(
            "id", filter=complete & Q(raw__gte=low) & (Q(raw__lt=low + 10) if low < 90 else Q(raw__lte=100))
        )
        for low in range(0, 100, 10)
    }
    counts = FairEvaluation.objects.current().aggregate(
        total=Count("id", filter=complete), waiting=Count("id", filter=Q(provisional=True)), **bands
    )
    return {
        "total": counts["total"],
        "provisional": counts["waiting"],
        "bands": [{"label": f"{low} to {low + 10}", "count": counts[f"band{low}"]} for low in range(0, 100, 10)],
    }


def unevaluated_corpus_count() -> int:
    current = FairEvaluation.objects.current().filter(work=OuterRef("pk"))
    return Work.objects.in_corpus().exclude(Exists(current)).count()
