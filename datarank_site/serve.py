"""The production web server: waitress, serving datarank_site.wsgi, every knob an environment variable.

    HOST=0.0.0.0 PORT=8000 python -m datarank_site.serve

waitress reads each request whole — request line, headers and body — in one asynchronous loop
before it hands it to one of THREADS threads that run Django, so a client that sends slowly
holds a connection (a file descriptor and a buffer) but never a thread. docs/operations.md says
what such a client can still hold and how to size the knobs:

    HOST              address to listen on (127.0.0.1)
    PORT              port (8000)
    THREADS           threads running Django (8); at most DATABASE_POOL_SIZE (8) on PostgreSQL
    CONNECTION_LIMIT  open connections before waitress stops accepting (1000)
    CHANNEL_TIMEOUT   seconds a connection may stay silent before it is closed (30)

X-Forwarded-For and X-Forwarded-Proto are passed to Django untouched: the settings decide whom
to believe (SECURE_PROXY_SSL_HEADER, DATARANK_TRUSTED_PROXY_HOPS), as under any WSGI server.
SIGTERM or Ctrl-C stops the server and closes every connection, cutting off requests in progress:
take a process out of the load balancer before restarting it.
"""

import os
import resource
import signal
import sys

from django.core.exceptions import ImproperlyConfigured

# Larger than any header block a browser sends (nginx's default allows 32 KiB), and a bound on
# what one slow connection can make the server buffer before it answers 431.
MAX_REQUEST_HEADER_SIZE = 64 * 1024
# The site takes forms, never uploads; waitress answers 413 past this (its default is 1 GiB).
MAX_REQUEST_BODY_SIZE = 10 * 1024 * 1024
# How often silent connections are looked for: one is closed CHANNEL_TIMEOUT to that much later.
CLEANUP_INTERVAL = 5
# A connection takes one descriptor, up to three when its buffers spill to temporary files.
DESCRIPTORS_PER_CONNECTION = 3


def options() -> dict:
    """waitress's arguments, from the environment (the settings' helpers, so the same messages)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datarank_site.settings")
    from datarank_site.settings import env_int, env_str

    channel_timeout = env_int("CHANNEL_TIMEOUT", 30, minimum=1)
    return {
        "host": env_str("HOST", "127.0.0.1"),
        "port": env_int("PORT", 8000, minimum=1),
        "threads": env_int("THREADS", 8, minimum=1),
        "connection_limit": env_int("CONNECTION_LIMIT", 1000, minimum=1),
        "channel_timeout": channel_timeout,
        "cleanup_interval": min(CLEANUP_INTERVAL, channel_timeout),
        "max_request_header_size": MAX_REQUEST_HEADER_SIZE,
        "max_request_body_size": MAX_REQUEST_BODY_SIZE,
        # poll(), not select(): select() cannot watch a descriptor numbered 1024 or above.
        "asyncore_use_poll": True,
        # waitress 3 would drop these headers from any peer not named trusted_proxy; Django decides.
        "clear_untrusted_proxy_headers": False,
    }


def check_pool(threads: int) -> None:
    """Refuse more threads than pooled database connections: the others would wait for one for
    DATABASE_POOL_TIMEOUT (1 s), then answer 503."""
    from django.conf import settings

    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    size = pool.get("max_size") if isinstance(pool, dict) else None
    if size is not None and threads > size:
        raise ImproperlyConfigured(
            f"THREADS={threads} is more than DATABASE_POOL_SIZE={size}: lower one or raise the other."
        )


def raise_descriptor_limit(connection_limit: int) -> None:
    """Lift the soft limit on open files (often 1024) towards what CONNECTION_LIMIT needs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connection_limit * DESCRIPTORS_PER_CONNECTION + 100
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def stop(signum, frame) -> None:
    # waitress's loop catches SystemExit: it gives its threads up to 5 s, then closes the sockets.
    raise SystemExit(0)


def main() -> None:
    try:
        kwargs = options()
        check_pool(kwargs["threads"])
    except ImproperlyConfigured as exc:
        sys.exit(f"serve: {exc}")
    raise_descriptor_limit(kwargs["connection_limit"])
    from waitress import serve

    from datarank_site.wsgi import application

    signal.signal(signal.SIGTERM, stop)
    serve(application, **kwargs)


if __name__ == "__main__":
    main()
