"""Scoring runs: load the corpus and its citers, score with scoring.datarank, save the run."""

import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from papers.models import Authorship, Citation, Work
from scoring.datarank import Breakdown, Citer, rank_scores, score_paper
from scoring.models import PaperScore, ScoringRun

ALGORITHM = "datarank-1hop-v1"

logger = logging.getLogger(__name__)


def rescore_corpus(
    *, damping: float | None = None, cap: int | None = None, started_by: AbstractBaseUser | None = None
) -> ScoringRun:
    """Score every corpus paper as one run; the run becomes current only if it all succeeds.

    Ranks compare each paper with the whole corpus, which is why there is no per-paper rescore."""
    damping = settings.DATARANK_DAMPING if damping is None else damping
    cap = settings.DATARANK_CITER_CAP if cap is None else cap
    # Saved outside the scoring transaction, so a run in progress or a failed one stays visible.
    run = ScoringRun.objects.create(algorithm=ALGORITHM, damping=damping, citer_cap=cap, started_by=started_by)
    try:
        breakdowns = _score_corpus(damping=damping, cap=cap)
        ranks = rank_scores({paper_id: b.datarank for paper_id, b in breakdowns.items()})
        with transaction.atomic():
            PaperScore.objects.bulk_create(
                (
                    PaperScore(
                        run=run,
                        work_id=paper_id,
                        base_contribution=b.base_contribution,
                        network_contribution=b.network_contribution,
                        datarank=b.datarank,
                        citing_works=b.citing_works,
                        citers_with_signal=b.citers_with_signal,
                        self_citations_excluded=b.self_citations_excluded,
                        cap_bound=b.cap_bound,
                        rank=ranks[paper_id].rank,
                        top_percent=ranks[paper_id].top_percent,
                        tier=ranks[paper_id].tier,
                    )
                    for paper_id, b in sorted(breakdowns.items())
                ),
                batch_size=2000,
            )
            run.status = ScoringRun.Status.SUCCEEDED
            run.finished_at = timezone.now()
            run.papers_scored = len(breakdowns)
            run.save(update_fields=["status", "finished_at", "papers_scored"])
    except Exception as exc:
        logger.exception("Scoring run %s failed", run.pk)
        run.status = ScoringRun.Status.FAILED
        run.finished_at = timezone.now()
        run.error = f"{type(exc).__name__}: {exc}"
        run.save(update_fields=["status", "finished_at", "error"])
        raise
    logger.info("Scoring run %s scored %s papers", run.pk, run.papers_scored)
    return run


def _score_corpus(*, damping: float, cap: int) -> dict[int, Breakdown]:
    """Three queries whatever the corpus size: the papers, their citation links with the
    citers' counts, and the authors of both."""
    papers = dict(Work.objects.in_corpus().values_list("id", "cited_by_count"))
    links = Citation.objects.filter(cited__corpus_entry__in_corpus=True)

    cited_by: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for cited_id, citing_id, c_q, r_q in links.values_list(
        "cited_id", "citing_id", "citing__cited_by_count", "citing__referenced_works_count"
    ).iterator(chunk_size=10_000):
        cited_by[cited_id].append((citing_id, c_q, r_q))

    authors: dict[int, set[int]] = defaultdict(set)
    authorships = Authorship.objects.filter(work__corpus_entry__in_corpus=True).values_list("work_id", "author_id")
    citer_authorships = Authorship.objects.filter(work_id__in=links.values("citing_id")).values_list(
        "work_id", "author_id"
    )
    # Authorship's default ordering names a column the UNION does not select: drop it.
    rows = authorships.order_by().union(citer_authorships.order_by()).order_by()
    for work_id, author_id in rows.iterator(chunk_size=10_000):
        authors[work_id].add(author_id)

    citers: dict[int, Citer] = {}
    breakdowns = {}
    for paper_id, cited_by_count in papers.items():
        paper_citers = []
        for citing_id, c_q, r_q in cited_by.get(paper_id, ()):
            if citing_id not in citers:
                citers[citing_id] = Citer(citing_id, c_q, r_q, frozenset(authors.get(citing_id, ())))
            paper_citers.append(citers[citing_id])
        breakdowns[paper_id] = score_paper(
            paper_id=paper_id,
            cited_by_count=cited_by_count,
            author_ids=authors.get(paper_id, ()),
            citers=paper_citers,
            damping=damping,
            cap=cap,
        )
    return breakdowns
