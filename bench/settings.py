"""The settings bench/pages.py serves the site with: the site's own, in production mode (the
benchmark sets DATARANK_PRODUCTION=1, SECRET_KEY, ALLOWED_HOSTS and turns SSL redirect and HSTS
off through their environment variables, for plain http on 127.0.0.1), plus the minimal view's
URL, a static root of the benchmark's own, so it never writes into the site's, and a Server-Timing
header on every response (bench/timing.py), outside every other middleware."""

from datarank_site.settings import *  # noqa: F403
from datarank_site.settings import MIDDLEWARE, VAR_DIR

ROOT_URLCONF = "bench.urls"
STATIC_ROOT = VAR_DIR / "bench-static"
MIDDLEWARE = ["bench.timing.ServerTiming", *MIDDLEWARE]
