"""The rescoring benchmark at a tiny size, so it keeps working between full runs."""

import pytest
from django.db import connection

from bench.rescore import child_env_for, run_benchmark
from scoring.models import ScoringRun


# transaction=True: the child processes commit their load, so the tables are emptied afterwards.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_benchmark_runs_and_reports_every_figure(tmp_path):
    figures = run_benchmark(
        papers=200, citers=20, pool=2000, workdir=tmp_path, child_env=child_env_for(connection.settings_dict["NAME"])
    )

    assert (figures.papers, figures.links) == (200, 200 * 20)
    assert figures.baseline_seconds > 0 and figures.rescore_seconds > 0 and figures.refresh_seconds > 0
    assert 0 < figures.peak_rss_bytes < 2**31
    # The rescore and the refresh's rescore, each over the whole corpus.
    assert list(ScoringRun.objects.values_list("status", "papers_scored")) == [("succeeded", 200)] * 2
    report = figures.report()
    for label in ("Baseline read:", "Full rescore:", "Ratio:", "Peak RSS:", "Refresh one paper:"):
        assert label in report
