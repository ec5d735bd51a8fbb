"""The transport under every outside client, against the fake OpenAlex over real HTTP on 127.0.0.1."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from papers import datacite
from papers.http import DROPPED, PermanentError, TransientError, Transport, retry_after
from papers.openalex import client as openalex
from tests.fake_openalex.app import Fault

WORK = "/works/W3046863325"  # a recorded work the fake serves


class Sleeps(list):
    """Stands in for time.sleep: records the waits asked for, waits for none."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def transport(sleeps) -> Transport:
    return Transport(timeout=2, max_retries=2, backoff_base=1.0, backoff_cap=5.0, sleep=sleeps)


def fetch(transport: Transport, url: str) -> requests.Response:
    """One attempt of a client at its simplest, which sorts answers as ours do: 5xx and 429 are
    transient (for as long as `Retry-After` says), any other 4xx permanent."""
    response = transport.send(url, {})
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientError(f"answered {status}", retry_after=retry_after(response.headers.get("Retry-After")))
    if status >= 400:
        raise PermanentError(f"answered {status}", status=status)
    return response


def test_the_user_agent_names_datarank(fake_openalex, sleeps):
    Transport(timeout=2, max_retries=0, backoff_base=1, backoff_cap=1).send(fake_openalex.url + WORK, {})
    Transport(timeout=2, max_retries=0, backoff_base=1, backoff_cap=1, mailto="admin@datarank.example").send(
        fake_openalex.url + WORK, {}
    )

    assert [request.user_agent for request in fake_openalex.log] == [
        "DataRank/1.0",
        "DataRank/1.0 (mailto:admin@datarank.example)",
    ]


def test_it_retries_a_503_then_gives_up_with_a_transient_error(transport, fake_openalex, sleeps):
    fake_openalex.inject(Fault.server_error(503), times=3)

    with pytest.raises(TransientError, match="503"):
        transport.retrying(lambda: fetch(transport, fake_openalex.url + WORK))

    assert [request.status for request in fake_openalex.log] == [503, 503, 503]
    assert len(sleeps) == 2


def test_a_503_that_clears_is_retried_to_success(transport, fake_openalex, sleeps):
    fake_openalex.inject(Fault.server_error(503))

    response = transport.retrying(lambda: fetch(transport, fake_openalex.url + WORK))

    assert response.json()["id"] == "https://openalex.org/W3046863325"
    assert [request.status for request in fake_openalex.log] == [503, 200]
    (wait,) = sleeps
    assert 0 <= wait <= transport.backoff_base


def test_a_404_is_permanent(transport, fake_openalex, sleeps):
    with pytest.raises(PermanentError) as raised:
        transport.retrying(lambda: fetch(transport, fake_openalex.url + "/works/W999999999999"))

    assert raised.value.status == 404
    assert len(fake_openalex.log) == 1
    assert sleeps == []


def test_it_honours_retry_after_in_seconds_and_as_a_date(transport, fake_openalex, sleeps):
    fake_openalex.inject(Fault.rate_limited(retry_after=7))
    fake_openalex.inject(
        Fault.rate_limited(retry_after=format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True))
    )

    transport.retrying(lambda: fetch(transport, fake_openalex.url + WORK))

    seconds, date = sleeps
    assert seconds == 7.0
    # An HTTP date counts whole seconds.
    assert 28 < date <= 30
    assert [request.status for request in fake_openalex.log] == [429, 429, 200]


def test_retry_after_reads_seconds_dates_and_nonsense():
    assert retry_after("120") == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # long past: no wait
    assert retry_after("-5") == 0.0
    assert retry_after("soon") is None
    assert retry_after("") is None
    assert retry_after(None) is None


def test_a_retry_after_beyond_max_wait_goes_to_the_caller(fake_openalex, sleeps):
    fake_openalex.inject(Fault.rate_limited(retry_after=600))
    transport = Transport(timeout=2, max_retries=5, backoff_base=1, backoff_cap=5, max_wait=60, sleep=sleeps)

    with pytest.raises(TransientError) as raised:
        transport.retrying(lambda: fetch(transport, fake_openalex.url + WORK))

    assert raised.value.retry_after == 600
    assert sleeps == []
    assert len(fake_openalex.log) == 1


def test_backoff_is_capped_and_jittered(fake_openalex, sleeps):
    fake_openalex.inject(Fault.server_error(500), times=10)
    transport = Transport(timeout=2, max_retries=4, backoff_base=1.0, backoff_cap=5.0, sleep=sleeps)

    with pytest.raises(TransientError):
        transport.retrying(lambda: fetch(transport, fake_openalex.url + WORK))

    assert len(fake_openalex.log) == 5
    assert all(0 <= wait <= bound for wait, bound in zip(sleeps, [1, 2, 4, 5], strict=True))
    # Far past the cap, the waits still spread over all of 0 to 5 seconds.
    waits = [transport.backoff(20) for _ in range(500)]
    assert all(0 <= wait <= 5 for wait in waits)
    assert min(waits) < 1 and max(waits) > 4


def test_a_slow_answer_times_out(fake_openalex):
    fake_openalex.inject(Fault.slow(1.0))

    with pytest.raises(requests.Timeout):
        Transport(timeout=0.2, max_retries=0, backoff_base=1, backoff_cap=1).send(fake_openalex.url + WORK, {})


@pytest.mark.parametrize("fault", [Fault.reset(), Fault.truncated()], ids=["reset", "truncated"])
def test_a_dropped_connection_is_one_of_dropped(fake_openalex, fault):
    fake_openalex.inject(fault)

    with pytest.raises(DROPPED):
        Transport(timeout=2, max_retries=0, backoff_base=1, backoff_cap=1).send(fake_openalex.url + WORK, {})


def test_the_clients_errors_are_the_transports_so_it_retries_them():
    assert issubclass(openalex.TransientError, TransientError)
    assert issubclass(openalex.PermanentError, PermanentError)
    assert issubclass(datacite.TransientError, TransientError)
    assert issubclass(datacite.PermanentError, PermanentError)
    # A spent budget is no transient failure: waiting seconds cannot help.
    assert not issubclass(openalex.BudgetExhausted, TransientError)
