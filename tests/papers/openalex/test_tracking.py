"""Tracking papers and pulling their citers, against the fake OpenAlex over real HTTP."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from celery.exceptions import Ignore
from django.utils import timezone

from datarank_site.celery import app as celery_app
from papers.models import Author, Citation, CitationRemoval, CorpusEntry, FairSignal, Work
from papers.openalex.citers import pull_citers
from papers.openalex.client import BudgetExhausted, OpenAlexClient, TransientError
from papers.openalex.ingest import load_records
from papers.openalex.records import parse_work
from papers.openalex.tracking import BadIdentifier, Identifiers, parse_identifiers, track_papers, untrack_paper
from papers.tasks import pull_citers_task, track_papers_task, waiting_for_budget
from scoring.models import FairEvaluation
from tests.fake_openalex.app import Fault, synthetic_work

pytestmark = pytest.mark.django_db

PAPER = 1  # the synthetic paper the synthetic citers cite


@pytest.fixture
def client(fake_openalex) -> OpenAlexClient:
    """The real client, without sleeping between its retries."""
    return OpenAlexClient(sleep=lambda seconds: None, timeout=(2, 2), max_retries=2)


def seed_citers(fake, count: int, *, first: int = 1000, paper_authors=(), citer_authors=()) -> list[int]:
    """A dataset PAPER and `count` citers with distinct counts; their ids, most cited first."""
    fake.add_works([synthetic_work(PAPER, cited_by_count=count, type="dataset", authors=paper_authors)])
    fake.add_works(
        synthetic_work(first + n, cited_by_count=count - n, cites=[PAPER], authors=citer_authors) for n in range(count)
    )
    return [first + n for n in range(count)]


def hold(*raws) -> None:
    """Store works as the loader would from a snapshot file, outside the corpus."""
    load_records([parse_work(raw) for raw in raws], corpus="none", fetched_at=timezone.now())


def pulled_citers(work_id: int = PAPER) -> list[int]:
    links = Citation.objects.filter(cited_id=work_id, pull_position__isnull=False).order_by("pull_position")
    return list(links.values_list("citing_id", flat=True))


# --- identifiers -----------------------------------------------------------------------------


def test_it_reads_every_spelling_of_dois_and_openalex_ids():
    parsed = parse_identifiers(
        [
            "10.1000/ABC.1",
            "doi:10.1000/abc.2  https://doi.org/10.1000/abc.3",
            "",
            "   ",
            "http://dx.doi.org/10.1000/abc.4",
            "W2108598243 https://openalex.org/W3046863325",
            "w2108598243",
            "10.1000/abc.1",
        ]
    )

    assert parsed.work_ids == (2108598243, 3046863325)
    assert parsed.dois == ("10.1000/abc.1", "10.1000/abc.2", "10.1000/abc.3", "10.1000/abc.4")
    assert parsed.bad == ()
    assert parsed.as_strings() == ["W2108598243", "W3046863325", *parsed.dois]


def test_it_lists_each_bad_identifier_with_its_reason():
    long_line = "10.1000/" + "x" * 10_000

    parsed = parse_identifiers(["10.12/too-short-registrant", "doi:nonsense", long_line, "hello", "A5023888391"])

    assert [bad.reason for bad in parsed.bad] == [
        "malformed DOI (expected 10.<registrant>/<suffix>)",
        "malformed DOI (expected 10.<registrant>/<suffix>)",
        "line longer than 500 characters",
        "not a DOI or an OpenAlex id",
        "an OpenAlex id, but not of a work (W…)",
    ]
    assert len(parsed.bad[2].text) < 100  # a refused line is not echoed back whole
    assert len(parsed) == 0


# --- tracking --------------------------------------------------------------------------------


def test_it_resolves_150_ids_in_two_list_calls(client, fake_openalex):
    fake_openalex.add_works(synthetic_work(5000 + n, type="dataset") for n in range(150))

    result = track_papers(identifiers=[f"W{5000 + n}" for n in range(150)], client=client)

    resolving = [call for call in fake_openalex.list_calls() if call.params["filter"].startswith("openalex:")]
    assert len(resolving) == 2
    assert sorted(result.tracked) == [5000 + n for n in range(150)]
    # Then one call per paper for its (empty) citer list.
    assert result.list_calls == 2 + 150


def test_it_tracks_what_passes_the_data_paper_check_and_holds_the_rest(client, fake_openalex):
    fake_openalex.add_works([synthetic_work(11, type="dataset"), synthetic_work(12, type="article")])

    result = track_papers(identifiers=["W11", "W12"], client=client)

    assert result.tracked == (11,)
    assert result.not_data_papers == (12,)
    assert Work.objects.in_corpus().get().id == 11
    assert CorpusEntry.objects.get(work_id=11).tracked_at is not None
    assert not CorpusEntry.objects.get(work_id=12).check_passed  # held, with the check's verdict, for an admin


def test_force_puts_every_work_in_the_corpus_with_the_include_override(client, fake_openalex):
    fake_openalex.add_works([synthetic_work(12, type="article")])

    result = track_papers(identifiers=["W12"], force=True, client=client)

    entry = CorpusEntry.objects.get(work_id=12)
    assert result.tracked == (12,)
    assert (entry.in_corpus, entry.check_passed, entry.override) == (True, False, CorpusEntry.Override.INCLUDE)


def test_an_admins_keep_out_stands_unless_forced(client, fake_openalex):
    fake_openalex.add_works([synthetic_work(11, type="dataset")])
    track_papers(identifiers=["W11"], client=client)
    untrack_paper(work_id=11)

    again = track_papers(identifiers=["W11"], client=client)
    assert (again.tracked, again.kept_out) == ((), (11,))

    forced = track_papers(identifiers=["W11"], force=True, client=client)
    assert forced.tracked == (11,)


def test_a_malformed_doi_and_an_unknown_id_are_reported_and_the_valid_one_tracked(client, fake_openalex):
    fake_openalex.add_works([synthetic_work(11, type="dataset", doi="10.5555/known")])

    result = track_papers(identifiers=["10.12/bad", "W999999", "https://doi.org/10.5555/KNOWN"], client=client)

    assert result.tracked == (11,)
    assert result.bad == (
        BadIdentifier("10.12/bad", "malformed DOI (expected 10.<registrant>/<suffix>)"),
        BadIdentifier("W999999", "not found in OpenAlex"),
    )


def test_it_tracks_the_works_of_an_openalex_filter_up_to_max(client, fake_openalex):
    fake_openalex.add_works(synthetic_work(9000 + n, type="dataset") for n in range(30))

    result = track_papers(identifiers=Identifiers(), openalex_filter="type:dataset", max_papers=20, client=client)

    assert len(result.tracked) == 20


def test_it_pulls_the_citers_of_each_new_corpus_paper_once(client, fake_openalex):
    citers = seed_citers(fake_openalex, 3)

    first = track_papers(identifiers=["W1"], client=client)
    again = track_papers(identifiers=["W1"], client=client)

    assert (first.citers_pulled, pulled_citers()) == (3, citers)
    assert (again.citers_pulled, again.list_calls) == (0, 1)  # resolving only
    assert CorpusEntry.objects.get(work_id=PAPER).citers_pulled_at is not None
    assert not Work.objects.in_corpus().filter(id__in=citers).exists()  # citing is not joining


# --- citers ----------------------------------------------------------------------------------


def test_it_pulls_200_of_250_citers_in_two_list_calls_most_cited_first(client, fake_openalex):
    citers = seed_citers(fake_openalex, 250)

    result = pull_citers(work_id=PAPER, client=client, cap=200)

    assert (result.citers, result.list_calls, len(fake_openalex.list_calls())) == (200, 2, 2)
    assert pulled_citers() == citers[:200]
    assert list(
        Citation.objects.filter(cited_id=PAPER).order_by("pull_position").values_list("pull_position", flat=True)
    ) == list(range(200))


def test_the_cap_comes_from_settings(client, fake_openalex, settings):
    settings.DATARANK_CITER_CAP = 5
    seed_citers(fake_openalex, 8)

    assert pull_citers(work_id=PAPER, client=client).citers == 5


def test_a_new_pull_replaces_the_citer_set_and_keeps_links_from_referenced_works(client, fake_openalex):
    seed_citers(fake_openalex, 3, first=1000)
    hold(synthetic_work(7777, cites=[PAPER]))  # a work from a snapshot file that cites the paper
    pull_citers(work_id=PAPER, client=client)
    # OpenAlex now knows different citers: the old ones no longer cite the paper.
    fake_openalex.add_works(synthetic_work(1000 + n) for n in range(3))
    fake_openalex.add_works(synthetic_work(2000 + n, cited_by_count=10 - n, cites=[PAPER]) for n in range(2))

    first_seen = dict(Citation.objects.filter(cited_id=PAPER).values_list("citing_id", "first_seen_at"))

    result = pull_citers(work_id=PAPER, client=client)

    assert (result.added, result.removed) == (2, 3)
    assert pulled_citers() == [2000, 2001]
    # What the run diffs read: when each link arrived, and which links the pull dropped.
    removals = CitationRemoval.objects.order_by("citing_id")
    assert [(r.cited_id, r.citing_id) for r in removals] == [(PAPER, 1000), (PAPER, 1001), (PAPER, 1002)]
    new_links = Citation.objects.filter(cited_id=PAPER, citing_id__in=[2000, 2001])
    assert all(link.first_seen_at > max(first_seen.values()) for link in new_links)
    assert Citation.objects.get(citing_id=7777).first_seen_at == first_seen[7777]
    assert Citation.objects.get(citing_id=7777, cited_id=PAPER).pull_position is None
    assert Work.objects.filter(id__in=[1000, 1001, 1002]).count() == 3  # the works stay


@pytest.mark.parametrize(
    "fault, error",
    [(Fault.server_error(500), TransientError), (Fault.budget_exhausted(), BudgetExhausted)],
    ids=["500 after the retries", "budget exhausted"],
)
def test_a_fault_on_page_two_leaves_the_previous_citer_set_untouched(client, fake_openalex, fault, error):
    before = seed_citers(fake_openalex, 150)
    pull_citers(work_id=PAPER, client=client)
    fake_openalex.add_works(synthetic_work(3000 + n, cited_by_count=1000 + n, cites=[PAPER]) for n in range(150))
    links_before = set(Citation.objects.values_list("citing_id", "cited_id", "pull_position"))
    fake_openalex.inject(fault, path=r"cites:W1.*cursor=[^*]", times=client.max_retries + 1)

    with pytest.raises(error):
        pull_citers(work_id=PAPER, client=client)

    assert pulled_citers() == before
    assert set(Citation.objects.values_list("citing_id", "cited_id", "pull_position")) == links_before
    assert not Work.objects.filter(id__gte=3000).exists()


def test_it_flags_citers_sharing_an_author_as_self_citations(client, fake_openalex):
    fake_openalex.add_works([synthetic_work(PAPER, type="dataset", authors=[1, 2])])
    fake_openalex.add_works(
        [
            synthetic_work(1000, cited_by_count=5, cites=[PAPER], authors=[2, 3]),
            synthetic_work(1001, cited_by_count=4, cites=[PAPER], authors=[4]),
        ]
    )
    track_papers(identifiers=["W1"], client=client)

    flags = dict(Citation.objects.filter(cited_id=PAPER).values_list("citing_id", "is_self_citation"))

    assert flags == {1000: True, 1001: False}


def test_untracking_takes_the_paper_out_and_keeps_its_data(client, fake_openalex):
    seed_citers(fake_openalex, 3, paper_authors=[7])
    track_papers(identifiers=["W1"], client=client)

    untrack_paper(work_id=PAPER)

    entry = CorpusEntry.objects.get(work_id=PAPER)
    assert (entry.in_corpus, entry.override) == (False, CorpusEntry.Override.EXCLUDE)
    assert Work.objects.filter(id=PAPER).exists()
    assert Author.objects.filter(id=7).exists()
    assert len(pulled_citers()) == 3


# --- tasks -----------------------------------------------------------------------------------


def test_the_openalex_tasks_run_on_their_own_queue_and_retry_transient_errors():
    for task in (track_papers_task, pull_citers_task):
        assert celery_app.amqp.router.route({}, task.name)["queue"].name == "openalex"
        assert task.acks_late
        assert task.autoretry_for == (TransientError,)


def test_a_spent_budget_sends_the_task_again_for_the_reset_time(fake_openalex):
    resets_at = datetime(2030, 1, 1, tzinfo=UTC)
    task = mock.Mock()
    task.request.args, task.request.kwargs = [PAPER], {}

    with pytest.raises(Ignore), waiting_for_budget(task):
        raise BudgetExhausted("Insufficient budget", resets_at=resets_at)

    task.apply_async.assert_called_once_with(args=[PAPER], kwargs={}, eta=resets_at)


def test_the_track_task_evaluates_fair_and_rescores_the_corpus_once_it_has_tracked(
    fake_openalex, django_capture_on_commit_callbacks
):
    fake_openalex.add_works([synthetic_work(11, type="dataset")])

    with (
        mock.patch("papers.tasks.rescore_corpus_task.delay") as rescore,
        django_capture_on_commit_callbacks(execute=True),
    ):
        tracked = track_papers_task.apply(args=[["W11"], None, None, False]).get()

    assert tracked == [11]
    rescore.assert_called_once_with()
    # Its FAIR checklist and score come from the record at once, without DataCite.
    evaluation = FairEvaluation.objects.get(work_id=11, is_latest=True)
    assert FairSignal.objects.filter(work_id=11).count() == 6 and evaluation.checks
