"""Researcher corrections in the editors' queue, beside the paper corrections: readable rows,
and what accepting does — "isn't theirs" takes the paper out of their roll-up, "same person"
merges the other profile into theirs, recorded against the correction, unless the two are one
person already — with who decided and why kept on each; and they are no labelled examples."""

import json
from datetime import date

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from papers.models import Author, AuthorMerge, Authorship, CorpusEntry, Correction, Work
from tests.factories import make_work, text

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/papers/correction/"
ADA, NAMESAKE, ELSEWHERE = 1, 2, 9
DAY = date(2024, 3, 1)


@pytest.fixture
def admin_user(django_user_model):
    """pytest-django's superuser, without a password: hashing one takes a second per test, and
    admin_client logs in with force_login, which needs none."""
    return django_user_model.objects.create_superuser("admin", "admin@example.com", password=None)


def paper(number: int, title: str, *authors: int) -> Work:
    work = make_work(number, title=title, corpus=True)
    for position, author_id in enumerate(authors):
        Authorship.objects.create(work=work, author_id=author_id, position=position)
    return work


@pytest.fixture
def world():
    Author.objects.create(id=ADA, display_name="Ada Lovelace")
    Author.objects.create(id=NAMESAKE, display_name="A. Lovelace")
    Author.objects.create(id=ELSEWHERE, display_name="Augusta Ada King")
    paper(101, "River gauges of the Nile", ADA)
    paper(102, "Glacier mass balance", ADA)
    paper(201, "Tidal tables", NAMESAKE)


def not_theirs(work: int = 102, author: int = ADA) -> Correction:
    return Correction.objects.create(kind="not_theirs", author_id=author, work_id=work, reason="Another Ada wrote it.")


def same_person(author: int = ADA, other: int = NAMESAKE) -> Correction:
    return Correction.objects.create(
        kind="same_person", author_id=author, other_author_id=other, reason="Both are Ada: same ORCID on the PDFs."
    )


def decide(admin_client, *corrections: Correction, note: str = "", action: str = "accept"):
    data = {"action": action, "index": "0", "select_across": "0", "note": note}
    data["_selected_action"] = [str(correction.pk) for correction in corrections]
    return admin_client.post(CHANGELIST, data, follow=True)


def said(response) -> list[tuple[str, str]]:
    """The messages the action left for the editor, as (level, text)."""
    return [(message.level_tag, message.message) for message in get_messages(response.wsgi_request)]


def credited(author_id: int) -> list[int]:
    return sorted(Authorship.objects.credited_to(author_id).values_list("work_id", flat=True))


# The queue


def test_the_queue_shows_what_each_researcher_correction_is_about_with_links(admin_client, world):
    not_theirs()
    same_person()

    html = admin_client.get(CHANGELIST).content.decode()

    assert 'href="/admin/papers/work/102/change/">W102</a> Glacier mass balance' in html
    assert ", not by " in html
    assert "Merge " in html and " into " in html
    for number, name in ((ADA, "Ada Lovelace"), (NAMESAKE, "A. Lovelace")):
        assert f'href="/admin/papers/author/{number}/change/">A{number}</a> {name}' in html
        assert f'href="/researchers/A{number}/"' in html
    assert "This paper isn&#x27;t theirs" in html and "These profiles are the same person" in html


def test_the_queue_does_not_query_per_row(admin_client, world):
    Correction.objects.create(kind="exclude", work_id=101, reason="No data.")
    not_theirs()
    same_person()
    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST)
    for number in range(10, 20):
        Author.objects.create(id=number, display_name=f"Author {number}")
        paper(number, f"Paper {number}", number)
        not_theirs(number, number)
        same_person(number, ADA)
        Correction.objects.create(kind="include", work_id=number, reason="Data.")
    with CaptureQueriesContext(connection) as many:
        admin_client.get(CHANGELIST)

    assert len(many) == len(few)


def test_a_researcher_correction_has_a_change_page(admin_client, world):
    for correction in (not_theirs(), same_person()):
        response = admin_client.get(f"{CHANGELIST}{correction.pk}/change/")
        assert response.status_code == 200
        assert correction.reason in response.content.decode()


def test_the_queue_finds_researcher_corrections_by_either_author_id(admin_client, world):
    not_theirs()
    same_person()

    by_other = admin_client.get(CHANGELIST, {"q": f"A{NAMESAKE}"})

    assert by_other.context["cl"].result_count == 1
    assert admin_client.get(CHANGELIST, {"q": f"https://openalex.org/A{ADA}"}).context["cl"].result_count == 2


# Accepting


def test_accepting_isnt_theirs_takes_the_paper_out_of_their_roll_up_and_keeps_who_and_why(
    admin_client, admin_user, world
):
    correction = not_theirs()
    assert credited(ADA) == [101, 102]

    response = decide(admin_client, correction, note="Checked the affiliations: another Ada.")

    assert "Accepted 1 correction." in text(response)
    assert "W102 no longer counts for A1: researchers change at the next scoring run." in text(response)
    correction.refresh_from_db()
    assert (correction.status, correction.decided_by, correction.note) == (
        "accepted", admin_user, "Checked the affiliations: another Ada."
    )  # fmt: skip
    assert correction.decided_at is not None
    assert credited(ADA) == [101]
    # The corpus is left alone.
    assert CorpusEntry.objects.get(work_id=102).override == ""
    log = LogEntry.objects.get(object_id=str(correction.pk))
    assert log.user == admin_user
    assert log.change_message == "Accepted: Checked the affiliations: another Ada. (W102 no longer counts for A1)"


def test_accepting_same_person_merges_the_other_profile_recorded_against_the_correction(
    admin_client, admin_user, world
):
    correction = same_person()

    response = decide(admin_client, correction, note="Same ORCID on both.")

    assert "A2 merged into A1: researchers change at the next scoring run." in text(response)
    merge = AuthorMerge.objects.get(old_id=NAMESAKE)
    assert (merge.into_id, merge.correction, merge.merge_date) == (ADA, correction, timezone.localdate())
    assert AuthorMerge.objects.survivor(NAMESAKE) == ADA
    assert credited(ADA) == [101, 102, 201]
    correction.refresh_from_db()
    assert (correction.status, correction.decided_by, correction.note) == (
        "accepted",
        admin_user,
        "Same ORCID on both.",
    )
    assert "(A2 merged into A1)" in LogEntry.objects.get(object_id=str(correction.pk)).change_message


def test_a_profile_merged_elsewhere_since_it_was_filed_brings_its_survivor_along(admin_client, world):
    correction = same_person()
    # OpenAlex merged the other profile into a third before the editor read the correction.
    AuthorMerge.objects.record([(NAMESAKE, ELSEWHERE, DAY)])

    decide(admin_client, correction)

    assert dict(AuthorMerge.objects.values_list("old_id", "into_id")) == {NAMESAKE: ADA, ELSEWHERE: ADA}
    assert AuthorMerge.objects.get(old_id=ELSEWHERE).correction == correction
    assert Correction.objects.get().status == "accepted"


def test_profiles_that_are_one_person_already_are_not_merged_again(admin_client, world):
    correction = same_person()
    AuthorMerge.objects.record([(NAMESAKE, ADA, DAY)])

    response = decide(admin_client, correction)

    assert f"Correction {correction.pk} was not accepted: A2 and A1 are one person already (both count as A1)." in (
        text(response)
    )
    assert Correction.objects.get().status == "pending"
    # OpenAlex's merge stays OpenAlex's.
    assert AuthorMerge.objects.get(old_id=NAMESAKE).correction is None


def test_a_merge_that_would_close_a_loop_is_refused_and_the_correction_stays_pending(admin_client, world):
    correction = same_person()
    # Since it was filed, the researcher's own profile was merged into the other one.
    AuthorMerge.objects.record([(ADA, NAMESAKE, DAY)])

    response = decide(admin_client, correction)

    assert said(response) == [
        (
            "error",
            f"Correction {correction.pk} was not accepted: A2 and A1 are one person already (both count as A2). "
            "Reject it to take it off the queue.",
        )
    ]
    assert dict(AuthorMerge.objects.values_list("old_id", "into_id")) == {ADA: NAMESAKE}
    correction.refresh_from_db()
    assert (correction.status, correction.decided_at, correction.decided_by) == ("pending", None, None)
    assert not LogEntry.objects.filter(object_id=str(correction.pk)).exists()


def test_the_refused_ones_do_not_stop_the_others_in_the_same_action(admin_client, world):
    refused = same_person()
    AuthorMerge.objects.record([(NAMESAKE, ADA, DAY)])
    fine = not_theirs()

    response = decide(admin_client, refused, fine)

    assert "Accepted 1 correction." in text(response)
    assert f"Correction {refused.pk} was not accepted" in text(response)
    assert Correction.objects.get(pk=fine.pk).status == "accepted"
    assert Correction.objects.get(pk=refused.pk).status == "pending"


def test_rejecting_changes_neither_roll_up_nor_profiles(admin_client, admin_user, world):
    merge, paper_ = same_person(), not_theirs()

    response = decide(admin_client, merge, paper_, note="The ORCIDs differ.", action="reject")

    assert "Rejected 2 corrections." in text(response)
    assert not AuthorMerge.objects.exists()
    assert credited(ADA) == [101, 102]
    assert set(Correction.objects.values_list("status", "decided_by", "note")) == {
        ("rejected", admin_user.pk, "The ORCIDs differ.")
    }


# Labelled examples


def test_researcher_corrections_are_not_exported_as_labelled_examples(admin_client, world, capsys):
    data = Correction.objects.create(kind="include", work_id=201, reason="A data descriptor.")
    decide(admin_client, data, not_theirs(), same_person())
    assert Correction.objects.filter(status="accepted").count() == 3

    call_command("export_corrections")

    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["W201"]
