"""The bulk engine: DataRank (DESIGN.md §1) for the whole corpus at once, as array arithmetic.

scoring.datarank stays the definition; this module computes the same figures for every paper
with NumPy over one array per input — no Python loop per paper or per citer — so a corpus of
100,000 papers with 20 million citation links scores in seconds:

1. sort the citation links by (cited paper, citer's cited_by_count descending, citer id),
   which is every paper's cap order, side by side;
2. keep the first `cap` links of each paper (the cap comes before the self-citation filter);
3. drop the self-citations among them, then add up ln(1 + C_q) / max(R_q, 1) per paper in
   that order, sequentially, so the same data always gives the same bits;
4. rank with competition ranks, as scoring.datarank.rank_scores does.

`load_corpus` reads those inputs from the database in two queries; `score_corpus` is pure.
"""

from dataclasses import dataclass

import numpy as np
from django.db import connection

from papers.models import Authorship, Citation, CorpusEntry, Work

# Rows per fetch from the database cursor: big enough to amortise round trips, small enough
# that the Python tuples of one batch stay a few megabytes.
FETCH_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class CorpusInputs:
    """Everything the score needs, as parallel arrays. Papers: one entry per corpus paper.
    Links: one entry per (citer, corpus paper) citation, with the citer's two counts and
    whether citer and paper share an author."""

    paper_ids: np.ndarray
    paper_cited_by_count: np.ndarray
    link_cited: np.ndarray
    link_citing: np.ndarray
    link_cited_by_count: np.ndarray
    link_referenced_works_count: np.ndarray
    link_self_citation: np.ndarray


@dataclass(frozen=True, slots=True)
class CorpusScores:
    """Per paper, in ascending id order, the figures scoring.datarank.Breakdown and Rank give."""

    paper_ids: np.ndarray
    base_contribution: np.ndarray
    network_contribution: np.ndarray
    datarank: np.ndarray
    citing_works: np.ndarray
    citers_with_signal: np.ndarray
    self_citations_excluded: np.ndarray
    cap_bound: np.ndarray
    rank: np.ndarray
    top_percent: np.ndarray
    tier: np.ndarray

    def __len__(self) -> int:
        return len(self.paper_ids)


def score_corpus(inputs: CorpusInputs, *, damping: float, cap: int) -> CorpusScores:
    """Score every paper in `inputs`; links to papers not among them are ignored."""
    if not 0 <= damping <= 1:
        raise ValueError(f"damping must lie between 0 and 1, got {damping}")
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    order = np.argsort(inputs.paper_ids, kind="stable")
    paper_ids = inputs.paper_ids[order].astype(np.int64)
    paper_count = len(paper_ids)

    # Each link's paper as an index into paper_ids; a link to a non-corpus work, or a work
    # listing itself among its references, is no candidate at all. Arrays are converted only
    # when they need it (copy=False) and dropped once used: at 20 million links each one is
    # 80 to 160 MB, and the peak memory is the sum of those alive at once.
    cited = inputs.link_cited.astype(np.int64, copy=False)
    citing = inputs.link_citing.astype(np.int64, copy=False)
    slot = np.minimum(np.searchsorted(paper_ids, cited), max(paper_count - 1, 0))
    candidate = (paper_ids[slot] == cited) & (citing != cited) if paper_count else np.zeros(len(cited), bool)
    del cited
    paper = slot[candidate]
    del slot
    citing = citing[candidate]
    # Counts stay in the integer type they came in (int32 from the database): log1p and the
    # division give the same float64 figures from it.
    c_q = inputs.link_cited_by_count[candidate]
    r_q = inputs.link_referenced_works_count[candidate]
    self_citation = inputs.link_self_citation[candidate].astype(bool, copy=False)
    del candidate

    # Cap order, every paper at once: lexsort's last key is the primary one.
    by_cap_order = np.lexsort((citing, -c_q, paper))
    del citing
    paper = paper[by_cap_order]
    c_q = c_q[by_cap_order]
    r_q = r_q[by_cap_order]
    self_citation = self_citation[by_cap_order]
    del by_cap_order
    candidates = np.bincount(paper, minlength=paper_count)
    first_of_paper = np.concatenate(([0], np.cumsum(candidates)[:-1])) if paper_count else candidates
    place_in_cap_order = np.arange(len(paper)) - first_of_paper[paper]
    capped = place_in_cap_order < cap
    kept = capped & ~self_citation

    contribution = np.log1p(c_q[kept]) / np.maximum(r_q[kept], 1)
    # bincount adds the weights one after another in array order, i.e. in cap order per paper:
    # a fixed sequence of float additions, so a rerun gives byte-identical sums.
    network = damping * np.bincount(paper[kept], weights=contribution, minlength=paper_count)
    base = (1 - damping) * np.log1p(inputs.paper_cited_by_count[order].astype(np.int64))
    datarank = base + network
    rank, top_percent, tier = rank_array(paper_ids, datarank)
    return CorpusScores(
        paper_ids=paper_ids,
        base_contribution=base,
        network_contribution=network,
        datarank=datarank,
        citing_works=np.bincount(paper[kept], minlength=paper_count),
        citers_with_signal=np.bincount(paper[kept & (c_q > 0)], minlength=paper_count),
        self_citations_excluded=np.bincount(paper[capped & self_citation], minlength=paper_count),
        cap_bound=candidates > cap,
        rank=rank,
        top_percent=top_percent,
        tier=tier,
    )


def rank_array(paper_ids: np.ndarray, datarank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rank, top_percent and tier per paper, exactly as scoring.datarank.rank_scores computes them:
    competition ranks (equal scores share the best rank), 100·rank/N and ceil(5·rank/N)."""
    total = len(paper_ids)
    if not total:
        empty = np.zeros(0, np.int64)
        return empty, np.zeros(0, np.float64), empty
    best_first = np.lexsort((paper_ids, -datarank))
    ordered = datarank[best_first]
    position = np.arange(1, total + 1)
    starts_a_tie = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    # Within a run of equal scores every paper takes the position of the run's first paper.
    ranks_best_first = np.maximum.accumulate(np.where(starts_a_tie, position, 0))
    rank = np.empty(total, np.int64)
    rank[best_first] = ranks_best_first
    # Integer 100·rank divided by N in floating point is Python's 100 * rank / total, bit for bit.
    top_percent = (100 * rank).astype(np.float64) / total
    tier = (5 * rank + total - 1) // total
    return rank, top_percent, tier


def load_corpus() -> CorpusInputs:
    """The engine's inputs in two queries: the corpus papers, then every citation link to them
    with the citer's counts and, decided by the database, whether the two share an author."""
    papers = np.array(list(Work.objects.in_corpus().values_list("id", "cited_by_count")), dtype=np.int64)
    papers = papers.reshape(-1, 2)
    columns = fetch_columns(_links_sql(), [], dtypes=(np.int64, np.int64, np.int32, np.int32, np.bool_))
    return CorpusInputs(papers[:, 0], papers[:, 1], *columns)


def _links_sql() -> str:
    """Links to corpus papers, with the citer's counts and a shared-author flag.

    The flag comes from the pairs (corpus paper, work by one of its authors), found from the
    corpus papers' few authorships, which the links then meet in one hash join. Joining every
    link with both ends' authorships instead cost a third more, and an EXISTS per link (the
    ORM's natural spelling) three times more."""
    quote = connection.ops.quote_name
    citation, entry, work, authorship = (
        quote(model._meta.db_table) for model in (Citation, CorpusEntry, Work, Authorship)
    )
    return f"""
        WITH shared AS (
            SELECT DISTINCT b.work_id AS cited_id, a.work_id AS citing_id
            FROM {authorship} b
            JOIN {entry} e ON e.work_id = b.work_id AND e.in_corpus
            JOIN {authorship} a ON a.author_id = b.author_id AND a.work_id <> b.work_id
        )
        SELECT c.cited_id, c.citing_id, w.cited_by_count, w.referenced_works_count, s.citing_id IS NOT NULL
        FROM {citation} c
        JOIN {entry} e ON e.work_id = c.cited_id AND e.in_corpus
        JOIN {work} w ON w.id = c.citing_id
        LEFT JOIN shared s ON s.cited_id = c.cited_id AND s.citing_id = c.citing_id
        WHERE c.citing_id <> c.cited_id
    """


def fetch_columns(sql: str, params, *, dtypes: tuple) -> list[np.ndarray]:
    """Run one query and return its result as one array per column, batch by batch, so the
    rows never all exist as Python tuples at once (a server-side cursor on PostgreSQL)."""
    record = np.dtype([(f"f{i}", dtype) for i, dtype in enumerate(dtypes)])
    # Kept column by column and joined one column at a time: at 20 million links, joining
    # whole rows first held every value three times over (2.3 GB peak instead of about 1).
    parts: list[list[np.ndarray]] = [[] for _ in dtypes]
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            batch = np.array(rows, dtype=record)
            for column, name in zip(parts, record.names, strict=True):
                column.append(np.ascontiguousarray(batch[name]))
    columns = []
    for column, dtype in zip(parts, dtypes, strict=True):
        columns.append(np.concatenate(column) if column else np.zeros(0, dtype))
        column.clear()
    return columns
