"""A bounded loopback load run, as wrk would make one: C keep-alive connections, each sending its
next request as soon as the last answer has been read, for a fixed number of seconds, against a
server on 127.0.0.1 only. One asyncio loop in this process drives them all, so the client costs
little next to the server it measures (both share the machine's cores).

Each answer's status, the time from sending the request to reading the last byte of the answer,
and the server's own time (the Server-Timing header bench/timing.py adds) are recorded by the
kind of request; anything other than a 200, or a connection that fails, is an error."""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# However long it is asked to run, a connection stops after this many requests.
MAX_REQUESTS_PER_CONNECTION = 1_000_000
SERVER_TIMING = b"server-timing"
# How much of an answer the client buffers before it stops reading: above a page's size (tens of
# KB), so a page is read in a few large reads, not paused and resumed every 64 KiB (asyncio's default).
READ_BUFFER = 1 << 20


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50: float
    p99: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Percentiles":
        import numpy as np

        if not seconds:
            return cls(0, float("nan"), float("nan"))
        p50, p99 = np.percentile(seconds, [50, 99])
        return cls(len(seconds), float(p50), float(p99))

    def line(self) -> str:
        return f"p50 {self.p50 * 1000:7.2f} ms, p99 {self.p99 * 1000:7.2f} ms"


@dataclass
class Recorded:
    client: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Load:
    """What one kind of request got in a load run."""

    connections: int
    seconds: float
    client: Percentiles
    server: Percentiles
    errors: tuple[str, ...]

    @property
    def requests(self) -> int:
        return self.client.count

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.per_second:8.1f} requests/s ({self.requests:,} in {self.seconds:.1f} s, "
            f"{self.connections} connections), {self.client.line()}, {len(self.errors)} errors"
        )


def run_load(base_url: str, jobs: Sequence[tuple[str, str]], *, connections: int, seconds: float) -> dict[str, Load]:
    """`jobs` are (kind, path); connection i starts at job i and goes round them in order."""
    parts = urlsplit(base_url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"a load run is for a server on this machine, not {base_url}")
    if not jobs:
        raise ValueError("a load run needs at least one request")
    return asyncio.run(_run(parts.hostname, parts.port or 80, list(jobs), connections, seconds))


async def _run(host: str, port: int, jobs: list, connections: int, seconds: float) -> dict[str, Load]:
    recorded = {kind: Recorded() for kind, _ in jobs}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_connection(host, port, jobs, i, deadline, recorded) for i in range(connections)))
    elapsed = time.perf_counter() - started
    return {
        kind: Load(connections, elapsed, Percentiles.of(r.client), Percentiles.of(r.server), tuple(r.errors))
        for kind, r in recorded.items()
    }


async def _connection(host: str, port: int, jobs: list, offset: int, deadline: float, recorded: dict) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    for n in range(MAX_REQUESTS_PER_CONNECTION):
        if time.perf_counter() >= deadline:
            break
        kind, path = jobs[(offset + n) % len(jobs)]
        try:
            if reader is None or writer is None:
                reader, writer = await asyncio.open_connection(host, port, limit=READ_BUFFER)
            sent = time.perf_counter()
            writer.write(request_head(path, host, port))
            status, server_seconds, close = await _read_response(reader)
            took = time.perf_counter() - sent
        except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as exc:
            recorded[kind].errors.append(f"{path}: {type(exc).__name__}: {exc}")
            _close(writer)
            reader = writer = None
            continue
        if status == 200:
            recorded[kind].client.append(took)
            if server_seconds is not None:
                recorded[kind].server.append(server_seconds)
        else:
            recorded[kind].errors.append(f"{path}: HTTP {status}")
        if close:
            _close(writer)
            reader = writer = None
    _close(writer)


def request_head(path: str, host: str, port: int) -> bytes:
    # The Host a browser sends, port included: pages are cached under their absolute URL.
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: datarank-bench\r\n\r\n".encode()


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, float | None, bool]:
    """(status, the server's own seconds if it said, whether it closes the connection)."""
    status_line = await reader.readline()
    if not status_line:
        raise EOFError("the server closed the connection")
    status = int(status_line.split()[1])
    length, chunked, close, server_seconds = None, False, False, None
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = value.lower() == b"close"
        elif name == SERVER_TIMING and b"dur=" in value:
            server_seconds = float(value.split(b"dur=")[1].split(b",")[0].split(b";")[0]) / 1000
    if chunked:
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, server_seconds, close
