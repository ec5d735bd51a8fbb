"""The calibrated FAIR score, read from stored raw scores: a raw score's percentile among the
current, complete evaluations (ties share the highest value of their block, the best gets 100),
and the spread of raw scores the FAIR pages chart."""

from datetime import timedelta
from itertools import count

import pytest

from scoring.fair.calibration import calibrated, fair_distribution, unevaluated_corpus_count
from scoring.fair.metrics import METHOD_VERSION
from scoring.models import FairEvaluation
from tests.factories import FAIR_NOW, make_corpus_paper

pytestmark = pytest.mark.django_db

_numbers = count(9200000000001)


def evaluated(raw: float, *, work=None, provisional=False, is_latest=True, method_version=METHOD_VERSION, days=0):
    """A stored evaluation with this raw score, of a new corpus paper unless `work` is given."""
    work = work or make_corpus_paper(next(_numbers), title="A paper")
    FairEvaluation.objects.create(
        work=work,
        method_version=method_version,
        evaluated_at=FAIR_NOW + timedelta(days=days),
        f=raw,
        a=raw,
        i=raw,
        r=raw,
        raw=raw,
        provisional=provisional,
        is_latest=is_latest,
    )
    return work


def test_without_complete_evaluations_there_is_no_calibrated_score():
    assert calibrated(50.0) == (None, 0)
    evaluated(50.0, provisional=True)
    assert calibrated(50.0) == (None, 0)


def test_the_calibrated_score_is_the_share_of_the_pool_at_or_below_with_ties_sharing_the_top_of_their_block():
    for raw in (10.0, 20.0, 20.0, 40.0):
        evaluated(raw)
    assert calibrated(40.0) == (100.0, 4)  # 4 of 4 at or below
    assert calibrated(20.0) == (75.0, 4)  # 3 of 4: both 20s share the higher place
    assert calibrated(10.0) == (25.0, 4)  # 1 of 4
    # A score not in the pool is placed in it.
    assert calibrated(30.0) == (75.0, 4)
    assert calibrated(5.0) == (0.0, 4)


def test_provisional_earlier_and_old_method_evaluations_are_left_out_of_the_pool():
    evaluated(50.0)
    evaluated(10.0, provisional=True)
    redone = evaluated(20.0, is_latest=False)  # its earlier evaluation …
    evaluated(90.0, work=redone, days=1)  # … and the one that counts
    evaluated(30.0, method_version="fair-metadata-v1")
    # The pool: 50 and 90.
    assert calibrated(50.0) == (50.0, 2)
    assert calibrated(90.0) == (100.0, 2)
    assert calibrated(30.0) == (0.0, 2)


def test_the_distribution_counts_the_pool_in_ten_bands_the_last_one_holding_100():
    for raw in (0.0, 9.99, 10.0, 55.5, 90.0, 100.0):
        evaluated(raw)
    evaluated(15.0, provisional=True)
    evaluated(25.0, method_version="fair-metadata-v1")
    distribution = fair_distribution()
    assert distribution["total"] == 6
    assert [band["count"] for band in distribution["bands"]] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert distribution["bands"][0]["label"] == "0 to 10"
    assert distribution["bands"][9]["label"] == "90 to 100"


def test_the_corpus_papers_without_a_current_evaluation_are_counted():
    evaluated(50.0)
    evaluated(50.0, provisional=True)  # current, though provisional
    evaluated(50.0, method_version="fair-metadata-v1")  # to be evaluated again
    make_corpus_paper(next(_numbers), title="Never evaluated")
    assert unevaluated_corpus_count() == 2
