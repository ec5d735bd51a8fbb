"""Old runs are folded: beyond the newest DATARANK_SCORE_RUNS_KEPT, a run keeps a paper's or a
researcher's row only where it differs from their previous kept row."""

import random

import pytest
from django.urls import reverse

from papers.models import Work
from scoring.diff import diff_run
from scoring.models import InstitutionScore, PaperScore, ResearcherScore, ScoringRun
from scoring.retention import fold_old_runs
from scoring.services import rescore_corpus
from tests.scoring.test_incremental_rescore import grow_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_three(settings):
    settings.DATARANK_SCORE_RUNS_KEPT = 3
    settings.DATARANK_DUMPS_KEEP = 0


@pytest.fixture
def rescore(django_capture_on_commit_callbacks):
    """A rescore with what follows its commit (the fold): the test's own transaction never commits."""

    def run(**kwargs) -> ScoringRun:
        with django_capture_on_commit_callbacks(execute=True):
            return rescore_corpus(**kwargs)

    return run


def runs_of(model, **subject) -> list[int]:
    return list(model.objects.filter(**subject).order_by("run_id").values_list("run_id", flat=True))


def test_old_runs_keep_only_the_rows_that_changed_and_the_newest_stay_whole(rescore):
    paper_ids, _ = grow_corpus(random.Random(1))
    moving, still = paper_ids[0], paper_ids[1]
    scored = []
    for step in range(5):
        if step in (1, 3):
            Work.objects.filter(id=moving).update(cited_by_count=1000 * step + 7)
        scored.append(rescore())
    first, second, third, fourth, fifth = (run.pk for run in scored)

    corpus = len(paper_ids)
    assert [ScoringRun.objects.get(pk=pk).folded_at is not None for pk in (first, second, third)] == [
        True, True, False
    ]  # fmt: skip
    # The first run is every paper's first row; the newest three are whole.
    for pk in (first, third, fourth, fifth):
        assert PaperScore.objects.filter(run_id=pk).count() == corpus
    # Run 2 keeps the paper whose count moved, and the papers whose rank moved with it.
    kept = set(PaperScore.objects.filter(run_id=second).values_list("work_id", flat=True))
    assert moving in kept and len(kept) < corpus
    assert runs_of(PaperScore, work_id=moving) == [first, second, third, fourth, fifth]
    assert runs_of(PaperScore, work_id=still)[-3:] == [third, fourth, fifth]
    # Every row left in a folded run differs from the paper's row before it.
    for score in PaperScore.objects.filter(run_id=second):
        before = PaperScore.objects.get(run_id=first, work_id=score.work_id)
        figures = ("datarank", "rank", "top_percent", "tier", "citing_works")
        assert [getattr(score, f) for f in figures] != [getattr(before, f) for f in figures]


def test_a_paper_history_still_shows_every_change(rescore):
    paper_ids, _ = grow_corpus(random.Random(2))
    moving = paper_ids[0]
    figures = []
    for step in range(6):
        if step % 2:
            Work.objects.filter(id=moving).update(cited_by_count=500 * step)
        run = rescore()
        figures.append(PaperScore.objects.values_list("datarank", flat=True).get(run=run, work_id=moving))

    history = list(PaperScore.objects.history(moving).values_list("datarank", flat=True))

    # Each distinct step of the paper's figures is in its history, in order.
    changes = [value for i, value in enumerate(figures) if i == 0 or value != figures[i - 1]]
    assert [value for i, value in enumerate(history) if i == 0 or value != history[i - 1]] == changes


def test_researcher_and_institution_rows_are_folded_the_same_way(rescore):
    grow_corpus(random.Random(3))
    runs = [rescore() for _ in range(5)]  # nothing changes between them

    # Only the first run's rows and the newest three runs remain: the second run repeated all.
    for model in (ResearcherScore, InstitutionScore, PaperScore):
        per_run = [model.objects.filter(run=run).count() for run in runs]
        assert per_run[1] == 0 and per_run[0] == per_run[2] == per_run[3] == per_run[4]
    assert ResearcherScore.objects.filter(run=runs[0]).count() > 0


def test_folding_twice_drops_nothing_more(rescore):
    grow_corpus(random.Random(4))
    for _ in range(5):
        rescore()
    rows = PaperScore.objects.count()

    assert fold_old_runs() == 0
    assert PaperScore.objects.count() == rows


def test_a_folded_run_has_no_diff_and_its_page_says_why(admin_client, rescore):
    grow_corpus(random.Random(5))
    runs = [rescore() for _ in range(5)]

    assert diff_run(run=runs[1]) is None  # folded
    assert diff_run(run=runs[2]) is None  # whole, but the run before it is folded
    assert diff_run(run=runs[3]) is not None
    page = admin_client.get(reverse("admin:scoring_scoringrun_change", args=[runs[2].pk])).content.decode()
    assert "the run before it keeps only the rows where a figure changed" in page


def test_the_paper_page_says_runs_without_change_are_folded(client, rescore):
    paper_ids, _ = grow_corpus(random.Random(6))
    for _ in range(2):
        rescore()

    page = client.get(reverse("paper", kwargs={"key": f"W{paper_ids[0]}"})).content.decode()

    assert "Runs where nothing changed are folded" in page
