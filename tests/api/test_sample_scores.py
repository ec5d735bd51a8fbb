"""On the bundled geoscience sample, the paper endpoint gives every corpus paper the figures
`scores --format csv` prints for it, cell for cell: the CSV, the dumps and the API read alike."""

import csv
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db


def cell(value) -> str:
    """A figure as the CSV writes it: empty when the paper does not have it, floats as repr."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


@override_settings(DATARANK_API_RATE="1000/m")
def test_the_api_gives_every_sample_paper_the_figures_of_scores_csv(client):
    call_command("load_sample", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("scores", output_format="csv", stdout=out)
    rows = list(csv.DictReader(StringIO(out.getvalue())))
    assert len(rows) == 81
    assert sum(bool(row["rank"]) for row in rows) == 20
    for row in rows:
        response = client.get(f"/api/v1/papers/{row['openalex_id']}")
        assert response.status_code == 200, row["openalex_id"]
        paper = response.json()
        assert {name: cell(paper[name]) for name in row} == row
