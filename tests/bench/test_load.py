"""The load generator of the page benchmark, against a tiny server on 127.0.0.1."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.load import run_load


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/missing":
            body, status = b"no", 404
        else:
            body, status = b"x" * 5000, 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Server-Timing", "app;dur=2.500")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_it_keeps_every_connection_busy_for_the_time_given_and_counts_by_kind(server):
    loads = run_load(server, [("a", "/one"), ("b", "/two")], connections=4, seconds=0.5)

    assert set(loads) == {"a", "b"}
    for load in loads.values():
        assert load.errors == () and load.connections == 4
        assert load.requests > 10 and 0.5 <= load.seconds < 5
        assert 0 < load.client.p50 <= load.client.p99
        assert load.server.p50 == pytest.approx(0.0025) and load.server.count == load.requests
        assert "requests/s" in load.line() and "0 errors" in load.line()


def test_an_answer_other_than_a_200_is_an_error(server):
    load = run_load(server, [("page", "/missing")], connections=1, seconds=0.2)["page"]

    assert load.requests == 0 and load.errors and load.errors[0] == "/missing: HTTP 404"


def test_it_refuses_a_server_not_on_this_machine():
    with pytest.raises(ValueError, match="on this machine"):
        run_load("http://192.0.2.1:80", [("page", "/")], connections=1, seconds=0.1)
