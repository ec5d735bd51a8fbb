"""The paper page's "Why this DataRank?" prose, worked out from a paper's figures.

not_yet_scored gives the one notice for a paper the current run did not score; standing says
where a scored paper stands (its rank and top X%, its cohort, or that it is not ranked);
why_this_datarank gives, for a scored one, every sentence of the section, each decided here
from plain numbers: what the score is made of (or why it is 0), what it mainly rests on, the
terms B(p), N(p) and d of DESIGN.md §1, the self-citations left out and whether the citer cap
was reached.

The sentences are plain text: no markup and no escaping (their typeset minus and times signs
are spelt by name, so that no one takes them for - and x). The page escapes them and supplies
the markup (the <dl> they sit in, the <sub> of the N(p) formula, whose sentence it keeps and
fills with `kept_citers` and `network_contribution`). Figures read exactly as Django's
template filters printed them before this module wrote the prose: counts as `intcomma`
("61,487"), contributions as `floatformat:3`, shares as `format_share`, d as `{{ d }}`, and an
"s" for every count but 1, as `pluralize`. Every figure is non-negative, as a score's are.

No Django here: everything takes and returns plain values, so it is tested with plain numbers.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from scoring.datarank import COHORT_YEARS, format_share, format_top_percent

THOUSANDTHS = Decimal("0.001")
ZERO_SCORE = (
    "This paper's DataRank is 0: it has not been cited and no citing work with a citation of its own contributes to it."
)


@dataclass(frozen=True, slots=True)
class Pending:
    """The section for a paper the current run did not score."""

    notice: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """The section for a scored paper, as plain-text sentences in page order: a `*_term` heads
    an entry of the section's list of terms, the `*_text` after it explains it."""

    lead: str
    """What the score is made of, or why it is 0."""
    rests_on: str
    """What the score mainly rests on; empty for a score of 0, which rests on nothing."""
    base_term: str
    base_text: str
    network_term: str
    kept_citers: str
    """The citers the N(p) sentence sums over, counted: "193 kept citers"."""
    network_contribution: str
    """d·N(p) as a figure, for the end of the N(p) sentence."""
    damping_term: str
    damping_text: str
    self_citations_term: str
    self_citations_text: str
    cap_term: str
    cap_text: str


def not_yet_scored(*, cited_by_count: int, citers_held: int) -> Pending:
    """`citers_held`: the citing works we hold that would count (after the cap and self-citations)."""
    return Pending(
        notice="There is nothing to explain until the paper is scored. Its DataRank will blend its own "
        f"citation count ({_count(cited_by_count)}) with the influence of the {_counted(citers_held, 'citing work')} "
        "we hold."
    )


def why_this_datarank(
    *,
    cited_by_count: int,
    base_contribution: float,
    network_contribution: float,
    datarank: float,
    citing_works: int,
    citers_with_signal: int,
    self_citations_excluded: int,
    cap_bound: bool,
    base_percent: float,
    network_percent: float,
    b: float,
    n: float,
    damping: float,
    cap: int,
) -> Explanation:
    """A scored paper's explanation, from the run's figures for it (the stored contributions,
    DataRank and citer counts), its split into shares and B(p), N(p), and the run's d and cap."""
    if datarank:
        lead = _shares(base_percent, network_percent, citers_with_signal)
        rests_on = _rests_on(network_percent, citers_with_signal, citing_works, self_citations_excluded)
    else:
        lead, rests_on = ZERO_SCORE, ""
    return Explanation(
        lead=lead,
        rests_on=rests_on,
        base_term=f"Base score B(p) = {_figure(b)}",
        base_text=f"ln(1 + {_count(cited_by_count)}) — grows sub-linearly, so a paper with 1,000 citations is "
        "not 10\N{MULTIPLICATION SIGN} a paper with 100. Times (1 \N{MINUS SIGN} d) it gives the base contribution, "
        f"{_figure(base_contribution)}.",
        network_term=f"Network N(p) = {_figure(n)}",
        kept_citers=_counted(citing_works, "kept citer"),
        network_contribution=_figure(network_contribution),
        damping_term=f"Damping factor d = {_decimal(damping)}",
        damping_text=f"DataRank = (1 \N{MINUS SIGN} d)·B(p) + d·N(p) = {_figure(base_contribution)} + "
        f"{_figure(network_contribution)} = {_figure(datarank)}. The two cards above are each already "
        "multiplied by their share.",
        self_citations_term=f"Self-citations excluded: {_count(self_citations_excluded)}",
        self_citations_text=_self_citations(self_citations_excluded),
        cap_term=f"Citer cap: {_count(cap)}, {'reached' if cap_bound else 'not reached'}",
        cap_text=_cap(cap, cap_bound),
    )


def _shares(base_percent: float, network_percent: float, citers_with_signal: int) -> str:
    return (
        "DataRank blends this paper's own citation count with the influence of the papers that cite it. "
        f"Here, {format_share(base_percent)} comes from its base citations and {format_share(network_percent)} "
        f"from the citation network ({_counted(citers_with_signal, 'citing paper')} contributed measurable signal)."
    )


def _rests_on(network_percent: float, citers_with_signal: int, citing_works: int, self_citations: int) -> str:
    if network_percent >= 50:
        return (
            "Its score rests mainly on who cites it: a citer counts most when it is itself highly cited "
            "and has a short reference list."
        )
    added = _what_citers_add(citers_with_signal, citing_works, self_citations)
    return f"Its score rests mainly on its own citation count: its citers add {added}."


def _what_citers_add(citers_with_signal: int, citing_works: int, self_citations: int) -> str:
    # Each reason holds only when the ones before it do not: citers with signal that weigh little,
    # then citers none of which has been cited, then no citer left at all.
    if citers_with_signal:
        return "little, being few, little cited or long on references"
    if citing_works:
        return "nothing, as none of them has been cited yet"
    if self_citations:
        return "nothing, as no citer counts toward it once self-citations are left out"
    return "nothing, as no citer counts toward it"


def _self_citations(excluded: int) -> str:
    who = f"{_count(excluded)} of this paper's citers did" if excluded else "none of this paper's citers did"
    return f"Citers sharing any OpenAlex author id with this paper are left out before the network sum; {who}."


def _cap(cap: int, cap_bound: bool) -> str:
    if cap_bound:
        return (
            f"This paper has more citers than the cap, so only its {_count(cap)} most cited count (then "
            "self-citations are removed). Keeping the most cited raises N(p) for heavily cited papers — a bias "
            "to keep in mind when comparing them."
        )
    return (
        f"All the citers we hold count: the cap only bites for papers with more than {_count(cap)} citers, "
        "where the most cited are kept."
    )


def _count(number: int) -> str:
    """61487 -> "61,487", as `intcomma`."""
    return f"{number:,}"


def _counted(number: int, noun: str) -> str:
    """3, "kept citer" -> "3 kept citers"; 1 -> "1 kept citer", as `pluralize`."""
    return f"{_count(number)} {noun}{'' if number == 1 else 's'}"


def _figure(value: float) -> str:
    """1.65425 -> "1.654", as `floatformat:3`: it rounds the shortest decimal form of the float half
    up, where formatting the float itself would round its binary value to even (0.0625 -> "0.062")."""
    return f"{Decimal(repr(value)).quantize(THOUSANDTHS, ROUND_HALF_UP):f}"


def _decimal(value: float) -> str:
    """0.85 -> "0.85", as a template prints a float: its shortest decimal form, never in exponent
    notation (1e-05 -> "0.00001")."""
    return f"{Decimal(repr(value)):f}"


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a scored paper stands in its run, as sentences (DESIGN.md §1's rank rules)."""

    ranked: bool
    corpus: str
    """ "top 0.7% of the data-sharing corpus (rank 3 of 1,204)", or the not-ranked notice."""
    cohort: str
    """ "top 12% of Geophysics papers, 2019-2021 (n = 840)", an en dash between the years;
    "n/a: only 7 ranked papers in this cohort"; or "" without a cohort."""
    caveat: str
    """Why a first place says nothing, when it says nothing; else ""."""


NOT_RANKED = "Not ranked yet: no citation with signal"


def standing(
    *,
    rank: int | None,
    top_percent: float | None,
    ranked_papers: int,
    scored_papers: int,
    cohort_size: int | None,
    cohort_top_percent: float | None,
    subfield: str,
    year: int | None,
) -> Standing:
    if rank is None or top_percent is None:
        unranked = scored_papers - ranked_papers
        others = unranked - 1
        share = (
            f"; {_counted(others, 'other corpus paper')} of the {scored_papers:,} scored share that state"
            if others
            else f"; it is the only one of the {scored_papers:,} corpus papers scored"
        )
        return Standing(ranked=False, corpus=f"{NOT_RANKED}{share}.", cohort="", caveat="")
    corpus = f"top {format_top_percent(top_percent)} of the data-sharing corpus (rank {rank:,} of {ranked_papers:,})"
    caveat = ""
    if rank == 1 and top_percent == 100:
        caveat = (
            "It is the only ranked paper, so being first says nothing."
            if ranked_papers == 1
            else f"All {ranked_papers:,} ranked papers score the same, so being first says nothing."
        )
    return Standing(
        ranked=True, corpus=corpus, cohort=cohort_text(cohort_size, cohort_top_percent, subfield, year), caveat=caveat
    )


def cohort_text(size: int | None, top_percent: float | None, subfield: str, year: int | None) -> str:
    if not size or not subfield or year is None:
        return ""
    if top_percent is None:
        return f"n/a: only {_counted(size, 'ranked paper')} in this cohort"
    years = f"{year - COHORT_YEARS}\N{EN DASH}{year + COHORT_YEARS}"
    # No-break spaces keep "n = 840" on one line.
    size_shown = f"n\N{NO-BREAK SPACE}=\N{NO-BREAK SPACE}{size:,}"
    return f"top {format_top_percent(top_percent)} of {subfield} papers, {years} ({size_shown})"
