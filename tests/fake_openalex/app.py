"""A WSGI app that answers like the OpenAlex works API, for everything our client asks of it.

It holds raw work records (the API's JSON shape) and answers singletons (`/works/W…`,
`/works/doi:…`) and list calls (`/works?filter=…`) with the real API's rules: `|` alternatives and
comma-joined filters over `openalex`, `ids.openalex`, `doi`, `cites`, `cited_by`, `type`,
`publication_year`, `is_xpac`, `is_retracted`; `sort`; `per_page`/`per-page` up to 200; `page` and
`cursor` paging with an opaque cursor; `select` of top-level fields; `include_xpac`; an API key
when told to require one; `X-RateLimit-*` headers that count list calls down, with the
"Insufficient budget" 429 once they run out. Error bodies are the real ones recorded in
tests/fixtures/openalex where a recording exists.

Faults are queued with `inject(Fault…, path=regex, times=n)` and served in order to the
matching requests; `log` holds every request seen.
"""

import base64
import binascii
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from papers.openalex.records import normalize_doi, openalex_number
from tests.fault_queue import FaultQueue

CASSETTES = Path(__file__).resolve().parent.parent / "fixtures" / "openalex"
MAX_PER_PAGE = 200
MAX_OR_VALUES = 100
IMPLEMENTED_FILTERS = {
    "openalex",
    "ids.openalex",
    "doi",
    "cites",
    "cited_by",
    "type",
    "publication_year",
    "is_xpac",
    "is_retracted",
}
SORTABLE = {"cited_by_count", "publication_year", "id"}
KNOWN_PARAMS = {
    "filter",
    "sort",
    "per_page",
    "per-page",
    "page",
    "cursor",
    "select",
    "include_xpac",
    "api_key",
    "mailto",
}
# Not recorded from the real API (no cassette has one): the wording the documentation and
# client projects report for a spent daily budget.
INSUFFICIENT_BUDGET = {
    "error": "Insufficient budget",
    "message": "Insufficient budget. This request costs $0.0001 but you have $0 remaining. "
    "Your budget resets at midnight UTC.",
}
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>cloudflare</p></body></html>"
)


def _cassette_bodies(name: str) -> list[tuple[int, str]]:
    """(status, body) of each interaction of a VCR cassette. The cassettes use two YAML forms
    for bodies, a `|` block and a single-quoted scalar folded over lines; PyYAML is not a
    dependency, so those two are read here."""
    lines = (CASSETTES / name).read_text().splitlines()
    found: list[tuple[int, str]] = []
    status = 0
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("status:"):
            status = int(stripped.split(":", 1)[1])
        if not stripped.startswith("string:"):
            continue
        value = stripped.split(":", 1)[1].strip()
        if value == "|":
            block = []
            indent = None
            for follow in lines[number + 1 :]:
                current = len(follow) - len(follow.lstrip())
                indent = current if indent is None else indent
                if follow.strip() and current < indent:
                    break
                block.append(follow[indent:])
            found.append((status, "\n".join(block).rstrip("\n")))
        else:
            text = value
            follow_lines = iter(lines[number + 1 :])
            # The scalar ends at a quote that is not half of an escaped '' pair.
            while (len(text[1:]) - len(text[1:].rstrip("'"))) % 2 == 0:
                text += " " + next(follow_lines).strip()
            found.append((status, text[1:-1].replace("''", "'")))
    return found


def _recorded_errors() -> dict[str, dict[str, str]]:
    bad_filter, bad_select = (json.loads(body) for _, body in _cassette_bodies("cassette_opt_filter_names.yml"))
    (_, unauthorized), *_ = _cassette_bodies("cassette_pro_rate_limit_status_401.yml")
    return {"filter": bad_filter, "select": bad_select, "401": json.loads(unauthorized)}


RECORDED = _recorded_errors()


def _valid_names(message: str, after: str) -> frozenset[str]:
    return frozenset(name.strip() for name in message.split(after, 1)[1].rstrip(".").split(","))


VALID_FILTERS = _valid_names(RECORDED["filter"]["message"], "versions of:")
VALID_SELECT = _valid_names(RECORDED["select"]["message"], "select are:")


def _recorded_error(kind: str, name: str) -> dict[str, str]:
    """The real 400 body for a bad filter or select name, naming `name` as the real one does."""
    body = RECORDED[kind]
    return {"error": body["error"], "message": name + body["message"].removeprefix("DOESNTEXIST")}


@dataclass(frozen=True)
class Fault:
    """Something to go wrong with one request."""

    kind: str
    status: int = 200
    retry_after: str | None = None
    seconds: float = 0.0

    @classmethod
    def rate_limited(cls, *, retry_after: float | str = 1, status: int = 429) -> "Fault":
        return cls("rate_limited", status=status, retry_after=str(retry_after))

    @classmethod
    def budget_exhausted(cls) -> "Fault":
        return cls("budget", status=429)

    @classmethod
    def server_error(cls, status: int = 500) -> "Fault":
        return cls("status", status=status)

    @classmethod
    def slow(cls, seconds: float) -> "Fault":
        """Answer normally, but only after `seconds`."""
        return cls("slow", seconds=seconds)

    @classmethod
    def reset(cls) -> "Fault":
        """Close the connection without answering."""
        return cls("reset")

    @classmethod
    def truncated(cls) -> "Fault":
        """Answer normally but stop short of the announced Content-Length."""
        return cls("truncated")

    @classmethod
    def html(cls, status: int = 200) -> "Fault":
        """An HTML error page where JSON was expected."""
        return cls("html", status=status)


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    params: dict[str, str]
    status: int
    user_agent: str = ""
    fault: str | None = None

    @property
    def is_list_call(self) -> bool:
        return self.path == "/works"


class _BadRequest(Exception):
    def __init__(self, body: dict[str, str], status: int = 400) -> None:
        super().__init__(body["message"])
        self.body = body
        self.status = status


def _invalid(message: str) -> _BadRequest:
    return _BadRequest({"error": "Invalid query parameters error.", "message": message})


def _work_number(value: str) -> int:
    try:
        return openalex_number(value, kind="W")
    except ValueError:
        raise _invalid(f"{value} is not a valid OpenAlex work id") from None


def _doi_or_none(value: str) -> str | None:
    try:
        return normalize_doi(value)
    except ValueError:
        return None


@dataclass
class FakeOpenAlexApp:
    """The state and the WSGI callable. Thread-safe: the server answers requests in threads."""

    url: str = ""  # set by server.serve
    api_key: str = "test-key"
    require_key: bool = False
    rate_limit: int = 10_000
    remaining: int = 10_000
    reset_seconds: int = 39_959
    latency: float = 0.0
    log: list[LoggedRequest] = field(default_factory=list)
    works: dict[int, dict[str, Any]] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)
    _citers: dict[int, set[int]] = field(default_factory=dict)
    _by_doi: dict[str, int] = field(default_factory=dict)
    _faults: FaultQueue[Fault] = field(default_factory=FaultQueue)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    sleep: Callable[[float], None] = time.sleep

    # --- seeding -------------------------------------------------------------------------

    def add_works(self, raws: Iterable[dict[str, Any]]) -> None:
        """Serve these raw records (the API's shape); a record with a known id replaces it."""
        with self._lock:
            for raw in raws:
                number = openalex_number(raw["id"], kind="W")
                old = self.works.get(number)
                if old is not None:
                    for cited in old.get("referenced_works") or []:
                        self._citers.get(openalex_number(cited, kind="W"), set()).discard(number)
                self.works[number] = raw
                for cited in raw.get("referenced_works") or []:
                    self._citers.setdefault(openalex_number(cited, kind="W"), set()).add(number)
                doi = _doi_or_none(raw.get("doi") or "")
                if doi:
                    self._by_doi[doi] = number

    def merge(self, old: int, new: int) -> None:
        """Answer the singleton of `old` with a 301 to `new`, as OpenAlex does for merged works."""
        with self._lock:
            self.merged[old] = new

    def inject(self, fault: Fault, *, path: str | None = None, times: int = 1) -> None:
        """Serve `fault` to the next `times` requests whose `path?query` (decoded) matches the
        regex `path` (any request when None). Faults are served in the order queued."""
        self._faults.add(fault, pattern=path, times=times)

    def list_calls(self) -> list[LoggedRequest]:
        return [entry for entry in self.log if entry.is_list_call]

    # --- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        # wsgiref hands PATH_INFO over as latin-1 text of the raw bytes.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if self.latency:
            self.sleep(self.latency)
        fault = self._take_fault(path, environ.get("QUERY_STRING", ""))
        if fault is not None:
            return self._serve_fault(fault, environ, start_response, path, params)
        status, headers, body = self._answer(environ, path, params)
        self._log(environ, path, params, status)
        start_response(_status_line(status), headers)
        return [body]

    def _take_fault(self, path: str, query: str) -> Fault | None:
        return self._faults.take(f"{path}?{_unquote(query)}")

    def _serve_fault(
        self, fault: Fault, environ: dict[str, Any], start_response: Callable, path: str, params: dict[str, str]
    ) -> Iterable[bytes]:
        self._log(environ, path, params, fault.status, fault=fault.kind)
        if fault.kind == "reset":
            connection: socket.socket = environ["fake_openalex.connection"]
            # Linger 0: the server's close after this aborts the connection (a RST), as a
            # dropped connection does, instead of closing it politely.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise ConnectionAbortedError("fault: connection reset")
        if fault.kind == "slow":
            self.sleep(fault.seconds)
            status, headers, body = self._answer(environ, path, params)
            start_response(_status_line(status), headers)
            return [body]
        if fault.kind == "truncated":
            status, headers, body = self._answer(environ, path, params)
            headers = [(name, value) for name, value in headers if name != "Content-Length"]
            start_response(_status_line(status), [*headers, ("Content-Length", str(len(body) + 1000))])
            return [body[: len(body) // 2]]
        if fault.kind == "html":
            start_response(
                _status_line(fault.status),
                [("Content-Type", "text/html"), ("Content-Length", str(len(HTML_ERROR_PAGE)))],
            )
            return [HTML_ERROR_PAGE]
        if fault.kind == "rate_limited":
            headers = [*self._rate_headers(list_call=False), ("Retry-After", fault.retry_after or "1")]
            status, headers, body = self._encode(
                fault.status, {"error": "Rate limit exceeded", "message": "Rate limit exceeded"}, headers
            )
        elif fault.kind == "budget":
            status, headers, body = self._encode(429, INSUFFICIENT_BUDGET, self._budget_headers())
        else:
            status, headers, body = self._encode(
                fault.status,
                {"error": "Internal server error", "message": f"fault: {fault.status}"},
                self._rate_headers(list_call=False),
            )
        start_response(_status_line(status), headers)
        return [body]

    def _budget_headers(self) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(self.rate_limit)),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", str(self.reset_seconds)),
            ("Retry-After", str(self.reset_seconds)),
        ]

    def _log(
        self, environ: dict[str, Any], path: str, params: dict[str, str], status: int, *, fault: str | None = None
    ) -> None:
        entry = LoggedRequest(path, params, status, user_agent=environ.get("HTTP_USER_AGENT", ""), fault=fault)
        with self._lock:
            self.log.append(entry)

    def _answer(self, environ: dict[str, Any], path: str, params: dict[str, str]) -> tuple[int, list, bytes]:
        list_call = path == "/works"
        if self.require_key and params.get("api_key") != self.api_key:
            # The recorded 401 carries no rate-limit headers.
            return self._encode(401, RECORDED["401"], [])
        if list_call:
            with self._lock:
                if self.remaining <= 0:
                    return self._encode(429, INSUFFICIENT_BUDGET, self._budget_headers())
                # A list call costs budget whatever its answer; the real 400 was charged too.
                self.remaining -= 1
        headers = self._rate_headers(list_call=list_call)
        try:
            if list_call:
                return self._encode(200, self._list(params), headers)
            if path.startswith("/works/"):
                return self._singleton(environ, path.removeprefix("/works/"), params, headers)
            return self._encode(404, {"error": "Not found", "message": f"{path} is not an endpoint"}, headers)
        except _BadRequest as error:
            return self._encode(error.status, error.body, headers)

    def _encode(self, status: int, body: Any, headers: list[tuple[str, str]]) -> tuple[int, list, bytes]:
        data = json.dumps(body).encode()
        return status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *headers], data

    def _rate_headers(self, *, list_call: bool) -> list[tuple[str, str]]:
        # As recorded: a list call is charged one credit, $0.0001; a singleton nothing.
        return [
            ("X-RateLimit-Limit", str(self.rate_limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset_seconds)),
            ("X-RateLimit-Credits-Used", "1" if list_call else "0"),
            ("X-RateLimit-Cost-USD", "0.0001" if list_call else "0"),
            ("X-RateLimit-Limit-USD", f"{self.rate_limit / 10_000:g}"),
            ("X-RateLimit-Remaining-USD", f"{self.remaining / 10_000:g}"),
        ]

    # --- singletons ----------------------------------------------------------------------

    def _singleton(
        self, environ: dict[str, Any], key: str, params: dict[str, str], headers: list[tuple[str, str]]
    ) -> tuple[int, list, bytes]:
        select = self._select_fields(params)
        number = self._resolve(key)
        if number in self.merged:
            query = environ.get("QUERY_STRING", "")
            location = f"http://{environ['HTTP_HOST']}/works/W{self.merged[number]}" + (f"?{query}" if query else "")
            return self._encode(301, {"redirect": location}, [*headers, ("Location", location)])
        raw = self.works.get(number) if number is not None else None
        if raw is None:
            return self._encode(404, {"error": "404 Not Found", "message": f"Work {key} not found"}, headers)
        return self._encode(200, _project(raw, select), headers)

    def _resolve(self, key: str) -> int | None:
        lowered = key.lower()
        if lowered.startswith(("doi:", "https://doi.org/", "http://doi.org/")):
            doi = _doi_or_none(key.removeprefix("doi:").removeprefix("DOI:"))
            return self._by_doi.get(doi) if doi else None
        try:
            return openalex_number(key, kind="W")
        except ValueError:
            return None

    # --- lists ---------------------------------------------------------------------------

    def _list(self, params: dict[str, str]) -> dict[str, Any]:
        for name in params:
            if name not in KNOWN_PARAMS:
                raise _invalid(f"{name} is not a valid parameter")
        per_page = self._per_page(params)
        select = self._select_fields(params)
        with self._lock:
            candidates = dict(self.works)
        if params.get("include_xpac", "").lower() != "true":
            # Reference: https://docs.openalex.org/how-to-use-the-api/xpac (hidden by default).
            candidates = {number: raw for number, raw in candidates.items() if not raw.get("is_xpac")}
        for name, values, negated in _parse_filter(params.get("filter", "")):
            matching = self._matching(name, values)
            candidates = {number: raw for number, raw in candidates.items() if (number in matching) != negated}
        ordered = sorted(candidates.items(), key=_sort_key(params.get("sort")))
        started = time.perf_counter()
        if "cursor" in params:
            offset = _decode_cursor(params["cursor"])
            page_number = None
        else:
            page_number = _positive(params.get("page", "1"), "page")
            if page_number * per_page > 10_000:
                raise _invalid("Maximum results size of 10,000 records is exceeded. Cursor pagination is required.")
            offset = (page_number - 1) * per_page
        page = ordered[offset : offset + per_page]
        next_cursor = None
        if "cursor" in params and page:
            # Like the real one: a cursor after every page with results, null after an empty one.
            next_cursor = base64.b64encode(json.dumps({"offset": offset + len(page)}).encode()).decode()
        return {
            "meta": {
                "count": len(ordered),
                "db_response_time_ms": round((time.perf_counter() - started) * 1000),
                "page": page_number,
                "per_page": per_page,
                "next_cursor": next_cursor,
                "groups_count": None,
                "cost_usd": 0.0001,
            },
            "results": [_project(raw, select) for _, raw in page],
            "group_by": [],
        }

    def _per_page(self, params: dict[str, str]) -> int:
        raw = params.get("per_page", params.get("per-page", "25"))
        value = _positive(raw, "per-page")
        if value > MAX_PER_PAGE:
            raise _invalid(f"per-page parameter must be between 1 and {MAX_PER_PAGE}")
        return value

    def _select_fields(self, params: dict[str, str]) -> list[str] | None:
        if "select" not in params:
            return None
        names = [name.strip() for name in params["select"].split(",")]
        for name in names:
            if name not in VALID_SELECT:
                raise _BadRequest(_recorded_error("select", name))
        return names

    def _matching(self, name: str, values: list[str]) -> set[int]:
        with self._lock:
            if name in ("openalex", "ids.openalex"):
                return {_work_number(value) for value in values}
            if name == "doi":
                return {self._by_doi[doi] for doi in map(_doi_or_none, values) if doi in self._by_doi}
            if name == "cites":
                return set().union(*(self._citers.get(_work_number(value), set()) for value in values))
            if name == "cited_by":
                cited: set[int] = set()
                for value in values:
                    raw = self.works.get(_work_number(value)) or {}
                    cited.update(openalex_number(ref, kind="W") for ref in raw.get("referenced_works") or [])
                return cited
            field_name = name
            wanted = {value.lower() for value in values}
            return {
                number for number, raw in self.works.items() if str(_field_value(raw, field_name)).lower() in wanted
            }


def _field_value(raw: dict[str, Any], name: str) -> Any:
    value = raw.get(name)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _parse_filter(text: str) -> list[tuple[str, list[str], bool]]:
    """`cites:W1|W2,type:!dataset` -> [("cites", ["W1", "W2"], False), ("type", ["dataset"], True)]."""
    parsed = []
    for part in filter(None, text.split(",")):
        name, colon, value = part.partition(":")
        name = name.strip().replace("-", "_")
        if name not in VALID_FILTERS:
            raise _BadRequest(_recorded_error("filter", name))
        if not colon or not value:
            raise _invalid(f"filter {name} needs a value")
        if name not in IMPLEMENTED_FILTERS:
            raise _BadRequest(
                {"error": "Not implemented", "message": f"the fake OpenAlex does not implement filter {name}"},
                status=501,
            )
        negated = value.startswith("!")
        values = value.removeprefix("!").split("|")
        if len(values) > MAX_OR_VALUES:
            raise _invalid(
                f"Maximum number of values exceeded for {name}. Decrease values to {MAX_OR_VALUES} or below."
            )
        parsed.append((name, values, negated))
    return parsed


def _sort_key(sort: str | None) -> Callable[[tuple[int, dict[str, Any]]], tuple]:
    """Ties always go to the lower id, so every order is reproducible."""
    name, _, direction = (sort or "cited_by_count:desc").partition(":")
    if name not in SORTABLE or direction not in ("", "asc", "desc"):
        raise _invalid(f"{sort} is not a valid sort")
    sign = -1 if direction == "desc" else 1

    def key(item: tuple[int, dict[str, Any]]) -> tuple:
        number, raw = item
        value = number if name == "id" else raw.get(name)
        # A malformed record (a count that is not a number) sorts as 0 instead of breaking the page.
        return (sign * (value if type(value) is int else 0), number)

    return key


def _decode_cursor(cursor: str) -> int:
    if cursor == "*":
        return 0
    try:
        return int(json.loads(base64.b64decode(cursor, validate=True))["offset"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise _invalid(f"{cursor} is not a valid cursor") from None


def _positive(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(f"{name} must be a number") from None
    if value < 1:
        raise _invalid(f"{name} must be at least 1")
    return value


def _project(raw: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if select is None:
        return raw
    return {name: raw.get(name) for name in select}


def _unquote(query: str) -> str:
    return "&".join(f"{name}={value}" for name, value in parse_qsl(query, keep_blank_values=True))


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def synthetic_work(
    number: int,
    *,
    cited_by_count: int = 0,
    cites: Iterable[int] = (),
    authors: Iterable[int] = (),
    type: str = "article",
    doi: str | None = None,
    is_xpac: bool = False,
) -> dict[str, Any]:
    """A small but complete raw work in the API's shape, for seeding the fake."""
    references = [f"https://openalex.org/W{cited}" for cited in cites]
    return {
        "id": f"https://openalex.org/W{number}",
        "doi": f"https://doi.org/{doi}" if doi else None,
        "title": f"Synthetic work {number}",
        "display_name": f"Synthetic work {number}",
        "publication_year": 2024,
        "primary_location": {"source": {"display_name": "Journal of Synthetic Data", "type": "journal"}},
        "type": type,
        "cited_by_count": cited_by_count,
        "referenced_works_count": len(references),
        "referenced_works": references,
        "authorships": [
            {"author": {"id": f"https://openalex.org/A{author}", "display_name": f"Author {author}", "orcid": None}}
            for author in authors
        ],
        "is_authors_truncated": False,
        "open_access": {"is_oa": True, "oa_status": "gold"},
        "is_retracted": False,
        "is_xpac": is_xpac,
        "indexed_in": ["crossref"],
        "topics": [],
        "locations": [],
        "updated_date": "2026-01-15T00:00:00",
        "abstract_inverted_index": None,
    }
