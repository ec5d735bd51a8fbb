"""The methodology page's live figures: how DataRank and the FAIR score spread over the corpus,
and every FAIR check the method has."""

from django.db.models import Avg, Count, Max, Min, Q

from papers.models import Facts, OpenAlexFacts, Work
from scoring.fair import metrics
from scoring.fair.calibration import fair_distribution, unevaluated_corpus_count
from scoring.models import PaperScore, ScoringRun

# DataRank bands for the methodology page's distribution of ranked papers (the score is a log
# scale, so bands widen; most datasets score under 1, so that is cut finer); the first starts
# above 0, a DataRank of 0 being no rank.
DATARANK_BANDS = ((0, 0.1), (0.1, 0.2), (0.2, 0.5), (0.5, 1), (1, 2), (2, 5), (5, 10), (10, 20), (20, None))


def methodology_figures() -> dict:
    """The live figures the methodology page quotes, in five queries whatever the corpus size."""
    run = ScoringRun.objects.current()
    parameters = ScoringRun.parameters(run)
    datarank = None
    if run is not None:
        # Only ranked papers (a DataRank above zero) fall in the bands; the rest are counted apart.
        ranked = Q(rank__isnull=False)
        bands = {
            f"band{number}": Count(
                "id", filter=ranked & Q(datarank__gte=low) & (Q(datarank__lt=high) if high is not None else Q())
            )
            for number, (low, high) in enumerate(DATARANK_BANDS)
        }
        figures = PaperScore.objects.filter(run=run).aggregate(
            scored=Count("id"),
            ranked=Count("id", filter=ranked),
            lowest=Min("datarank", filter=ranked),
            mean=Avg("datarank", filter=ranked),
            highest=Max("datarank", filter=ranked),
            with_cohort=Count("id", filter=Q(cohort_top_percent__isnull=False)),
            cap_bound=Count("id", filter=Q(cap_bound=True)),
            **bands,
        )
        datarank = {
            **figures,
            "not_ranked": figures["scored"] - figures["ranked"],
            "bands": [
                {"label": band_label(low, high), "count": figures[f"band{n}"]}
                for n, (low, high) in enumerate(DATARANK_BANDS)
            ],
        }
    # An evaluation of no facts at all lists every check the method has, in order.
    catalogue = metrics.evaluate(Facts(openalex=EMPTY_OPENALEX)).checks
    return {
        "corpus_size": Work.objects.in_corpus().count(),
        "run": run,
        "datarank": datarank,
        "damping": parameters.damping,
        "cap": parameters.cap,
        "fair": fair_distribution(),
        "fair_unevaluated": unevaluated_corpus_count(),
        "fair_method_version": metrics.METHOD_VERSION,
        "fair_catalogue": [
            {
                "principle": metrics.PRINCIPLE_NAMES[principle],
                "checks": [c for c in catalogue if c.principle == principle],
            }
            for principle in metrics.PRINCIPLES
        ],
    }


def band_label(low: float, high: float | None) -> str:
    if high is None:
        return f"{low} and above"
    # Ranked papers only: the lowest band starts above 0.
    return f"under {high}" if low == 0 else f"{low} to {high}"


EMPTY_OPENALEX = OpenAlexFacts(
    doi="", title="", abstract="", publication_year=None, venue="", type="", is_oa=False, oa_status="",
    license="", indexed_in=(), repository_locations=(), topics=(), datasets=(), authors=0,
    authors_with_orcid=0, data_paper_check=None,
)  # fmt: skip
