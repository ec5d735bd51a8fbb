"""The methodology page's live figures: how DataRank and the FAIR score spread over the corpus,
and every FAIR check the method has."""

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max

from papers.models import Facts, OpenAlexFacts, Work
from scoring.fair import metrics
from scoring.fair.calibration import fair_distribution, unevaluated_corpus_count
from scoring.models import FairEvaluation, ScoringRun
from scoring.summary import DATARANK_BANDS


def methodology_figures() -> dict:
    """The live figures the methodology page quotes, whatever the corpus size: the run's own
    (ScoringRun.figures, computed when it was published) and the FAIR distribution's."""
    run = ScoringRun.objects.current()
    parameters = ScoringRun.parameters(run)
    datarank = None
    if run is not None and run.figures:
        figures = run.figures["datarank"]
        datarank = {
            **figures,
            "scored": run.papers_scored,
            "ranked": run.papers_ranked,
            "not_ranked": run.papers_not_ranked,
            "bands": [
                {"label": band_label(low, high), "count": count}
                for (low, high), count in zip(DATARANK_BANDS, figures["bands"], strict=True)
            ],
        }
    # An evaluation of no facts at all lists every check the method has, in order.
    catalogue = metrics.evaluate(Facts(openalex=EMPTY_OPENALEX)).checks
    return {
        # The corpus as the current run found it; before any run there is no big corpus to count.
        "corpus_size": run.papers_scored if run else Work.objects.in_corpus().count(),
        "run": run,
        "datarank": datarank,
        "damping": parameters.damping,
        "cap": parameters.cap,
        **fair_figures(run),
        "fair_method_version": metrics.METHOD_VERSION,
        "fair_catalogue": [
            {
                "principle": metrics.PRINCIPLE_NAMES[principle],
                "checks": [c for c in catalogue if c.principle == principle],
            }
            for principle in metrics.PRINCIPLES
        ],
    }


def fair_figures(run: ScoringRun | None) -> dict:
    """The FAIR distribution and the corpus papers not evaluated yet: counted once per change,
    not per request. Every evaluation is a new row, so the newest id says when the distribution
    can have moved; the corpus moves with runs (and, between them, the page cache's lifetime
    bounds how long a tracked paper waits to be counted)."""
    newest = FairEvaluation.objects.aggregate(newest=Max("id"))["newest"]
    key = f"methodology-fair:{newest}:{run.pk if run else None}"
    figures = cache.get(key)
    if figures is None:
        figures = {"fair": fair_distribution(), "fair_unevaluated": unevaluated_corpus_count()}
        cache.set(key, figures, timeout=settings.DATARANK_PAGE_CACHE_SECONDS)
    return figures


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
