"""The DataRank formula of DESIGN.md §1, checked with plain numbers."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.datarank import (
    Citer,
    Cohort,
    Rank,
    base_contribution,
    cap_order,
    citer_contribution,
    cohort_ranks,
    format_score,
    format_share,
    format_top_percent,
    rank_scores,
    score_paper,
)

D = 0.85


def score(citers, *, cited_by_count=9, author_ids=(), paper_id=1, cap=200, damping=D):
    return score_paper(
        paper_id=paper_id,
        cited_by_count=cited_by_count,
        author_ids=frozenset(author_ids),
        citers=citers,
        damping=damping,
        cap=cap,
    )


def test_imagenet_base_contribution_is_1_654():
    assert round(base_contribution(61_487, damping=D), 3) == 1.654
    assert base_contribution(61_487, damping=D) == pytest.approx(0.15 * math.log(61_488))


def test_citer_contribution_divides_by_references_but_never_by_zero():
    assert citer_contribution(9, 4) == pytest.approx(math.log(10) / 4)
    assert citer_contribution(9, 0) == pytest.approx(math.log(10))
    assert citer_contribution(9, 1) == citer_contribution(9, 0)
    assert citer_contribution(0, 7) == 0.0


def test_it_reproduces_the_bibliometric_indicators_row():
    citers = [
        Citer(101, 1, 10),
        Citer(102, 2, 10),
        Citer(103, 3, 50),
        Citer(104, 12, 40),
        Citer(105, 0, 30),
        Citer(106, 0, 0),
        Citer(107, 0, 12),
    ]
    b = score(citers, cited_by_count=9)

    assert round(b.base_contribution, 3) == 0.345
    assert round(b.network_contribution, 3) == 0.230
    # The rounded parts add up to 0.575: the DataRank is the sum of the unrounded ones.
    assert b.datarank == b.base_contribution + b.network_contribution
    assert round(b.datarank, 3) == 0.576
    assert (b.citing_works, b.citers_with_signal, b.self_citations_excluded) == (7, 4, 0)
    assert b.cap_bound is False


def test_network_contribution_is_damping_times_the_sum_of_citer_terms():
    citers = [Citer(2, 40_012, 80), Citer(3, 29_031, 60), Citer(4, 5, 0)]
    expected = D * (math.log(40_013) / 80 + math.log(29_032) / 60 + math.log(6))
    assert score(citers).network_contribution == pytest.approx(expected, rel=1e-15)


def test_it_excludes_self_citations_sharing_any_author():
    citers = [Citer(2, 50, 10, frozenset({7, 8})), Citer(3, 40, 10, frozenset({9})), Citer(4, 30, 10)]
    b = score(citers, author_ids={1, 8})

    assert [c.id for c in b.kept] == [3, 4]
    assert b.self_citations_excluded == 1
    assert b.citing_works == 2
    assert b.network_contribution == pytest.approx(D * (math.log(41) + math.log(31)) / 10)


def test_a_missing_author_id_never_matches():
    citers = [Citer(2, 5, 10, frozenset()), Citer(3, 5, 10, frozenset({None}))]

    assert score(citers, author_ids=()).self_citations_excluded == 0
    assert score(citers, author_ids={None}).self_citations_excluded == 0
    assert score(citers, author_ids={None, 4}).citing_works == 2


def test_citers_without_citations_are_kept_but_carry_no_signal():
    b = score([Citer(2, 0, 10), Citer(3, 0, 0)])

    assert b.citing_works == 2
    assert b.citers_with_signal == 0
    assert b.network_contribution == 0.0
    assert b.datarank == b.base_contribution


def test_a_citer_with_no_references_counts_as_one_reference():
    assert score([Citer(2, 9, 0)]).network_contribution == pytest.approx(D * math.log(10))


def test_a_paper_with_no_citers_scores_its_base_only():
    b = score([], cited_by_count=0)

    assert (b.base_contribution, b.network_contribution, b.datarank) == (0.0, 0.0, 0.0)
    assert (b.citing_works, b.citers_with_signal, b.self_citations_excluded, b.cap_bound) == (0, 0, 0, False)
    assert b.kept == ()


def test_cap_order_is_most_cited_first_with_ties_by_id():
    citers = [Citer(9, 5, 1), Citer(3, 5, 1), Citer(7, 100, 1), Citer(1, 0, 1), Citer(4, 5, 1)]

    assert [c.id for c in cap_order(citers, 200)] == [7, 3, 4, 9, 1]
    assert [c.id for c in cap_order(citers, 3)] == [7, 3, 4]


def test_the_cap_applies_before_self_citations_are_removed():
    citers = [Citer(10, 100, 1, frozenset({1})), Citer(11, 50, 1), Citer(12, 50, 1), Citer(13, 1, 1)]
    b = score(citers, author_ids={1}, cap=3)

    # The self-citation takes a capped slot; citer 13 does not move up to fill it.
    assert [c.id for c in b.kept] == [11, 12]
    assert b.self_citations_excluded == 1
    assert b.cap_bound is True


def test_cap_bound_only_when_there_are_more_citers_than_the_cap():
    citers = [Citer(i, i, 1) for i in range(2, 5)]

    assert score(citers, cap=3).cap_bound is False
    assert score(citers, cap=2).cap_bound is True


def test_the_paper_itself_is_never_a_citer():
    citers = [Citer(1, 1_000, 1), Citer(2, 5, 1), Citer(3, 4, 1)]
    b = score(citers, paper_id=1, cap=2)

    assert [c.id for c in b.kept] == [2, 3]
    assert b.cap_bound is False


def test_it_rejects_an_invalid_damping_or_cap():
    with pytest.raises(ValueError, match="damping"):
        score([], damping=1.5)
    with pytest.raises(ValueError, match="cap"):
        score([], cap=0)


@pytest.mark.parametrize("damping", [0, 1])
def test_a_damping_of_0_or_1_is_allowed(damping):
    b = score([Citer(2, 99, 1)], cited_by_count=99, damping=damping)

    assert b.base_contribution == pytest.approx((1 - damping) * math.log(100))
    assert b.network_contribution == pytest.approx(damping * math.log(100))


def test_a_zero_score_is_not_ranked():
    ranks = rank_scores({1: 0.0, 2: 0.0, 3: 1.5})

    assert set(ranks) == {3}
    assert ranks[3] == Rank(rank=1, top_percent=100.0, tier=5)


def test_an_all_zero_corpus_ranks_nobody():
    assert rank_scores({1: 0.0, 2: 0.0}) == {}


def test_a_tie_at_the_top_shares_rank_one_and_counts_every_paper_of_the_tie():
    ranks = rank_scores({1: 9.0, 2: 9.0, 3: 9.0, 4: 1.0, 5: 0.5})

    assert [ranks[p].rank for p in (1, 2, 3, 4, 5)] == [1, 1, 1, 4, 5]
    # k = 3 for the three at the top: 60% of the corpus scores at least as high as each of them.
    assert [ranks[p].top_percent for p in (1, 2, 3)] == [60.0, 60.0, 60.0]
    assert [ranks[p].tier for p in (1, 2, 3, 4, 5)] == [3, 3, 3, 4, 5]


def test_a_tie_in_the_middle_never_flatters():
    ranks = rank_scores({1: 9.0, 2: 5.0, 3: 5.0, 4: 5.0, 5: 1.0, 6: 0.1, 7: 0.1, 8: 0.1, 9: 0.1, 10: 0.05})

    assert [ranks[p].rank for p in (2, 3, 4)] == [2, 2, 2]
    assert {ranks[p].top_percent for p in (2, 3, 4)} == {40.0}
    assert {ranks[p].tier for p in (2, 3, 4)} == {2}
    assert (ranks[6].rank, ranks[6].top_percent, ranks[6].tier) == (6, 90.0, 5)


def test_a_lone_ranked_paper_or_a_tie_of_all_is_rank_one_top_100_and_s5():
    assert rank_scores({7: 2.0})[7] == Rank(rank=1, top_percent=100.0, tier=5)
    assert set(rank_scores({1: 3.0, 2: 3.0, 3: 3.0}).values()) == {Rank(rank=1, top_percent=100.0, tier=5)}


def test_tiers_are_fifths_of_k():
    ranks = rank_scores({pid: float(11 - pid) for pid in range(1, 11)})

    assert [ranks[pid].tier for pid in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # The tier agrees with the "top X%" shown beside it: S1 is exactly "top 20%" or better.
    assert [r.tier for r in rank_scores({1: 3.0, 2: 2.0, 3: 1.0}).values()] == [2, 4, 5]


def test_ranking_nothing_gives_nothing():
    assert rank_scores({}) == {}


def cohort_of(n: int, *, subfield: int = 2211, year: int = 2020) -> dict:
    return {pid: (float(pid), subfield, year) for pid in range(1, n + 1)}


def test_a_cohort_of_19_has_a_size_but_no_percentile():
    cohorts = cohort_ranks(cohort_of(19))

    assert cohorts[19] == Cohort(size=19, top_percent=None)


def test_a_cohort_of_20_has_a_percentile_by_the_same_k_rule():
    cohorts = cohort_ranks(cohort_of(20))

    assert cohorts[20] == Cohort(size=20, top_percent=5.0)
    assert cohorts[1] == Cohort(size=20, top_percent=100.0)


def test_the_cohort_window_slides_a_year_either_side_of_each_paper():
    papers = {1: (1.0, 7, 2019), 2: (2.0, 7, 2020), 3: (3.0, 7, 2021), 4: (4.0, 7, 2022), 5: (9.0, 8, 2020)}

    cohorts = cohort_ranks(papers)

    assert cohorts[1].size == 2  # 2019-2020 of its own subfield
    assert cohorts[2].size == 3  # 2019-2021
    assert cohorts[3].size == 3  # 2020-2022
    assert cohorts[5].size == 1  # another subfield


def test_a_paper_not_ranked_or_without_subfield_or_year_has_no_cohort():
    cohorts = cohort_ranks({1: (0.0, 7, 2020), 2: (1.0, None, 2020), 3: (1.0, 7, None), 4: (1.0, 7, 2020)})

    assert set(cohorts) == {4}
    assert cohorts[4].size == 1


@pytest.mark.parametrize(
    ("top_percent", "shown"),
    [
        (0.68, "0.7%"),
        (0.7, "0.7%"),
        (9.2, "9.2%"),
        (9.96, "10%"),
        (10.0, "10%"),
        (27.3, "28%"),
        (28.0, "28%"),
        (100 * 1 / 5, "20%"),
        (0.01, "0.1%"),
        (100.0, "100%"),
    ],
)
def test_format_top_percent(top_percent, shown):
    assert format_top_percent(top_percent) == shown


def test_the_ceiling_ignores_float_noise_within_a_millionth_of_a_boundary_and_no_more():
    # 100·k/N carries noise such as 20.000000000000004; six decimals of the figure (in tenths under
    # 10%) are kept, so whatever lies below them is noise and what lies above rounds up.
    assert format_top_percent(0.50000004) == "0.5%"
    assert format_top_percent(0.5000004) == "0.6%"
    assert format_top_percent(20.0000002) == "20%"
    assert format_top_percent(20.000002) == "21%"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (30.6, "30.6"),
        (30.64, "30.6"),
        (1.654, "1.7"),
        (1.0, "1.0"),
        (9.96, "10.0"),
        (0.999, "1.0"),
        (0.52, "0.52"),
        (0.576, "0.58"),
        (0.5, "0.50"),
        (0.031, "0.031"),
        (0.095, "0.095"),
        (0.0095, "0.0095"),
        (0.0996, "0.10"),
        (0.000123, "0.00012"),
        (0, "0"),
        (-0.5, "0"),
    ],
)
def test_format_score_gives_one_decimal_from_1_up_and_two_significant_digits_below(value, shown):
    assert format_score(value) == shown


@pytest.mark.parametrize(
    ("percent", "shown"),
    [
        (94.6, "95%"),
        (5.4, "5%"),
        (0, "0%"),
        (0.2, "<1%"),
        (0.999, "<1%"),
        (1, "1%"),
        (99, "99%"),
        (99.01, ">99%"),
        (99.8, ">99%"),
        (100, "100%"),
    ],
)
def test_format_share_never_reads_0_or_100_for_a_share_that_is_not(percent, shown):
    assert format_share(percent) == shown


citer_lists = st.lists(
    st.builds(
        Citer,
        id=st.integers(2, 60),
        cited_by_count=st.integers(0, 10_000),
        referenced_works_count=st.integers(0, 300),
        author_ids=st.frozensets(st.integers(1, 8), max_size=3),
    ),
    max_size=40,
    unique_by=lambda c: c.id,
)


@given(citers=citer_lists, cap=st.integers(1, 50), authors=st.frozensets(st.integers(1, 8), max_size=3))
def test_the_score_does_not_depend_on_the_order_citers_arrive_in(citers, cap, authors):
    forward = score(citers, author_ids=authors, cap=cap)
    backward = score(list(reversed(citers)), author_ids=authors, cap=cap)

    assert forward == backward
    assert forward.citing_works + forward.self_citations_excluded == min(len(citers), cap)
    assert forward.network_contribution >= 0
    assert forward.citers_with_signal <= forward.citing_works


@given(scores=st.dictionaries(st.integers(1, 10_000), st.sampled_from([0.0, 0.5, 1.0, 2.5, 7.0]), min_size=1))
def test_ranks_follow_scores(scores):
    ranks = rank_scores(scores)
    ranked = [b for b in scores if scores[b] > 0]

    assert set(ranks) == set(ranked)
    for a in ranked:
        k = sum(1 for b in ranked if scores[b] >= scores[a])
        assert ranks[a].rank == 1 + sum(1 for b in ranked if scores[b] > scores[a])
        assert ranks[a].top_percent == 100 * k / len(ranked)
        assert ranks[a].tier == math.ceil(5 * k / len(ranked))
