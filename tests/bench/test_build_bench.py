"""The build benchmark (bench/build.py) at a tiny size, in this process, so it keeps working
between full runs."""

import pytest

from bench.build import OUTSIDE, run_benchmark, shape
from scoring.models import ScoringRun, SnapshotBuild

WORKS, PAPERS, REFERENCES, SMALL_REFERENCES = 1_000, 50, 20_000, 4_000


# transaction=True: build_index and load_openalex commit, and the benchmark flushes between runs.
@pytest.mark.django_db(transaction=True)
def test_the_build_benchmark_runs_and_reports_every_figure(tmp_path):
    figures = run_benchmark(
        works=WORKS,
        papers=PAPERS,
        references=REFERENCES,
        small_references=SMALL_REFERENCES,
        threads=2,
        workdir=tmp_path,
        child_env=None,
    )

    big, small = figures.big, figures.small
    assert (big.works, big.records, big.corpus_papers) == (WORKS, WORKS, PAPERS)
    # About the references asked for, a twentieth of them to the corpus papers.
    assert abs(big.references - REFERENCES) < REFERENCES * 0.15
    assert shape(works=WORKS, papers=PAPERS, references=REFERENCES) == (
        round(REFERENCES * (1 - OUTSIDE) / PAPERS),
        WORKS - PAPERS,
    )
    assert big.parts == 2 and big.gzip_bytes > 0
    assert big.bare_seconds > 0 and 0 < big.build_seconds < big.command_seconds and big.references_per_second > 0
    assert [stage.name for stage in big.stages][:2] == ["extract parts", "works"]
    assert {"scores", "publish"} <= {stage.name for stage in big.stages}
    assert big.peak_rss_bytes > 0 and big.peak_disk_bytes >= big.final_disk_bytes > 0
    assert abs(small.references - SMALL_REFERENCES) < SMALL_REFERENCES * 0.3
    assert figures.small_load_seconds > 0 and figures.small_rescore_seconds > 0 and figures.load_ratio > 0
    # The database ends holding the big build only, the small one and the load flushed, and the
    # live path's two rescores after one new citer: the one that recomputes what changed (on
    # SQLite, everything the build wrote too: its triggers cannot be told to skip a build) equals
    # the full one. No pages in this process: a server could not read the test's data.
    assert list(SnapshotBuild.objects.values_list("status", flat=True)) == ["succeeded"]
    assert list(ScoringRun.objects.values_list("papers_scored", flat=True)) == [PAPERS] * 3
    live = figures.live
    assert live.identical and live.recomputed >= 1 and live.incremental_seconds > 0 and live.full_seconds > 0
    assert live.page_seconds == {}
    report = figures.report()
    for label in ("Bare scan:", "Build:", "Ratio:", "Peak RSS:", "Work dir:", "Projection:", "load_openalex:",
                  "Live rescore:"):  # fmt: skip
        assert label in report


# transaction=True: the child processes commit, and the server reads from its own connections.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_build_benchmark_serves_the_built_pages_against_the_minimal_view(tmp_path):
    from django.db import connection

    from bench.rescore import child_env_for

    figures = run_benchmark(
        works=WORKS,
        papers=PAPERS,
        references=REFERENCES,
        small_references=SMALL_REFERENCES,
        threads=2,
        workdir=tmp_path,
        child_env=child_env_for(connection.settings_dict["NAME"]),
    )

    live = figures.live
    # PostgreSQL: the build's own writes leave no marks, so the refresh recomputes its one paper.
    assert live.identical and live.recomputed == 1
    assert set(live.page_seconds) == {"home", "ranking", "paper", "minimal"}
    assert all(seconds > 0 for seconds in live.page_seconds.values())
    assert "paper page:" in figures.report() and "minimal view" in figures.report()
