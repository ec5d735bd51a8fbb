"""Every papers and scoring model in the admin: the pages load, searches by OpenAlex id work,
changelists do not query per row, the corpus override is the one thing an admin edits, and a
page that queues a task says so, queuing nothing, when the task queue cannot be reached."""

import socket
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from datarank_site.celery import app as celery_app
from papers.admin_views import QUEUE_DOWN
from papers.models import Author, Authorship, Citation, CorpusEntry, FairSignal, Work
from scoring.models import PaperScore, ScoringRun

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def admin_user(django_user_model):
    """pytest-django's superuser, without a password: hashing one takes a second per test, and
    admin_client logs in with force_login, which needs none."""
    return django_user_model.objects.create_superuser("admin", "admin@example.com", password=None)


@pytest.fixture
def broker_down(settings, monkeypatch):
    """The broker, for the settings and for the Celery app that sends the tasks, on a local
    port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    settings.CELERY_BROKER_URL = url
    # Where the app looks first, before its own configuration (celery.app.utils.Settings).
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    assert celery_app.conf.broker_write_url == url


def make_paper(number: int, *, cited_by: int = 1) -> Work:
    """A corpus paper with an author, a citer, a FAIR signal and a score in a run."""
    work = Work.objects.create(id=number, title=f"Dataset {number}", fetched_at=NOW)
    CorpusEntry.objects.create(work=work, check_passed=True, confidence=0.8, included=True, checked_at=NOW)
    author = Author.objects.create(id=number, display_name=f"Author {number}")
    Authorship.objects.create(work=work, author=author, position=0)
    for offset in range(cited_by):
        citer = Work.objects.create(id=10_000 + number * 100 + offset, title="A citer", fetched_at=NOW)
        Citation.objects.create(citing=citer, cited=work, pull_position=offset)
    FairSignal.objects.create(work=work, key=FairSignal.Key.HAS_DOI, status=FairSignal.Status.YES, checked_at=NOW)
    run = ScoringRun.objects.first() or ScoringRun.objects.create(
        algorithm="datarank-1hop-v1", damping=0.85, citer_cap=200, status=ScoringRun.Status.SUCCEEDED, finished_at=NOW
    )
    PaperScore.objects.create(
        run=run,
        work=work,
        base_contribution=0.1,
        network_contribution=0.2,
        datarank=0.3,
        citing_works=cited_by,
        citers_with_signal=0,
        self_citations_excluded=0,
        cap_bound=False,
        rank=1,
        top_percent=100.0,
        tier=5,
    )
    return work


MODELS = [Work, Author, Authorship, Citation, CorpusEntry, FairSignal, ScoringRun, PaperScore]


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_has_a_changelist_and_a_change_page(admin_client, model):
    make_paper(1)
    obj = model.objects.first()

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelists_do_not_query_per_row(admin_client, model):
    make_paper(1)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(admin_url(model, "changelist"))
    for number in range(2, 12):
        make_paper(number, cited_by=2)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(admin_url(model, "changelist"))

    assert len(many) == len(few), "\n".join(
        ["with 1 paper:", *(query["sql"] for query in few.captured_queries), "with 11 papers:"]
        + [query["sql"] for query in many.captured_queries]
    )


def test_a_citation_to_a_work_not_held_yet_shows_in_the_admin(admin_client):
    citer = Work.objects.create(id=5, title="Cites something we lack", fetched_at=NOW)
    link = Citation.objects.create(citing=citer, cited_id=999_999)

    changelist = admin_client.get(admin_url(Citation, "changelist"))
    change = admin_client.get(admin_url(Citation, "change", link.pk))

    assert "W999999" in changelist.content.decode()
    assert change.status_code == 200


@pytest.mark.parametrize(
    ("model", "term", "expected"),
    [
        (Work, "W2", "Dataset 2"),
        (Work, "https://openalex.org/W2", "Dataset 2"),
        (Work, "w2", "Dataset 2"),
        (CorpusEntry, "W2", "Dataset 2"),
        (PaperScore, "W2", "Dataset 2"),
        (Author, "A2", "Author 2"),
        (Authorship, "A2", "Author 2"),
    ],
)
def test_the_admin_finds_rows_by_openalex_id(admin_client, model, term, expected):
    make_paper(1)
    make_paper(2)

    html = admin_client.get(admin_url(model, "changelist"), {"q": term}).content.decode()

    assert expected in html
    assert expected.replace("2", "1") not in html


def test_the_admin_searches_work_titles_as_text(admin_client):
    make_paper(1)

    html = admin_client.get(admin_url(Work, "changelist"), {"q": "Dataset"}).content.decode()

    assert "Dataset 1" in html


def test_works_from_openalex_cannot_be_added_or_edited_by_hand(admin_client):
    work = make_paper(1)

    assert admin_client.get(admin_url(Work, "add")).status_code == 403
    admin_client.post(admin_url(Work, "change", work.pk), {"title": "Hand-edited"})

    work.refresh_from_db()
    assert work.title == "Dataset 1"


def test_an_admin_can_force_a_paper_out_of_the_corpus_from_the_changelist(admin_client):
    make_paper(1)

    response = admin_client.post(
        admin_url(CorpusEntry, "changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-work": "1",
            "form-0-override": CorpusEntry.Override.EXCLUDE,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    assert CorpusEntry.objects.get(work_id=1).in_corpus is False


def test_an_admin_can_force_papers_into_the_corpus_with_an_action(admin_client):
    make_paper(1)
    CorpusEntry.objects.filter(work_id=1).update(included=False)

    admin_client.post(admin_url(CorpusEntry, "changelist"), {"action": "force_in", "_selected_action": ["1"]})

    entry = CorpusEntry.objects.get(work_id=1)
    assert entry.override == CorpusEntry.Override.INCLUDE
    assert entry.in_corpus is True


def test_the_check_verdict_on_a_corpus_entry_is_read_only(admin_client):
    make_paper(1)

    admin_client.post(
        admin_url(CorpusEntry, "change", 1),
        {"override": CorpusEntry.Override.NONE, "check_passed": "", "confidence": "0.0"},
    )

    entry = CorpusEntry.objects.get(work_id=1)
    assert entry.check_passed is True
    assert entry.confidence == 0.8


def test_each_override_select_in_the_changelist_names_its_work(admin_client):
    # axe's select-name (critical): the column heading names no row.
    make_paper(1)
    make_paper(2)

    html = admin_client.get(admin_url(CorpusEntry, "changelist")).content.decode()

    assert 'aria-label="Corpus override of W1"' in html
    assert 'aria-label="Corpus override of W2"' in html


def test_the_type_filter_names_the_works_with_no_type(admin_client):
    # axe's link-name (serious): the stock filter links the empty value with no text.
    make_paper(1)
    Work.objects.filter(id=1).update(type="")
    Work.objects.filter(id=10_100).update(type="article")

    html = admin_client.get(admin_url(Work, "changelist")).content.decode()

    assert '<a href="?type=">(empty)</a>' in html
    assert '<a href="?type=article">article</a>' in html


def test_the_admin_says_live_openalex_jobs_are_off_without_an_api_key(admin_client, settings):
    settings.OPENALEX_API_KEY = ""

    html = admin_client.get(reverse("admin:index")).content.decode()

    assert "Live OpenAlex jobs are off" in html
    assert "OPENALEX_API_KEY" in html
    assert "a free key from" in html and "openalex.org" in html


def test_the_admin_says_nothing_about_the_key_when_it_is_set(admin_client, settings):
    settings.OPENALEX_API_KEY = "a-key"

    html = admin_client.get(reverse("admin:index")).content.decode()

    assert "Live OpenAlex jobs are off" not in html


def test_tracking_says_when_the_task_queue_cannot_be_reached_and_keeps_the_form(
    admin_client, settings, broker_down, django_capture_on_commit_callbacks
):
    settings.OPENALEX_API_KEY = "a-key"

    with (
        mock.patch("papers.admin_views.track_papers_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(reverse("admin:papers_corpusentry_track"), {"identifiers": "W123\n"})

    assert response.status_code == 200
    delay.assert_not_called()
    assert [str(message) for message in get_messages(response.wsgi_request)] == [QUEUE_DOWN]
    assert "W123" in response.content.decode()
