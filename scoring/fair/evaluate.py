"""Facts → a stored FAIR evaluation (history kept: one row per evaluation, the newest marked
latest), and which papers are due for another."""

from datetime import datetime

from django.db.models import F, OuterRef, Subquery

from papers.models import Facts, Work
from scoring.fair import metrics
from scoring.models import FairEvaluation


def save_evaluation(*, work_id: int, facts: Facts, now: datetime) -> FairEvaluation:
    """Score the work from complete facts (metrics.evaluate refuses incomplete ones) and make
    that its latest evaluation."""
    evaluation = metrics.evaluate(facts)
    FairEvaluation.objects.filter(work_id=work_id, is_latest=True).update(is_latest=False)
    return FairEvaluation.objects.create(
        work_id=work_id,
        method_version=metrics.METHOD_VERSION,
        evaluated_at=now,
        f=evaluation.f,
        a=evaluation.a,
        i=evaluation.i,
        r=evaluation.r,
        raw=evaluation.raw,
        checks=[check.as_dict() for check in evaluation.checks],
    )


def stale_work_ids(*, limit: int) -> list[int]:
    """Corpus papers never evaluated first, then those whose latest evaluation is oldest (a
    paper whose sources could not be reached keeps its old evaluation, so it comes early)."""
    latest = FairEvaluation.objects.filter(work=OuterRef("pk"), is_latest=True).values("evaluated_at")[:1]
    works = Work.objects.in_corpus().annotate(last=Subquery(latest))
    return list(works.order_by(F("last").asc(nulls_first=True), "id").values_list("id", flat=True)[:limit])
