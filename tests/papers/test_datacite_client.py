"""The DataCite client against the fake DataCite and doi.org/ra on 127.0.0.1."""

import pytest

from papers.datacite import DataCiteClient, PermanentError, TransientError
from tests.fake_datacite.app import Fault


def client(**options) -> DataCiteClient:
    return DataCiteClient(sleep=lambda seconds: None, **options)


def test_it_reads_a_datacite_record(fake_datacite):
    record = client().get_doi("https://doi.org/10.5281/ZENODO.7504123")
    assert record.resource_type_general == "Dataset"
    assert record.url == "https://zenodo.org/records/7504123"
    assert fake_datacite.log[0].path == "/dois/10.5281/zenodo.7504123"


def test_a_404_for_a_crossref_doi_is_an_answer_not_an_error(fake_datacite):
    assert client().get_doi("10.1145/3383583.3398584") is None


def test_it_finds_the_records_that_point_at_a_doi_whatever_their_case(fake_datacite):
    pointing = client().records_pointing_at("10.48550/arxiv.2007.14454")
    assert pointing.total == 1
    assert [(record.doi, record.resource_type_general, record.relation_types) for record in pointing.records] == [
        ("10.1594/pangaea.912345", "Dataset", ("IsSupplementTo",))
    ]
    request = fake_datacite.log[0]
    assert request.params["query"] == 'relatedIdentifiers.relatedIdentifier:"10.48550/arxiv.2007.14454"'


def test_it_asks_doi_org_for_the_registration_agency(fake_datacite):
    assert client().registration_agency("10.1145/3383583.3398584") == "Crossref"
    assert client().registration_agency("10.48550/arxiv.2007.14454") == "DataCite"
    # doi.org answers an unknown DOI with a status, not an agency.
    assert client().registration_agency("10.99999/nothing") == ""


def test_a_5xx_is_retried_then_raised_as_transient(fake_datacite):
    fake_datacite.inject(Fault.server_error(503), path="^/dois/", times=3)
    with pytest.raises(TransientError, match="503"):
        client(max_retries=2).get_doi("10.5281/zenodo.7504123")
    assert len(fake_datacite.log) == 3


def test_a_5xx_that_clears_is_retried_to_success(fake_datacite):
    fake_datacite.inject(Fault.server_error(502), path="^/dois/", times=1)
    assert client(max_retries=2).get_doi("10.5281/zenodo.7504123").doi == "10.5281/zenodo.7504123"


def test_a_timeout_is_transient(fake_datacite):
    fake_datacite.inject(Fault.slow(1.0), path="^/ra/", times=1)
    with pytest.raises(TransientError, match="did not answer in time"):
        client(timeout=0.2, max_retries=0).registration_agency("10.1145/3383583.3398584")


def test_a_bad_request_is_permanent(fake_datacite):
    fake_datacite.inject(Fault.server_error(400), path="^/dois", times=1)
    with pytest.raises(PermanentError):
        client().records_pointing_at("10.1145/3383583.3398584")
