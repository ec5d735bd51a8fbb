"""The one HTTP transport under every outside client (OpenAlex, DataCite, doi.org/ra).

What it owes the clients built on it:

- One `requests.Session` per client, whose User-Agent names DataRank (and a contact address,
  for a service that serves callers who leave one first), and a timeout on every request.
- Two base errors for the clients' own to subclass: `TransientError` (worth trying again: the
  client raises it for timeouts, dropped connections, broken bodies, 5xx and 429) and
  `PermanentError` (the request itself is wrong: retrying cannot help).
- `retrying`: a call run again after each TransientError, with capped, fully jittered
  exponential backoff, or as long as the error's `retry_after` says, then the error raised once
  the retries are spent. Anything else goes straight to the caller.

What an answer means stays with each client: which statuses are errors, what its messages
say, what is not an error at all (DataCite's 404, say).
"""

import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

USER_AGENT = "DataRank/1.0"

# Below a timeout: a reset connection, or a body cut short of its Content-Length.
DROPPED = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


class TransientError(Exception):
    """Worth trying again later. `retry_after` is the server's `Retry-After` in seconds, when
    the client read one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """The request itself is wrong; `status` is the HTTP status that said so."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class Transport:
    """A client subclasses it, and sends through `send` inside `retrying`."""

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float],
        max_retries: int,
        backoff_base: float,
        backoff_cap: float,
        max_wait: float = math.inf,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        mailto: str = "",
    ) -> None:
        """`max_wait`: a `Retry-After` longer than this is not slept through; the error goes to
        the caller instead."""
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_wait = max_wait
        self._sleep = sleep
        self.session = session or requests.Session()
        # Reference: https://docs.openalex.org/how-to-use-the-api/rate-limits-and-authentication#the-polite-pool
        self.session.headers["User-Agent"] = f"{USER_AGENT} (mailto:{mailto})" if mailto else USER_AGENT

    # Reference: https://requests.readthedocs.io/en/latest/user/advanced/#timeouts
    def send(self, url: str, params: dict[str, str], *, headers: dict[str, str] | None = None) -> requests.Response:
        """One GET, with the timeout; raises requests.Timeout or one of DROPPED when no answer came."""
        return self.session.get(url, params=params, headers=headers, timeout=self.timeout)

    def retrying[T](self, call: Callable[[], T]) -> T:
        """What `call` returns, running it again after each TransientError up to `max_retries` times."""
        attempt = 0
        while True:
            try:
                return call()
            except TransientError as error:
                if attempt >= self.max_retries:
                    raise
                if error.retry_after is not None:
                    if error.retry_after > self.max_wait:
                        raise
                    delay = error.retry_after
                else:
                    delay = self.backoff(attempt)
                self._sleep(delay)
                attempt += 1

    # Reference: https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt` (from 0): anywhere from nothing up to a ceiling
        that doubles with each attempt up to `backoff_cap`, so clients that failed together do
        not all come back together."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))


# Reference: https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
def retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: it is either a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
