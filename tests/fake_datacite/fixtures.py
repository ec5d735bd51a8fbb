"""The `fake_datacite` pytest fixture. A conftest that wants it imports it:
`from tests.fake_datacite.fixtures import fake_datacite  # noqa: F401`."""

from collections.abc import Iterator

import pytest

from tests.fake_datacite.app import FakeDataCiteApp, recorded_agencies, recorded_resources
from tests.fake_openalex.server import serve


@pytest.fixture
def fake_datacite(settings) -> Iterator[FakeDataCiteApp]:
    """A fake DataCite and doi.org/ra on 127.0.0.1 serving the recorded records, with the
    settings pointing at it."""
    app = FakeDataCiteApp(agencies=recorded_agencies())
    app.add_records(recorded_resources())
    with serve(app) as fake:
        settings.DATACITE_API_URL = fake.url
        settings.DOI_RA_URL = f"{fake.url}/ra"
        yield fake
