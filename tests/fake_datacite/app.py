"""A WSGI app that answers like DataCite's REST API and doi.org's registration-agency lookup,
for everything our client asks of them:

- `GET /dois/{doi}`: the record (JSON:API, `{"data": {...}}`), or DataCite's 404 body;
- `GET /dois?query=relatedIdentifiers.relatedIdentifier:"<doi>"&page[size]=n`: the records whose
  relatedIdentifiers name the DOI (case-insensitive, as DOIs are), with `meta.total`;
- `GET /ra/{doi}`: `[{"DOI": …, "RA": …}]` by the DOI's prefix, or doi.org's "DOI does not exist".

Faults are queued with `inject(Fault…, path=regex, times=n)` and served in order to the matching
requests; `log` holds every request seen.
"""

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.fault_queue import FaultQueue

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "datacite"
NOT_FOUND = {"errors": [{"status": "404", "title": "The resource you are looking for doesn't exist."}]}
_QUERY = re.compile(r'^relatedIdentifiers\.relatedIdentifier:"(?P<doi>[^"]+)"$')


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 200
    seconds: float = 0.0

    @classmethod
    def server_error(cls, status: int = 503) -> "Fault":
        return cls("status", status=status)

    @classmethod
    def slow(cls, seconds: float) -> "Fault":
        """Answer normally, but only after `seconds` (longer than the client's timeout: a timeout)."""
        return cls("slow", seconds=seconds)


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    params: dict[str, str]
    status: int
    fault: str | None = None


@dataclass
class FakeDataCiteApp:
    url: str = ""  # set by the server
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    agencies: dict[str, str] = field(default_factory=dict)
    log: list[LoggedRequest] = field(default_factory=list)
    _faults: FaultQueue[Fault] = field(default_factory=FaultQueue)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    sleep: Callable[[float], None] = time.sleep

    def add_records(self, resources: Iterable[dict[str, Any]]) -> None:
        """Serve these JSON:API resources (`data` of a /dois/{doi} answer), by their lower-case DOI."""
        with self._lock:
            for resource in resources:
                self.records[resource["attributes"]["doi"].lower()] = resource

    def inject(self, fault: Fault, *, path: str | None = None, times: int = 1) -> None:
        self._faults.add(fault, pattern=path, times=times)

    def requests_to(self, prefix: str) -> list[LoggedRequest]:
        return [request for request in self.log if request.path.startswith(prefix)]

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = unquote(environ.get("PATH_INFO", ""))
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        fault = self._take_fault(path)
        if fault is not None and fault.kind == "slow":
            self.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            status, body = fault.status, {"errors": [{"status": str(fault.status), "title": "Service unavailable"}]}
        else:
            status, body = self._answer(path, params)
        with self._lock:
            self.log.append(LoggedRequest(path, params, status, fault.kind if fault else None))
        content_type = "application/json" if path.startswith("/ra/") else "application/vnd.api+json; charset=utf-8"
        payload = json.dumps(body).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", content_type), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _take_fault(self, path: str) -> Fault | None:
        return self._faults.take(path)

    def _answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        if path.startswith("/ra/"):
            doi = path.removeprefix("/ra/")
            agency = self.agencies.get(doi.split("/", 1)[0])
            if agency is None:
                return 200, [{"DOI": doi, "status": "DOI does not exist"}]
            return 200, [{"DOI": doi, "RA": agency}]
        if path.startswith("/dois/"):
            record = self.records.get(path.removeprefix("/dois/").lower())
            return (200, {"data": record}) if record else (404, NOT_FOUND)
        if path == "/dois":
            match = _QUERY.match(params.get("query", ""))
            if not match:
                return 400, {"errors": [{"status": "400", "title": "Unsupported query in the fake"}]}
            doi = match["doi"].lower()
            size = int(params.get("page[size]", "25"))
            found = [
                record
                for record in self.records.values()
                if any(
                    str(related.get("relatedIdentifier", "")).lower() == doi
                    for related in record["attributes"].get("relatedIdentifiers") or []
                )
            ]
            return 200, {
                "data": found[:size],
                "meta": {"total": len(found), "totalPages": 1 if found else 0, "page": 1},
                "links": {"self": f"{self.url}/dois?query={params['query']}"},
            }
        return 404, NOT_FOUND


def recorded_resources() -> list[dict[str, Any]]:
    return [json.loads(path.read_text())["data"] for path in sorted(FIXTURES.glob("*-*.json"))]


def recorded_agencies() -> dict[str, str]:
    return json.loads((FIXTURES / "agencies.json").read_text())
