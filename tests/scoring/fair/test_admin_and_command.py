"""Re-evaluation from the admin (staff with the permission, POST, on the workers), the
evaluate_fair command, and a real worker running the task."""

import socket
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from datarank_site.celery import app as celery_app
from papers.admin_views import QUEUE_DOWN
from papers.models import FairSignal
from scoring.models import FairEvaluation
from scoring.tasks import evaluate_fair_task
from tests.factories import ACM_PAPER, ARXIV_PAPER, BARE_PAPER, ZENODO_DATASET
from tests.papers.test_admin import broker_down  # noqa: F401 (a fixture)
from tests.worker import start_worker, stop_worker, wait_for

CHANGELISTS = ("admin:papers_corpusentry_changelist", "admin:papers_work_changelist")


@pytest.fixture
def queued(monkeypatch) -> list:
    calls = []
    monkeypatch.setattr(evaluate_fair_task, "delay", calls.append)
    return calls


def staff(django_user_model, *codenames: str):
    user = django_user_model.objects.create_user("curator", password=None, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=("view_work", "view_corpusentry", "change_corpusentry", *codenames))
    )
    return user


def reevaluate(client, changelist: str, *work_ids: int):
    return client.post(
        reverse(changelist), {"action": "reevaluate_fair", "_selected_action": [str(w) for w in work_ids]}
    )


@pytest.mark.django_db
@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_staff_with_the_permission_queue_a_re_evaluation_on_the_workers(
    client, django_user_model, bare_paper, zenodo_dataset, queued, changelist, django_capture_on_commit_callbacks
):
    client.force_login(staff(django_user_model, "add_fairevaluation"))

    with django_capture_on_commit_callbacks(execute=True):
        response = reevaluate(client, changelist, BARE_PAPER, ZENODO_DATASET)

    assert response.status_code == 302
    assert [sorted(batch) for batch in queued] == [[ZENODO_DATASET, BARE_PAPER]]
    assert "Queued a FAIR evaluation of 2 paper(s)." in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("changelist", CHANGELISTS)
@pytest.mark.usefixtures("broker_down")
def test_it_says_when_the_task_queue_cannot_be_reached_and_queues_nothing(
    client, django_user_model, bare_paper, queued, changelist, django_capture_on_commit_callbacks
):
    client.force_login(staff(django_user_model, "add_fairevaluation"))

    with django_capture_on_commit_callbacks(execute=True):
        response = reevaluate(client, changelist, BARE_PAPER)

    assert response.status_code == 302
    assert queued == []
    assert QUEUE_DOWN in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_staff_without_the_permission_cannot_re_evaluate(
    client, django_user_model, bare_paper, queued, changelist, django_capture_on_commit_callbacks
):
    client.force_login(staff(django_user_model))

    with django_capture_on_commit_callbacks(execute=True):
        reevaluate(client, changelist, BARE_PAPER)

    assert queued == []
    assert "reevaluate_fair" not in client.get(reverse(changelist)).content.decode()


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client, bare_paper, queued):
    response = reevaluate(client, CHANGELISTS[0], BARE_PAPER)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert queued == []


@pytest.mark.django_db
def test_a_get_runs_no_action(client, django_user_model, bare_paper, queued):
    client.force_login(staff(django_user_model, "add_fairevaluation"))
    client.get(reverse(CHANGELISTS[0]), {"action": "reevaluate_fair", "_selected_action": [str(BARE_PAPER)]})
    assert queued == []


@pytest.mark.django_db
def test_the_command_evaluates_the_corpus(fake_datacite, sample_papers, bare_paper):
    out = StringIO()
    call_command("evaluate_fair", stdout=out)

    assert out.getvalue() == "FAIR: 3 paper(s) evaluated, 0 provisional (a source did not answer).\n"
    assert FairEvaluation.objects.count() == 3


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_the_command_offline_settles_the_crossref_paper_and_leaves_the_datacite_one_provisional(
    sample_papers, settings
):
    settings.DATACITE_API_URL = settings.DOI_RA_URL = f"http://127.0.0.1:{closed_port()}"
    out, err = StringIO(), StringIO()

    with pytest.raises(SystemExit) as exit:
        call_command("evaluate_fair", stdout=out, stderr=err)

    assert exit.value.code == 1
    assert out.getvalue() == "FAIR: 1 paper(s) evaluated, 1 provisional (a source did not answer).\n"
    assert err.getvalue() == "not checked yet: DataCite could not be reached\n"
    # OpenAlex names the ACM paper's agency (Crossref): nothing to ask. The arXiv DOI is DataCite's.
    unknown = set(FairSignal.objects.filter(status="unknown").values_list("work_id", "key"))
    assert unknown == {(ARXIV_PAPER, "datacite_relations"), (ARXIV_PAPER, "linked_datasets")}
    assert dict(FairEvaluation.objects.values_list("work_id", "provisional")) == {ACM_PAPER: False, ARXIV_PAPER: True}


@pytest.mark.django_db
def test_the_command_takes_ids_or_the_stalest(fake_datacite, sample_papers):
    call_command("evaluate_fair", f"W{ACM_PAPER}", stdout=StringIO())
    call_command("evaluate_fair", "--stale", "1", stdout=StringIO())
    assert set(FairEvaluation.objects.values_list("work_id", flat=True)) == {ACM_PAPER, ARXIV_PAPER}


@pytest.fixture
def worker(transactional_db, fake_datacite):
    """A worker on the queue papers tasks are routed to, pointed at the fake through its environment."""
    celery_app.control.purge()
    process = start_worker(
        queues="openalex", env={"DATACITE_API_URL": fake_datacite.url, "DOI_RA_URL": f"{fake_datacite.url}/ra"}
    )
    yield process
    stop_worker(process)


def test_a_worker_runs_the_evaluation_task(worker, fake_datacite, zenodo_dataset):
    evaluate_fair_task.delay([ZENODO_DATASET])

    wait_for(lambda: FairEvaluation.objects.filter(work_id=ZENODO_DATASET).exists(), seconds=90, process=worker)
    # Every check passes but one: no other DataCite record links to it.
    assert FairEvaluation.objects.get(work_id=ZENODO_DATASET).raw == 95
    assert fake_datacite.requests_to("/dois/10.5281/zenodo.7504123")
