"""The researcher-level scores (DESIGN.md §4), pure: the three definitions peers use, for one
researcher as plain functions, and for everyone at once as array arithmetic.

- researcher score (theSindex's): the mean of their 10 best DataRanks, a missing paper counting
  0 — the sum of the 10 best / 10, so one lucky paper does not top the list;
- sum (Scholar Data's S-index is the sum of its dataset scores): Σ DataRank of their papers;
- data h-index (CatalystNeuro's S-index is h-like): the largest n such that n of their papers
  have each been cited at least n times (`cited_by_count`).

An institution gets the same three over its papers, each paper once. Ranks and percentiles are
by the researcher score with the paper ranks' rules (scoring.engine.rank_array): 0 is not ranked,
ties share the best rank and never flatter. Sums run best paper first, so reruns give the same bits.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scoring.engine import rank_array

BEST_PAPERS = 10


def researcher_score(dataranks: Sequence[float]) -> float:
    """The sum of the 10 best DataRanks / 10: fewer than 10 papers count the missing ones as 0."""
    total = 0.0
    for datarank in sorted(dataranks, reverse=True)[:BEST_PAPERS]:
        total += datarank
    return total / BEST_PAPERS


def sum_score(dataranks: Sequence[float]) -> float:
    """Σ DataRank, best first."""
    total = 0.0
    for datarank in sorted(dataranks, reverse=True):
        total += datarank
    return total


def h_index(citations: Sequence[int]) -> int:
    """The largest n such that n of the papers have at least n citations each."""
    most_cited_first = sorted(citations, reverse=True)
    return sum(1 for n, cited in enumerate(most_cited_first, start=1) if cited >= n)


@dataclass(frozen=True, slots=True)
class RollUps:
    """Per group (researcher or institution), in ascending id order. `rank` is 0 and
    `top_percent` NaN for a group that is not ranked; `subfield` is the subfield most of its
    papers belong to (ties: the lowest id), 0 when none of them has one."""

    ids: np.ndarray
    papers: np.ndarray
    ranked_papers: np.ndarray
    researcher_score: np.ndarray
    sum_score: np.ndarray
    h_index: np.ndarray
    rank: np.ndarray
    top_percent: np.ndarray
    subfield: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def roll_up(
    *,
    member_group: np.ndarray,
    member_paper: np.ndarray,
    datarank: np.ndarray,
    cited_by_count: np.ndarray,
    ranked: np.ndarray,
    subfield: np.ndarray,
) -> RollUps:
    """The three scores of every group, and its rank by the researcher score.

    Members are (group id, paper index) pairs, the index pointing into the per-paper arrays
    (DataRank, cited_by_count, whether it is ranked, its subfield, 0 where unknown); a pair given
    twice counts once, so a paper counts once for an institution however many of its authors
    were there."""
    pairs = np.unique(np.stack([member_group.astype(np.int64), member_paper.astype(np.int64)], axis=1), axis=0)
    group, paper = pairs[:, 0], pairs[:, 1]
    ids, starts, papers = np.unique(group, return_index=True, return_counts=True)

    # Each group's papers best first (ties by paper index, for a fixed order).
    scores = datarank[paper]
    best_first = np.lexsort((paper, -scores, group))
    member = np.repeat(np.arange(len(ids)), papers)  # each pair's group, as an index into ids
    place = np.arange(len(group)) - starts[member]
    ordered = scores[best_first]
    # bincount adds each group's values one after another in array order, best first, as the
    # plain functions do (np.add.reduceat sums pairwise, which differs in the last bit).
    best = np.bincount(member, weights=np.where(place < BEST_PAPERS, ordered, 0.0)) / BEST_PAPERS
    # An empty bincount is integer whatever its weights.
    total = np.bincount(member, weights=ordered).astype(np.float64)

    most_cited_first = cited_by_count[paper][np.lexsort((-cited_by_count[paper], group))]
    # minlength: the last groups may count nothing here.
    h = np.bincount(member[most_cited_first >= place + 1], minlength=len(ids))

    rank, top_percent, _ = rank_array(ids, best)
    return RollUps(
        ids=ids,
        papers=papers,
        ranked_papers=np.bincount(member[ranked[paper]], minlength=len(ids)),
        researcher_score=best,
        sum_score=total,
        h_index=h,
        rank=rank,
        top_percent=top_percent,
        subfield=_main_subfield(ids, group, subfield[paper]),
    )


def _main_subfield(ids: np.ndarray, group: np.ndarray, subfield: np.ndarray) -> np.ndarray:
    known = subfield > 0
    pairs, counts = np.unique(np.stack([group[known], subfield[known]], axis=1), axis=0, return_counts=True)
    main = np.zeros(len(ids), np.int64)
    if not len(pairs):
        return main
    # Per group, the most frequent subfield first, the lowest id among equals.
    order = np.lexsort((pairs[:, 1], -counts, pairs[:, 0]))
    pairs = pairs[order]
    first = np.concatenate(([True], pairs[1:, 0] != pairs[:-1, 0]))
    main[np.searchsorted(ids, pairs[first, 0])] = pairs[first, 1]
    return main
