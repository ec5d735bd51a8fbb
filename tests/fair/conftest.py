"""FAIR test set-up: the fake DataCite, and corpus papers made from the recorded OpenAlex sample."""

from datetime import UTC, datetime

import pytest

from papers.openalex.ingest import load_records
from papers.models import CorpusEntry, Work
from papers.openalex.records import parse_work
from tests.fake_datacite.fixtures import fake_datacite  # noqa: F401
from tests.fake_openalex.fixtures import recorded_works

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# Two real sample papers: an ACM paper with a Crossref DOI that DataCite datasets point at, and an
# arXiv preprint whose DOI is DataCite's.
ACM_PAPER = 3046863325
ARXIV_PAPER = 3045921891
# A Zenodo dataset with full metadata and a paper with almost none, made for these tests.
ZENODO_DATASET = 9100000000001
BARE_PAPER = 9100000000002


def load_sample(*numbers: int) -> None:
    wanted = {f"https://openalex.org/W{number}" for number in numbers}
    load_records([parse_work(raw) for raw in recorded_works() if raw["id"] in wanted], corpus="all", fetched_at=NOW)


def make_work(number: int, *, check_passed: bool = True, **fields) -> Work:
    """A corpus paper; one that fails the data-paper check is in the corpus by an admin's override."""
    work = Work.objects.create(id=number, fetched_at=NOW, **fields)
    CorpusEntry.objects.create(
        work=work,
        check_passed=check_passed,
        confidence=0.95 if check_passed else 0.0,
        included=check_passed,
        override="" if check_passed else CorpusEntry.Override.INCLUDE,
        checked_at=NOW,
    )
    return work


@pytest.fixture
def sample_papers(db) -> None:
    load_sample(ACM_PAPER, ARXIV_PAPER)


@pytest.fixture
def zenodo_dataset(db) -> Work:
    return make_work(
        ZENODO_DATASET,
        doi="10.5281/zenodo.7504123",
        title="Altmetrics and open access citation trends: data set",
        abstract="Citation and altmetric counts of 3,000 papers.",
        publication_year=2020,
        venue="Zenodo (CERN European Organization for Nuclear Research)",
        type="dataset",
        is_oa=True,
        oa_status="green",
        license="cc-by",
        indexed_in=["datacite"],
        topics=["Scientific communication"],
        repository_locations=[{"source": "Zenodo", "url": "https://zenodo.org/records/7504123"}],
    )


@pytest.fixture
def bare_paper(db) -> Work:
    return make_work(BARE_PAPER, check_passed=False, title="Notes", type="article")
