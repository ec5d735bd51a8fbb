"""Rescoring one run at a time, and the admin's ways to trigger it: the "Rescore the corpus"
button, the paper actions, and the progress fragment a run's page polls."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from papers.models import CorpusEntry, RefreshRun, Work
from scoring.models import ScoringRun
from scoring.services import ABANDONED, RescoreAlreadyRunning, rescore_corpus
from scoring.tasks import rescore_corpus_task

pytestmark = pytest.mark.django_db

RESCORE_URL = reverse("admin:scoring_scoringrun_rescore")
CHANGELIST_URL = reverse("admin:scoring_scoringrun_changelist")
CORPUS_CHANGELIST_URL = reverse("admin:papers_corpusentry_changelist")


def running_run(*, started_minutes_ago: int = 0) -> ScoringRun:
    run = ScoringRun.objects.create(algorithm="datarank-1hop-v1", damping=0.85, citer_cap=200)
    # started_at is auto_now_add, so an older start is set afterwards.
    ScoringRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(minutes=started_minutes_ago))
    run.refresh_from_db()
    return run


def corpus_paper(id: int) -> CorpusEntry:
    work = Work.objects.create(id=id, title=f"Work {id}", fetched_at=timezone.now())
    return CorpusEntry.objects.create(
        work=work, check_passed=True, confidence=0.9, included=True, checked_at=timezone.now()
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def delay():
    with mock.patch("scoring.admin_views.rescore_corpus_task.delay") as delay:
        yield delay


@pytest.fixture
def key(settings):
    settings.OPENALEX_API_KEY = "test-key"


# --- One run at a time ---


def test_a_second_rescore_while_one_runs_is_refused_and_creates_no_run():
    first = running_run()

    with pytest.raises(RescoreAlreadyRunning, match=f"Run {first.pk} is still running") as refused:
        rescore_corpus()

    assert refused.value.run == first
    assert list(ScoringRun.objects.all()) == [first]


def test_a_stale_running_run_is_marked_failed_and_a_new_run_proceeds(settings):
    settings.DATARANK_RESCORE_STALE_AFTER = timedelta(minutes=60)
    stale = running_run(started_minutes_ago=61)
    corpus_paper(10)

    run = rescore_corpus()

    stale.refresh_from_db()
    assert stale.status == ScoringRun.Status.FAILED
    assert stale.error == ABANDONED
    assert stale.finished_at is not None
    assert run.status == ScoringRun.Status.SUCCEEDED
    assert run.papers_scored == 1


def test_the_database_rejects_a_second_running_run():
    running_run()

    with pytest.raises(IntegrityError), transaction.atomic():
        ScoringRun.objects.create(algorithm="datarank-1hop-v1", damping=0.85, citer_cap=200)

    # Finished runs are not limited.
    ScoringRun.objects.create(algorithm="x", damping=0.85, citer_cap=200, status=ScoringRun.Status.FAILED)
    ScoringRun.objects.create(algorithm="x", damping=0.85, citer_cap=200, status=ScoringRun.Status.FAILED)


def test_other_integrity_errors_are_not_taken_for_a_running_run():
    with pytest.raises(IntegrityError):
        rescore_corpus(damping=1.5)


def test_the_task_does_nothing_while_a_run_is_going(caplog):
    first = running_run()

    assert rescore_corpus_task(started_by_id=None) is None

    assert list(ScoringRun.objects.all()) == [first]
    assert f"Run {first.pk} is still running" in caplog.text


# --- The "Rescore the corpus" button ---


def test_the_changelist_shows_the_button_with_a_csrf_token(admin_client):
    response = admin_client.get(CHANGELIST_URL)

    assert b'id="rescore-form"' in response.content
    assert RESCORE_URL.encode() in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_a_superuser_post_queues_one_rescore(admin_client, admin_user, delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(RESCORE_URL)

    assert response.status_code == 302
    assert response.url == CHANGELIST_URL
    delay.assert_called_once_with(started_by_id=admin_user.pk)
    assert any("Rescore of the corpus queued" in message for message in messages_of(response))


def test_a_running_run_is_reported_and_nothing_is_queued(admin_client, delay, django_capture_on_commit_callbacks):
    run = running_run()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(RESCORE_URL, follow=True)

    delay.assert_not_called()
    assert f"Run {run.pk} is still running; no new rescore was queued" in response.content.decode()
    assert reverse("admin:scoring_scoringrun_change", args=[run.pk]).encode() in response.content


def test_a_stale_running_run_does_not_block_the_button(admin_client, delay, django_capture_on_commit_callbacks):
    running_run(started_minutes_ago=24 * 60)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(RESCORE_URL)

    delay.assert_called_once()


def test_staff_without_the_permission_is_refused(django_user_model, delay):
    client = Client()
    client.force_login(django_user_model.objects.create_user("staff", password=None, is_staff=True))

    assert client.post(RESCORE_URL).status_code == 403
    delay.assert_not_called()


def test_staff_with_the_permission_may_rescore(django_user_model, delay, django_capture_on_commit_callbacks):
    user = django_user_model.objects.create_user("scorer", password=None, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_scoringrun"))
    client = Client()
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(RESCORE_URL).status_code == 302
    delay.assert_called_once_with(started_by_id=user.pk)


def test_a_visitor_is_sent_to_the_login_page(client, delay):
    response = client.post(RESCORE_URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    delay.assert_not_called()


def test_get_is_not_allowed(admin_client, delay):
    assert admin_client.get(RESCORE_URL).status_code == 405
    delay.assert_not_called()


def test_a_post_without_the_csrf_token_is_refused(admin_user, delay):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.post(RESCORE_URL).status_code == 403
    delay.assert_not_called()


# --- Progress ---


def test_the_progress_of_a_running_run_is_polled(admin_client, admin_user):
    run = running_run()
    ScoringRun.objects.filter(pk=run.pk).update(started_by=admin_user)

    response = admin_client.get(reverse("admin:scoring_scoringrun_progress", args=[run.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in content
    assert reverse("admin:scoring_scoringrun_progress", args=[run.pk]) in content
    assert "Running" in content
    assert f"by {admin_user}" in content
    assert reverse("admin:scoring_scoringrun_change", args=[run.pk]) in content


def test_the_progress_of_a_finished_run_is_not_polled(admin_client):
    corpus_paper(10)
    run = rescore_corpus()

    response = admin_client.get(reverse("admin:scoring_scoringrun_progress", args=[run.pk]))

    content = response.content.decode()
    assert "hx-trigger" not in content
    assert "Succeeded" in content
    assert "1 paper scored" in content
    assert "finished" in content


def test_the_run_page_includes_the_progress(admin_client):
    run = running_run()

    response = admin_client.get(reverse("admin:scoring_scoringrun_change", args=[run.pk]))

    assert b'id="scoring-progress"' in response.content
    assert b'hx-trigger="every 2s"' in response.content


def test_the_progress_needs_the_view_permission(django_user_model):
    run = running_run()
    client = Client()
    client.force_login(django_user_model.objects.create_user("staff", password=None, is_staff=True))

    assert client.get(reverse("admin:scoring_scoringrun_progress", args=[run.pk])).status_code == 403


def test_the_changelist_shows_who_started_each_run(admin_client, admin_user):
    run = running_run()
    ScoringRun.objects.filter(pk=run.pk).update(started_by=admin_user)

    response = admin_client.get(CHANGELIST_URL)

    assert b"column-started_by" in response.content
    assert admin_user.username.encode() in response.content


# --- The paper actions ---


def act(client: Client, action: str, *entries: CorpusEntry, follow: bool = True):
    data = {"action": action, "_selected_action": [entry.pk for entry in entries]}
    return client.post(CORPUS_CHANGELIST_URL, data, follow=follow)


def test_the_rescore_action_queues_a_rescore(admin_client, admin_user, delay, django_capture_on_commit_callbacks):
    entry = corpus_paper(10)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, "rescore", entry)

    delay.assert_called_once_with(started_by_id=admin_user.pk)
    assert "Rescore of the corpus queued" in response.content.decode()


def test_the_rescore_action_reports_a_running_run(admin_client, delay, django_capture_on_commit_callbacks):
    run = running_run()

    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, "rescore", corpus_paper(10))

    delay.assert_not_called()
    assert f"Run {run.pk} is still running" in response.content.decode()


def test_the_refresh_action_starts_one_refresh_run_that_rescores_when_it_ends(
    admin_client, key, delay, django_capture_on_commit_callbacks
):
    entries = [corpus_paper(20), corpus_paper(10)]

    with (
        mock.patch("papers.admin.refresh_papers_task.delay") as refresh,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = act(admin_client, "refresh_from_openalex", *entries)

    run = RefreshRun.objects.get()
    assert (run.status, run.papers_total, run.triggered_by) == (RefreshRun.Status.RUNNING, 2, RefreshRun.Trigger.ADMIN)
    refresh.assert_called_once_with(run.pk, [10, 20])
    # The rescore waits for the run's end (refresh._finish), so it never reads half-pulled citers.
    delay.assert_not_called()
    assert f"Queued refresh run {run.pk} over 2 paper(s)" in response.content.decode()


def test_the_refresh_action_refuses_while_a_refresh_run_is_going(
    admin_client, key, delay, django_capture_on_commit_callbacks
):
    going = RefreshRun.objects.create(papers_total=5, status=RefreshRun.Status.PAUSED)

    with (
        mock.patch("papers.admin.refresh_papers_task.delay") as refresh,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = act(admin_client, "refresh_from_openalex", corpus_paper(10))

    refresh.assert_not_called()
    assert list(RefreshRun.objects.all()) == [going]
    assert f"Refresh run {going.pk} is still going; nothing was queued" in response.content.decode()


def test_the_refresh_action_needs_the_openalex_key(admin_client, settings, delay, django_capture_on_commit_callbacks):
    settings.OPENALEX_API_KEY = ""

    with (
        mock.patch("papers.admin.refresh_papers_task.delay") as refresh,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = act(admin_client, "refresh_from_openalex", corpus_paper(10))

    refresh.assert_not_called()
    delay.assert_not_called()
    assert "OPENALEX_API_KEY is set" in response.content.decode()


def test_the_actions_are_offered_only_with_the_rescore_permission(django_user_model):
    user = django_user_model.objects.create_user("editor", password=None, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_corpusentry", "change_corpusentry"]))
    client = Client()
    client.force_login(user)

    content = client.get(CORPUS_CHANGELIST_URL).content.decode()

    assert 'value="force_in"' in content
    assert 'value="rescore"' not in content
    assert 'value="refresh_from_openalex"' not in content
