"""The API's test world and its OpenAPI checker: every answer a test reads is first checked
against the schema the OpenAPI document gives for its path, method and status."""

from datetime import timedelta

import pytest
from django.test import Client
from jsonschema import Draft202012Validator

from papers.models import Work
from scoring.fair.metrics import METHOD_VERSION
from scoring.models import FairEvaluation
from scoring.services import rescore_corpus
from tests.factories import NOW, cite, make_work, write

# A ranked paper with citers and a DOI, a corpus paper nobody cites (scored, not ranked), a work
# we hold as a citer only, and a corpus paper that joined after the run.
RANKED = 500
UNCITED = 501
CITER_ONLY = 10_000
LATE = 502
DOI = "10.5555/datarank.ranked"
FIRST_CITER = 10_000


def make_citers(paper: Work, count: int, *, first: int = FIRST_CITER) -> list[Work]:
    """`count` citers of `paper` (C = 1..n, R = 10..) and one self-citation."""
    citers = [
        make_work(
            first + i, corpus=None, cited_by_count=i + 1, referenced_works_count=10 + i, publication_year=2010 + i % 10
        )
        for i in range(count)
    ]
    for citer in citers:
        cite(citer, paper)
    own = make_work(first + count, title="Our own follow-up", corpus=None, cited_by_count=500)
    write(paper, 1)
    write(own, 1)
    cite(own, paper)
    return citers


def evaluate(work: Work, *, raw: float, provisional: bool = False) -> FairEvaluation:
    return FairEvaluation.objects.create(
        work=work,
        method_version=METHOD_VERSION,
        evaluated_at=NOW - timedelta(days=1),
        f=raw,
        a=raw,
        i=raw,
        r=raw,
        raw=raw,
        checks=[],
        provisional=provisional,
    )


@pytest.fixture
def world(db):
    ranked = make_work(
        RANKED, title="Global seismic dataset", corpus=True, doi=DOI, cited_by_count=120, publication_year=2015
    )
    make_citers(ranked, 30)
    make_work(UNCITED, title="An uncited dataset", corpus=True, publication_year=2020)
    run = rescore_corpus()
    make_work(LATE, title="A late dataset", corpus=True)
    evaluate(ranked, raw=60.0, provisional=True)
    return run


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def api_get(client, openapi):
    """GET an API URL, check the answer against the OpenAPI document's schema for `path` (the
    path template) and its status, and return the response."""

    def get(url: str, path: str, *, status: int = 200, **headers):
        response = client.get(url, headers=headers)
        assert response.status_code == status, response.content
        assert_conforms(openapi, response, path, "get")
        return response

    return get


def assert_conforms(openapi: dict, response, path: str, method: str) -> None:
    answer = openapi["paths"][path][method]["responses"][str(response.status_code)]
    if "content" not in answer:
        assert response.content == b""
        return
    schema = answer["content"]["application/json"]["schema"]
    # The document's components beside the answer's schema, so that its $refs resolve.
    validator = Draft202012Validator(
        {**schema, "components": openapi["components"]}, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(response.json()), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(error.path)}: {error.message}" for error in errors)
