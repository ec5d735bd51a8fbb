"""The OpenAPI 3.1 document says exactly what comes back: it is valid, every schema in it is
closed and typed (no free-form object anywhere), and the docs page reads it with the Swagger UI
ninja bundles, served from our own static files under the site's CSP (no inline script)."""

import re

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("get", "/api/v1/papers/{key}"),
    ("get", "/api/v1/papers"),
    ("get", "/api/v1/papers/{key}/citers"),
    ("post", "/api/v1/papers/batch"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/ranking"),
    ("get", "/api/v1/runs/current"),
    ("get", "/api/v1/runs/{run_id}"),
}


def test_the_document_is_valid_openapi_3_1(openapi):
    assert openapi["openapi"].startswith("3.1.")
    validate(openapi)


def test_it_lists_every_endpoint_and_nothing_else(openapi):
    assert {(method, path) for path, item in openapi["paths"].items() for method in item} == ENDPOINTS


def test_every_answer_and_every_error_has_a_json_schema(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if status == "304":
                    assert "content" not in answer
                    continue
                assert answer["content"]["application/json"]["schema"]["$ref"].startswith("#/components/schemas/"), (
                    method,
                    path,
                    status,
                )
            assert {"400", "429"} <= operation["responses"].keys(), (method, path)


def schemas_in(node):
    """Every schema object in a part of the document."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from schemas_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_in(value)


def test_every_schema_is_closed_and_typed(openapi):
    for name, schema in openapi["components"]["schemas"].items():
        if schema.get("type") == "object":
            assert schema["additionalProperties"] is False, name
            # Every field is always sent (null when not known), so every one is required.
            assert set(schema["required"]) == set(schema["properties"]), name
        for part in schemas_in(schema.get("properties", {})):
            if "title" in part and len(part) == 1:
                pytest.fail(f"{name} has a field of any type")
            if part.get("type") == "object":
                pytest.fail(f"{name} has a free-form object: {part}")


# The columns of `scores --format csv` (README.md); test_sample_scores.py reads them off its header too.
COLUMNS = (
    "openalex_id", "doi", "datarank", "base_contribution", "network_contribution", "citing_works",
    "citers_with_signal", "self_citations_excluded", "rank", "top_percent", "tier", "cohort_size",
    "cohort_top_percent",
)  # fmt: skip


def test_the_score_fields_are_named_as_the_csv_columns(openapi):
    assert set(COLUMNS) <= set(openapi["components"]["schemas"]["Paper"]["properties"])
    assert set(COLUMNS) <= set(openapi["components"]["schemas"]["PaperSummary"]["properties"])


def test_the_docs_page_runs_on_our_static_files_under_the_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    # Only files of ours run; the settings are a JSON data block, which no browser executes.
    sources = [re.search(r'src="([^"]+)"', attributes) for attributes, _ in scripts]
    inline = [body for (attributes, body), source in zip(scripts, sources, strict=True) if not source]
    assert len(inline) == 1 and 'type="application/json"' in scripts[0][0]
    assert '"url": "/api/v1/openapi.json"' in inline[0]
    assert '"validatorUrl": null' in inline[0]
    files = [source[1] for source in sources if source] + re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert files and all(file.startswith("/static/ninja/") for file in files)
    for file in files:
        assert finders.find(file.removeprefix("/static/")), file
    assert "cdn" not in html.lower()
