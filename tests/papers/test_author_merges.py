"""Author merges are kept flat: every old id points straight at its survivor."""

from datetime import date

import pytest

from papers.models import Author, AuthorMerge

pytestmark = pytest.mark.django_db

DAY = date(2023, 4, 13)


def merges() -> dict[int, int]:
    return dict(AuthorMerge.objects.values_list("old_id", "into_id"))


def test_it_records_a_merge_and_finds_the_survivor():
    assert AuthorMerge.objects.record([(1, 2, DAY)]) == []
    assert AuthorMerge.objects.survivor(1) == 2
    assert AuthorMerge.objects.survivor(2) is None
    assert AuthorMerge.objects.get(old_id=1).merge_date == DAY


def test_a_chain_in_one_list_points_every_old_id_at_its_end():
    AuthorMerge.objects.record([(1, 2, DAY), (2, 3, DAY), (3, 4, None)])
    assert merges() == {1: 4, 2: 4, 3: 4}


def test_a_later_merge_repoints_the_held_ones_into_it():
    AuthorMerge.objects.record([(1, 2, DAY), (5, 2, DAY)])
    AuthorMerge.objects.record([(2, 3, DAY)])
    assert merges() == {1: 3, 5: 3, 2: 3}


def test_a_merge_into_a_merged_id_goes_to_its_survivor():
    AuthorMerge.objects.record([(2, 3, DAY)])
    AuthorMerge.objects.record([(1, 2, DAY)])
    assert merges() == {2: 3, 1: 3}


def test_a_merge_that_would_close_a_loop_is_left_out_and_named():
    AuthorMerge.objects.record([(1, 2, DAY)])
    assert AuthorMerge.objects.record([(2, 1, DAY), (7, 8, DAY)]) == [(2, 1)]
    assert merges() == {1: 2, 7: 8}


def test_a_merge_of_an_id_into_itself_is_ignored():
    assert AuthorMerge.objects.record([(4, 4, DAY)]) == []
    assert merges() == {}


def test_a_survivor_not_held_takes_the_old_ones_name_and_a_held_one_keeps_its_own():
    Author.objects.create(id=1, display_name="A. Old", orcid="https://orcid.org/0000-0001")
    Author.objects.create(id=3, display_name="Held Survivor")
    Author.objects.create(id=4, display_name="Another Old")
    AuthorMerge.objects.record([(1, 2, DAY), (4, 3, DAY)])
    assert Author.objects.get(id=2).display_name == "A. Old"
    assert Author.objects.get(id=2).orcid == "https://orcid.org/0000-0001"
    assert Author.objects.get(id=3).display_name == "Held Survivor"
