"""What pages quote about a run as a whole — the DataRank distribution on the methodology page,
the ranking's subfields, the sitemap's pages — computed once from the run's arrays when it is
published and kept in ScoringRun.figures, so that no request counts a million score rows."""

import numpy as np
from django.db.models import Min
from django.db.models.fields.json import KT

from papers.models import Work
from scoring.engine import CorpusInputs, CorpusScores
from scoring.models import InstitutionScore, PaperScore, ResearcherScore, ScoringRun

# DataRank bands for the methodology page's distribution of ranked papers (the score is a log
# scale, so bands widen; most datasets score under 1, so that is cut finer); the first starts
# above 0, a DataRank of 0 being no rank.
DATARANK_BANDS = ((0, 0.1), (0.1, 0.2), (0.2, 0.5), (0.5, 1), (1, 2), (2, 5), (5, 10), (10, 20), (20, None))

# URLs per sitemap file: the most the sitemap protocol allows.
SITEMAP_LIMIT = 50_000


def run_figures(
    *, inputs: CorpusInputs, scores: CorpusScores, researcher_ids: np.ndarray, institution_ids: np.ndarray
) -> dict:
    """The figures of a run being published, from the engine's arrays; the ids are the
    researchers and institutions it scored, ascending."""
    # The engine's inputs per paper, in the ascending id order of its scores; 0 is no subfield.
    order = np.argsort(inputs.paper_ids, kind="stable")
    subfield = np.zeros(len(order), np.int64) if inputs.paper_subfield is None else inputs.paper_subfield[order]
    return figures_of(
        paper_ids=scores.paper_ids,
        datarank=scores.datarank,
        tier=scores.tier,
        ranked=scores.rank > 0,
        with_cohort=~np.isnan(scores.cohort_top_percent),
        cap_bound=scores.cap_bound,
        subfield=subfield,
        researcher_ids=researcher_ids,
        institution_ids=institution_ids,
    )


def recount(run: ScoringRun) -> dict:
    """The same figures read back from a published run's rows: for runs published before runs
    kept their figures (migration scoring 0010)."""
    scores = PaperScore.objects.filter(run=run).order_by("work_id")
    columns = ("work_id", "datarank", "rank", "tier", "cohort_top_percent", "cap_bound", "work__subfield_id")
    rows = list(scores.values_list(*columns))
    ids, datarank, rank, tier, cohort, cap_bound, subfield = zip(*rows, strict=True) if rows else [()] * 7
    ordered = {
        model: np.array(model.objects.filter(run=run).order_by(key).values_list(key, flat=True), np.int64)
        for model, key in ((ResearcherScore, "author_id"), (InstitutionScore, "institution_id"))
    }
    return figures_of(
        paper_ids=np.array(ids, np.int64),
        datarank=np.array(datarank, np.float64),
        tier=np.array([value or 0 for value in tier], np.int64),
        ranked=np.array([value is not None for value in rank], bool),
        with_cohort=np.array([value is not None for value in cohort], bool),
        cap_bound=np.array(cap_bound, bool),
        subfield=np.array([value or 0 for value in subfield], np.int64),
        researcher_ids=ordered[ResearcherScore],
        institution_ids=ordered[InstitutionScore],
    )


def figures_of(
    *,
    paper_ids: np.ndarray,
    datarank: np.ndarray,
    tier: np.ndarray,
    ranked: np.ndarray,
    with_cohort: np.ndarray,
    cap_bound: np.ndarray,
    subfield: np.ndarray,
    researcher_ids: np.ndarray,
    institution_ids: np.ndarray,
) -> dict:
    """The run's figures as JSON, from per-paper arrays in ascending id order."""
    scored = datarank[ranked]
    bands = [
        int(np.count_nonzero((scored >= low) & (scored < high if high is not None else True)))
        for low, high in DATARANK_BANDS
    ]
    fields, counts = np.unique(subfield[ranked & (subfield > 0)], return_counts=True)
    return {
        "datarank": {
            "lowest": float(scored.min()) if len(scored) else None,
            "mean": float(scored.mean()) if len(scored) else None,
            "highest": float(scored.max()) if len(scored) else None,
            "with_cohort": int(np.count_nonzero(with_cohort)),
            "cap_bound": int(np.count_nonzero(cap_bound)),
            "bands": bands,
        },
        "subfields": _named_subfields(dict(zip(fields.tolist(), counts.tolist(), strict=True))),
        # Each tier's first place in the ranking (1-based; None for an empty tier): tiers follow
        # rank, so it is one more than the papers of the tiers above. The ranking's pages of a
        # tier start there (datarank_site.pages.views.ranking).
        "tier_starts": [
            1 + int(np.count_nonzero((tier > 0) & (tier < t))) if np.any(tier == t) else None for t in range(1, 6)
        ],
        # The first id of every sitemap file, which it reads from off the run's indexes.
        "sitemap_starts": {
            "papers": paper_ids[::SITEMAP_LIMIT].tolist(),
            "researchers": researcher_ids[::SITEMAP_LIMIT].tolist(),
            "institutions": institution_ids[::SITEMAP_LIMIT].tolist(),
        },
    }


def _named_subfields(ranked: dict[int, int]) -> list[list]:
    """[id, name, ranked papers] per subfield, the name as OpenAlex gives it on the papers."""
    names = dict(
        Work.objects.in_corpus()
        .filter(subfield_id__in=list(ranked))
        .values("subfield_id")
        .annotate(name=Min(KT("primary_topic__subfield__name")))
        .order_by()
        .values_list("subfield_id", "name")
    )
    return [[number, names.get(number) or f"Subfield {number}", papers] for number, papers in ranked.items()]
