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


def test_a_merge_that_only_runs_into_a_refused_loop_still_finds_its_end():
    AuthorMerge.objects.record([(1, 2, DAY)])
    assert AuthorMerge.objects.record([(2, 1, DAY), (3, 1, DAY)]) == [(2, 1)]
    assert merges() == {1: 2, 3: 2}


def test_a_loop_within_one_list_is_left_out_whole():
    assert sorted(AuthorMerge.objects.record([(1, 2, DAY), (2, 1, DAY), (5, 1, DAY)])) == [(1, 2), (2, 1)]
    assert merges() == {5: 1}


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


def test_a_researcher_is_credited_with_the_papers_of_ids_merged_into_them_less_those_found_not_theirs():
    from django.utils import timezone

    from papers.models import Authorship, Correction
    from tests.factories import make_work

    for number in (1, 2, 3):
        Author.objects.create(id=number)
    papers = [make_work(number, corpus=True) for number in (10, 11, 12, 13)]
    for work, author in zip(papers, (1, 2, 2, 3), strict=True):
        Authorship.objects.create(work=work, author_id=author, position=1)
    AuthorMerge.objects.record([(2, 1, DAY)])
    Correction.objects.create(
        kind=Correction.Kind.NOT_THEIRS, work=papers[2], author_id=1, reason="Another person",
        status=Correction.Status.ACCEPTED, decided_at=timezone.now(),
    )  # fmt: skip
    Correction.objects.create(kind=Correction.Kind.NOT_THEIRS, work=papers[1], author_id=1, reason="Pending")
    credited = Authorship.objects.credited_to(1).values_list("work_id", flat=True)
    assert sorted(credited) == [10, 11]
