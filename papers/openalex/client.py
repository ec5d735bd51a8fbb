"""The one OpenAlex client: every call the site makes to the OpenAlex API goes through here.

What it owes its callers (the tracking commands, the citer pulls, the Celery tasks):

- Budget: singletons (`/works/W…`) are free, every list call costs budget (a free key has about
  10,000 a day), so ids and DOIs go 100 to a call, citers 100 to a page, and a pull stops at its
  cap or at `meta.count` without asking for an empty last page. `list_calls` counts the list
  requests sent; `budget` holds what the server last said through its `X-RateLimit-*` headers.
- Failures sorted three ways: `TransientError` (retried through `papers.http` with capped, fully
  jittered exponential backoff, honouring `Retry-After`; raised once the retries are spent),
  `PermanentError` (a bad request, key or id: retrying cannot help) and `BudgetExhausted`
  (the day's budget is spent: never retried here, the caller waits until `resets_at`).
- Records through `papers.openalex.records.parse_work`; one malformed record in a page is skipped and
  listed in `skipped`, never the whole pull lost.

One client per thread: it keeps a `requests.Session` and counters.
"""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from papers import http
from papers.openalex.records import RecordError, WorkRecord, normalize_doi, openalex_number, parse_work

# The documented maximum page size (the API answers up to 200 today, undocumented) and the
# documented number of values one `|` filter may hold.
PER_PAGE = 100
BATCH_SIZE = 100

# Top-level fields only (the API rejects nested ones): what parse_work reads, plus nothing more,
# which keeps a page of 100 citers small.
SELECT_FIELDS = (
    "id",
    "doi",
    "title",
    "display_name",
    "publication_year",
    "primary_location",
    "type",
    "cited_by_count",
    "referenced_works_count",
    "referenced_works",
    "authorships",
    "is_authors_truncated",
    "open_access",
    "is_retracted",
    "indexed_in",
    "topics",
    "primary_topic",
    "locations",
    "updated_date",
    "abstract_inverted_index",
    "datasets",
)


class OpenAlexError(Exception):
    """Anything the OpenAlex API did not answer with the data asked for."""


class TransientError(OpenAlexError, http.TransientError):
    """Worth trying again later: 5xx, timeouts, dropped connections, broken bodies, rate limits.

    `retry_after` is the server's `Retry-After` in seconds, when it sent one."""


class PermanentError(OpenAlexError, http.PermanentError):
    """The request itself is wrong (400), the key is refused (401) or the work does not exist (404)."""


class BudgetExhausted(OpenAlexError):
    """The day's list-call budget is spent; no list call can succeed before `resets_at`."""

    def __init__(self, message: str, *, resets_at: datetime) -> None:
        super().__init__(message)
        self.resets_at = resets_at


@dataclass(frozen=True)
class Budget:
    """The server's last word on the daily budget (None where it did not say)."""

    limit: int | None
    remaining: int | None
    resets_at: datetime | None


@dataclass(frozen=True)
class SkippedRecord:
    """A record of a page that parse_work refused: its id (or `#position` if it had none) and why."""

    key: str
    reason: str


class OpenAlexClient(http.Transport):
    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        mailto: str | None = None,
        timeout: float | tuple[float, float] = (5, 30),
        max_retries: int = 5,
        include_xpac: bool | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        max_wait: float = 120.0,
    ) -> None:
        """`max_wait`: a `Retry-After` longer than this is not slept through here; the
        TransientError goes to the caller (a Celery task reschedules rather than block a worker)."""
        self.base_url = (settings.OPENALEX_API_URL if base_url is None else base_url).rstrip("/")
        self.api_key = settings.OPENALEX_API_KEY if api_key is None else api_key
        self.mailto = settings.OPENALEX_MAILTO if mailto is None else mailto
        self.include_xpac = settings.OPENALEX_INCLUDE_XPAC if include_xpac is None else include_xpac
        super().__init__(
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_wait=max_wait,
            sleep=sleep,
            session=session,
            mailto=self.mailto,
        )
        self.session.headers["Accept"] = "application/json"
        # Every list request sent, retries included: an upper bound on the budget spent.
        self.list_calls = 0
        self.budget = Budget(limit=None, remaining=None, resets_at=None)
        # Merged works met on the way: requested id -> the id OpenAlex merged it into.
        self.merged: dict[int, int] = {}
        self.skipped: list[SkippedRecord] = []

    # Reference: https://developers.openalex.org/guides/get
    def get_work(self, key: int | str) -> WorkRecord:
        """One work by OpenAlex id (2108598243, "W2108598243", its URL) or DOI. Free: singletons
        cost no budget. A merged id is followed to the work it was merged into and recorded in
        `merged`. Raises PermanentError (status 404) for an unknown work, ValueError for a key
        that is neither an id nor a DOI."""
        requested, path = _singleton_path(key)
        body = self._request(f"/works/{path}", {"select": ",".join(SELECT_FIELDS)}, list_call=False)
        record = self._parse_one(body)
        if requested is not None and record.id != requested:
            self.merged[requested] = record.id
        return record

    # Reference: https://docs.openalex.org/how-to-use-the-api/get-lists-of-entities/filter-entity-lists#addition-or
    def works_by_ids(self, ids: Iterable[int]) -> list[WorkRecord]:
        """The works with these OpenAlex ids, 100 to a list call; unknown ids are simply absent."""
        unique = list(dict.fromkeys(ids))
        records: list[WorkRecord] = []
        for start in range(0, len(unique), BATCH_SIZE):
            batch = unique[start : start + BATCH_SIZE]
            records += self._list(f"openalex:{'|'.join(f'W{number}' for number in batch)}", limit=None)
        return records

    # Reference: https://docs.openalex.org/how-to-use-the-api/get-lists-of-entities/filter-entity-lists#addition-or
    def works_by_dois(self, dois: Iterable[str]) -> list[WorkRecord]:
        """The works with these DOIs (any spelling normalize_doi accepts), 100 to a list call;
        unknown DOIs are simply absent. Raises ValueError for a string that is not a DOI."""
        unique = list(dict.fromkeys(normalize_doi(doi) for doi in dois))
        # A comma or a bar would split the filter: such (rare, legal) DOIs are asked for alone.
        batchable = [doi for doi in unique if not any(mark in doi for mark in ",|")]
        records: list[WorkRecord] = []
        for start in range(0, len(batchable), BATCH_SIZE):
            records += self._list(f"doi:{'|'.join(batchable[start : start + BATCH_SIZE])}", limit=None)
        for doi in unique:
            if doi in batchable:
                continue
            try:
                records.append(self.get_work(doi))
            except PermanentError as error:
                if error.status != 404:
                    raise
        return records

    # Reference: https://docs.openalex.org/api-entities/works/filter-works#cites
    def citers(self, work_id: int, *, limit: int) -> list[WorkRecord]:
        """The works citing `work_id`, most cited first (the API's order), at most `limit` of
        them: 100 to a list call, so a cap of 200 costs two calls."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        return self._list(f"cites:W{work_id}", limit=limit, sort="cited_by_count:desc")

    # Reference: https://developers.openalex.org/guides/page-through-results
    def works(self, filter: str, *, limit: int | None) -> list[WorkRecord]:
        """Every work matching an OpenAlex filter (as an admin types it: `type:dataset,
        publication_year:2024`), at most `limit` of them (None: all), in the API's order."""
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1 (or None for all)")
        return self._list(filter, limit=limit)

    def _list(self, filter: str, *, limit: int | None, sort: str | None = None) -> list[WorkRecord]:
        records: list[WorkRecord] = []
        for position, raw in enumerate(self._results(filter, limit=limit, sort=sort)):
            try:
                records.append(parse_work(raw))
            except RecordError as error:
                key = raw.get("id") if isinstance(raw, Mapping) else None
                self.skipped.append(
                    SkippedRecord(key=key if isinstance(key, str) else f"#{position}", reason=str(error))
                )
        return records

    def _results(self, filter: str, *, limit: int | None, sort: str | None) -> Iterator[Any]:
        """The raw results of a cursor-paged list, at most `limit`, without a wasted call:
        the last page is known by `meta.count`, a short page or a null cursor."""
        per_page = PER_PAGE if limit is None else min(PER_PAGE, limit)
        params = {"filter": filter, "per_page": str(per_page), "select": ",".join(SELECT_FIELDS)}
        if sort:
            params["sort"] = sort
        if self.include_xpac:
            # Datasets citing datasets count, and DataCite-only works are hidden by default.
            # Reference: https://docs.openalex.org/how-to-use-the-api/xpac
            params["include_xpac"] = "true"
        cursor = "*"
        seen = 0
        while True:
            body = self._request("/works", {**params, "cursor": cursor}, list_call=True)
            meta, results = body.get("meta"), body.get("results")
            if not isinstance(meta, Mapping) or not isinstance(results, list):
                raise TransientError("OpenAlex answered a list call without `meta` and `results`")
            for raw in results:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield raw
            count = meta.get("count")
            next_cursor = meta.get("next_cursor")
            if (
                not isinstance(next_cursor, str)
                or not next_cursor
                or len(results) < per_page
                or (limit is not None and seen >= limit)
                or (isinstance(count, int) and seen >= count)
            ):
                return
            cursor = next_cursor

    def _parse_one(self, raw: Any) -> WorkRecord:
        try:
            return parse_work(raw)
        except RecordError as error:
            # A single work cannot be skipped quietly: the caller asked for it by name.
            raise PermanentError(f"OpenAlex returned a work that cannot be loaded: {error}", status=200) from None

    # Reference: https://developers.openalex.org/api-reference/errors
    def _request(self, path: str, params: dict[str, str], *, list_call: bool) -> dict[str, Any]:
        if self.api_key:
            # Reference: https://developers.openalex.org/api-reference/authentication
            params = {**params, "api_key": self.api_key}
        if self.mailto:
            params = {**params, "mailto": self.mailto}
        return self.retrying(lambda: self._attempt(path, params, list_call=list_call))

    def _attempt(self, path: str, params: dict[str, str], *, list_call: bool) -> dict[str, Any]:
        if list_call:
            self.list_calls += 1
        try:
            response = self.send(f"{self.base_url}{path}", params)
        except requests.Timeout as error:
            raise TransientError(f"OpenAlex did not answer in time: {error}") from error
        except http.DROPPED as error:
            raise TransientError(f"OpenAlex connection failed: {error}") from error
        self._read_budget(response)
        status = response.status_code
        if status == 200:
            try:
                body = response.json()
            except ValueError:
                raise TransientError(f"OpenAlex answered {path} with a body that is not JSON") from None
            if not isinstance(body, dict):
                raise TransientError(f"OpenAlex answered {path} with JSON that is not an object")
            return body
        message = _error_message(response)
        retry_after = http.retry_after(response.headers.get("Retry-After"))
        if status == 429 and _is_budget_exhausted(response, message):
            raise BudgetExhausted(
                f"OpenAlex's daily budget is spent ({message})", resets_at=self._resets_at(response, retry_after)
            )
        if status == 429 or (status == 403 and retry_after is not None):
            raise TransientError(f"OpenAlex is rate limiting ({status}: {message})", retry_after=retry_after)
        if status >= 500:
            raise TransientError(f"OpenAlex server error ({status}: {message})", retry_after=retry_after)
        if status == 401:
            raise PermanentError(
                f"OpenAlex refused the API key (401: {message}); set OPENALEX_API_KEY to a valid key", status=401
            )
        raise PermanentError(f"OpenAlex answered {status} for {path}: {message}", status=status)

    def _read_budget(self, response: requests.Response) -> None:
        limit = _int_header(response, "X-RateLimit-Limit")
        remaining = _int_header(response, "X-RateLimit-Remaining")
        reset = _int_header(response, "X-RateLimit-Reset")
        if limit is None and remaining is None and reset is None:
            return
        self.budget = Budget(
            limit=limit,
            remaining=remaining,
            # The header counts seconds to the reset, not an epoch.
            resets_at=None if reset is None else datetime.now(UTC) + timedelta(seconds=reset),
        )

    def _resets_at(self, response: requests.Response, retry_after: float | None) -> datetime:
        reset = _int_header(response, "X-RateLimit-Reset")
        if reset is not None:
            return datetime.now(UTC) + timedelta(seconds=reset)
        if retry_after is not None:
            return datetime.now(UTC) + timedelta(seconds=retry_after)
        # The documented reset: midnight UTC.
        tomorrow = datetime.now(UTC).date() + timedelta(days=1)
        return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)


def _singleton_path(key: int | str) -> tuple[int | None, str]:
    """The work id asked for (None for a DOI) and the path segment after /works/."""
    if isinstance(key, int):
        if isinstance(key, bool) or key < 1:
            raise ValueError(f"{key!r} is not an OpenAlex work id")
        return key, f"W{key}"
    try:
        number = openalex_number(key, kind="W")
    except ValueError:
        # DOIs keep their slashes in the path; the rest of their characters are escaped.
        return None, "doi:" + quote(normalize_doi(key), safe="/")
    return number, f"W{number}"


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason or "no message"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(body)


def _is_budget_exhausted(response: requests.Response, message: str) -> bool:
    # A plain rate limit clears in seconds; a spent budget only at the daily reset, which the
    # body says in words and the headers say with nothing remaining.
    return (
        "insufficient budget" in f"{message} {response.text}".lower()
        or _int_header(response, "X-RateLimit-Remaining") == 0
    )


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
