"""`/downloads/` lists the newest runs' bulk dumps with their sizes, dates and checksums, read
from their manifests without a database query; each file is streamed with its Content-Length."""

import pytest

from scoring.dumps import write_dump
from tests.factories import text
from tests.scoring import test_dumps

pytestmark = pytest.mark.django_db

# The dumps' own fixtures: a private dumps folder, and a run over three papers.
root = test_dumps.root
scored = test_dumps.scored


def test_the_downloads_page_lists_each_dump_with_sizes_dates_and_checksums(
    client, root, scored, django_assert_num_queries
):
    dump = write_dump(run=scored)

    with django_assert_num_queries(0):
        response = client.get("/downloads/")

    page = text(response)
    assert f"Scoring run {scored.pk} newest" in page
    assert f"datarank-1hop-v1 · 3 papers · finished {scored.finished_at:%-d %b %Y, %H:%M} UTC" in page
    csv_file = dump.files[0]
    for file in dump.files:
        assert f'href="/downloads/files/run-{scored.pk}/{file.name}"' in response.content.decode()
        assert file.sha256 in page
    assert f"{csv_file.name} {csv_file.bytes} bytes" in page
    assert "The newest 3 runs are kept." in page


def test_with_no_dump_yet_the_page_says_when_one_comes(client, root):
    assert "No dump has been written yet: one is written after each successful scoring run." in text(
        client.get("/downloads/")
    )


def test_a_file_is_streamed_whole_with_its_length_and_type(client, root, scored):
    dump = write_dump(run=scored)

    for file, content_type in zip(dump.files, ("application/gzip", "application/vnd.apache.parquet"), strict=True):
        response = client.get(f"/downloads/files/run-{scored.pk}/{file.name}")
        assert response.status_code == 200 and response.streaming
        assert response["Content-Length"] == str(file.bytes)
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == f'attachment; filename="{file.name}"'
        assert b"".join(response.streaming_content) == dump.path(file.name).read_bytes()
    manifest = client.get(f"/downloads/files/run-{scored.pk}/manifest.json")
    assert manifest["Content-Type"] == "application/json" and "attachment" not in manifest["Content-Disposition"]


@pytest.mark.parametrize(
    "url",
    [
        "/downloads/files/run-999/datarank-run-999.csv.gz",
        "/downloads/files/run-{run}/datarank-run-1000.parquet",
        "/downloads/files/run-{run}/other.txt",
        "/downloads/files/run-{run}/%2E%2E%2Fmanifest.json",
        "/downloads/files/../settings.py",
    ],
)
def test_anything_else_under_downloads_is_a_404(client, root, scored, url):
    write_dump(run=scored)

    assert client.get(url.format(run=scored.pk)).status_code == 404
