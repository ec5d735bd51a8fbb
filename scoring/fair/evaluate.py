"""Facts → stored FAIR evaluations (history kept: one row per evaluation, the newest marked
latest), and which papers are due for another."""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Exists, OuterRef, Subquery

from papers.models import Facts, Work
from scoring.fair import metrics
from scoring.models import FairEvaluation


def save_evaluations(*, gathered: Sequence[tuple[int, Facts]], now: datetime) -> None:
    """Score each work from its facts (provisional where a source has not answered) and make that
    its latest evaluation. An evaluation that finds exactly what the latest one found (a retry
    while DataCite is down, say) only moves that one's date: the history keeps changes, not
    attempts. A few statements whatever the number of works."""
    work_ids = [work_id for work_id, _ in gathered]
    latest = {
        evaluation.work_id: evaluation for evaluation in FairEvaluation.objects.current().filter(work_id__in=work_ids)
    }
    fresh, same = [], []
    for work_id, facts in gathered:
        result = metrics.evaluate(facts)
        evaluation = FairEvaluation(
            work_id=work_id,
            method_version=metrics.METHOD_VERSION,
            evaluated_at=now,
            f=result.f,
            a=result.a,
            i=result.i,
            r=result.r,
            raw=result.raw,
            provisional=result.provisional,
            checks=[check.as_dict() for check in result.checks],
        )
        held = latest.get(work_id)
        if held is not None and _findings(held) == _findings(evaluation):
            held.evaluated_at = now
            same.append(held)
        else:
            fresh.append(evaluation)
    FairEvaluation.objects.bulk_update(same, ["evaluated_at"])
    FairEvaluation.objects.filter(work_id__in=[evaluation.work_id for evaluation in fresh], is_latest=True).update(
        is_latest=False
    )
    FairEvaluation.objects.bulk_create(fresh)


def _findings(evaluation: FairEvaluation) -> tuple:
    return (
        evaluation.f,
        evaluation.a,
        evaluation.i,
        evaluation.r,
        evaluation.raw,
        evaluation.provisional,
        evaluation.checks,
    )


def arrived_work_ids() -> list[int]:
    """Corpus papers whose record arrived (file, API, snapshot) after their current evaluation,
    or that have none: what a pass without network evaluates as works come in."""
    evaluated_since = FairEvaluation.objects.current().filter(
        work=OuterRef("pk"), evaluated_at__gte=OuterRef("fetched_at")
    )
    return list(Work.objects.in_corpus().exclude(Exists(evaluated_since)).order_by("id").values_list("id", flat=True))


def stale_work_ids(*, limit: int) -> list[int]:
    """Corpus papers never evaluated under the current method first, then those whose score is
    provisional (a source has not answered), then those whose latest evaluation is oldest."""
    latest = FairEvaluation.objects.current().filter(work=OuterRef("pk"))
    works = Work.objects.in_corpus().annotate(
        evaluated=Exists(latest),
        settled=Exists(latest.filter(provisional=False)),
        last=Subquery(latest.values("evaluated_at")[:1]),
    )
    return list(works.order_by("evaluated", "settled", "last", "id").values_list("id", flat=True)[:limit])
