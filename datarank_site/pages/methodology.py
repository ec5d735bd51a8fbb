"""The methodology page's live figures: how DataRank and the FAIR score spread over the corpus,
and every FAIR check the method has."""

from django.db.models import Avg, Count, Max, Min, Q

from papers.models import Facts, OpenAlexFacts, Work
from scoring.fair import metrics
from scoring.fair.calibration import fair_distribution, unevaluated_corpus_count
from scoring.models import PaperScore, ScoringRun

# DataRank bands for the methodology page's distribution (the score is a log scale, so bands widen).
DATARANK_BANDS = ((0, 1), (1, 2), (2, 5), (5, 10), (10, 20), (20, None))


def methodology_figures() -> dict:
    """The live figures the methodology page quotes, in five queries whatever the corpus size."""
    run = ScoringRun.objects.current()
    parameters = ScoringRun.parameters(run)
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


EMPTY_OPENALEX = OpenAlexFacts(
    doi="", title="", abstract="", publication_year=None, venue="", type="", is_oa=False, oa_status="",
    license="", indexed_in=(), repository_locations=(), topics=(), datasets=(), authors=0,
    authors_with_orcid=0, data_paper_check=None,
)  # fmt: skip
