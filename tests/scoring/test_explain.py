"""The "Why this DataRank?" prose, checked with plain numbers: every branch of it, and the
figures as the page's template filters print them."""

import math

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.formats import localize
from hypothesis import given
from hypothesis import strategies as st

from scoring.explain import Explanation, Standing, not_yet_scored, standing, why_this_datarank

D = 0.85
NETWORK_HEAVY = (
    "Its score rests mainly on who cites it: a citer counts most when it is itself highly cited and has a short "
    "reference list."
)
ON_ITS_OWN_COUNT = "Its score rests mainly on its own citation count: its citers add "


def why(
    *,
    cited_by_count: int = 120,
    network_contribution: float = 0.0,
    citing_works: int = 0,
    citers_with_signal: int = 0,
    self_citations_excluded: int = 0,
    cap_bound: bool = False,
    cap: int = 200,
    damping: float = D,
) -> Explanation:
    """A paper scored as the run scores it, its base from `cited_by_count`, split as the page splits it."""
    base = (1 - damping) * math.log1p(cited_by_count)
    datarank = base + network_contribution
    base_percent = 100 * base / datarank if datarank else 0.0
    return why_this_datarank(
        cited_by_count=cited_by_count,
        base_contribution=base,
        network_contribution=network_contribution,
        datarank=datarank,
        citing_works=citing_works,
        citers_with_signal=citers_with_signal,
        self_citations_excluded=self_citations_excluded,
        cap_bound=cap_bound,
        base_percent=base_percent,
        network_percent=100 - base_percent,
        b=math.log1p(cited_by_count),
        n=network_contribution / damping,
        damping=damping,
        cap=cap,
    )


# The worked example


def test_imagenet_reads_5_percent_base_and_95_percent_network():
    imagenet = why(cited_by_count=61_487, network_contribution=28.9, citing_works=193, citers_with_signal=193)

    assert imagenet.lead == (
        "DataRank blends this paper's own citation count with the influence of the papers that cite it. Here, 5% "
        "comes from its base citations and 95% from the citation network (193 citing papers contributed "
        "measurable signal)."
    )
    assert imagenet.rests_on == NETWORK_HEAVY
    assert imagenet.base_term == "Base score B(p) = 11.027"
    assert imagenet.base_text == (
        "ln(1 + 61,487) — grows sub-linearly, so a paper with 1,000 citations is not "
        "10\N{MULTIPLICATION SIGN} a paper with 100. Times (1 \N{MINUS SIGN} d) it gives the base contribution, 1.654."
    )
    assert imagenet.network_term == "Network N(p) = 34.000"
    assert (imagenet.kept_citers, imagenet.network_contribution) == ("193 kept citers", "28.900")
    assert imagenet.damping_term == "Damping factor d = 0.85"
    assert imagenet.damping_text == (
        "DataRank = (1 \N{MINUS SIGN} d)·B(p) + d·N(p) = 1.654 + 28.900 = 30.554. "
        "The two cards above are each already multiplied by their share."
    )


# What the score rests on


def test_a_network_heavy_score_says_it_rests_on_who_cites_it():
    assert why(network_contribution=9.0, citing_works=4, citers_with_signal=4).rests_on == NETWORK_HEAVY


def test_a_score_split_half_and_half_counts_as_resting_on_its_citers():
    base = (1 - D) * math.log1p(120)

    assert why(network_contribution=base, citing_works=1, citers_with_signal=1).rests_on == NETWORK_HEAVY


def test_a_base_heavy_score_with_citers_of_some_signal_says_they_add_little():
    explained = why(network_contribution=0.1, citing_works=3, citers_with_signal=2)

    assert explained.rests_on == ON_ITS_OWN_COUNT + "little, being few, little cited or long on references."


def test_a_paper_whose_citers_are_all_uncited_is_told_none_of_them_has_been_cited():
    explained = why(citing_works=5)

    assert explained.rests_on == ON_ITS_OWN_COUNT + "nothing, as none of them has been cited yet."
    assert "(0 citing papers contributed measurable signal)" in explained.lead


def test_a_paper_without_citers_says_no_citer_counts_toward_it():
    assert why().rests_on == ON_ITS_OWN_COUNT + "nothing, as no citer counts toward it."


def test_a_paper_whose_citers_are_all_self_citations_is_told_so():
    explained = why(self_citations_excluded=3)

    assert explained.rests_on == (
        ON_ITS_OWN_COUNT + "nothing, as no citer counts toward it once self-citations are left out."
    )
    assert explained.self_citations_term == "Self-citations excluded: 3"


def test_a_zero_score_says_it_has_not_been_cited():
    explained = why(cited_by_count=0)

    assert explained.lead == (
        "This paper's DataRank is 0: it has not been cited and no citing work with a citation of its own "
        "contributes to it."
    )
    assert explained.rests_on == ""
    assert explained.base_term == "Base score B(p) = 0.000"


# The shares


def test_a_share_under_one_percent_never_reads_as_none():
    explained = why(cited_by_count=1, network_contribution=500.0, citing_works=9, citers_with_signal=9)

    assert "Here, <1% comes from its base citations and >99% from the citation network" in explained.lead


def test_one_citer_with_signal_is_one_citing_paper():
    explained = why(network_contribution=0.1, citing_works=1, citers_with_signal=1)

    assert "(1 citing paper contributed measurable signal)" in explained.lead
    assert explained.kept_citers == "1 kept citer"


# Self-citations and the cap


def test_the_self_citations_left_out_are_counted():
    explained = why(network_contribution=2.0, citing_works=6, citers_with_signal=6, self_citations_excluded=1_204)

    assert explained.self_citations_term == "Self-citations excluded: 1,204"
    assert explained.self_citations_text == (
        "Citers sharing any OpenAlex author id with this paper are left out before the network sum; "
        "1,204 of this paper's citers did."
    )


def test_a_paper_without_self_citations_says_none_of_its_citers_did():
    explained = why()

    assert explained.self_citations_term == "Self-citations excluded: 0"
    assert explained.self_citations_text.endswith("; none of this paper's citers did.")


def test_a_cap_reached_says_only_the_most_cited_count_and_names_the_bias():
    explained = why(network_contribution=9.0, citing_works=1_000, citers_with_signal=1_000, cap_bound=True, cap=1_000)

    assert explained.cap_term == "Citer cap: 1,000, reached"
    assert explained.cap_text == (
        "This paper has more citers than the cap, so only its 1,000 most cited count (then self-citations are "
        "removed). Keeping the most cited raises N(p) for heavily cited papers — a bias to keep in mind when "
        "comparing them."
    )


def test_a_cap_not_reached_says_every_citer_counts():
    explained = why(cap=200)

    assert explained.cap_term == "Citer cap: 200, not reached"
    assert explained.cap_text == (
        "All the citers we hold count: the cap only bites for papers with more than 200 citers, where the most "
        "cited are kept."
    )


# Not scored yet


def test_an_unscored_paper_is_told_what_its_score_will_blend():
    assert not_yet_scored(cited_by_count=4_210, citers_held=0).notice == (
        "There is nothing to explain until the paper is scored. Its DataRank will blend its own citation count "
        "(4,210) with the influence of the 0 citing works we hold."
    )


def test_an_unscored_paper_with_one_citer_names_one_citing_work():
    assert "the influence of the 1 citing work we hold." in not_yet_scored(cited_by_count=1, citers_held=1).notice


# Figures as the template printed them


# From 1e-6 up: Django prints a figure of over 200 digits as it comes, a guard no score nears.
@given(
    b=st.just(0.0) | st.floats(min_value=1e-6, max_value=1e6),
    cited_by_count=st.integers(min_value=0, max_value=10**9),
    damping=st.sampled_from([0.0, 0.85, 1e-05, 1.0]) | st.floats(min_value=1e-6, max_value=1),
)
def test_figures_read_as_intcomma_floatformat_and_the_template_print_them(b, cited_by_count, damping):
    explained = why_this_datarank(
        cited_by_count=cited_by_count,
        base_contribution=b,
        network_contribution=b,
        datarank=b,
        citing_works=cited_by_count,
        citers_with_signal=0,
        self_citations_excluded=0,
        cap_bound=False,
        base_percent=50.0,
        network_percent=50.0,
        b=b,
        n=b,
        damping=damping,
        cap=200,
    )

    assert explained.base_term == f"Base score B(p) = {floatformat(b, 3)}"
    assert explained.network_contribution == floatformat(b, 3)
    assert explained.base_text.startswith(f"ln(1 + {intcomma(cited_by_count)}) ")
    assert explained.kept_citers.startswith(f"{intcomma(cited_by_count)} kept citer")
    assert explained.damping_term == f"Damping factor d = {localize(damping)}"


def test_floatformat_rounds_the_decimal_form_half_up():
    explained = why_this_datarank(
        cited_by_count=0,
        base_contribution=0.0625,
        network_contribution=1.0005,
        datarank=1.063,
        citing_works=1,
        citers_with_signal=1,
        self_citations_excluded=0,
        cap_bound=False,
        base_percent=5.88,
        network_percent=94.12,
        b=0.0625 / (1 - D),
        n=1.0005 / D,
        damping=D,
        cap=200,
    )

    # Rounding the binary floats to even would print 0.062 and 1.000.
    assert "d·N(p) = 0.063 + 1.001 = 1.063." in explained.damping_text


# Standing (DESIGN.md §1's rank rules)


def stand(**overrides):
    figures = {
        "rank": 3,
        "top_percent": 0.62,
        "ranked_papers": 1_204,
        "scored_papers": 11_084,
        "cohort_size": 840,
        "cohort_top_percent": 11.3,
        "subfield": "Geophysics",
        "year": 2020,
    }
    return standing(**{**figures, **overrides})


def test_a_ranked_paper_stands_in_the_corpus_and_its_cohort_rounded_up():
    shown = stand()

    assert shown.ranked
    assert shown.corpus == "top 0.7% of the data-sharing corpus (rank 3 of 1,204)"
    assert shown.cohort == "top 12% of Geophysics papers, 2019\u20132021 (n\u00a0=\u00a0840)"
    assert shown.caveat == ""


def test_a_cohort_of_fewer_than_20_says_why_it_has_no_percentile():
    assert stand(cohort_size=1, cohort_top_percent=None).cohort == "n/a: only 1 ranked paper in this cohort"
    assert stand(cohort_size=19, cohort_top_percent=None).cohort == "n/a: only 19 ranked papers in this cohort"


def test_a_paper_without_subfield_or_year_has_no_cohort_sentence():
    assert stand(subfield="").cohort == stand(year=None).cohort == stand(cohort_size=None).cohort == ""


def test_a_paper_not_ranked_says_so_and_how_many_share_that_state():
    shown = stand(rank=None, top_percent=None, cohort_size=None, cohort_top_percent=None)

    assert not shown.ranked and shown.cohort == ""
    assert shown.corpus == (
        "Not ranked yet: no citation with signal; 9,879 other corpus papers of the 11,084 scored share that state."
    )
    alone = stand(rank=None, top_percent=None, ranked_papers=0, scored_papers=1)
    assert alone.corpus == "Not ranked yet: no citation with signal; it is the only one of the 1 corpus papers scored."


def test_first_of_one_or_first_of_a_tie_of_all_says_nothing_and_the_page_says_so():
    assert stand(rank=1, top_percent=100.0, ranked_papers=1).caveat == (
        "It is the only ranked paper, so being first says nothing."
    )
    assert stand(rank=1, top_percent=100.0, ranked_papers=40).caveat == (
        "All 40 ranked papers score the same, so being first says nothing."
    )
    assert stand(rank=1, top_percent=2.5, ranked_papers=40).caveat == ""


def test_a_paper_not_ranked_has_no_cohort_and_no_caveat_whatever_its_cohort_figures():
    shown = stand(rank=None, top_percent=None)

    assert shown == Standing(
        ranked=False,
        corpus="Not ranked yet: no citation with signal; 9,879 other corpus papers of the 11,084 scored share that "
        "state.",
        cohort="",
        caveat="",
    )
    assert shown.ranked is False


@pytest.mark.parametrize(("rank", "top_percent"), [(None, 0.62), (3, None)])
def test_a_paper_without_a_rank_or_without_a_top_percent_is_not_ranked(rank, top_percent):
    shown = stand(rank=rank, top_percent=top_percent)

    assert shown.ranked is False
    assert shown.corpus.startswith("Not ranked yet")
