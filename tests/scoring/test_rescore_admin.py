"""Rescoring one run at a time, a dead or hung run giving way to the next, and the admin's ways
in: the "Rescore the corpus" button, the paper actions, the progress fragment a run's page
polls, "Mark this run failed", and what each says when the task queue is down."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from papers.admin_views import QUEUE_DOWN
from papers.models import CorpusEntry, RefreshRun, Work
from scoring import services
from scoring.models import PaperScore, ScoringRun
from scoring.services import (
    ABANDONED,
    HUNG,
    RescoreAlreadyRunning,
    RunLock,
    RunStopped,
    fail_run,
    rescore_corpus,
    run_is_live,
    start_run,
)
from scoring.tasks import rescore_corpus_task
from tests.papers.test_admin import broker_down  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

RESCORE_URL = reverse("admin:scoring_scoringrun_rescore")
CHANGELIST_URL = reverse("admin:scoring_scoringrun_changelist")
CORPUS_CHANGELIST_URL = reverse("admin:papers_corpusentry_changelist")


def started_ago(run: ScoringRun, minutes: int) -> ScoringRun:
    # started_at is auto_now_add, so an older start is set afterwards.
    ScoringRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(minutes=minutes))
    run.refresh_from_db()
    return run


def dead_run(*, started_minutes_ago: int = 0) -> ScoringRun:
    """A run left "running" by a worker that died: nothing holds its lock."""
    run = ScoringRun.objects.create(algorithm="datarank-1hop-v1", damping=0.85, citer_cap=200)
    return started_ago(run, started_minutes_ago)


@pytest.fixture
def live_run():
    """Claims running runs as a worker does, holding each one's lock until the test ends."""
    locks = []

    def claim(*, started_minutes_ago: int = 0) -> ScoringRun:
        locks.append(RunLock())
        run = start_run(damping=0.85, cap=200, started_by=None, lock=locks[-1])
        return started_ago(run, started_minutes_ago)

    yield claim
    for lock in locks:
        lock.release()


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


def test_a_second_rescore_while_one_runs_is_refused_and_creates_no_run(live_run):
    first = live_run()

    with pytest.raises(RescoreAlreadyRunning, match=f"Run {first.pk} is still running") as refused:
        rescore_corpus()

    assert refused.value.run == first
    assert list(ScoringRun.objects.all()) == [first]


def test_a_run_whose_worker_died_is_marked_abandoned_at_once_and_a_new_run_proceeds(settings):
    settings.DATARANK_RESCORE_STALE_AFTER = timedelta(minutes=60)
    dead = dead_run(started_minutes_ago=0)
    corpus_paper(10)

    run = rescore_corpus()

    dead.refresh_from_db()
    assert dead.status == ScoringRun.Status.FAILED
    assert dead.error == ABANDONED
    assert dead.finished_at is not None
    assert run.status == ScoringRun.Status.SUCCEEDED
    assert run.papers_scored == 1


def test_a_claimed_run_is_live_until_its_lock_is_released():
    lock = RunLock()
    run = start_run(damping=0.85, cap=200, started_by=None, lock=lock)
    try:
        assert run_is_live(run.pk)
        assert services.running_run() == run
    finally:
        lock.release()

    assert not run_is_live(run.pk)
    assert services.running_run() is None


def test_a_hung_run_is_marked_failed_only_past_the_cutoff(settings, live_run):
    settings.DATARANK_RESCORE_STALE_AFTER = timedelta(minutes=60)
    hung = live_run(started_minutes_ago=59)
    corpus_paper(10)

    with pytest.raises(RescoreAlreadyRunning):
        rescore_corpus()
    started_ago(hung, 61)
    run = rescore_corpus()

    hung.refresh_from_db()
    assert (hung.status, hung.error) == (ScoringRun.Status.FAILED, HUNG)
    assert run.status == ScoringRun.Status.SUCCEEDED


def test_a_run_marked_failed_while_it_scores_publishes_nothing(monkeypatch):
    corpus_paper(10)
    previous = rescore_corpus()
    load_corpus = services.load_corpus

    def marked_failed_meanwhile(*args, **kwargs):
        fail_run(run=ScoringRun.objects.get(status=ScoringRun.Status.RUNNING), error="marked failed in the admin")
        return load_corpus(*args, **kwargs)

    monkeypatch.setattr(services, "load_corpus", marked_failed_meanwhile)

    with pytest.raises(RunStopped, match="its scores were not published"):
        rescore_corpus()

    stopped = ScoringRun.objects.exclude(pk=previous.pk).get()
    assert (stopped.status, stopped.error) == (ScoringRun.Status.FAILED, "marked failed in the admin")
    assert not PaperScore.objects.filter(run=stopped).exists()
    assert ScoringRun.objects.current() == previous


def test_the_database_rejects_a_second_running_run():
    dead_run()

    with pytest.raises(IntegrityError), transaction.atomic():
        ScoringRun.objects.create(algorithm="datarank-1hop-v1", damping=0.85, citer_cap=200)

    # Finished runs are not limited.
    ScoringRun.objects.create(algorithm="x", damping=0.85, citer_cap=200, status=ScoringRun.Status.FAILED)
    ScoringRun.objects.create(algorithm="x", damping=0.85, citer_cap=200, status=ScoringRun.Status.FAILED)


def test_other_integrity_errors_are_not_taken_for_a_running_run():
    with pytest.raises(IntegrityError):
        rescore_corpus(damping=1.5)


def test_the_task_does_nothing_while_a_run_is_going(caplog, live_run):
    first = live_run()

    assert rescore_corpus_task(started_by_id=None) is None

    assert list(ScoringRun.objects.all()) == [first]
    assert f"Run {first.pk} is still running" in caplog.text


def test_the_task_redelivered_after_its_worker_died_rescores_at_once():
    dead = dead_run()
    corpus_paper(10)

    run_id = rescore_corpus_task(started_by_id=None)

    dead.refresh_from_db()
    assert dead.error == ABANDONED
    assert ScoringRun.objects.get(pk=run_id).status == ScoringRun.Status.SUCCEEDED


# --- The "Rescore the corpus" button ---


def test_the_changelist_shows_the_button_with_a_csrf_token(admin_client):
    response = admin_client.get(CHANGELIST_URL)

    assert b'id="rescore-form"' in response.content
    assert RESCORE_URL.encode() in response.content
    assert b"csrfmiddlewaretoken" in response.content


@pytest.mark.usefixtures("broker_down")
def test_the_button_says_when_the_task_queue_cannot_be_reached(admin_client, delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(RESCORE_URL, follow=True)

    assert response.status_code == 200
    delay.assert_not_called()
    assert QUEUE_DOWN in messages_of(response)
    assert not ScoringRun.objects.exists()


def test_a_superuser_post_queues_one_rescore(admin_client, admin_user, delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(RESCORE_URL)

    assert response.status_code == 302
    assert response.url == CHANGELIST_URL
    delay.assert_called_once_with(started_by_id=admin_user.pk)
    assert any("Rescore of the corpus queued" in message for message in messages_of(response))


def test_a_running_run_is_reported_and_nothing_is_queued(
    admin_client, delay, django_capture_on_commit_callbacks, live_run
):
    run = live_run()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(RESCORE_URL, follow=True)

    delay.assert_not_called()
    assert f"Run {run.pk} is still running; no new rescore was queued" in response.content.decode()
    assert reverse("admin:scoring_scoringrun_change", args=[run.pk]).encode() in response.content


def test_a_dead_run_does_not_block_the_button(admin_client, delay, django_capture_on_commit_callbacks):
    dead_run()

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


def test_the_progress_of_a_running_run_is_polled(admin_client, admin_user, live_run):
    run = live_run()
    ScoringRun.objects.filter(pk=run.pk).update(started_by=admin_user)

    response = admin_client.get(reverse("admin:scoring_scoringrun_progress", args=[run.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in content
    assert reverse("admin:scoring_scoringrun_progress", args=[run.pk]) in content
    assert "Running" in content
    assert f"by {admin_user}" in content
    assert reverse("admin:scoring_scoringrun_change", args=[run.pk]) in content
    assert reverse("admin:scoring_scoringrun_fail", args=[run.pk]) in content


def test_the_progress_of_a_finished_run_is_not_polled(admin_client):
    corpus_paper(10)
    run = rescore_corpus()

    response = admin_client.get(reverse("admin:scoring_scoringrun_progress", args=[run.pk]))

    content = response.content.decode()
    assert "hx-trigger" not in content
    assert "Succeeded" in content
    assert "1 paper scored" in content
    assert "finished" in content
    assert "Mark this run failed" not in content


def test_the_run_page_includes_the_progress(admin_client, live_run):
    run = live_run()

    response = admin_client.get(reverse("admin:scoring_scoringrun_change", args=[run.pk]))

    assert b'id="scoring-progress"' in response.content
    assert b'hx-trigger="every 2s"' in response.content


def test_the_progress_needs_the_view_permission(django_user_model, live_run):
    run = live_run()
    client = Client()
    client.force_login(django_user_model.objects.create_user("staff", password=None, is_staff=True))

    assert client.get(reverse("admin:scoring_scoringrun_progress", args=[run.pk])).status_code == 403


def test_the_changelist_shows_who_started_each_run(admin_client, admin_user, live_run):
    run = live_run()
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


def test_the_rescore_action_reports_a_running_run(admin_client, delay, django_capture_on_commit_callbacks, live_run):
    run = live_run()

    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, "rescore", corpus_paper(10))

    delay.assert_not_called()
    assert f"Run {run.pk} is still running" in response.content.decode()


@pytest.mark.usefixtures("broker_down")
def test_the_rescore_action_says_when_the_task_queue_cannot_be_reached(
    admin_client, delay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, "rescore", corpus_paper(10))

    assert response.status_code == 200
    delay.assert_not_called()
    assert QUEUE_DOWN in messages_of(response)


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


@pytest.mark.usefixtures("broker_down")
def test_the_refresh_action_says_when_the_task_queue_cannot_be_reached_and_leaves_no_run(
    admin_client, key, delay, django_capture_on_commit_callbacks
):
    with (
        mock.patch("papers.admin.refresh_papers_task.delay") as refresh,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = act(admin_client, "refresh_from_openalex", corpus_paper(10))

    assert response.status_code == 200
    refresh.assert_not_called()
    assert QUEUE_DOWN in messages_of(response)
    # A run made for a task that never went out would stay "running" and refuse every later refresh.
    assert not RefreshRun.objects.exists()


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


# --- Mark this run failed ---


def fail_url(run: ScoringRun) -> str:
    return reverse("admin:scoring_scoringrun_fail", args=[run.pk])


def test_the_action_leads_to_the_confirmation_page_of_the_running_run(admin_client, live_run):
    run = live_run()

    response = admin_client.post(CHANGELIST_URL, {"action": "mark_failed", "_selected_action": [run.pk]})

    assert response.status_code == 302
    assert response.url == fail_url(run)


def test_the_confirmation_page_asks_and_changes_nothing(admin_client, live_run):
    run = live_run()

    response = admin_client.get(fail_url(run))

    content = response.content.decode()
    assert response.status_code == 200
    assert f"Mark run {run.pk} failed?" in content
    assert 'id="run-live"' in content
    assert 'method="post"' in content
    run.refresh_from_db()
    assert run.status == ScoringRun.Status.RUNNING


def test_the_confirmation_page_says_when_the_worker_is_gone(admin_client):
    response = admin_client.get(fail_url(dead_run()))

    assert b'id="run-dead"' in response.content


def test_confirming_marks_the_run_failed_and_lets_a_new_rescore_run(admin_client, admin_user, live_run):
    stuck = live_run()
    corpus_paper(10)

    response = admin_client.post(fail_url(stuck), follow=True)

    stuck.refresh_from_db()
    assert (stuck.status, stuck.error) == (ScoringRun.Status.FAILED, f"marked failed in the admin by {admin_user}")
    assert f"Run {stuck.pk} was marked failed" in response.content.decode()
    assert LogEntry.objects.get(object_id=str(stuck.pk)).change_message == "Marked failed."
    # Its worker still holds the lock, but the slot is free.
    assert run_is_live(stuck.pk)
    assert rescore_corpus().status == ScoringRun.Status.SUCCEEDED


@pytest.mark.parametrize("status", [ScoringRun.Status.SUCCEEDED, ScoringRun.Status.FAILED])
def test_a_run_that_is_not_running_is_refused_and_left_as_it_is(admin_client, status):
    run = ScoringRun.objects.create(
        algorithm="x", damping=0.85, citer_cap=200, status=status, finished_at=timezone.now()
    )

    by_action = admin_client.post(CHANGELIST_URL, {"action": "mark_failed", "_selected_action": [run.pk]}, follow=True)
    by_page = admin_client.post(fail_url(run), follow=True)

    assert f"Only a running run can be marked failed (run {run.pk}: not running)" in messages_of(by_action)[0]
    assert f"Run {run.pk} is not running" in messages_of(by_page)[0]
    assert ScoringRun.objects.get(pk=run.pk).status == status
    assert not LogEntry.objects.exists()


def test_marking_failed_needs_the_rescore_permission(django_user_model, live_run):
    run = live_run()
    user = django_user_model.objects.create_user("viewer", password=None, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_scoringrun"))
    client = Client()
    client.force_login(user)

    assert client.post(fail_url(run)).status_code == 403
    assert 'value="mark_failed"' not in client.get(CHANGELIST_URL).content.decode()
    assert (
        "Mark this run failed"
        not in client.get(reverse("admin:scoring_scoringrun_change", args=[run.pk])).content.decode()
    )
    run.refresh_from_db()
    assert run.status == ScoringRun.Status.RUNNING
