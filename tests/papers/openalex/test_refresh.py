"""Refresh runs: which papers are stale, and a run over them against the fake OpenAlex."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from papers.models import Citation, CorpusEntry, RefreshRun, Work
from papers.openalex.client import BudgetExhausted, OpenAlexClient
from papers.openalex.ingest import load_records
from papers.openalex.records import parse_work
from papers.openalex.refresh import refresh_papers, stale_papers, start_stale_refresh
from papers.tasks import refresh_papers_task
from scoring.models import FairEvaluation
from tests.fake_openalex.app import Fault, synthetic_work

pytestmark = pytest.mark.django_db

PAPERS = (1, 2, 3)


def citers_of(paper: int) -> list[dict]:
    """Two citers for each paper: W<paper>01 and W<paper>02."""
    return [synthetic_work(paper * 100 + n, cited_by_count=n, cites=[paper]) for n in (1, 2)]


@pytest.fixture
def corpus(fake_openalex):
    """Papers 1, 2 and 3 in the corpus, never pulled, and in the fake OpenAlex with their citers."""
    raws = [synthetic_work(paper, type="dataset") for paper in PAPERS]
    load_records([parse_work(raw) for raw in raws], corpus="all", fetched_at=timezone.now())
    fake_openalex.add_works(raws + [citer for paper in PAPERS for citer in citers_of(paper)])
    return fake_openalex


def new_run(work_ids=PAPERS) -> RefreshRun:
    return RefreshRun.objects.create(papers_total=len(work_ids), triggered_by=RefreshRun.Trigger.ADMIN)


def pulled_citers(paper: int) -> set[int]:
    return set(Citation.objects.filter(cited_id=paper, pull_position__isnull=False).values_list("citing_id", flat=True))


def test_stale_papers_come_never_pulled_first_then_the_oldest_pull():
    now = timezone.now()
    for number, pulled in ((1, now - timedelta(days=40)), (2, None), (3, now - timedelta(days=90)), (4, now)):
        work = Work.objects.create(id=number, fetched_at=now)
        CorpusEntry.objects.create(
            work=work, check_passed=True, confidence=1, included=True, checked_at=now, citers_pulled_at=pulled
        )
    out = Work.objects.create(id=5, fetched_at=now)
    CorpusEntry.objects.create(work=out, check_passed=False, confidence=0, included=False, checked_at=now)

    assert stale_papers(older_than=timedelta(days=30), limit=10) == [2, 3, 1]
    assert stale_papers(older_than=timedelta(days=30), limit=2) == [2, 3]


def test_a_run_is_not_started_while_another_is_going(corpus):
    RefreshRun.objects.create(status=RefreshRun.Status.PAUSED, papers_total=1)

    assert start_stale_refresh(older_than=timedelta(days=30), limit=10, triggered_by="schedule") is None


def test_a_run_refreshes_each_paper_and_records_progress_and_list_calls(corpus):
    run = new_run()

    run = refresh_papers(run_id=run.pk, work_ids=list(PAPERS), client=OpenAlexClient())

    assert run.status == RefreshRun.Status.SUCCEEDED
    assert run.finished_at is not None
    assert (run.papers_done, run.papers_total, run.errors) == (3, 3, [])
    # Metadata comes from free singletons: the only list calls are one citer page per paper.
    assert run.list_calls == len(corpus.list_calls()) == 3
    for paper in PAPERS:
        assert pulled_citers(paper) == {paper * 100 + 1, paper * 100 + 2}
    assert CorpusEntry.objects.filter(citers_pulled_at__isnull=True).count() == 0


def test_a_paper_openalex_merged_hands_its_corpus_place_to_the_merged_work(corpus):
    CorpusEntry.objects.filter(work_id=2).update(tracked_at=timezone.now())
    corpus.add_works([synthetic_work(20, type="dataset"), synthetic_work(2001, cited_by_count=5, cites=[20])])
    corpus.merge(2, 20)

    run = refresh_papers(run_id=new_run().pk, work_ids=list(PAPERS), client=OpenAlexClient())

    assert run.status == RefreshRun.Status.SUCCEEDED
    old, new = CorpusEntry.objects.get(work_id=2), CorpusEntry.objects.get(work_id=20)
    assert (old.in_corpus, new.in_corpus) == (False, True)
    assert old.reasons[-1] == "merged by OpenAlex into W20"
    assert new.tracked_at == old.tracked_at
    assert pulled_citers(20) == {2001}
    assert new.citers_pulled_at is not None


def test_what_follows_a_finished_run_is_called_once_the_run_is_committed(corpus, django_capture_on_commit_callbacks):
    run = new_run()
    finished = mock.Mock()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        refresh_papers(run_id=run.pk, work_ids=list(PAPERS), on_finished=finished)
        finished.assert_not_called()
    for callback in callbacks:
        callback()

    finished.assert_called_once_with()
    # A redelivered task finds the run done and calls nothing again.
    refresh_papers(run_id=run.pk, work_ids=list(PAPERS), on_finished=finished)
    finished.assert_called_once_with()


def test_the_refresh_task_evaluates_fair_and_rescores_once_its_run_is_committed(
    corpus, django_capture_on_commit_callbacks
):
    run = new_run()

    with (
        mock.patch("papers.tasks.rescore_corpus_task.delay") as rescore,
        django_capture_on_commit_callbacks(execute=True),
    ):
        refresh_papers_task.apply(args=(run.pk, list(PAPERS)))

    rescore.assert_called_once_with()
    # The refreshed records are evaluated for FAIR from what they say, before any outside source.
    assert set(FairEvaluation.objects.filter(is_latest=True).values_list("work_id", flat=True)) == set(PAPERS)


def test_a_paper_openalex_refuses_is_recorded_and_the_others_finish(corpus):
    corpus.works.pop(2)  # OpenAlex answers 404 for it now
    run = new_run()

    run = refresh_papers(run_id=run.pk, work_ids=list(PAPERS))

    assert run.status == RefreshRun.Status.SUCCEEDED
    assert run.papers_done == 3
    assert [error["work"] for error in run.errors] == [2]
    assert "404" in run.errors[0]["error"]
    assert pulled_citers(1) and pulled_citers(3)
    assert not pulled_citers(2)


def test_a_spent_budget_pauses_the_run_until_the_reset(corpus):
    corpus.inject(Fault.budget_exhausted(), path=r"cites:W2\b")
    run = new_run()

    with pytest.raises(BudgetExhausted) as raised:
        refresh_papers(run_id=run.pk, work_ids=list(PAPERS))

    run.refresh_from_db()
    assert run.status == RefreshRun.Status.PAUSED
    assert run.resumes_at == raised.value.resets_at
    assert run.resumes_at > timezone.now()
    assert (run.papers_done, run.finished_at) == (1, None)
    assert pulled_citers(1) and not pulled_citers(2)


def test_the_task_comes_back_at_the_reset_and_does_only_the_papers_left(corpus):
    corpus.inject(Fault.budget_exhausted(), path=r"cites:W2\b")
    run = new_run()
    with pytest.raises(BudgetExhausted):
        refresh_papers(run_id=run.pk, work_ids=list(PAPERS))
    requests_before = len(corpus.log)

    # The budget has reset: the retried task runs again with the same arguments.
    result = refresh_papers_task.apply(args=(run.pk, list(PAPERS)))

    assert result.get() == run.pk
    run.refresh_from_db()
    assert run.status == RefreshRun.Status.SUCCEEDED
    assert run.papers_done == 3
    assert run.list_calls == 4  # W1's pull, the call the budget refused, then W2's and W3's pulls
    asked = [entry.params.get("filter") or entry.path for entry in corpus.log[requests_before:]]
    assert asked == ["/works/W2", "cites:W2", "/works/W3", "cites:W3"]
    assert all(pulled_citers(paper) for paper in PAPERS)


def test_the_task_is_sent_again_for_the_budget_reset_and_never_dropped(corpus):
    corpus.inject(Fault.budget_exhausted(), path=r"cites:W1\b")
    run = new_run()
    resets = datetime(2030, 1, 1, tzinfo=UTC)

    with (
        mock.patch("papers.openalex.client.OpenAlexClient._resets_at", return_value=resets),
        mock.patch.object(refresh_papers_task, "apply_async") as send_again,
    ):
        result = refresh_papers_task.apply(args=(run.pk, list(PAPERS)))

    assert result.state == "IGNORED"  # neither failed nor a spent retry
    send_again.assert_called_once_with(args=(run.pk, list(PAPERS)), kwargs={}, eta=resets)
    run.refresh_from_db()
    assert (run.status, run.resumes_at, run.finished_at) == (RefreshRun.Status.PAUSED, resets, None)


def test_a_finished_run_is_not_redone_when_its_task_is_delivered_again(corpus):
    run = new_run()
    refresh_papers(run_id=run.pk, work_ids=list(PAPERS))
    requests_before = len(corpus.log)

    refresh_papers_task.apply(args=(run.pk, list(PAPERS)))

    assert len(corpus.log) == requests_before
    run.refresh_from_db()
    assert (run.status, run.papers_done) == (RefreshRun.Status.SUCCEEDED, 3)


def test_the_admin_shows_a_running_run_and_polls_its_progress(admin_client):
    run = RefreshRun.objects.create(papers_total=3, papers_done=1, list_calls=2)

    page = admin_client.get(f"/admin/papers/refreshrun/{run.pk}/change/")
    fragment = admin_client.get(f"/admin/papers/refreshrun/{run.pk}/progress/", headers={"HX-Request": "true"})

    assert page.status_code == fragment.status_code == 200
    assert b'hx-trigger="every 2s"' in page.content
    assert b"1/3 papers, 2 list calls" in fragment.content
    assert "1/3" in admin_client.get("/admin/papers/refreshrun/").content.decode()


def test_a_finished_run_stops_the_polling(admin_client):
    run = RefreshRun.objects.create(papers_total=3, papers_done=3, status=RefreshRun.Status.SUCCEEDED)

    fragment = admin_client.get(f"/admin/papers/refreshrun/{run.pk}/progress/")

    assert b"hx-trigger" not in fragment.content


def broken_citer(number: int, *, of: int) -> dict:
    """A citer parse_work refuses (its year is a word), the most cited so it is on the first page."""
    return synthetic_work(number, cited_by_count=999, cites=[of]) | {"publication_year": "soon"}


def test_a_run_records_the_budget_and_the_malformed_records_it_skipped(corpus):
    corpus.add_works([broken_citer(299, of=2)])
    before = timezone.now()

    run = refresh_papers(run_id=new_run().pk, work_ids=list(PAPERS), client=OpenAlexClient())

    assert run.status == RefreshRun.Status.SUCCEEDED
    assert run.errors == []  # a broken citer is not a failed paper
    assert pulled_citers(2) == {201, 202}
    (skipped,) = run.skipped_records
    assert (skipped["work"], skipped["record"]) == (2, "https://openalex.org/W299")
    assert "publication_year" in skipped["reason"]
    # The server's word with the last response: three list calls spent of 10,000.
    assert (run.budget_limit, run.budget_remaining) == (10_000, 9_997)
    assert before + timedelta(seconds=39_950) < run.budget_resets_at < before + timedelta(seconds=39_970)


def test_a_paused_run_shows_the_budget_spent_and_keeps_each_skip_once_when_resumed(corpus):
    # W2's citers fill two pages: the broken one is on the first, the budget runs out on the second.
    many = [synthetic_work(2000 + n, cited_by_count=1, cites=[2]) for n in range(120)]
    corpus.add_works([broken_citer(299, of=2), *many])
    corpus.inject(Fault.budget_exhausted(), path=r"cites:W2\b.*cursor=[^*&]")
    run = new_run()

    with pytest.raises(BudgetExhausted):
        refresh_papers(run_id=run.pk, work_ids=list(PAPERS))

    run.refresh_from_db()
    assert (run.status, run.budget_limit, run.budget_remaining) == (RefreshRun.Status.PAUSED, 10_000, 0)
    assert abs(run.budget_resets_at - run.resumes_at) < timedelta(seconds=1)  # each read off the same header
    assert run.skipped_records == []  # W2 is not done: its pull is asked for again after the reset

    refresh_papers_task.apply(args=(run.pk, list(PAPERS)))

    run.refresh_from_db()
    assert run.status == RefreshRun.Status.SUCCEEDED
    assert [(skip["work"], skip["record"]) for skip in run.skipped_records] == [(2, "https://openalex.org/W299")]
    assert run.budget_remaining == corpus.remaining == 9_995


def test_the_admin_shows_the_budget_and_the_skipped_records_of_a_run(corpus, admin_client):
    corpus.add_works([broken_citer(299, of=2)])
    run = refresh_papers(run_id=new_run().pk, work_ids=list(PAPERS), client=OpenAlexClient())

    page = admin_client.get(f"/admin/papers/refreshrun/{run.pk}/change/").content.decode()
    changelist = admin_client.get("/admin/papers/refreshrun/").content.decode()

    assert "1 skipped record" in page
    assert "OpenAlex budget: 9997 of 10000 list calls left, resets at" in page
    assert "https://openalex.org/W299" in page
    assert "publication_year" in page
    assert '<td class="field-budget_remaining">9997</td>' in changelist
    assert '<td class="field-skipped_count">1</td>' in changelist
