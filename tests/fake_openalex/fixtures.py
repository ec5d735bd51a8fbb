"""The `fake_openalex` pytest fixture. A conftest that wants it imports it:
`from tests.fake_openalex.fixtures import fake_openalex  # noqa: F401`."""

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from tests.conftest import API_DIR
from tests.fake_openalex.app import FakeOpenAlexApp
from tests.fake_openalex.server import serve


@cache
def recorded_works() -> tuple[dict[str, Any], ...]:
    """Every work record of the recorded API pages in data/openalex/api (each once)."""
    works: dict[str, dict[str, Any]] = {}
    for page in sorted(API_DIR.glob("*.json")):
        for raw in json.loads(page.read_text())["results"]:
            works.setdefault(raw["id"], raw)
    return tuple(works.values())


@pytest.fixture
def fake_openalex(settings) -> Iterator[FakeOpenAlexApp]:
    """A fake OpenAlex on 127.0.0.1 serving the recorded works, with the settings pointing at it
    (its key set, not required until a test sets `fake_openalex.require_key = True`)."""
    app = FakeOpenAlexApp()
    app.add_works(recorded_works())
    with serve(app) as fake:
        settings.OPENALEX_API_URL = fake.url
        settings.OPENALEX_API_KEY = app.api_key
        settings.OPENALEX_MAILTO = "tests@datarank.invalid"
        yield fake
