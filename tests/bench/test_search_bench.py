"""The search benchmark (bench/search.py) at a tiny size, so it keeps working between full runs."""

import pytest
from django.db import connection

from bench import search
from bench.rescore import child_env_for
from papers.models import Author, SearchEntry, SearchWord, Work
from scoring.models import ResearcherScore, ScoringRun


# transaction=True: the server reads the corpus from its own connections, so it must be committed.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_search_benchmark_measures_every_class_against_the_minimal_view():
    figures = search.run_benchmark(
        papers=2000,
        words=20_000,
        per_class=3,
        rounds=2,
        clients=2,
        workers=2,
        child_env=child_env_for(connection.settings_dict["NAME"]),
    )

    assert figures.errors == ()
    assert Work.objects.in_corpus().count() == SearchEntry.objects.count() == 2000
    # The run's order: ranked papers first, numbered from 0.
    run = ScoringRun.objects.get()
    assert run.papers_scored == 2000 and 0 < run.papers_ranked < 2000
    assert SearchEntry.objects.filter(position__lt=2000).count() == 2000
    # Every author of a paper is scored, as a site's run scores them, so searches find researchers among them all.
    authors = Author.objects.filter(authorships__isnull=False).distinct().count()
    assert run.researchers_scored == authors == ResearcherScore.objects.filter(run=run).count() > 900
    assert 0 < run.researchers_ranked <= run.researchers_scored
    assert figures.vocabulary == SearchWord.objects.count() > 1000
    names = [name for name, _ in figures.by_class]
    assert names == ["rare", "tenth", "two words", "three", "prefix", "typo", "author"]
    for name, percentiles in figures.by_class:
        assert percentiles.count > 0 and 0 < percentiles.p50 <= percentiles.p99, name
        assert figures.queries[name]
    assert figures.minimal.count > 0 and figures.ratio > 0
    report = figures.report()
    for label in ("Minimal view:", "By class", "ratio", "Plan of its slowest query:", "Goals:"):
        assert label in report
    assert "Execution Time" in figures.slowest_plan


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_search_corpus_is_the_same_at_every_run():
    def snapshot():
        return list(Work.objects.order_by("id").values_list("id", "title", "publication_year", "venue", "type"))

    search.generate(papers=100, words=5000)
    first = snapshot()
    Work.objects.all().delete()
    Author.objects.all().delete()
    ScoringRun.objects.all().delete()
    search.generate(papers=100, words=5000)

    assert snapshot() == first and len({title for _, title, *_ in first}) == 100
