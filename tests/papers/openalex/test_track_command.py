"""`manage.py track` against the fake OpenAlex serving the recorded API responses."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from papers.models import Citation, CorpusEntry, Work
from scoring.models import PaperScore, ScoringRun
from scoring.services import rescore_corpus
from tests.conftest import API_DIR
from tests.fake_openalex.app import synthetic_work

pytestmark = pytest.mark.django_db

RECORDED_PAPER = 3046863325  # not a data paper; cited by the five works of the recorded `cites:` page
BREAKDOWN = (
    "datarank",
    "base_contribution",
    "network_contribution",
    "citing_works",
    "citers_with_signal",
    "self_citations_excluded",
)


def track(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("track", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_force_stores_the_citers_and_scores_as_loading_the_recorded_files_does(fake_openalex):
    out, _ = track("--force", "--sync", f"W{RECORDED_PAPER}")

    run = ScoringRun.objects.get()
    tracked = PaperScore.objects.filter(run=run, work_id=RECORDED_PAPER).values_list(*BREAKDOWN).get()
    assert Citation.objects.filter(cited_id=RECORDED_PAPER, pull_position__isnull=False).count() == 5
    assert "Tracked: 1 (W3046863325)" in out
    assert "Citers pulled: 5" in out
    assert "OpenAlex list calls used: 2" in out
    assert f"New scoring run: #{run.pk}" in out

    Work.objects.all().delete()
    Citation.objects.all().delete()
    call_command("load_openalex", *sorted(API_DIR.glob("*.json")), "--corpus", "all", stdout=StringIO())
    loaded = rescore_corpus()
    assert PaperScore.objects.filter(run=loaded, work_id=RECORDED_PAPER).values_list(*BREAKDOWN).get() == tracked


def test_sync_tracks_a_data_paper_and_scores_it(fake_openalex):
    fake_openalex.add_works([synthetic_work(11, type="dataset", cited_by_count=3)])
    fake_openalex.add_works(synthetic_work(100 + n, cited_by_count=n + 1, cites=[11]) for n in range(3))

    out, err = track("--sync", "W11")

    assert err == ""
    score = PaperScore.objects.get(work_id=11)
    assert score.citing_works == 3
    assert "Not data papers (use --force to track them anyway): 0" in out


def test_bad_identifiers_are_listed_and_exit_1_after_the_good_ones_are_tracked(fake_openalex):
    fake_openalex.add_works([synthetic_work(11, type="dataset")])
    err = StringIO()

    with pytest.raises(CommandError, match="2 bad identifier") as raised:
        call_command("track", "--sync", "W11", "10.12/bad", "W999999", stdout=StringIO(), stderr=err)

    assert raised.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "10.12/bad: malformed DOI (expected 10.<registrant>/<suffix>)",
        "W999999: not found in OpenAlex",
    ]
    assert CorpusEntry.objects.get(work_id=11).in_corpus


def test_without_sync_it_enqueues_the_task_on_commit(fake_openalex, django_capture_on_commit_callbacks):
    with (
        mock.patch("papers.management.commands.track.track_papers_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        out, _ = track("doi:10.5555/ABC", "W11", "--filter", "type:dataset", "--max", "5", "--force")

    delay.assert_called_once_with(["W11", "10.5555/abc"], "type:dataset", 5, True)
    assert "Queued tracking of 2 identifier(s) and the works of filter 'type:dataset'" in out
    assert fake_openalex.log == []


def test_without_sync_bad_identifiers_still_exit_1(fake_openalex, django_capture_on_commit_callbacks):
    with (
        mock.patch("papers.management.commands.track.track_papers_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CommandError, match="1 bad identifier"),
    ):
        track("W11", "garbage")

    delay.assert_called_once_with(["W11"], None, None, False)


def test_it_refuses_without_an_api_key(settings):
    settings.OPENALEX_API_KEY = ""

    with pytest.raises(CommandError, match="OPENALEX_API_KEY"):
        track("--sync", "W11")


def test_it_needs_an_identifier_or_a_filter(fake_openalex):
    with pytest.raises(CommandError, match="at least one ID"):
        track()
