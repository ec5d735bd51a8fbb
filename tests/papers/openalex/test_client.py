"""The OpenAlex client against the fake OpenAlex over real HTTP on 127.0.0.1."""

from datetime import UTC, datetime, timedelta

import pytest

from papers.openalex.client import (
    BudgetExhausted,
    OpenAlexClient,
    PermanentError,
    TransientError,
)
from tests.fake_openalex.app import Fault, synthetic_work

CITED = 3046863325  # cited by the five works of the recorded `cites:` page
RECORDED_CITERS = [4311043552, 4293919086, 4387316167, 4415603090, 7104728135]
SEED = 1  # the synthetic work the synthetic citers cite


class Sleeps(list):
    """Stands in for time.sleep: records the waits asked for, waits for none."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(fake_openalex, sleeps) -> OpenAlexClient:
    return OpenAlexClient(sleep=sleeps, timeout=(2, 2))


def seed_citers(fake, count: int) -> list[int]:
    """`count` synthetic works citing SEED, with distinct citation counts; their ids, most cited first."""
    fake.add_works([synthetic_work(SEED, cited_by_count=count)])
    fake.add_works(synthetic_work(1000 + n, cited_by_count=n % 97, cites=[SEED]) for n in range(count))
    return [1000 + n for n in sorted(range(count), key=lambda n: (-(n % 97), n))]


# --- singletons ------------------------------------------------------------------------------


def test_it_fetches_a_single_work_for_free(client, fake_openalex):
    work = client.get_work("W3046863325")

    assert work.id == CITED
    assert work.title == "Trends of Publications' Citations and Altmetrics Based on Open Access Types"
    assert client.list_calls == 0
    (request,) = fake_openalex.log
    assert request.path == "/works/W3046863325"
    assert request.params["api_key"] == "test-key"
    assert request.params["mailto"] == "tests@datarank.invalid"
    assert "include_xpac" not in request.params
    # A singleton is free: the budget the server reports did not move.
    assert client.budget.remaining == 10_000


@pytest.mark.parametrize("key", [CITED, "w3046863325", "https://openalex.org/W3046863325"])
def test_it_accepts_every_spelling_of_an_id(client, key):
    assert client.get_work(key).id == CITED


def test_it_fetches_a_single_work_by_doi(client, fake_openalex):
    recorded = client.get_work(CITED)

    work = client.get_work(f"https://doi.org/{recorded.doi.upper()}")

    assert work.id == CITED
    assert fake_openalex.log[-1].path == f"/works/doi:{recorded.doi}"


def test_an_unknown_work_is_a_permanent_404(client):
    with pytest.raises(PermanentError) as raised:
        client.get_work("W999999999999")
    assert raised.value.status == 404


def test_it_follows_a_merged_work_and_records_the_merge(client, fake_openalex):
    fake_openalex.merge(12345, CITED)

    work = client.get_work("W12345")

    assert work.id == CITED
    assert client.merged == {12345: CITED}
    assert [(r.path, r.status) for r in fake_openalex.log] == [("/works/W12345", 301), (f"/works/W{CITED}", 200)]


def test_it_names_the_site_and_contact_in_its_user_agent(fake_openalex, sleeps):
    OpenAlexClient(mailto="admin@datarank.example", sleep=sleeps).get_work(CITED)

    assert fake_openalex.log[-1].user_agent == "DataRank/1.0 (mailto:admin@datarank.example)"


# --- batches ---------------------------------------------------------------------------------


def test_it_fetches_250_ids_in_three_list_calls(client, fake_openalex):
    fake_openalex.add_works(synthetic_work(5000 + n) for n in range(250))

    works = client.works_by_ids(5000 + n for n in range(250))

    assert sorted(work.id for work in works) == [5000 + n for n in range(250)]
    calls = fake_openalex.list_calls()
    assert client.list_calls == len(calls) == 3
    assert [len(call.params["filter"].removeprefix("openalex:").split("|")) for call in calls] == [100, 100, 50]
    assert {call.params["per_page"] for call in calls} == {"100"}


def test_it_fetches_dois_in_batches_whatever_their_spelling(client, fake_openalex):
    fake_openalex.add_works(synthetic_work(7000 + n, doi=f"10.5555/syn.{n}") for n in range(120))
    spellings = [f"https://doi.org/10.5555/SYN.{n}" if n % 2 else f"doi:10.5555/syn.{n}" for n in range(120)]

    works = client.works_by_dois([*spellings, "10.5555/unknown"])

    assert sorted(work.id for work in works) == [7000 + n for n in range(120)]
    assert client.list_calls == 2
    assert fake_openalex.list_calls()[0].params["filter"].startswith("doi:10.5555/syn.0|10.5555/syn.1|")


def test_a_malformed_doi_is_refused_before_any_call(client, fake_openalex):
    with pytest.raises(ValueError, match="not a DOI"):
        client.works_by_dois(["10.5555/fine", "not-a-doi"])
    assert fake_openalex.log == []


# --- citers and paging -----------------------------------------------------------------------


def test_it_fetches_200_citers_in_two_list_calls_most_cited_first(client, fake_openalex):
    expected = seed_citers(fake_openalex, 250)

    citers = client.citers(SEED, limit=200)

    assert [work.id for work in citers] == expected[:200]
    first, second = fake_openalex.list_calls()
    assert client.list_calls == 2
    assert first.params["filter"] == f"cites:W{SEED}"
    assert first.params["sort"] == "cited_by_count:desc"
    assert first.params["per_page"] == second.params["per_page"] == "100"
    assert first.params["cursor"] == "*"
    assert second.params["cursor"] not in ("", "*")


def test_it_does_not_ask_for_an_empty_last_page(client, fake_openalex):
    expected = seed_citers(fake_openalex, 200)

    citers = client.citers(SEED, limit=500)

    assert [work.id for work in citers] == expected
    assert client.list_calls == 2


def test_a_short_citer_list_costs_one_call(client):
    citers = client.citers(CITED, limit=200)

    assert [work.id for work in citers] == RECORDED_CITERS
    assert client.list_calls == 1


def test_a_small_cap_asks_for_a_small_page(client, fake_openalex):
    seed_citers(fake_openalex, 50)

    assert len(client.citers(SEED, limit=10)) == 10
    assert fake_openalex.list_calls()[0].params["per_page"] == "10"


def test_it_pages_an_admin_filter_with_a_cursor(client, fake_openalex):
    fake_openalex.add_works(synthetic_work(9000 + n, type="dataset") for n in range(230))

    works = client.works("type:dataset", limit=None)

    assert len({work.id for work in works}) == 230
    assert [call.params["cursor"] == "*" for call in fake_openalex.list_calls()] == [True, False, False]


def test_it_stops_an_admin_filter_at_its_limit(client, fake_openalex):
    fake_openalex.add_works(synthetic_work(9000 + n, type="dataset") for n in range(230))

    assert len(client.works("type:dataset", limit=150)) == 150
    assert client.list_calls == 2


def test_it_selects_only_top_level_fields_the_parser_reads(client, fake_openalex):
    client.citers(CITED, limit=5)

    select = fake_openalex.list_calls()[0].params["select"].split(",")
    assert "referenced_works" in select
    assert "authorships" in select
    assert not [name for name in select if "." in name]


def test_it_includes_xpac_works_when_the_setting_is_on(fake_openalex, sleeps, settings):
    fake_openalex.add_works([synthetic_work(SEED), synthetic_work(42, cites=[SEED], type="dataset", is_xpac=True)])

    settings.OPENALEX_INCLUDE_XPAC = True
    assert [work.id for work in OpenAlexClient(sleep=sleeps).citers(SEED, limit=10)] == [42]
    settings.OPENALEX_INCLUDE_XPAC = False
    assert OpenAlexClient(sleep=sleeps).citers(SEED, limit=10) == []
    assert [call.params.get("include_xpac") for call in fake_openalex.list_calls()] == ["true", None]


def test_a_malformed_record_is_skipped_and_reported(client, fake_openalex):
    broken = synthetic_work(77, cites=[CITED], cited_by_count=9) | {"cited_by_count": "many"}
    fake_openalex.add_works([broken])

    citers = client.citers(CITED, limit=200)

    assert [work.id for work in citers] == RECORDED_CITERS
    (skipped,) = client.skipped
    assert skipped.key == "https://openalex.org/W77"
    assert "cited_by_count" in skipped.reason


# --- key and budget --------------------------------------------------------------------------


def test_it_sends_no_key_when_none_is_set(fake_openalex, sleeps):
    OpenAlexClient(api_key="", mailto="", sleep=sleeps).citers(CITED, limit=5)

    params = fake_openalex.log[-1].params
    assert "api_key" not in params
    assert "mailto" not in params


def test_a_refused_key_is_permanent_and_names_the_setting(fake_openalex, sleeps):
    fake_openalex.require_key = True

    with pytest.raises(PermanentError, match="OPENALEX_API_KEY") as raised:
        OpenAlexClient(api_key="wrong", sleep=sleeps).citers(CITED, limit=5)

    assert raised.value.status == 401
    assert "API key not found" in str(raised.value)
    assert sleeps == []
    assert len(fake_openalex.log) == 1


def test_it_reads_the_budget_from_every_response(client, fake_openalex):
    before = datetime.now(UTC)
    client.citers(CITED, limit=5)
    client.citers(CITED, limit=5)
    client.get_work(CITED)

    assert client.budget.limit == 10_000
    assert client.budget.remaining == 9_998
    assert before + timedelta(seconds=39_950) < client.budget.resets_at < before + timedelta(seconds=39_970)
    assert client.list_calls == 2


def test_a_spent_budget_stops_at_once_with_its_reset_time(client, fake_openalex, sleeps):
    fake_openalex.inject(Fault.budget_exhausted())
    before = datetime.now(UTC)

    with pytest.raises(BudgetExhausted) as raised:
        client.citers(CITED, limit=5)

    assert before + timedelta(seconds=39_950) < raised.value.resets_at < before + timedelta(seconds=39_970)
    assert sleeps == []
    assert len(fake_openalex.log) == 1
    assert client.budget.remaining == 0


def test_the_budget_runs_out_after_the_last_list_call(client, fake_openalex):
    fake_openalex.remaining = 1
    client.citers(CITED, limit=5)

    with pytest.raises(BudgetExhausted):
        client.citers(CITED, limit=5)
    # Singletons stay free and keep working.
    assert client.get_work(CITED).id == CITED


def test_a_bad_filter_is_permanent_with_the_apis_message(client, sleeps):
    with pytest.raises(PermanentError) as raised:
        client.works("DOESNTEXIST:1", limit=10)

    assert raised.value.status == 400
    assert "DOESNTEXIST is not a valid field. Valid fields are underscore or hyphenated versions of:" in str(
        raised.value
    )
    assert sleeps == []


# --- faults and retries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault.server_error(500),
        Fault.server_error(503),
        Fault.reset(),
        Fault.truncated(),
        Fault.html(),
        Fault.html(status=502),
    ],
    ids=["500", "503", "reset", "truncated", "html", "html-502"],
)
def test_it_retries_a_transient_fault_with_backoff(client, fake_openalex, sleeps, fault):
    fake_openalex.inject(fault, path=r"^/works\?")

    assert [work.id for work in client.citers(CITED, limit=200)] == RECORDED_CITERS

    assert [request.fault for request in fake_openalex.log] == [fault.kind, None]
    assert client.list_calls == 2
    (wait,) = sleeps
    assert 0 <= wait <= client.backoff_base


def test_it_retries_a_response_slower_than_its_timeout(fake_openalex, sleeps):
    fake_openalex.inject(Fault.slow(1.0))
    client = OpenAlexClient(timeout=0.3, sleep=sleeps)

    assert client.get_work(CITED).id == CITED
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [429, 403])
def test_it_waits_as_long_as_retry_after_says(client, fake_openalex, sleeps, status):
    fake_openalex.inject(Fault.rate_limited(retry_after=7, status=status), times=2)

    assert len(client.citers(CITED, limit=5)) == 5

    assert sleeps == [7.0, 7.0]
    assert len(fake_openalex.log) == 3


def test_a_retry_after_beyond_max_wait_goes_to_the_caller(fake_openalex, sleeps):
    fake_openalex.inject(Fault.rate_limited(retry_after=600))

    with pytest.raises(TransientError) as raised:
        OpenAlexClient(max_wait=60, sleep=sleeps).citers(CITED, limit=5)

    assert raised.value.retry_after == 600
    assert sleeps == []


def test_it_gives_up_after_max_retries_with_capped_growing_waits(fake_openalex, sleeps):
    fake_openalex.inject(Fault.server_error(500), times=10)
    client = OpenAlexClient(max_retries=4, backoff_base=1.0, backoff_cap=5.0, sleep=sleeps)

    with pytest.raises(TransientError, match="500"):
        client.citers(CITED, limit=5)

    assert len(fake_openalex.log) == 5
    assert client.list_calls == 5
    assert len(sleeps) == 4
    assert all(0 <= wait <= bound for wait, bound in zip(sleeps, [1, 2, 4, 5], strict=True))


def test_a_fault_in_the_second_page_resumes_from_its_cursor(client, fake_openalex):
    expected = seed_citers(fake_openalex, 250)
    fake_openalex.inject(Fault.server_error(503), path=r"cursor=(?!\*)")

    citers = client.citers(SEED, limit=200)

    assert [work.id for work in citers] == expected[:200]
    cursors = [request.params["cursor"] for request in fake_openalex.log]
    assert cursors[0] == "*"
    assert cursors[1] == cursors[2] != "*"
