"""FAIR for the papers we hold: gather the facts (OpenAlex fields we hold, doi.org/ra, DataCite),
keep the checklist signals, store an evaluation, and read them back for the pages.

The arithmetic is in scoring/fair.py. A source that cannot be reached never turns into a "no":
the signals it feeds say "could not check" and keep their last known value, no evaluation is
stored from the partial facts, and the work is handed back to be retried.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count, Exists, F, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from papers.datacite import DataCiteClient, DataCiteError, PermanentError
from papers.models import DoiPrefixAgency, FairEvaluation, FairSignal, Work
from scoring.fair import metrics as fair
from scoring.models import PaperScore, ScoringRun

logger = logging.getLogger(__name__)


@dataclass
class FairRunSummary:
    evaluated: list[int] = field(default_factory=list)
    # Works a source could not be reached for: their signals say "could not check"; retry them.
    could_not_check: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def evaluate_fair(
    *, work_ids: Sequence[int], client: DataCiteClient | None = None, now: datetime | None = None
) -> FairRunSummary:
    """Gather, check and score these works. Once a source fails in a run it is not asked again
    in that run (the rest say "could not check" at once), so an offline run ends quickly."""
    client = client or DataCiteClient()
    now = now or timezone.now()
    works = (
        Work.objects.filter(id__in=work_ids)
        .select_related("corpus_entry")
        .annotate(
            author_count=Count("authorships", distinct=True),
            orcid_count=Count("authorships", filter=~Q(authorships__author__orcid=""), distinct=True),
        )
        .order_by("id")
    )
    summary = FairRunSummary()
    down: dict[str, str] = {}
    for work in works:
        facts = _gather(work=work, client=client, down=down)
        with transaction.atomic():
            _save_signals(work=work, signals=fair.checklist(facts), now=now)
            if facts.complete:
                _save_evaluation(work=work, evaluation=fair.evaluate(facts), now=now)
        if facts.complete:
            summary.evaluated.append(work.id)
        else:
            summary.could_not_check.append(work.id)
            summary.errors.extend(error for error in facts.errors if error not in summary.errors)
    return summary


def stale_work_ids(*, limit: int) -> list[int]:
    """Corpus papers never evaluated first, then those whose latest evaluation is oldest (a
    paper whose sources could not be reached keeps its old evaluation, so it comes early)."""
    latest = FairEvaluation.objects.filter(work=OuterRef("pk"), is_latest=True).values("evaluated_at")[:1]
    works = Work.objects.in_corpus().annotate(last=Subquery(latest))
    return list(works.order_by(F("last").asc(nulls_first=True), "id").values_list("id", flat=True)[:limit])


def _gather(*, work: Work, client: DataCiteClient, down: dict[str, str]) -> fair.Facts:
    entry = getattr(work, "corpus_entry", None)
    openalex = fair.OpenAlexFacts(
        doi=work.doi,
        title=work.title,
        abstract=work.abstract,
        publication_year=work.publication_year,
        venue=work.venue,
        type=work.type,
        is_oa=work.is_oa,
        oa_status=work.oa_status,
        license=work.license,
        indexed_in=tuple(work.indexed_in or ()),
        repository_locations=tuple(
            (location.get("source", ""), location.get("url", "")) for location in work.repository_locations or ()
        ),
        topics=tuple(work.topics or ()),
        datasets=tuple(work.datasets or ()),
        authors=work.author_count,
        authors_with_orcid=work.orcid_count,
        data_paper_check=entry.check_passed if entry else None,
    )
    if not work.doi:
        return fair.Facts(openalex=openalex)
    agency, agency_error = _agency(doi=work.doi, client=client, down=down)
    record, datacite_error = None, ""
    # Only DataCite DOIs have a DataCite record: a known other agency saves the call.
    if agency_error or agency in ("", "DataCite"):
        record, datacite_error = _ask(lambda: client.get_doi(work.doi), source="datacite", down=down)
    pointing, pointing_error = _ask(lambda: client.records_pointing_at(work.doi), source="datacite", down=down)
    return fair.Facts(
        openalex=openalex,
        agency=agency,
        agency_error=agency_error,
        datacite=record,
        datacite_error=datacite_error,
        pointing=pointing.records if pointing else (),
        pointing_total=pointing.total if pointing else 0,
        pointing_error=pointing_error,
    )


def _agency(*, doi: str, client: DataCiteClient, down: dict[str, str]) -> tuple[str, str]:
    prefix = doi.split("/", 1)[0]
    cached = DoiPrefixAgency.objects.filter(prefix=prefix).values_list("agency", flat=True).first()
    if cached:
        return cached, ""
    agency, error = _ask(lambda: client.registration_agency(doi), source="ra", down=down)
    if agency:
        DoiPrefixAgency.objects.update_or_create(
            prefix=prefix, defaults={"agency": agency, "checked_at": timezone.now()}
        )
    return agency or "", error


def _ask(call, *, source: str, down: dict[str, str]):
    """(answer, "") or (None, why it could not be had)."""
    if source in down:
        return None, down[source]
    try:
        return call(), ""
    except PermanentError as error:
        logger.warning("FAIR: %s", error)
        return None, str(error)
    except DataCiteError as error:
        down[source] = str(error)
        return None, str(error)


def _save_signals(*, work: Work, signals: list[fair.Signal], now: datetime) -> None:
    held = {signal.key: signal for signal in FairSignal.objects.filter(work=work)}
    for signal in signals:
        row = held.get(signal.key) or FairSignal(work=work, key=signal.key)
        row.status, row.source, row.field, row.evidence, row.checked_at = (
            signal.status,
            signal.source,
            signal.field,
            signal.evidence,
            now,
        )
        if signal.status != FairSignal.Status.UNKNOWN:
            row.last_known, row.last_known_evidence, row.last_known_at = signal.status, signal.evidence, now
        row.save()


def _save_evaluation(*, work: Work, evaluation: fair.Evaluation, now: datetime) -> None:
    FairEvaluation.objects.filter(work=work, is_latest=True).update(is_latest=False)
    FairEvaluation.objects.create(
        work=work,
        method_version=fair.METHOD_VERSION,
        evaluated_at=now,
        f=evaluation.f,
        a=evaluation.a,
        i=evaluation.i,
        r=evaluation.r,
        raw=evaluation.raw,
        checks=[check.as_dict() for check in evaluation.checks],
    )


# --- Reads for the pages ------------------------------------------------------------------


def calibrated(raw: float) -> tuple[float | None, int]:
    """The calibrated score of a raw score among the current evaluations, and how many there
    are: one aggregate query, from stored raw scores only (adding papers recalibrates everyone
    without fetching anything)."""
    counts = FairEvaluation.objects.current().aggregate(
        total=Count("id"), at_or_below=Count("id", filter=Q(raw__lte=raw))
    )
    if not counts["total"]:
        return None, 0
    return 100.0 * counts["at_or_below"] / counts["total"], counts["total"]


def fair_for_page(work: Work) -> dict:
    """The context the paper page's FAIR sections need, in three queries whatever the paper:
    the checklist grouped by principle, the latest evaluation and its calibrated score."""
    signals = {signal.key: signal for signal in work.fair_signals.all()}
    evaluation = FairEvaluation.objects.filter(work=work, is_latest=True).first()
    score, evaluated_papers = (None, 0)
    if evaluation is not None and evaluation.method_version == fair.METHOD_VERSION:
        score, evaluated_papers = calibrated(evaluation.raw)
    if evaluation is not None:
        # Read-time, never stored: templates ask the evaluation for it.
        evaluation.calibrated = score
    return {
        "fair_groups": fair.group_checklist(signals),
        "fair_checked": bool(signals),
        "fair_evaluation": evaluation,
        "fair_calibrated": score,
        "fair_evaluated_papers": evaluated_papers,
    }


def fair_page(*, work: Work) -> dict:
    """What /papers/W…/fair/ shows: fair_for_page's context plus the checks grouped by principle,
    the chart's data and the history of evaluations (one more query)."""
    context = fair_for_page(work)
    evaluation = context["fair_evaluation"]
    checks = evaluation.checks if evaluation else []
    context["fair_history"] = list(FairEvaluation.objects.filter(work=work))
    context["fair_principles"] = [
        {
            "code": principle,
            "name": fair.PRINCIPLE_NAMES[principle],
            "score": getattr(evaluation, principle.lower()) if evaluation else None,
            "checks": [check for check in checks if check["principle"] == principle],
        }
        for principle in fair.PRINCIPLES
    ]
    context["fair_chart"] = (
        {
            "principles": [fair.PRINCIPLE_NAMES[principle] for principle in fair.PRINCIPLES],
            "scores": [getattr(evaluation, principle.lower()) for principle in fair.PRINCIPLES],
        }
        if evaluation
        else None
    )
    context["fair_method_version"] = fair.METHOD_VERSION
    return context


def fair_distribution() -> dict:
    """For the methodology page: how many papers are evaluated and how their raw scores spread,
    in ten bands of ten points (one query)."""
    bands = {
        f"band{low}": Count("id", filter=Q(raw__gte=low) & (Q(raw__lt=low + 10) if low < 90 else Q(raw__lte=100)))
        for low in range(0, 100, 10)
    }
    counts = FairEvaluation.objects.current().aggregate(total=Count("id"), **bands)
    return {
        "total": counts["total"],
        "bands": [{"label": f"{low} to {low + 10}", "count": counts[f"band{low}"]} for low in range(0, 100, 10)],
    }


def unevaluated_corpus_count() -> int:
    current = FairEvaluation.objects.current().filter(work=OuterRef("pk"))
    return Work.objects.in_corpus().exclude(Exists(current)).count()


# DataRank bands for the methodology page's distribution (the score is a log scale, so bands widen).
DATARANK_BANDS = ((0, 1), (1, 2), (2, 5), (5, 10), (10, 20), (20, None))


def methodology_figures() -> dict:
    """The live figures the methodology page quotes, in five queries whatever the corpus size."""
    run = ScoringRun.objects.current()
    datarank = None
    if run is not None:
        bands = {
            f"band{number}": Count(
                "id", filter=Q(datarank__gte=low) & (Q(datarank__lt=high) if high is not None else Q())
            )
            for number, (low, high) in enumerate(DATARANK_BANDS)
        }
        figures = PaperScore.objects.filter(run=run).aggregate(
            scored=Count("id"),
            lowest=Min("datarank"),
            mean=Avg("datarank"),
            highest=Max("datarank"),
            cap_bound=Count("id", filter=Q(cap_bound=True)),
            **bands,
        )
        datarank = {
            **figures,
            "bands": [
                {"label": f"{low} to {high}" if high is not None else f"{low} and above", "count": figures[f"band{n}"]}
                for n, (low, high) in enumerate(DATARANK_BANDS)
            ],
        }
    # An evaluation of no facts at all lists every check the method has, in order.
    catalogue = fair.evaluate(fair.Facts(openalex=EMPTY_OPENALEX)).checks
    return {
        "corpus_size": Work.objects.in_corpus().count(),
        "run": run,
        "datarank": datarank,
        "damping": run.damping if run else settings.DATARANK_DAMPING,
        "cap": run.citer_cap if run else settings.DATARANK_CITER_CAP,
        "fair": fair_distribution(),
        "fair_unevaluated": unevaluated_corpus_count(),
        "fair_method_version": fair.METHOD_VERSION,
        "fair_catalogue": [
            {"principle": fair.PRINCIPLE_NAMES[principle], "checks": [c for c in catalogue if c.principle == principle]}
            for principle in fair.PRINCIPLES
        ],
    }


EMPTY_OPENALEX = fair.OpenAlexFacts(
    doi="", title="", abstract="", publication_year=None, venue="", type="", is_oa=False, oa_status="",
    license="", indexed_in=(), repository_locations=(), topics=(), datasets=(), authors=0,
    authors_with_orcid=0, data_paper_check=None,
)  # fmt: skip
