"""Shared test set-up.

Tests that need PostgreSQL, Redis or a browser are skipped where those are missing —
except when DATARANK_REQUIRE_SERVICES=1 (the PostgreSQL leg of CI), where a skip of
any kind fails the run, so a missing service can never pass silently."""

import os
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "openalex"
API_DIR = SAMPLE_DIR / "api"
SNAPSHOT = SAMPLE_DIR / "snapshot" / "geoscience-works.jsonl.gz"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REQUIRE_SERVICES = os.environ.get("DATARANK_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…)"))


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if REQUIRE_SERVICES and skipped and exitstatus == 0:
        reporter.write_line(
            f"DATARANK_REQUIRE_SERVICES=1 but {len(skipped)} test(s) were skipped: every service must be present.",
            red=True,
        )
        session.exitstatus = 1
