"""DataRank settings: one file, every knob an environment variable.

With no environment at all the site runs for a first look: DEBUG on, SQLite under
var/, and a file-system Celery broker that needs no server. Production turns on with
DATARANK_PRODUCTION=1 and then insists on the variables it cannot guess.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DATARANK_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, *, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name}={value} must lie between {low} and {high}.")
    return value


def env_rate(name: str, default: str) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if not re.fullmatch(r"[1-9][0-9]*/([1-9][0-9]*)?[smhd]", value):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate such as 60/m (per s, m, h or d; 300/5m).")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn `sqlite:///path` or `postgres://user:pass@host:port/name` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as dj-database-url reads them.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no SQLite file.")
        return sqlite_database(Path(path) if path == ":memory:" or Path(path).is_absolute() else BASE_DIR / path)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # psycopg 3's pool; persistent connections must stay off when it is on.
            "CONN_MAX_AGE": 0,
            "OPTIONS": {
                "pool": {
                    "min_size": 1,
                    "max_size": env_int("DATABASE_POOL_SIZE", 8, minimum=1),
                    # A connection the server has dropped (a restart, a failover, pg_terminate_backend)
                    # looks fine until used: each one is tried before a request gets it.
                    "check": check_pooled_connection,
                    # How long a request waits for a connection: with the database down, every page
                    # waits this long before its 503, so it is short (datarank_site/errors.py).
                    "timeout": env_float("DATABASE_POOL_TIMEOUT", 1.0, low=0.1, high=60.0),
                },
                # Seconds for one connection attempt by the pool; libpq makes anything under 2 into 2.
                "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 2, minimum=2),
                # No JIT compilation: PostgreSQL compiles a query whose estimated cost passes
                # jit_above_cost, which took 321 ms of a search's 997 ms vocabulary lookup at 1M titles
                # (estimates of index ranges run high), and pays off only for long analytic queries.
                "options": "-c jit=off",
            },
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL={url!r}: the scheme must be sqlite:// or postgres:// (got {parts.scheme!r})."
    )


def check_pooled_connection(conn) -> None:
    """psycopg_pool's `ConnectionPool.check_connection`, run on each connection before it is handed
    out. A connection the server dropped seldom goes alone, and psycopg_pool waits 1 s, then 2 s…
    between one failed check and the next, longer than the pool's timeout: so on the first failure
    every idle connection of the pool is checked at once, and the request waits only for a new one."""
    from psycopg_pool import ConnectionPool

    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        from django.db import connections

        for alias in connections:
            pool = getattr(connections[alias], "pool", None)
            if pool is not None:
                pool.check()
        raise


# Entries the per-process cache keeps before it drops a third of them (Django's default is 300);
# a cached paper page is some tens of kilobytes.
LOCMEM_MAX_ENTRIES = 2_000
# Seconds a Redis call may take before the page goes on without the cache (datarank_site/cache.py).
REDIS_CACHE_TIMEOUT = 0.25


def cache_from_url(url: str) -> dict:
    """Turn CACHE_URL into the default cache: empty or `locmem://` keeps it in each process's
    memory, `redis://host:port/db` (or `rediss://`) in Redis, `dummy://` caches nothing."""
    scheme = urlsplit(url).scheme if url else "locmem"
    if scheme == "locmem":
        max_entries = env_int("CACHE_MAX_ENTRIES", LOCMEM_MAX_ENTRIES, minimum=1)
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": max_entries}}
    if scheme in {"redis", "rediss"}:
        return {
            "BACKEND": "datarank_site.cache.ForgivingRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "datarank",
            "OPTIONS": {"socket_connect_timeout": REDIS_CACHE_TIMEOUT, "socket_timeout": REDIS_CACHE_TIMEOUT},
        }
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(
        f"CACHE_URL={url!r}: the scheme must be redis://, rediss://, locmem:// or dummy:// (got {scheme!r})."
    )


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # The web process and the worker share one file: WAL lets readers go on while
            # a scoring run writes, and the timeout makes a writer wait instead of failing.
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # pytest and the Celery worker in the tests must share the test database file.
        "TEST": {"NAME": VAR_DIR / "test.sqlite3"},
    }


PRODUCTION = env_bool("DATARANK_PRODUCTION", False)

if PRODUCTION:
    missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured(
            "DATARANK_PRODUCTION=1 needs " + " and ".join(missing) + " to be set "
            "(SECRET_KEY: a long random string; ALLOWED_HOSTS: comma-separated host names)."
        )

DEBUG = env_bool("DEBUG", not PRODUCTION) and not PRODUCTION
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-datarank-development-key-not-for-production-use")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_htmx",
    # django-ninja, for the API: its templates and its bundled Swagger UI, served as our static files.
    "ninja",
    "papers",
    "scoring",
    "datarank_site.pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that can answer an error page: /api/ answers JSON, counted per client.
    "datarank_site.api.http.ApiMiddleware",
    # Before anything reads the cookies (production puts WhiteNoise ahead of it, for static files).
    "datarank_site.errors.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "datarank_site.pages.errors.PageErrorsMiddleware",
]

ROOT_URLCONF = "datarank_site.urls"
WSGI_APPLICATION = "datarank_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # No csp context processor: pages are cached and served to everyone alike, so they
                # carry no nonce, and script-src has none (every script is a static file).
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(os.environ["DATABASE_URL"])
    if os.environ.get("DATABASE_URL")
    else sqlite_database(VAR_DIR / "datarank.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# What pages compute (graph layouts, histograms) and the rendered paper and FAIR pages are cached
# in CACHE_URL's cache: per process by default, Redis in production, so every process and machine
# shares one copy (datarank_site/pages/page_cache.py). A miss only costs the queries of a render.
# Rate limits must be counted once for every gunicorn worker and every machine, so their counters
# live in the database they all share (the table is made by papers' migration 0009). Its increment
# is a read then a write, not atomic: concurrent requests from one client can slip a few past the
# limit, which is acceptable for a suggestion form.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": cache_from_url(CACHE_URL),
    # Rate-limit counters must be shared by every process that serves: in Redis when the site has
    # one, else in a database table (each process's memory would let a client through once per
    # process).
    "ratelimit": (
        {**cache_from_url(CACHE_URL), "KEY_PREFIX": "datarank-ratelimit"}
        if urlsplit(CACHE_URL).scheme in {"redis", "rediss"}
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "datarank_ratelimit",
            # Counters expire within the hour; culling early would forget who was limited.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    ),
}
RATELIMIT_USE_CACHE = "ratelimit"
# How long a rendered paper or FAIR page is kept. Its key changes when a run publishes, when the
# paper's own record, corpus entry, FAIR checklist or set of citers changes and when any FAIR
# evaluation is added; this bounds how long a change the key cannot see (a citer's record reloaded
# without a rescore) takes to show. 0 turns the page cache off.
DATARANK_PAGE_CACHE_SECONDS = env_int("DATARANK_PAGE_CACHE_SECONDS", 24 * 3600, minimum=0)
# How many proxies we trust to append to X-Forwarded-For: 0 reads REMOTE_ADDR, n reads the
# n-th address from the right of X-Forwarded-For (datarank_site/pages/clients.py).
DATARANK_TRUSTED_PROXY_HOPS = env_int("DATARANK_TRUSTED_PROXY_HOPS", 0, minimum=0)
# Requests a client may make to /api/ (counted per address, as for corrections), django-ratelimit's
# notation: "60/m", "1000/h", "300/5m".
DATARANK_API_RATE = env_rate("DATARANK_API_RATE", "60/m")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# plotly.js is vendored from npm's basic bundle in static/vendor/plotly-basic/ (its README says
# how), never loaded from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files the site writes for download: each run's bulk dumps, in dumps/ (scoring/dumps.py), listed
# at /downloads/ and served from /downloads/files/ (in production, by the proxy straight from here).
MEDIA_ROOT = Path(os.environ.get("DATARANK_MEDIA_DIR") or VAR_DIR / "media")
DATARANK_DUMPS_DIR = MEDIA_ROOT / "dumps"
# How many runs' dumps are kept, the newest; 0 writes none.
DATARANK_DUMPS_KEEP = env_int("DATARANK_DUMPS_KEEP", 3, minimum=0)
# How many of the newest runs keep a row for every paper and researcher (scoring.retention);
# older ones keep the rows that changed. Two at least: a run's diff reads the run before it whole.
DATARANK_SCORE_RUNS_KEPT = env_int("DATARANK_SCORE_RUNS_KEPT", 3, minimum=2)

# Security. Everything below is what `manage.py check --deploy` asks for.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    # Static files only: no inline script runs, so a page needs no nonce and can be cached whole.
    "script-src": [CSP.SELF],
    # plotly.js sets inline styles on the elements it draws.
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # gunicorn serves the collected static files itself; runserver does it in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": env_str("DJANGO_LOG_LEVEL", "WARNING"), "propagate": False}
    },
}

# Celery. The default broker is a folder: no server, but a real worker in its own process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
    for folder in ("queue", "control"):
        (VAR_DIR / "broker" / folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Seconds before an unacknowledged task is handed to another worker (Redis).
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Look for the tasks of dead workers at every check (kombu otherwise acts on one check
        # in ten, so redelivery could take ten intervals); a check is one small ZRANGE.
        "unacked_restore_interval": min(10, CELERY_VISIBILITY_TIMEOUT),
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# OpenAlex and scoring.
OPENALEX_API_URL = env_str("OPENALEX_API_URL", "https://api.openalex.org").rstrip("/")
OPENALEX_API_KEY = env_str("OPENALEX_API_KEY", "")
OPENALEX_MAILTO = env_str("OPENALEX_MAILTO", "")
OPENALEX_INCLUDE_XPAC = env_bool("OPENALEX_INCLUDE_XPAC", True)
# DataCite and doi.org's registration-agency lookup, for the FAIR checklist and score (no key needed).
DATACITE_API_URL = env_str("DATACITE_API_URL", "https://api.datacite.org").rstrip("/")
DOI_RA_URL = env_str("DOI_RA_URL", "https://doi.org/ra").rstrip("/")
DATARANK_CITER_CAP = env_int("DATARANK_CITER_CAP", 200, minimum=1)
DATARANK_DAMPING = env_float("DATARANK_DAMPING", 0.85, low=0.0, high=1.0)
DATARANK_RESCORE_STALE_AFTER = timedelta(seconds=env_int("DATARANK_RESCORE_STALE_AFTER_SECONDS", 3600, minimum=1))

# Refresh runs and the queues. OpenAlex work has its own queue, so a day of citer pulls never
# holds up a rescore, and a worker can be given to it alone.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    name: {"queue": "openalex"}
    for name in ("papers.tasks.*", "scoring.tasks.evaluate_fair_task", "scoring.tasks.evaluate_stale_fair_task")
}
# Per worker, on top of the client's own backoff: keeps a burst of tracking tasks polite.
OPENALEX_TASK_RATE_LIMIT = env_str("OPENALEX_TASK_RATE_LIMIT", "10/s")
CELERY_TASK_ANNOTATIONS = {
    name: {"rate_limit": OPENALEX_TASK_RATE_LIMIT}
    for name in ("papers.tasks.track_papers_task", "papers.tasks.pull_citers_task")
}
DATARANK_REFRESH_EVERY_HOURS = env_int("DATARANK_REFRESH_EVERY_HOURS", 24, minimum=1)
DATARANK_REFRESH_AFTER_DAYS = env_int("DATARANK_REFRESH_AFTER_DAYS", 30, minimum=1)
DATARANK_REFRESH_BATCH = env_int("DATARANK_REFRESH_BATCH", 500, minimum=1)
# Without a key every OpenAlex call is refused, so the refresh stays off (the admin says why).
CELERY_BEAT_SCHEDULE = (
    {
        "refresh-stale-papers": {
            "task": "papers.tasks.refresh_stale_papers_task",
            "schedule": timedelta(hours=DATARANK_REFRESH_EVERY_HOURS),
        }
    }
    if OPENALEX_API_KEY
    else {}
)
# FAIR re-evaluation needs no key: DataCite and doi.org are open, so it is always scheduled.
DATARANK_FAIR_EVERY_HOURS = env_int("DATARANK_FAIR_EVERY_HOURS", 24, minimum=1)
DATARANK_FAIR_BATCH = env_int("DATARANK_FAIR_BATCH", 200, minimum=1)
CELERY_BEAT_SCHEDULE["evaluate-stale-fair"] = {
    "task": "scoring.tasks.evaluate_stale_fair_task",
    "schedule": timedelta(hours=DATARANK_FAIR_EVERY_HOURS),
}
# Beat's record of when each job last ran, with the rest of the site's scratch files.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

VAR_DIR.mkdir(parents=True, exist_ok=True)
