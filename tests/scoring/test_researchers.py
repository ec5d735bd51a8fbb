"""The three researcher-level scores, with plain numbers, and the array roll-up against them."""

import math
import random

import numpy as np

from scoring.datarank import rank_scores
from scoring.researchers import h_index, researcher_score, roll_up, sum_score


def test_the_researcher_score_is_the_sum_of_the_ten_best_over_ten():
    dataranks = [float(n) for n in range(1, 13)]  # 1 … 12: the best ten are 3 … 12
    assert researcher_score(dataranks) == sum(range(3, 13)) / 10


def test_fewer_than_ten_papers_count_the_missing_ones_as_zero():
    assert researcher_score([30.0]) == 3.0
    assert researcher_score([4.0, 2.0, 1.5]) == 0.75
    assert researcher_score([]) == 0.0


def test_the_sum_adds_every_paper():
    assert sum_score([1.5, 2.5, 0.0, 4.0] * 5) == 40.0
    assert sum_score([]) == 0.0


def test_an_author_whose_papers_are_all_not_ranked_scores_zero():
    assert researcher_score([0.0, 0.0]) == 0.0
    assert sum_score([0.0, 0.0]) == 0.0


def test_the_h_index_can_be_limited_by_the_number_of_papers():
    assert h_index([100, 90, 80]) == 3


def test_the_h_index_can_be_limited_by_citations():
    assert h_index([10, 8, 5, 4, 3]) == 4
    assert h_index([25, 8, 5, 3, 3]) == 3
    assert h_index([0, 0]) == 0
    assert h_index([1]) == 1
    assert h_index([]) == 0


def arrays(papers: dict[int, tuple[float, int, int]]):
    """Per-paper arrays from {index: (DataRank, cited_by_count, subfield)}."""
    count = max(papers) + 1
    datarank = np.zeros(count)
    cited = np.zeros(count, np.int64)
    subfield = np.zeros(count, np.int64)
    for index, (score, citations, field) in papers.items():
        datarank[index], cited[index], subfield[index] = score, citations, field
    return {"datarank": datarank, "cited_by_count": cited, "ranked": datarank > 0, "subfield": subfield}


def roll(members: list[tuple[int, int]], papers):
    group, paper = zip(*members, strict=True) if members else ((), ())
    return roll_up(member_group=np.array(group, np.int64), member_paper=np.array(paper, np.int64), **arrays(papers))


def test_the_roll_up_gives_each_group_its_three_scores_and_counts():
    papers = {0: (5.0, 12, 1705), 1: (2.0, 3, 1705), 2: (0.0, 0, 1906), 3: (1.0, 2, 1906)}
    rolled = roll([(7, 0), (7, 1), (7, 2), (9, 2), (9, 3), (9, 3)], papers)
    assert rolled.ids.tolist() == [7, 9]
    assert rolled.papers.tolist() == [3, 2]  # the pair given twice counts once
    assert rolled.ranked_papers.tolist() == [2, 1]
    assert rolled.researcher_score.tolist() == [0.7, 0.1]
    assert rolled.sum_score.tolist() == [7.0, 1.0]
    assert rolled.h_index.tolist() == [2, 1]
    assert rolled.subfield.tolist() == [1705, 1906]


def test_researchers_are_ranked_by_the_researcher_score_and_ties_share_the_best_rank():
    papers = {0: (5.0, 1, 0), 1: (5.0, 1, 0), 2: (2.0, 1, 0), 3: (0.0, 0, 0)}
    rolled = roll([(1, 0), (2, 1), (3, 2), (4, 3)], papers)
    assert rolled.rank.tolist() == [1, 1, 3, 0]
    # k counts everyone at least as high, the tie included: 2 of 3 ranked is 66.7%.
    assert rolled.top_percent[:3].tolist() == [100 * 2 / 3, 100 * 2 / 3, 100.0]
    assert math.isnan(rolled.top_percent[3])


def test_the_main_subfield_is_the_most_frequent_and_the_lowest_among_equals():
    papers = {0: (1.0, 1, 30), 1: (1.0, 1, 20), 2: (1.0, 1, 30), 3: (1.0, 1, 0), 4: (1.0, 1, 0)}
    rolled = roll([(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (3, 3), (3, 4)], papers)
    assert rolled.subfield.tolist() == [30, 20, 0]


def test_an_empty_roll_up_has_no_groups_and_the_usual_types():
    rolled = roll([], {0: (1.0, 1, 0)})
    assert len(rolled) == 0
    for name in ("ids", "papers", "ranked_papers", "h_index", "rank", "subfield"):
        assert getattr(rolled, name).dtype == np.int64 and len(getattr(rolled, name)) == 0, name
    for name in ("researcher_score", "sum_score", "top_percent"):
        assert getattr(rolled, name).dtype == np.float64 and len(getattr(rolled, name)) == 0, name


def test_the_last_group_can_have_nothing_ranked_and_no_h_index():
    rolled = roll([(1, 0), (2, 1)], {0: (2.0, 5, 0), 1: (0.0, 0, 0)})
    assert rolled.ranked_papers.tolist() == [1, 0]
    assert rolled.h_index.tolist() == [1, 0]


def test_counts_stay_integers():
    rolled = roll([(1, 0), (1, 1)], {0: (2.0, 5, 1), 1: (0.0, 1, 0)})
    for name in ("papers", "ranked_papers", "h_index", "rank", "subfield"):
        assert getattr(rolled, name).dtype == np.int64, name
    assert rolled.subfield.tolist() == [1]  # a paper without a subfield (0) is not counted as one


def test_the_sum_runs_best_first_so_the_plain_and_array_sums_agree_to_the_bit():
    # 1e16 + 1 is 1e16 in floating point: adding the small ones first would give 1e16 + 2.
    dataranks = [1.0, 1e16, 1.0]
    assert sum_score(dataranks) == 1e16
    rolled = roll([(1, 0), (1, 1), (1, 2)], {0: (1.0, 0, 0), 1: (1e16, 0, 0), 2: (1.0, 0, 0)})
    assert rolled.sum_score.tolist() == [1e16]


def test_the_roll_up_matches_the_plain_definitions_on_random_groups():
    rng = random.Random(17)
    count = 300
    papers = {
        index: (rng.choice([0.0, 0.0, rng.uniform(0, 40), round(rng.uniform(0, 5), 1)]), rng.randint(0, 60), 0)
        for index in range(count)
    }
    members = [(rng.randint(1, 60), rng.randrange(count)) for _ in range(1500)]
    rolled = roll(members, papers)
    by_group: dict[int, set[int]] = {}
    for group, paper in members:
        by_group.setdefault(group, set()).add(paper)
    expected_best = {group: researcher_score([papers[p][0] for p in own]) for group, own in by_group.items()}
    expected_ranks = rank_scores(expected_best)
    for index, group in enumerate(rolled.ids.tolist()):
        own = by_group[group]
        assert rolled.researcher_score[index] == expected_best[group]
        assert rolled.sum_score[index] == sum_score([papers[p][0] for p in own])
        assert rolled.h_index[index] == h_index([papers[p][1] for p in own])
        assert rolled.papers[index] == len(own)
        expected = expected_ranks.get(group)
        assert rolled.rank[index] == (expected.rank if expected else 0)
        if expected:
            assert rolled.top_percent[index] == expected.top_percent
