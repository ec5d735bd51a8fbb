"""The bulk engine: DataRank (DESIGN.md §1) for the whole corpus at once, as array arithmetic.

scoring.datarank stays the definition; this module computes the same figures for every paper
with NumPy over one array per input — no Python loop per paper or per citer — so a corpus of
100,000 papers with 20 million citation links scores in seconds:

1. sort the citation links by (cited paper, citer's cited_by_count descending, citer id),
   which is every paper's cap order, side by side;
2. keep the first `cap` links of each paper (the cap comes before the self-citation filter);
3. drop the self-citations among them, then add up ln(1 + C_q) / max(R_q, 1) per paper in
   that order, sequentially, so the same data always gives the same bits;
4. rank the papers that score above zero, and each within its cohort, as scoring.datarank's
   rank_scores and cohort_ranks do.

A paper's figures before ranking depend only on its own inputs, so a rescore after a few
changes hands in the figures of the papers that did not change (`known`, read back from the run
before) with no links for them, and only the rest are summed; ranks are one sort of everyone.

Pure: NumPy arrays in, NumPy arrays out. scoring.inputs reads the arrays from the database.
"""

from dataclasses import dataclass, fields

import numpy as np

from scoring.datarank import COHORT_MIN_SIZE, COHORT_YEARS


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
    # Per paper, for the cohorts: its OpenAlex subfield and publication year, 0 where unknown.
    paper_subfield: np.ndarray | None = None
    paper_year: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class KnownFigures:
    """Figures an earlier run computed, for papers whose inputs have not changed since: per
    paper, parallel arrays of the CorpusScores fields that come before ranking."""

    paper_ids: np.ndarray
    base_contribution: np.ndarray
    network_contribution: np.ndarray
    datarank: np.ndarray
    citing_works: np.ndarray
    citers_with_signal: np.ndarray
    self_citations_excluded: np.ndarray
    cap_bound: np.ndarray


# The CorpusScores fields a paper's own inputs decide, which KnownFigures carries.
OWN_FIGURES = tuple(field.name for field in fields(KnownFigures) if field.name != "paper_ids")


@dataclass(frozen=True, slots=True)
class CorpusScores:
    """Per paper, in ascending id order, the figures scoring.datarank.Breakdown, Rank and Cohort
    give. A paper that is not ranked has rank 0, tier 0 and a NaN top_percent; one without a
    cohort has cohort_size 0; cohort_top_percent is NaN where it is not given."""

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
    cohort_size: np.ndarray
    cohort_top_percent: np.ndarray

    def __len__(self) -> int:
        return len(self.paper_ids)


def score_corpus(inputs: CorpusInputs, *, damping: float, cap: int, known: KnownFigures | None = None) -> CorpusScores:
    """Score every paper in `inputs`; links to papers not among them are ignored. Papers in
    `known` (each must be in `inputs`) take those figures instead of summing their links, and
    are ranked with the rest."""
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
    own = {
        "base_contribution": base,
        "network_contribution": network,
        "datarank": base + network,
        "citing_works": np.bincount(paper[kept], minlength=paper_count),
        "citers_with_signal": np.bincount(paper[kept & (c_q > 0)], minlength=paper_count),
        "self_citations_excluded": np.bincount(paper[capped & self_citation], minlength=paper_count),
        "cap_bound": candidates > cap,
    }
    if known is not None:
        _take_known(own, paper_ids, known)
    datarank = own["datarank"]
    rank, top_percent, tier = rank_array(paper_ids, datarank)
    subfield, year = (
        (np.zeros(paper_count, np.int64), np.zeros(paper_count, np.int64))
        if inputs.paper_subfield is None or inputs.paper_year is None
        else (inputs.paper_subfield[order].astype(np.int64), inputs.paper_year[order].astype(np.int64))
    )
    cohort_size, cohort_top_percent = cohort_array(datarank, subfield, year)
    return CorpusScores(
        paper_ids=paper_ids,
        **own,
        rank=rank,
        top_percent=top_percent,
        tier=tier,
        cohort_size=cohort_size,
        cohort_top_percent=cohort_top_percent,
    )


def _take_known(own: dict[str, np.ndarray], paper_ids: np.ndarray, known: KnownFigures) -> None:
    """Overwrite the known papers' figures in `own` (arrays in paper_ids order) with theirs."""
    slot = np.searchsorted(paper_ids, known.paper_ids)
    if len(slot) and (slot.max() >= len(paper_ids) or np.any(paper_ids[slot] != known.paper_ids)):
        raise ValueError("every paper with known figures must be among the papers scored")
    for name in OWN_FIGURES:
        own[name][slot] = getattr(known, name)


def rank_array(paper_ids: np.ndarray, datarank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rank, top_percent and tier per paper, exactly as scoring.datarank.rank_scores computes them:
    among the papers scoring above zero, rank = 1 + the number strictly higher, k = the number at
    least as high, top_percent = 100·k/N and tier = ⌈5·k/N⌉; rank 0, NaN and tier 0 elsewhere."""
    count = len(paper_ids)
    rank = np.zeros(count, np.int64)
    top_percent = np.full(count, np.nan)
    tier = np.zeros(count, np.int64)
    ranked = np.flatnonzero(datarank > 0)
    total = len(ranked)
    if not total:
        return rank, top_percent, tier
    best_first = ranked[np.lexsort((paper_ids[ranked], -datarank[ranked]))]
    ordered = datarank[best_first]
    position = np.arange(1, total + 1)
    starts_a_tie = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    ends_a_tie = np.concatenate((ordered[1:] != ordered[:-1], [True]))
    # Within a run of equal scores every paper takes the run's first position as its rank and
    # its last position as its k.
    rank[best_first] = np.maximum.accumulate(np.where(starts_a_tie, position, 0))
    k = np.minimum.accumulate(np.where(ends_a_tie, position, total)[::-1])[::-1]
    # Integer 100·k divided by N in floating point is Python's 100 * k / total, bit for bit.
    top_percent[best_first] = (100 * k).astype(np.float64) / total
    tier[best_first] = (5 * k + total - 1) // total
    return rank, top_percent, tier


def cohort_array(datarank: np.ndarray, subfield: np.ndarray, year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cohort_size and cohort_top_percent per paper, as scoring.datarank.cohort_ranks computes
    them. Every paper of one (subfield, year) block has the same cohort — the ranked papers of
    that subfield from year - 1 to year + 1 — so the work is one sorted search per block."""
    count = len(datarank)
    size = np.zeros(count, np.int64)
    top_percent = np.full(count, np.nan)
    member = (datarank > 0) & (subfield > 0) & (year > 0)
    papers = np.flatnonzero(member)
    if not len(papers):
        return size, top_percent
    by_block = papers[np.lexsort((year[papers], subfield[papers]))]
    block_subfield, block_year = subfield[by_block], year[by_block]
    starts = np.flatnonzero(
        np.concatenate(([True], (block_subfield[1:] != block_subfield[:-1]) | (block_year[1:] != block_year[:-1])))
    )
    ends = np.append(starts[1:], len(by_block))
    blocks = {(int(block_subfield[a]), int(block_year[a])): by_block[a:b] for a, b in zip(starts, ends, strict=True)}
    for (field, paper_year), own in blocks.items():
        window = [blocks.get((field, paper_year + step)) for step in range(-COHORT_YEARS, COHORT_YEARS + 1)]
        scores = np.sort(np.concatenate([datarank[block] for block in window if block is not None]))
        n = len(scores)
        # k: the cohort's papers scoring at least as high as each paper of the block.
        k = n - np.searchsorted(scores, datarank[own], side="left")
        size[own] = n
        if n >= COHORT_MIN_SIZE:
            top_percent[own] = (100 * k).astype(np.float64) / n
    return size, top_percent
