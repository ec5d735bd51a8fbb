"""A run's researcher and institution scores: who is credited with what, and that they are
published with the run or not at all."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from papers.models import Affiliation, Author, AuthorMerge, Authorship, CorpusEntry, Correction, Institution, Work
from scoring.models import InstitutionScore, PaperScore, ResearcherScore, ScoringRun
from scoring.services import rescore_corpus

pytestmark = pytest.mark.django_db


def paper(number, *, cited_by_count, authors=(), institution=None, corpus=True, subfield=None):
    work = Work.objects.create(
        id=number, title=f"Paper {number}", cited_by_count=cited_by_count, fetched_at=timezone.now(),
        subfield_id=subfield,
    )  # fmt: skip
    CorpusEntry.objects.create(
        work=work, check_passed=corpus, confidence=0.9, included=corpus, checked_at=timezone.now()
    )
    for position, author in enumerate(authors, start=1):
        Author.objects.get_or_create(id=author)
        Authorship.objects.create(work=work, author_id=author, position=position)
        if institution is not None:
            Affiliation.objects.create(work=work, author_id=author, institution=institution)
    return work


def datarank(run, work):
    return PaperScore.objects.get(run=run, work=work).datarank


def test_every_author_of_a_corpus_paper_gets_the_three_scores_and_a_rank():
    a, b = paper(1, cited_by_count=30, authors=[7, 8]), paper(2, cited_by_count=3, authors=[7])
    paper(3, cited_by_count=0, authors=[9])
    paper(4, cited_by_count=500, authors=[7], corpus=False)  # not a corpus paper: counts for nobody
    run = rescore_corpus()

    scores = {s.author_id: s for s in ResearcherScore.objects.filter(run=run)}
    assert set(scores) == {7, 8, 9}
    seven = scores[7]
    assert (seven.papers, seven.ranked_papers, seven.h_index) == (2, 2, 2)
    assert seven.researcher_score == pytest.approx((datarank(run, a) + datarank(run, b)) / 10)
    assert seven.sum_score == pytest.approx(datarank(run, a) + datarank(run, b))
    assert (seven.rank, seven.top_percent) == (1, 50.0)
    assert (scores[8].rank, scores[8].top_percent) == (2, 100.0)
    assert (scores[9].papers, scores[9].ranked_papers, scores[9].rank, scores[9].top_percent) == (1, 0, None, None)
    assert (run.researchers_scored, run.researchers_ranked) == (3, 2)


def test_a_merged_author_ids_papers_count_for_the_surviving_id():
    paper(1, cited_by_count=30, authors=[7])
    paper(2, cited_by_count=3, authors=[70])
    paper(3, cited_by_count=5, authors=[7, 70])  # both profiles on one paper: it counts once
    AuthorMerge.objects.record([(70, 7, date(2023, 4, 13))])
    run = rescore_corpus()

    assert list(ResearcherScore.objects.filter(run=run).values_list("author_id", "papers")) == [(7, 3)]


def test_a_paper_an_editor_found_not_theirs_leaves_their_roll_up_even_after_a_merge():
    paper(1, cited_by_count=30, authors=[7, 8])
    paper(2, cited_by_count=3, authors=[7])
    Correction.objects.create(
        kind=Correction.Kind.NOT_THEIRS, work_id=1, author_id=7, reason="A namesake",
        status=Correction.Status.ACCEPTED, decided_at=timezone.now(),
    )  # fmt: skip
    Correction.objects.create(kind=Correction.Kind.NOT_THEIRS, work_id=2, author_id=7, reason="Pending: no effect")
    run = rescore_corpus()
    assert ResearcherScore.objects.get(run=run, author_id=7).papers == 1
    assert ResearcherScore.objects.get(run=run, author_id=8).papers == 1

    # 7 is later merged into 5: the paper stays out of the surviving profile too.
    AuthorMerge.objects.record([(7, 5, None)])
    run = rescore_corpus()
    assert ResearcherScore.objects.get(run=run, author_id=5).papers == 1
    assert not ResearcherScore.objects.filter(run=run, author_id=7).exists()


def test_an_institution_counts_each_paper_once_and_its_researchers():
    lab = Institution.objects.create(id=99, display_name="Lab", country_code="SA")
    a = paper(1, cited_by_count=30, authors=[7, 8], institution=lab)
    paper(2, cited_by_count=0, authors=[9], institution=lab)
    run = rescore_corpus()

    score = InstitutionScore.objects.get(run=run, institution=lab)
    assert (score.papers, score.ranked_papers, score.researchers, score.h_index) == (2, 1, 3, 1)
    assert score.researcher_score == pytest.approx(datarank(run, a) / 10)
    assert (score.rank, score.top_percent) == (1, 100.0)
    assert (run.institutions_scored, run.institutions_ranked) == (1, 1)


def test_a_researchers_main_subfield_is_the_one_most_of_their_papers_belong_to():
    paper(1, cited_by_count=1, authors=[7], subfield=1908)
    paper(2, cited_by_count=1, authors=[7], subfield=1907)
    paper(3, cited_by_count=1, authors=[7], subfield=1908)
    paper(4, cited_by_count=1, authors=[8])
    run = rescore_corpus()
    assert dict(ResearcherScore.objects.filter(run=run).values_list("author_id", "subfield_id")) == {7: 1908, 8: None}


def test_a_run_whose_roll_up_fails_publishes_nothing(monkeypatch):
    paper(1, cited_by_count=30, authors=[7])
    good = rescore_corpus()

    def fail(**kwargs):
        raise RuntimeError("roll-up failed")

    monkeypatch.setattr("scoring.services.save_roll_ups", fail)
    with pytest.raises(RuntimeError):
        rescore_corpus()
    failed = ScoringRun.objects.latest("id")
    assert failed.status == ScoringRun.Status.FAILED
    assert not PaperScore.objects.filter(run=failed).exists()
    assert not ResearcherScore.objects.filter(run=failed).exists()
    assert ScoringRun.objects.current() == good


def researchers(*args):
    out = io.StringIO()
    call_command("researchers", *args, stdout=out)
    return out.getvalue()


def test_the_researchers_command_prints_exact_csv_ranked_first_then_by_id():
    lab = Institution.objects.create(id=99, display_name="Lab")
    paper(1, cited_by_count=30, authors=[8, 7], institution=lab)
    paper(2, cited_by_count=0, authors=[3])
    run = rescore_corpus()
    total = datarank(run, Work.objects.get(id=1))
    score = total / 10

    lines = researchers("--format", "csv").splitlines()
    assert lines == [
        "id,papers,ranked_papers,researcher_score,sum_score,h_index,rank,top_percent",
        f"A7,1,1,{score!r},{total!r},1,1,100.0",
        f"A8,1,1,{score!r},{total!r},1,1,100.0",
        "A3,1,0,0.0,0.0,0,,",
    ]
    assert researchers("--institutions", "--format", "csv").splitlines()[1] == f"I99,1,1,{score!r},{total!r},1,1,100.0"
    table = researchers()
    assert "3 researchers, 2 ranked" in table and "A3" in table


def test_the_researchers_command_says_so_when_nothing_has_been_scored():
    with pytest.raises(CommandError, match="Nothing has been scored yet"):
        researchers()
