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

Only papers that score above zero are ranked; a DataRank of 0 is no rank at all. Among the N
ranked papers: rank = 1 + the number scoring strictly higher (ties share the best rank);
k = the number scoring at least as high, the paper and its ties included; top_percent = 100·k/N
and tier = ⌈5·k/N⌉, so a tie never flatters anyone. A cohort (the ranked papers of the same
OpenAlex subfield published within a year of the paper) gets the same k/N rule, shown from 20
papers on.

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


@dataclass(frozen=True, slots=True)
class Rank:
    rank: int
    top_percent: float
    tier: int


@dataclass(frozen=True, slots=True)
class Cohort:
    size: int
    """n: the ranked papers of the cohort, the paper itself included."""
    top_percent: float | None
    """100·k/n, or None when n < COHORT_MIN_SIZE: a percentile of a handful says nothing."""


COHORT_MIN_SIZE = 20
# Publication years either side of the paper's own that its cohort spans.
COHORT_YEARS = 1


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
    """The ranks of paper id → DataRank, for the papers that score above zero (the others are
    not ranked and are left out)."""
    ranked = sorted(((score, paper_id) for paper_id, score in scores.items() if score > 0), key=lambda s: (-s[0], s[1]))
    total = len(ranked)
    ranks: dict[int, Rank] = {}
    start = 0
    while start < total:
        end = start
        while end < total and ranked[end][0] == ranked[start][0]:
            end += 1
        # Every paper of a tie has the same k: the papers scoring at least as high, the tie included.
        k = end
        for _, paper_id in ranked[start:end]:
            ranks[paper_id] = Rank(rank=start + 1, top_percent=100 * k / total, tier=tier_of(k, total))
        start = end
    return ranks


def tier_of(k: int, total: int) -> int:
    """⌈5·k/N⌉ in integers: S1 holds the papers within the top fifth, S5 the last."""
    return (5 * k + total - 1) // total


def cohort_ranks(papers: Mapping[int, tuple[float, int | None, int | None]]) -> dict[int, Cohort]:
    """paper id → (DataRank, subfield, year) to each ranked paper's cohort; papers that are not
    ranked, or lack a subfield or a year, have none."""
    members = [(score, subfield, year) for score, subfield, year in papers.values() if score > 0 and subfield and year]
    cohorts: dict[int, Cohort] = {}
    for paper_id, (score, subfield, year) in papers.items():
        if not (score > 0 and subfield and year):
            continue
        cohort = [s for s, f, y in members if f == subfield and abs(y - year) <= COHORT_YEARS]
        k = sum(1 for s in cohort if s >= score)
        size = len(cohort)
        cohorts[paper_id] = Cohort(size=size, top_percent=100 * k / size if size >= COHORT_MIN_SIZE else None)
    return cohorts


def format_score(value: float) -> str:
    """DataRank and its parts as shown: one decimal from 1 up ("30.6"), two significant digits
    below ("0.52", "0.031"), so a small non-zero part never reads as a bare "0.0"; 0 is "0"."""
    if value <= 0:
        return "0"
    if value >= 1:
        return f"{value:.1f}"
    decimals = 1 - math.floor(math.log10(value))
    if float(f"{value:.{decimals}f}") >= 10 ** (2 - decimals):
        # Rounding carried into the next decade (0.0996 -> "0.100"): one decimal fewer keeps two digits.
        decimals -= 1
    return f"{value:.{decimals}f}"


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
