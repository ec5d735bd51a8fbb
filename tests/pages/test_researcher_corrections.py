"""Corrections to researchers, from the visitor's side: the researcher page's form for "This paper
isn't theirs" and "These profiles are the same person", fetched on its own, filing into the
editors' queue with the paper corrections' guards (CSRF, the honeypot, one rate limit per client
for both); which other profiles it takes, and what the page reads back once an editor decided."""

import re
from datetime import date, timedelta
from html import unescape

import django_ratelimit.core
import pytest
from django.test import Client
from django.utils import timezone

from datarank_site.pages.corrections import SUBMISSIONS_RATE, EditorCorrection, editor_corrections
from papers.models import Author, AuthorMerge, Authorship, Correction, Work
from tests.factories import make_work
from tests.factories import text as markup_text

pytestmark = pytest.mark.django_db

ADA = 1  # the researcher whose page it is
NAMESAKE = 2  # another profile, with a paper of its own
MERGED_IN = 3  # merged into ADA by OpenAlex: its papers count for her
TWINS = (4, 5)  # two profiles that hold one ORCID
MERGED_AWAY, SURVIVOR = 6, 7
WITH_ORCID = 8
ADA_ORCID = "0000-0002-1825-0097"
TWIN_ORCID = "0000-0001-5109-3700"
OTHER_ORCID = "0000-0003-1415-926X"
LIMIT = int(SUBMISSIONS_RATE.split("/")[0])
HTMX = {"HTTP_HX_REQUEST": "true"}
LIMITED = "Too many suggestions from your address; try again in an hour"
DAY = date(2024, 3, 1)


@pytest.fixture(autouse=True)
def one_window(monkeypatch):
    # django-ratelimit counts in fixed windows; one window for the whole test, so that a window
    # ending mid-test can never reset a count.
    monkeypatch.setattr(django_ratelimit.core, "_get_window", lambda value, period: 0)


def author(number: int, name: str, orcid: str = "") -> Author:
    return Author.objects.create(id=number, display_name=name, orcid=f"https://orcid.org/{orcid}" if orcid else "")


def paper(number: int, title: str, *authors: int, corpus: bool | None = True) -> Work:
    work = make_work(number, title=title, corpus=corpus)
    for position, author_id in enumerate(authors):
        Authorship.objects.create(work=work, author_id=author_id, position=position)
    return work


@pytest.fixture
def world():
    author(ADA, "Ada Lovelace", ADA_ORCID)
    author(NAMESAKE, "A. Lovelace")
    author(MERGED_IN, "Ada King")
    for number in TWINS:
        author(number, "Twin", TWIN_ORCID)
    author(MERGED_AWAY, "Old profile")
    author(SURVIVOR, "Surviving profile")
    author(WITH_ORCID, "Charles Babbage", OTHER_ORCID)
    AuthorMerge.objects.record([(MERGED_IN, ADA, DAY), (MERGED_AWAY, SURVIVOR, DAY)])
    paper(101, "River gauges of the Nile", ADA)
    paper(102, "Glacier mass balance, 1950 to 2020", ADA, NAMESAKE)
    paper(103, "A lecture on engines", ADA, corpus=False)
    paper(104, "Tidal tables", NAMESAKE)
    paper(105, "Notes on the analytical engine: data", MERGED_IN)


def url(number: int = ADA, **query: str) -> str:
    base = f"/researchers/A{number}/correction/"
    return base + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def file(client, kind: str = "not_theirs", *, number: int = ADA, reason: str = "Another Ada wrote it.", **extra):
    data = {"reason": reason, "email": "", "website": "", **extra.pop("data", {})}
    return client.post(url(number, kind=kind), data, **extra)


def not_theirs(client, work: int = 101, **extra):
    return file(client, "not_theirs", data={"work": str(work), **extra.pop("data", {})}, **extra)


def same_person(client, other: str, **extra):
    return file(client, "same_person", data={"other": other, **extra.pop("data", {})}, **extra)


def text(response) -> str:
    """The visible text, its entities read: the messages quote names and ids with apostrophes."""
    return unescape(markup_text(response))


def options(html: str) -> dict[str, bool]:
    """The paper select's options: value → selected."""
    return {value: bool(selected) for value, selected in re.findall(r'<option value="(\d*)"( selected)?>', html)}


# Opening the form


def test_opening_isnt_theirs_by_htmx_gets_the_fragment_with_their_papers(client, world, django_assert_num_queries):
    with django_assert_num_queries(3):
        response = client.get(url(kind="not_theirs", work="W102"), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div class="correction"')
    assert 'name="csrfmiddlewaretoken"' in html
    action = url(kind="not_theirs")
    assert f'hx-post="{action}"' in html and f'action="{action}"' in html
    # Their corpus papers, those of the id merged into them included; neither a paper of
    # someone else's nor one outside the corpus. The one the page's link named is chosen.
    assert options(html) == {"": False, "101": False, "102": True, "105": False}
    assert "Glacier mass balance, 1950 to 2020 (W102)" in html
    assert 'name="reason"' in html and 'name="email"' in html and 'name="website"' in html
    assert "HX-Request" in response["Vary"]
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_without_a_preselected_paper_none_is_chosen_for_the_visitor(client, world):
    html = client.get(url(kind="not_theirs"), **HTMX).content.decode()

    assert options(html) == {"": True, "101": False, "102": False, "105": False}
    assert '<option value="" selected>Choose the paper…</option>' in html


def test_a_link_naming_a_paper_that_is_not_theirs_says_so_and_chooses_nothing(client, world):
    html = client.get(url(kind="not_theirs", work="W104"), **HTMX).content.decode()

    assert "W104 is not among this researcher's papers in our corpus" in html
    assert [value for value, selected in options(html).items() if selected] == [""]


def test_without_htmx_the_form_is_a_full_page(client, world):
    response = client.get(url(kind="same_person"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "Are these profiles the same person?" in text(response) and "Ada Lovelace" in text(response)
    assert 'name="other"' in html and 'name="reason"' in html
    assert f'<a href="/researchers/A{ADA}/">Back to A{ADA}</a>' in html


def test_without_a_kind_the_visitor_chooses_one_and_an_unknown_kind_is_a_400(client, world):
    chooser = client.get(url())
    assert chooser.status_code == 200
    assert f'href="{url(kind="not_theirs")}"' in chooser.content.decode()
    assert f'href="{url(kind="same_person")}"' in chooser.content.decode()

    unknown = client.get(url(kind="<b>odd</b>"), **HTMX)
    assert unknown.status_code == 400
    assert "is not a correction we know" in text(unknown) and "<b>odd</b>" not in unknown.content.decode()


def test_the_form_of_a_merged_away_id_redirects_to_its_survivors_keeping_the_query(client, world):
    response = client.get(url(MERGED_IN, kind="not_theirs", work="W105"))

    assert response.status_code == 301
    assert response["Location"] == url(ADA, kind="not_theirs", work="W105")


def test_a_lower_case_key_is_redirected_for_good_and_a_researcher_we_do_not_hold_is_a_404(client, world):
    lower = client.get(f"/researchers/a{ADA}/correction/?kind=same_person")
    assert lower.status_code == 301 and lower["Location"] == url(kind="same_person")

    missing = client.get(url(999, kind="same_person"))
    assert missing.status_code == 404
    assert "We hold no researcher A999" in text(missing)
    assert not_theirs(client, number=999).status_code == 404
    assert not Correction.objects.exists()


# Filing


def test_isnt_theirs_files_one_pending_correction_for_the_editors(world):
    visitor = Client(enforce_csrf_checks=True)
    form = visitor.get(url(kind="not_theirs", work="W102"), **HTMX).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    filed = visitor.post(
        url(kind="not_theirs"),
        {"csrfmiddlewaretoken": token, "work": "102", "reason": "The other A. Lovelace wrote it.", "email": "a@b.org"},
        REMOTE_ADDR="198.51.100.7",
        **HTMX,
    )

    assert filed.status_code == 200
    assert "Thank you." in text(filed) and "The other A. Lovelace wrote it." in text(filed)
    assert "no longer counts for this researcher from the next scoring run" in text(filed)
    correction = Correction.objects.get()
    assert (correction.kind, correction.author_id, correction.work_id, correction.other_author_id) == (
        "not_theirs", ADA, 102, None
    )  # fmt: skip
    assert (correction.status, correction.email) == ("pending", "a@b.org")
    assert "198.51.100.7" not in correction.client and len(correction.client) == 64


def test_a_paper_of_an_id_merged_into_them_can_be_marked_not_theirs(client, world):
    assert not_theirs(client, 105).status_code == 200
    assert Correction.objects.get().work_id == 105


@pytest.mark.parametrize(
    "work",
    [104, 103, 999],
    ids=["someone_elses", "outside_the_corpus", "not_held"],
)
def test_a_paper_that_does_not_count_for_them_cannot_be_picked(client, world, work):
    response = not_theirs(client, work, **HTMX)

    assert response.status_code == 400
    assert "That paper is not one of A1's in our corpus" in text(response)
    assert not Correction.objects.exists()


def test_a_paper_an_editor_already_found_not_theirs_is_no_longer_offered(client, world):
    Correction.objects.create(
        kind="not_theirs", author_id=ADA, work_id=101, reason="Not hers.", status="accepted", decided_at=timezone.now()
    )

    assert "101" not in options(client.get(url(kind="not_theirs"), **HTMX).content.decode())
    assert not_theirs(client, 101).status_code == 400


def test_choosing_no_paper_is_refused_with_a_message(client, world):
    response = file(client, "not_theirs", data={"work": ""})

    assert response.status_code == 400
    assert "Please choose the paper that is not theirs." in text(response)


@pytest.mark.parametrize(
    ("given", "other"),
    [
        ("A2", NAMESAKE),
        ("a2", NAMESAKE),
        (" https://openalex.org/A2 ", NAMESAKE),
        ("https://api.openalex.org/authors/A2", NAMESAKE),
        (OTHER_ORCID, WITH_ORCID),
        (OTHER_ORCID.lower(), WITH_ORCID),
        (f"https://orcid.org/{OTHER_ORCID}", WITH_ORCID),
        # An id merged away is its survivor, the profile that would be merged.
        (f"A{MERGED_AWAY}", SURVIVOR),
    ],
)
def test_same_person_takes_the_other_profile_as_an_id_an_address_or_an_orcid(client, world, given, other):
    response = same_person(client, given)

    assert response.status_code == 200
    assert f"The profiles: A{ADA} and A{other}" in text(response)
    correction = Correction.objects.get()
    assert (correction.kind, correction.author_id, correction.other_author_id, correction.work_id) == (
        "same_person", ADA, other, None
    )  # fmt: skip


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("A1", "A1 is this profile: please give the other one."),
        (f"A{MERGED_IN}", f"A{MERGED_IN} is merged into this profile already: they are one person."),
        ("A999", "We hold no researcher A999, so there is no profile to merge."),
        ("A0", "A0 is not a valid OpenAlex author id."),
        (TWIN_ORCID, f"2 researchers we hold have the ORCID {TWIN_ORCID}; please give the OpenAlex id"),
        ("0000-0000-0000-0000", "No researcher we hold has the ORCID 0000-0000-0000-0000"),
        (ADA_ORCID, f"The ORCID {ADA_ORCID} is this profile's own"),
        ("Lovelace", "“Lovelace” is neither an OpenAlex author id"),
        ("", "Please give the other profile"),
    ],
)
def test_a_bad_other_profile_is_refused_with_a_message_and_files_nothing(client, world, given, message):
    response = same_person(client, given, **HTMX)

    assert response.status_code == 400
    assert message in text(response)
    assert not Correction.objects.exists()


def test_an_orcid_held_by_an_id_merged_into_another_holder_is_one_person(client, world):
    # The twins are one person once OpenAlex merges them: the ORCID then names one profile.
    AuthorMerge.objects.record([(TWINS[1], TWINS[0], DAY)])

    assert same_person(client, TWIN_ORCID).status_code == 200
    assert Correction.objects.get().other_author_id == TWINS[0]


def test_the_reason_is_held_to_the_paper_forms_rules(client, world):
    assert "Please say why" in text(same_person(client, "A2", data={"reason": "  "}))
    assert "control characters (U+202E)" in text(not_theirs(client, data={"reason": "Not hers\u202e"}))
    assert "Please keep the reason to 2,000 characters" in text(not_theirs(client, data={"reason": "x" * 2001}))
    assert "That is not an e-mail address" in text(not_theirs(client, data={"email": "nope"}))
    assert not Correction.objects.exists()


# What guards the form


def test_a_post_without_the_csrf_token_is_refused(world):
    assert not_theirs(Client(enforce_csrf_checks=True)).status_code == 403
    assert same_person(Client(enforce_csrf_checks=True), "A2").status_code == 403
    assert not Correction.objects.exists()


def test_a_bot_that_fills_the_honeypot_is_thanked_and_nothing_is_filed(client, world):
    html = client.get(url(kind="same_person"), **HTMX).content.decode()
    assert '<div class="hp-field" aria-hidden="true">' in html and 'tabindex="-1"' in html

    response = same_person(client, "A2", data={"website": "https://spam.example"}, **HTMX)

    assert response.status_code == 200 and "Thank you." in text(response)
    assert not Correction.objects.exists()


def test_paper_and_researcher_corrections_share_one_rate_limit_per_client(client, world):
    for _ in range(LIMIT - 1):
        response = client.post("/papers/W101/correction/", {"reason": "No data."}, REMOTE_ADDR="203.0.113.5")
        assert response.status_code == 200
    assert not_theirs(client, REMOTE_ADDR="203.0.113.5").status_code == 200

    limited = same_person(client, "A2", REMOTE_ADDR="203.0.113.5", **HTMX)
    paper_limited = client.post("/papers/W101/correction/", {"reason": "No data."}, REMOTE_ADDR="203.0.113.5")

    assert limited.status_code == 429 and paper_limited.status_code == 429
    assert limited["Retry-After"] == "3600"
    assert LIMITED in text(limited)
    assert Correction.objects.count() == LIMIT
    # A full page says it too, and another address is not limited.
    assert LIMITED in text(not_theirs(client, REMOTE_ADDR="203.0.113.5"))
    assert not_theirs(client, REMOTE_ADDR="203.0.113.6").status_code == 200


def test_opening_the_form_does_not_count_against_the_limit(client, world):
    for _ in range(LIMIT + 2):
        assert client.get(url(kind="not_theirs"), **HTMX).status_code == 200
    assert not_theirs(client).status_code == 200


# What the researcher page reads back


def accepted(correction: Correction, *, days_ago: int) -> Correction:
    correction.status = Correction.Status.ACCEPTED
    correction.decided_at = timezone.now() - timedelta(days=days_ago)
    correction.save()
    return correction


def test_editor_corrections_are_the_accepted_ones_on_them_or_on_ids_merged_into_them(world):
    on_them = accepted(Correction.objects.create(kind="not_theirs", author_id=ADA, work_id=102, reason="."), days_ago=3)
    on_merged = accepted(
        Correction.objects.create(kind="not_theirs", author_id=MERGED_IN, work_id=105, reason="."), days_ago=2
    )
    merge = accepted(
        Correction.objects.create(kind="same_person", author_id=ADA, other_author_id=NAMESAKE, reason="."), days_ago=1
    )
    AuthorMerge.objects.record([(NAMESAKE, ADA, DAY)], correction=merge)
    # None of these shapes her profile: pending, rejected, someone else's, a paper correction.
    Correction.objects.create(kind="not_theirs", author_id=ADA, work_id=101, reason="Waiting.")
    Correction.objects.create(
        kind="not_theirs", author_id=ADA, work_id=101, reason=".", status="rejected", decided_at=timezone.now()
    )
    accepted(Correction.objects.create(kind="not_theirs", author_id=SURVIVOR, work_id=104, reason="."), days_ago=1)
    accepted(Correction.objects.create(kind="exclude", work_id=101, reason="."), days_ago=1)

    assert editor_corrections(ADA) == [
        EditorCorrection("not_theirs", on_them.decided_at, 102, "Glacier mass balance, 1950 to 2020", None),
        EditorCorrection("not_theirs", on_merged.decided_at, 105, "Notes on the analytical engine: data", None),
        EditorCorrection("same_person", merge.decided_at, None, "", NAMESAKE),
    ]
    assert editor_corrections(NAMESAKE) == []


def test_a_merge_an_editor_made_into_an_id_since_merged_on_still_shows_on_the_survivor(
    world, django_assert_num_queries
):
    merge = accepted(
        Correction.objects.create(kind="same_person", author_id=ADA, other_author_id=NAMESAKE, reason="."), days_ago=1
    )
    AuthorMerge.objects.record([(NAMESAKE, ADA, DAY)], correction=merge)
    AuthorMerge.objects.record([(ADA, SURVIVOR, DAY)])

    with django_assert_num_queries(1):
        shown = editor_corrections(SURVIVOR)

    assert [(row.kind, row.merged_id) for row in shown] == [("same_person", NAMESAKE)]
