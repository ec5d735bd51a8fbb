"""The DataRank formula (DESIGN.md §1) as pure functions over plain values.

For a corpus paper p with citers q:

    B(p)        = ln(1 + C_p)                              C_p: p's cited_by_count
    N(p)        = Σ_q ln(1 + C_q) / max(R_q, 1)            C_q, R_q: q's cited_by_count, referenced_works_count
    DataRank(p) = (1 - d)·B(p) + d·N(p)                    d: damping, 0.85 by default

Base contribution = (1 - d)·B(p), network contribution = d·N(p), DataRank = their sum.

The citers are the works that cite p, never p itself, sorted by cited_by_count descending
(ties: id ascending) and cut at the cap; self-citations — citers sharing any author id
with p — are removed after the cap. N(p) is summed with `math.fsum` over the kept citers in
cap order: fsum is correctly rounded, so the figure does not depend on float accumulation
error and a rerun over the same data gives byte-identical results.

Ranks are competition ranks (1 = best, ties share the best rank); top_percent = 100·rank/N;
tiers S1-S5 are equal quintiles of rank.

No Django here: everything takes and returns plain values, so it is tested with plain numbers.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Citer:
    """A work citing the paper being scored, with what the formula needs of it."""

    id: int
    cited_by_count: int
    referenced_works_count: int
    author_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A paper's score and how it came about."""

    base_contribution: float
    network_contribution: float
    datarank: float
    citing_works: int
    citers_with_signal: int
    self_citations_excluded: int
    cap_bound: bool
    kept: tuple[Citer, ...]
    """The citers that count, in cap order (most cited first)."""

    @property
    def base_share(self) -> float:
        """Base contribution / DataRank (0 for a zero score): the page's "5% base" figure."""
        return self.base_contribution / self.datarank if self.datarank else 0.0


@dataclass(frozen=True, slots=True)
class Rank:
    rank: int
    top_percent: float
    tier: int


def base_contribution(cited_by_count: int, *, damping: float) -> float:
    """(1 - d)·ln(1 + C): a paper's base contribution, and a non-corpus citer's base-only DataRank."""
    return (1 - damping) * math.log1p(cited_by_count)


def citer_contribution(cited_by_count: int, referenced_works_count: int) -> float:
    """ln(1 + C_q) / max(R_q, 1): a citer's term of N(p), before damping."""
    return math.log1p(cited_by_count) / max(referenced_works_count, 1)


def cap_order(citers: Iterable[Citer], cap: int) -> tuple[Citer, ...]:
    """The `cap` most-cited citers, most cited first; equal counts go by id so reruns agree."""
    return tuple(sorted(citers, key=lambda c: (-c.cited_by_count, c.id))[:cap])


def score_paper(
    *,
    paper_id: int,
    cited_by_count: int,
    author_ids: Iterable[int | None],
    citers: Iterable[Citer],
    damping: float,
    cap: int,
) -> Breakdown:
    """Score one paper from its own citation count and authors and its citers."""
    if not 0 <= damping <= 1:
        raise ValueError(f"damping must lie between 0 and 1, got {damping}")
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    # A work that lists itself among its references must not lift its own score.
    candidates = [c for c in citers if c.id != paper_id]
    capped = cap_order(candidates, cap)
    # Dropping unknown authors here means an author-less citer can never look like a self-citation.
    own_authors = frozenset(a for a in author_ids if a is not None)
    kept = tuple(c for c in capped if own_authors.isdisjoint(c.author_ids))
    base = base_contribution(cited_by_count, damping=damping)
    network = damping * math.fsum(citer_contribution(c.cited_by_count, c.referenced_works_count) for c in kept)
    return Breakdown(
        base_contribution=base,
        network_contribution=network,
        datarank=base + network,
        citing_works=len(kept),
        citers_with_signal=sum(1 for c in kept if c.cited_by_count > 0),
        self_citations_excluded=len(capped) - len(kept),
        cap_bound=len(candidates) > cap,
        kept=kept,
    )


def rank_scores(scores: Mapping[int, float]) -> dict[int, Rank]:
    """Competition ranks of paper id → DataRank: 1 is best and equal scores share the best rank."""
    total = len(scores)
    ranks: dict[int, Rank] = {}
    previous: float | None = None
    rank = 0
    for position, (paper_id, score) in enumerate(sorted(scores.items(), key=lambda item: (-item[1], item[0])), 1):
        if score != previous:
            rank, previous = position, score
        # ceil(5·rank/N) in integers: S1 holds ranks within the top fifth, S5 the last.
        tier = (5 * rank + total - 1) // total
        ranks[paper_id] = Rank(rank=rank, top_percent=100 * rank / total, tier=tier)
    return ranks


def format_top_percent(top_percent: float) -> str:
    """Top X% as shown: "0.7%" under 10, "28%" from 10 up.

    Rounded up, never down: "top 28%" must be true of a paper at 27.3%, and a paper at
    0.04% reads "0.1%", not "0.0%". The inner round() strips float noise such as
    100·1/5 = 20.000000000000004 before the ceiling."""
    tenths = math.ceil(round(top_percent * 10, 6)) / 10
    if tenths < 10:
        return f"{tenths:.1f}%"
    return f"{math.ceil(round(top_percent, 6))}%"


def format_share(percent: float) -> str:
    """A share of a score in percent, whole numbers: 94.6 -> "95%", but never "0%" or "100%" for
    a share that is not exactly that, so a small part never reads as none."""
    if 0 < percent < 1:
        return "<1%"
    if 99 < percent < 100:
        return ">99%"
    return f"{round(percent)}%"
