"""What a run changed since the one before, for admins, and each paper's history across runs."""

import pytest
from django.urls import reverse
from django.utils import timezone

from papers.models import Citation, CitationRemoval
from scoring.diff import diff_run
from scoring.models import PaperScore, ScoringRun
from scoring.services import rescore_corpus
from tests.scoring.test_rescore import cites, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    """Three corpus papers: 10 leads, 20 second, 30 last with no citers."""
    papers = [work(10, cited_by_count=50, corpus=True), work(20, cited_by_count=20, corpus=True)]
    papers.append(work(30, cited_by_count=1, corpus=True))
    cites(work(100, cited_by_count=10, referenced_works_count=1), papers[0])
    cites(work(200, cited_by_count=5, referenced_works_count=1), papers[1])
    return papers


def test_the_first_run_has_no_diff(corpus):
    assert diff_run(run=rescore_corpus()) is None


def test_a_failed_run_has_no_diff(corpus, monkeypatch):
    rescore_corpus()
    failed = ScoringRun.objects.create(algorithm="x", damping=0.85, citer_cap=200, status=ScoringRun.Status.FAILED)

    assert diff_run(run=failed) is None


def test_the_diff_lists_movers_citer_changes_tier_changes_and_new_papers(corpus):
    first = rescore_corpus()
    low = corpus[2]
    # Paper 30 gains three well-cited citers and overtakes both others; paper 10 loses its citer.
    for n in range(3):
        cites(work(300 + n, cited_by_count=10_000, referenced_works_count=1), low)
    Citation.objects.filter(cited=corpus[0]).delete()
    work(40, cited_by_count=0, corpus=True)
    second = rescore_corpus()

    diff = diff_run(run=second)

    assert diff.previous == first
    assert (diff.papers_added, diff.papers_dropped) == (1, 0)
    assert [(s.work_id, s.previous_rank, s.rank, s.rank_change) for s in diff.risers] == [(30, 3, 1, 2)]
    # Paper 20 keeps rank 2, so it is no faller.
    assert [(s.work_id, s.previous_rank, s.rank, s.rank_change) for s in diff.fallers] == [(10, 1, 3, -2)]
    assert [(s.work_id, s.previous_citing_works, s.citing_works, s.citer_change) for s in diff.citer_gains] == [
        (30, 0, 3, 3)
    ]
    assert [(s.work_id, s.citer_change) for s in diff.citer_losses] == [(10, -1)]
    # Tiers are ceil(5·k/N) over the ranked papers: paper 40 scores 0 and is not ranked, so both
    # runs rank three papers, S2, S4 and S5 from the top.
    moved = {s.work_id: (s.previous_tier, s.tier) for s in diff.tier_moves}
    assert moved == {30: (5, 2), 10: (2, 5)}
    assert diff.tier_changes == 2
    # Links are dated when they arrive; the deleted link was not dropped by a pull, so no loss.
    assert (diff.new_citers.total, diff.new_citers.papers) == (3, [("W30", 3, ["W300", "W301", "W302"])])
    assert (diff.lost_citers.total, diff.lost_citers.papers) == (0, [])


def test_the_diff_names_the_citers_a_pull_dropped_between_the_runs(corpus):
    rescore_corpus()
    CitationRemoval.objects.create(cited_id=10, citing_id=100, removed_at=timezone.now())
    CitationRemoval.objects.create(cited_id=99, citing_id=100, removed_at=timezone.now())  # not a scored paper
    second = rescore_corpus()
    # After the second run started: the third run's business.
    CitationRemoval.objects.create(cited_id=20, citing_id=200, removed_at=timezone.now())

    diff = diff_run(run=second)

    assert (diff.lost_citers.total, diff.lost_citers.papers) == (1, [("W10", 1, ["W100"])])
    assert diff.new_citers.total == 0


def test_the_diff_skips_failed_runs_between(corpus):
    first = rescore_corpus()
    ScoringRun.objects.create(algorithm="x", damping=0.85, citer_cap=200, status=ScoringRun.Status.FAILED)
    third = rescore_corpus()

    assert diff_run(run=third).previous == first


def test_the_run_page_shows_its_diff(corpus, admin_client):
    first = rescore_corpus()
    cites(work(300, cited_by_count=10_000, referenced_works_count=1), corpus[2])
    second = rescore_corpus()

    content = admin_client.get(reverse("admin:scoring_scoringrun_change", args=[second.pk])).content.decode()

    assert "Changes since" in content
    assert "Moved up most" in content and "W30" in content
    # Only the paper that gained a citer was recomputed, from its one link.
    assert "Recomputed the 1 paper whose inputs changed and kept the others' figures from" in content
    assert f"run {first.pk}</a>; ranked all 3. Read 1 citation link from 1 citing work;" in content
    assert f"Changes since run {first.pk}" in content
    assert "New citers: 1 link" in content and "W300" in content


def test_a_papers_history_lists_its_succeeded_runs_oldest_first(corpus):
    first = rescore_corpus()
    ScoringRun.objects.create(algorithm="x", damping=0.85, citer_cap=200, status=ScoringRun.Status.FAILED)
    second = rescore_corpus(damping=0.5)

    history = list(PaperScore.objects.history(10))

    assert [score.run for score in history] == [first, second]
    assert history[0].datarank != history[1].datarank


def test_admins_cannot_delete_a_run_or_its_scores(corpus, admin_client):
    run = rescore_corpus()
    score = run.scores.first()

    run_delete = admin_client.post(reverse("admin:scoring_scoringrun_delete", args=[run.pk]), {"post": "yes"})
    score_delete = admin_client.post(reverse("admin:scoring_paperscore_delete", args=[score.pk]), {"post": "yes"})

    assert (run_delete.status_code, score_delete.status_code) == (403, 403)
    assert ScoringRun.objects.current() == run and run.scores.count() == 3
