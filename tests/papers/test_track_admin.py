"""The admin's "Track papers" page and the Untrack action."""

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from papers.models import CorpusEntry, Work

pytestmark = pytest.mark.django_db

URL = reverse("admin:papers_corpusentry_track")


@pytest.fixture
def key(settings):
    settings.OPENALEX_API_KEY = "test-key"


@pytest.fixture
def tracker(django_user_model):
    """Staff allowed to add corpus entries, and nothing else."""
    user = django_user_model.objects.create_user("tracker", password=None, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_corpusentry"))
    return user


@pytest.fixture
def tracker_client(tracker) -> Client:
    client = Client()
    client.force_login(tracker)
    return client


@pytest.fixture
def delay():
    with mock.patch("papers.admin_views.track_papers_task.delay") as delay:
        yield delay


def test_a_visitor_is_sent_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_without_the_permission_is_refused(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("staff", password=None, is_staff=True))

    assert client.get(URL).status_code == 403


def test_it_shows_the_form(tracker_client, key):
    response = tracker_client.get(URL)

    assert response.status_code == 200
    assert b'name="identifiers"' in response.content
    assert b'name="force"' in response.content
    assert b"openalex-key-notice" not in response.content


def test_the_corpus_changelist_links_to_it(admin_client):
    response = admin_client.get(reverse("admin:papers_corpusentry_changelist"))

    assert URL.encode() in response.content


def test_it_queues_the_good_lines_and_lists_the_bad_ones(
    tracker_client, key, delay, django_capture_on_commit_callbacks
):
    lines = "W11\n\nhttps://doi.org/10.5555/ABC\n10.12/bad\nhello world\n" + "x" * 10_000

    with django_capture_on_commit_callbacks(execute=True):
        response = tracker_client.post(URL, {"identifiers": lines, "force": "on"})

    delay.assert_called_once_with(["W11", "10.5555/abc"], None, None, True)
    assert response.status_code == 200
    bad = response.context["bad"]
    assert [(item.text, item.reason) for item in bad] == [
        ("10.12/bad", "malformed DOI (expected 10.<registrant>/<suffix>)"),
        ("hello", "not a DOI or an OpenAlex id"),
        ("world", "not a DOI or an OpenAlex id"),
        ("x" * 60 + "…", "line longer than 500 characters"),
    ]
    assert "Queued tracking of 2 identifier(s)" in response.content.decode()


def test_all_good_lines_redirect_to_the_corpus(tracker_client, key, delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = tracker_client.post(URL, {"identifiers": "W11", "openalex_filter": "type:dataset", "max_papers": 5})

    assert response.status_code == 302
    assert response.url == reverse("admin:papers_corpusentry_changelist")
    delay.assert_called_once_with(["W11"], "type:dataset", 5, False)


def test_an_empty_form_queues_nothing(tracker_client, key, delay):
    response = tracker_client.post(URL, {"identifiers": "  \n"})

    assert response.status_code == 200
    assert "at least one identifier" in response.content.decode()
    delay.assert_not_called()


def test_a_post_without_a_csrf_token_is_refused(tracker, key, delay):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tracker)

    response = client.post(URL, {"identifiers": "W11"})

    assert response.status_code == 403
    delay.assert_not_called()


def test_without_an_api_key_it_says_live_jobs_are_off_and_queues_nothing(tracker_client, settings, delay):
    settings.OPENALEX_API_KEY = ""

    assert b"openalex-key-notice" in tracker_client.get(URL).content
    response = tracker_client.post(URL, {"identifiers": "W11"})

    assert response.status_code == 200
    assert "Nothing was queued" in response.content.decode()
    delay.assert_not_called()


def test_the_untrack_action_takes_papers_out_and_keeps_them(admin_client):
    work = Work.objects.create(id=11, title="A dataset", fetched_at=timezone.now())
    CorpusEntry.objects.create(work=work, check_passed=True, confidence=0.9, included=True, checked_at=timezone.now())

    admin_client.post(
        reverse("admin:papers_corpusentry_changelist"), {"action": "untrack", "_selected_action": [work.pk]}
    )

    entry = CorpusEntry.objects.get(work=work)
    assert (entry.in_corpus, entry.override) == (False, CorpusEntry.Override.EXCLUDE)
    assert Work.objects.filter(id=11).exists()
