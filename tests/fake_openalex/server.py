"""The fake OpenAlex app served over real HTTP on 127.0.0.1, at a free port, in a background thread."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from tests.fake_openalex.app import FakeOpenAlexApp


class _Handler(WSGIRequestHandler):
    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        # For the connection-reset fault, which has to reach below WSGI.
        environ["fake_openalex.connection"] = self.connection
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the app keeps its own log for the tests to read."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # A slow-response fault may still be sleeping when a test ends; it must not hold the teardown.
    block_on_close = False

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        """Quiet: clients that time out and hang up on a slow fault are expected here."""


@contextmanager
def serve(app: FakeOpenAlexApp) -> Iterator[FakeOpenAlexApp]:
    """Serve `app` until the block ends; `app.url` is where."""
    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_Handler)
    host, port = server.server_address[:2]
    app.url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
