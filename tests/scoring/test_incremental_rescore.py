"""A rescore recomputes only the papers whose inputs changed (the marks the database triggers
write) and keeps the figures of the rest from the run before: it must publish exactly what a
full rescore of the same data publishes."""

import random

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from papers.models import Author, Authorship, Citation, CorpusEntry, ScoreInputChange, Work
from scoring import services
from scoring.models import InstitutionScore, PaperScore, ResearcherScore, ScoringRun
from scoring.services import rescore_corpus

pytestmark = pytest.mark.django_db

PAPER_FIELDS = [f.name for f in PaperScore._meta.concrete_fields if f.name not in ("id", "run")]
ROLL_UP_FIELDS = {
    ResearcherScore: [f.name for f in ResearcherScore._meta.concrete_fields if f.name not in ("id", "run")],
    InstitutionScore: [f.name for f in InstitutionScore._meta.concrete_fields if f.name not in ("id", "run")],
}


def rows(run: ScoringRun) -> dict:
    """Everything a run published, but its id: paper scores and researcher and institution scores."""
    published = {"papers": list(PaperScore.objects.filter(run=run).order_by("work_id").values_list(*PAPER_FIELDS))}
    for model, names in ROLL_UP_FIELDS.items():
        published[model.__name__] = list(model.objects.filter(run=run).order_by(names[-1], *names).values_list(*names))
    return published


def grow_corpus(rng: random.Random, *, papers: int = 30, citers: int = 120) -> tuple[list[int], list[int]]:
    """Corpus papers 1…papers and citers 1001…, each citer citing a few papers, sharing authors
    now and then (self-citations), with counts that tie (the cap order's id tiebreak)."""
    now = timezone.now()
    paper_ids = list(range(1, papers + 1))
    citer_ids = list(range(1001, 1001 + citers))
    Work.objects.bulk_create(
        Work(
            id=i,
            title=f"Work {i}",
            cited_by_count=rng.choice([0, 1, 5, 5, 40, 300]),
            referenced_works_count=rng.choice([0, 1, 3, 10]),
            subfield_id=rng.choice([None, 1101, 1102]),
            publication_year=rng.choice([None, 2019, 2020, 2021]),
            fetched_at=now,
        )
        for i in paper_ids + citer_ids
    )
    CorpusEntry.objects.bulk_create(
        CorpusEntry(work_id=i, check_passed=True, confidence=0.9, included=True, checked_at=now) for i in paper_ids
    )
    Author.objects.bulk_create(Author(id=a, display_name=f"Author {a}") for a in range(1, 41))
    Authorship.objects.bulk_create(
        Authorship(work_id=i, author_id=a, position=p)
        for i in paper_ids + citer_ids
        for p, a in enumerate(rng.sample(range(1, 41), rng.choice([1, 2])))
    )
    links = {(q, p) for q in citer_ids + paper_ids for p in rng.sample(paper_ids, rng.choice([0, 1, 3, 6])) if q != p}
    Citation.objects.bulk_create(Citation(citing_id=q, cited_id=p) for q, p in sorted(links))
    return paper_ids, citer_ids


def change_at_random(rng: random.Random, paper_ids: list[int], citer_ids: list[int]) -> None:
    """A refresh's worth of changes, every kind the score reads, each through the ORM."""
    changed_citer, grown_paper = rng.choice(citer_ids), rng.choice(paper_ids)
    Work.objects.filter(id=changed_citer).update(cited_by_count=rng.choice([0, 7, 5000]))
    Work.objects.filter(id=rng.choice(citer_ids)).update(referenced_works_count=rng.choice([0, 2, 50]))
    Work.objects.filter(id=grown_paper).update(cited_by_count=F("cited_by_count") + 12_345)
    added = Work.objects.create(
        id=5000 + rng.randrange(1000), cited_by_count=999, referenced_works_count=2, fetched_at=timezone.now()
    )
    for paper in rng.sample(paper_ids, 2):
        Citation.objects.get_or_create(citing=added, cited_id=paper)
    removed = Citation.objects.filter(cited_id=rng.choice(paper_ids)).order_by("?").first()
    if removed is not None:
        removed.delete()
    # A citer gains the author of a paper it cites: that link turns into a self-citation.
    link = Citation.objects.order_by("?").first()
    author = Authorship.objects.filter(work_id=link.cited_id).values_list("author_id", flat=True).first()
    if author is not None:
        Authorship.objects.get_or_create(work_id=link.citing_id, author_id=author, defaults={"position": 9})
    Authorship.objects.filter(work_id=rng.choice(citer_ids)).order_by("id").first().delete()
    Work.objects.filter(id=rng.choice(citer_ids)).delete()
    # The corpus moves too: one paper leaves, a citer joins.
    CorpusEntry.objects.filter(work_id=rng.choice(paper_ids)).update(override=CorpusEntry.Override.EXCLUDE)
    joining = rng.choice(citer_ids)
    if Work.objects.filter(id=joining).exists():
        CorpusEntry.objects.update_or_create(
            work_id=joining,
            defaults={"check_passed": True, "confidence": 1, "included": True, "checked_at": timezone.now()},
        )


@pytest.mark.parametrize("seed", range(6))
def test_an_incremental_rescore_equals_a_full_one_after_changed_added_and_removed_citers(seed):
    rng = random.Random(seed)
    paper_ids, citer_ids = grow_corpus(rng)
    first = rescore_corpus(cap=4)
    change_at_random(rng, paper_ids, citer_ids)

    incremental = rescore_corpus(cap=4)
    full = rescore_corpus(cap=4, full=True)

    assert incremental.figures_from == first
    assert 0 < incremental.papers_recomputed < incremental.papers_scored
    assert full.figures_from is None and full.papers_recomputed == full.papers_scored
    assert rows(incremental) == rows(full)
    assert (incremental.papers_scored, incremental.papers_ranked, incremental.researchers_ranked) == (
        full.papers_scored, full.papers_ranked, full.researchers_ranked
    )  # fmt: skip


def test_a_rescore_recomputes_only_the_papers_whose_inputs_changed():
    grow_corpus(random.Random(7))
    rescore_corpus()
    citer = Citation.objects.filter(citing_id__gt=1000).values_list("citing_id", flat=True).first()
    cited = set(Citation.objects.filter(citing_id=citer).values_list("cited_id", flat=True))

    run = rescore_corpus()  # nothing changed since the first run
    assert (run.papers_recomputed, run.links_read) == (0, 0)

    Work.objects.filter(id=citer).update(cited_by_count=77_777)
    run = rescore_corpus()

    assert run.papers_recomputed == len(cited)
    assert run.links_read == Citation.objects.filter(cited_id__in=cited, citing__isnull=False).count()
    changed = PaperScore.objects.filter(run=run, work_id__in=cited)
    assert all(score.network_contribution > 0 for score in changed)
    assert not ScoreInputChange.objects.exists()


def test_a_change_landing_while_a_run_reads_is_kept_for_the_next_run(monkeypatch):
    paper_ids, _ = grow_corpus(random.Random(3))
    rescore_corpus()
    real_load_corpus = services.load_corpus
    late = Citation.objects.filter(cited_id=paper_ids[0]).values_list("citing_id", flat=True).first()

    def change_meanwhile(*args, **kwargs):
        # After the run read the marks: this change is not in its inputs' marks.
        Work.objects.filter(id=late).update(cited_by_count=424_242)
        return real_load_corpus(*args, **kwargs)

    monkeypatch.setattr(services, "load_corpus", change_meanwhile)
    rescore_corpus()
    monkeypatch.undo()

    assert ScoreInputChange.objects.filter(work_id=paper_ids[0]).exists()
    incremental = rescore_corpus()
    assert rows(incremental) == rows(rescore_corpus(full=True))


def test_a_failed_run_leaves_the_marks_for_the_next(monkeypatch):
    paper_ids, _ = grow_corpus(random.Random(4))
    rescore_corpus()
    Work.objects.filter(id=paper_ids[0]).update(cited_by_count=31_337)
    monkeypatch.setattr(services, "save_roll_ups", lambda **kwargs: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        rescore_corpus()

    assert ScoreInputChange.objects.filter(work_id=paper_ids[0]).exists()


def test_a_run_with_other_parameters_recomputes_every_paper():
    grow_corpus(random.Random(5))
    rescore_corpus(cap=4)

    run = rescore_corpus(cap=5)

    assert run.figures_from is None and run.papers_recomputed == run.papers_scored


def test_the_rescore_command_recomputes_everything_with_full(capsys):
    from django.core.management import call_command

    grow_corpus(random.Random(6))
    rescore_corpus()
    call_command("rescore", "--full")
    assert ScoringRun.objects.latest("id").figures_from is None
    call_command("rescore")
    assert ScoringRun.objects.latest("id").figures_from is not None


def marks() -> set[int]:
    return set(ScoreInputChange.objects.values_list("work_id", flat=True))


def test_the_triggers_mark_each_kind_of_change_and_nothing_else():
    now = timezone.now()
    paper = Work.objects.create(id=1, cited_by_count=3, fetched_at=now)
    other = Work.objects.create(id=2, fetched_at=now)
    citer = Work.objects.create(id=3, cited_by_count=5, fetched_at=now)
    Author.objects.create(id=9)
    assert marks() == set()  # a new work is new to every run: nothing to mark

    Citation.objects.create(citing=citer, cited=paper)
    assert marks() == {1}
    ScoreInputChange.objects.all().delete()

    Citation.objects.create(citing=citer, cited=other)
    Work.objects.filter(id=citer.id).update(title="Renamed", type="article")
    Work.objects.filter(id=other.id).update(cited_by_count=0)  # the same count
    ScoreInputChange.objects.all().delete()
    assert marks() == set()

    Work.objects.filter(id=citer.id).update(cited_by_count=6)  # a citer's count weighs in what it cites
    assert marks() == {1, 2, 3}
    ScoreInputChange.objects.all().delete()

    Work.objects.filter(id=paper.id).update(referenced_works_count=4)
    assert marks() == {1}
    ScoreInputChange.objects.all().delete()

    authorship = Authorship.objects.create(work=citer, author_id=9, position=0)
    assert marks() == {1, 2, 3}
    ScoreInputChange.objects.all().delete()

    Authorship.objects.filter(pk=authorship.pk).update(position=1, author_position="first")
    assert marks() == set()
    Authorship.objects.filter(pk=authorship.pk).update(work=paper)
    assert marks() == {1, 2, 3}
    ScoreInputChange.objects.all().delete()

    Authorship.objects.filter(pk=authorship.pk).delete()
    assert marks() == {1}
    ScoreInputChange.objects.all().delete()

    Citation.objects.filter(citing=citer, cited=other).delete()
    assert marks() == {2}
    ScoreInputChange.objects.all().delete()

    citer.delete()  # its links go with it
    assert marks() == {1}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the build's switch is a PostgreSQL setting")
@pytest.mark.django_db(transaction=True)  # SET LOCAL lasts to the end of the outermost transaction
def test_a_transaction_can_publish_without_marks():
    now = timezone.now()
    paper, citer = Work.objects.create(id=1, fetched_at=now), Work.objects.create(id=2, fetched_at=now)
    with transaction.atomic():
        ScoreInputChange.skip_in_this_transaction()
        Citation.objects.create(citing=citer, cited=paper)
    assert marks() == set()
    Citation.objects.create(citing=paper, cited=citer)
    assert marks() == {2}
