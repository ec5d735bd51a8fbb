"""The benchmarks at a tiny size, so they keep working between full runs."""

import resource

import pytest
from django.db import connection

from bench import pages
from bench.rescore import child_env_for, run_benchmark
from papers.models import Author, Authorship, Citation, Work
from scoring.models import ScoringRun


# transaction=True: the child processes commit their load, so the tables are emptied afterwards.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_benchmark_runs_and_reports_every_figure(tmp_path):
    # ru_maxrss is this process's peak so far: earlier tests in the same run (the DuckDB builds)
    # may already have passed the benchmark's goal, which `make bench` measures in a fresh process.
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    figures = run_benchmark(
        papers=200, citers=20, pool=2000, workdir=tmp_path, child_env=child_env_for(connection.settings_dict["NAME"])
    )

    assert (figures.papers, figures.links) == (200, 200 * 20)
    assert figures.baseline_seconds > 0 and figures.rescore_seconds > 0 and figures.refresh_seconds > 0
    assert figures.peak_rss_bytes >= peak_before > 0
    if peak_before < 2**31:
        assert figures.peak_rss_bytes < 2**31
    # Two full rescores with the researcher scores and one without, the refresh's, which
    # recomputed the one paper that gained a citer, and the full one it is compared with.
    runs = ScoringRun.objects.order_by("id")
    assert list(runs.values_list("status", "papers_scored")) == [("succeeded", 200)] * 5
    assert list(runs.values_list("papers_recomputed", flat=True)) == [200, 200, 200, 1, 200]
    assert figures.recomputed == 1 and figures.incremental_seconds > 0 and figures.full_after_refresh_seconds > 0
    assert figures.without_roll_ups_seconds > 0 and figures.researchers > 200 and figures.institutions > 100
    without = ScoringRun.objects.order_by("id")[1]
    assert (without.researchers_scored, without.institutions_scored) == (0, 0)
    report = figures.report()
    labels = ("Baseline read:", "Full rescore:", "Ratio:", "Without roll-ups:", "Peak RSS:", "Refresh one paper:",
              "Incremental:")  # fmt: skip
    for label in labels:
        assert label in report


# transaction=True: the server reads the corpus from its own connections, so it must be committed.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_page_benchmark_serves_every_request_and_reports_every_figure():
    figures = pages.run_benchmark(
        papers=300,
        citers=10,
        pool=3000,
        search_papers=2000,
        clients=4,
        requests=24,
        workers=2,
        child_env=child_env_for(connection.settings_dict["NAME"]),
        connections=8,
        load_seconds=1.0,
        warm_papers=20,
        threads=2,
    )

    assert figures.errors == ()
    assert (figures.links, Work.objects.in_corpus().count()) == (300 * 10, 2000)
    assert Work.objects.filter(corpus_entry__isnull=True).count() == 3000
    # Phase A's run scored the papers with citers; phase B's the grown corpus.
    assert list(ScoringRun.objects.values_list("status", "papers_scored")) == [("succeeded", 300), ("succeeded", 2000)]
    # Seen by the clients, and by the server (its access log).
    for latencies in (
        *(figures.page, figures.page_baseline, figures.search, figures.search_baseline),
        *(figures.page_server, figures.page_baseline_server, figures.search_server, figures.search_baseline_server),
    ):
        assert latencies.count == 24 and 0 < latencies.median <= latencies.p90
    assert figures.page_ratio > 0 and figures.search_ratio > 0
    assert [query for query, _ in figures.search_by_query] == list(pages.SEARCH_QUERIES)
    assert sum(latencies.count for _, latencies in figures.search_by_query) == 24
    # Phase W: warm pages under waitress, the server's time on one connection, then the load runs.
    warm = figures.warm
    assert warm.papers == 20 and warm.errors == ()
    for percentiles in (warm.page_server, warm.minimal_server):
        assert percentiles.count > 0 and 0 < percentiles.p50 <= percentiles.p99
    for load in (warm.page_load, warm.minimal_load):
        assert load.connections == 8 and load.requests > 0 and load.per_second > 0 and load.errors == ()
    assert warm.server_ratio > 0 and warm.throughput_ratio > 0
    report = figures.report()
    for label in (
        *("Paper page:", "Minimal view (A):", "Page ratio:", "Search:", "Minimal view (B):", "Search ratio:"),
        *("Warm pages (W):", "load, page:", "load, minimal:", "requests/s", "p99"),
    ):
        assert label in report


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_page_benchmark_corpus_is_the_same_at_every_run():
    def snapshot():
        papers = Work.objects.in_corpus().order_by("id").values_list("id", "title", "publication_year", "venue")
        links = Citation.objects.order_by("cited_id", "citing_id").values_list("cited_id", "citing_id")
        return list(papers), list(links), Authorship.objects.count()

    pages.generate(papers=50, citers=5, pool=200)
    first = snapshot()
    Work.objects.all().delete()
    Author.objects.all().delete()
    pages.generate(papers=50, citers=5, pool=200)

    assert snapshot() == first
    papers, links, _ = first
    # Each paper has exactly its five distinct citers, none of them a corpus paper.
    assert len(set(links)) == len(links) == 50 * 5
    assert {cited for cited, _ in links} == {paper[0] for paper in papers}
    assert all(citing >= pages.CITER_BASE for _, citing in links)
