"""Settings come from the environment, fail loudly on bad values and lock down production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from datarank_site import settings as site_settings

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k9$Qz!7vR2#mW8pL0xT4&nB6yC1@hJ5dF3sG9aE2uI7oP0qZ-long-and-random"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The database is not what these check: the SQLite default keeps them independent of it.
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "DATARANK_PRODUCTION", "DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secret_key_refuses_to_start_with_a_clear_message():
    result = manage("check", DATARANK_PRODUCTION="1", ALLOWED_HOSTS="datarank.example.org")
    assert result.returncode != 0
    assert "DATARANK_PRODUCTION=1 needs SECRET_KEY to be set" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = manage("check", DATARANK_PRODUCTION="1", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_with_its_variables_passes_check_deploy_silently():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DATARANK_PRODUCTION="1", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="datarank.example.org",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_development_check_deploy_does_warn_so_the_silence_above_means_something():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W" in result.stderr


def test_a_bad_integer_fails_loudly_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DATARANK_CITER_CAP", "two hundred")
    with pytest.raises(ImproperlyConfigured, match="DATARANK_CITER_CAP='two hundred' is not an integer"):
        site_settings.env_int("DATARANK_CITER_CAP", 200, minimum=1)


def test_an_out_of_range_damping_fails_loudly(monkeypatch):
    monkeypatch.setenv("DATARANK_DAMPING", "1.5")
    with pytest.raises(ImproperlyConfigured, match=r"between 0\.0 and 1\.0"):
        site_settings.env_float("DATARANK_DAMPING", 0.85, low=0.0, high=1.0)


def test_a_bad_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe' is not a boolean"):
        site_settings.env_bool("DEBUG", True)


def test_a_bad_setting_stops_manage_py_with_the_message():
    result = manage("check", DATARANK_CITER_CAP="-3")
    assert result.returncode != 0
    assert "DATARANK_CITER_CAP=-3 must be at least 1" in result.stderr


def test_database_url_selects_postgresql_with_a_connection_pool():
    db = site_settings.database_from_url("postgres://alice:s%40cret@db.example.org:6543/datarank")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "datarank", "alice", "s@cret", "db.example.org", "6543",
    )  # fmt: skip
    assert db["OPTIONS"]["pool"]
    assert db["CONN_MAX_AGE"] == 0


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_the_sites_postgresql_connections_compile_no_query():
    # JIT compiling took 321 ms of a 997 ms vocabulary lookup (settings.py says why it is off).
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_database_url_selects_sqlite_with_wal_and_a_busy_timeout():
    db = site_settings.database_from_url("sqlite:////tmp/datarank.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert str(db["NAME"]) == "/tmp/datarank.sqlite3"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] > 0


def test_an_unknown_database_scheme_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="must be sqlite:// or postgres://"):
        site_settings.database_from_url("mysql://root@localhost/datarank")


def test_with_no_environment_the_defaults_are_for_a_first_run():
    result = subprocess.run(
        [sys.executable, "-c", (
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='datarank_site.settings'; django.setup();"
            "from django.conf import settings as s;"
            "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.OPENALEX_API_URL,"
            " s.DATARANK_CITER_CAP, s.DATARANK_DAMPING)"
        )],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DATARANK_VAR_DIR": os.environ.get("DATARANK_VAR_DIR", "var")},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "django.db.backends.sqlite3", "filesystem://", "https://api.openalex.org", "200", "0.85",
    ]  # fmt: skip


@pytest.mark.sqlite
def test_sqlite_connections_run_in_wal_mode(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("cache_url", "backend"),
    [
        ("redis://127.0.0.1:6379/13", "datarank_site.cache.ForgivingRedisCache"),
        ("", "django.core.cache.backends.db.DatabaseCache"),
    ],
)
def test_rate_limits_are_counted_in_redis_when_the_site_has_one_else_in_the_database(cache_url, backend):
    shown = manage(
        "shell", "-c", "from django.conf import settings; print(settings.CACHES['ratelimit']['BACKEND'])",
        CACHE_URL=cache_url,
    )  # fmt: skip
    assert shown.stdout.strip().splitlines()[-1] == backend, shown.stderr
