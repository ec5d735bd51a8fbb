"""Shared test set-up.

Tests marked `postgres`, `redis` or `browser` are skipped where that part is missing —
except when DATARANK_REQUIRE_SERVICES=1 (the PostgreSQL leg of CI): there a skip of any
of them fails the run, so a missing service can never pass silently."""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "openalex"
API_DIR = SAMPLE_DIR / "api"
SNAPSHOT = SAMPLE_DIR / "snapshot" / "geoscience-works.jsonl.gz"
# The 1,851 geosciencearabia works, none of them in SNAPSHOT or API_DIR.
GEOSCIENCE_ARABIA = SAMPLE_DIR / "geosciencearabia" / "works_not_in_shared_snapshot.jsonl.gz"
# The sample snapshot load_sample builds: a manifest and parts (links to the two files above).
SAMPLE_SNAPSHOT = SAMPLE_DIR / "snapshot" / "works"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHROMIUM = "/usr/bin/chromium"
REQUIRE_SERVICES = os.environ.get("DATARANK_REQUIRE_SERVICES") == "1"
SERVICE_MARKERS = ("postgres", "redis", "browser")


def missing_part(marker: str) -> str | None:
    """Why the part a marker names is unavailable here, or None when it is available."""
    if marker == "postgres" and connection.vendor != "postgresql":
        return "needs PostgreSQL (set DATABASE_URL=postgres://…)"
    if marker == "sqlite" and connection.vendor != "sqlite":
        return "checks the SQLite default only"
    if marker == "redis" and not settings.CELERY_BROKER_URL.startswith("redis://"):
        return "needs Redis as the broker (set CELERY_BROKER_URL=redis://…)"
    if marker == "browser" and not (shutil.which(CHROMIUM) and importlib.util.find_spec("playwright")):
        return f"needs {CHROMIUM} and the playwright package"
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker in (*SERVICE_MARKERS, "sqlite"):
            reason = item.get_closest_marker(marker) and missing_part(marker)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not (REQUIRE_SERVICES and reporter):
        return
    skipped = [r for r in reporter.stats.get("skipped", []) if any(m in r.keywords for m in SERVICE_MARKERS)]
    if skipped:
        names = ", ".join(r.nodeid for r in skipped)
        reporter.write_line(f"DATARANK_REQUIRE_SERVICES=1 but these were skipped: {names}", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _empty_cache():
    """Pages cache per scoring run (graph layouts, histograms); run ids restart in every test's
    database, so a layout cached by one test must never be served to the next."""
    cache.clear()
    yield


# The FAIR papers and the fake DataCite, for the tests of facts, metrics and pages alike.
from tests.factories import bare_paper, sample_papers, zenodo_dataset  # noqa: E402, F401
from tests.fake_datacite.fixtures import fake_datacite  # noqa: E402, F401
