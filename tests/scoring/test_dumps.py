"""Bulk dumps: after each successful run a worker writes its scores — `scores --format csv`'s
columns plus title and year — as CSV.gz and Parquet with a manifest of checksums; a failed run
writes none, and only the newest DATARANK_DUMPS_KEEP runs' dumps are kept."""

import csv
import gzip
import hashlib
import io
import json
from pathlib import Path

import duckdb
import pytest
from django.core.management import call_command

from scoring import build as scoring_build
from scoring import services
from scoring.dumps import CSV_COLUMNS, DUMP_COLUMNS, list_dumps, served_file, write_dump
from scoring.models import ScoringRun
from scoring.services import rescore_corpus
from scoring.tasks import write_dump_task
from tests.factories import cite, make_run, make_work
from tests.scoring import test_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(tmp_path, settings) -> Path:
    settings.DATARANK_DUMPS_DIR = tmp_path / "dumps"
    return settings.DATARANK_DUMPS_DIR


@pytest.fixture
def scored(django_capture_on_commit_callbacks) -> ScoringRun:
    """A run over three corpus papers: two ranked, one not; awkward titles, one DOI, a year missing."""
    cited = make_work(
        1,
        title='ImageNet, "a large-scale" database',
        corpus=True,
        cited_by_count=500,
        publication_year=2009,
        doi="10.1109/cvpr.2009.5206848",
    )
    other = make_work(
        2, title="Ünïcode — dataset\nwith a newline", corpus=True, cited_by_count=3, publication_year=2020
    )
    make_work(3, title="Work 3", corpus=True, cited_by_count=0)
    for number, citations in ((10, 40), (11, 7)):
        cite(make_work(number, corpus=None, cited_by_count=citations, referenced_works_count=20), cited)
    cite(make_work(12, corpus=None, cited_by_count=2, referenced_works_count=5), other)
    with django_capture_on_commit_callbacks():
        return rescore_corpus()


def read_csv(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def scores_command_csv() -> list[list[str]]:
    out = io.StringIO()
    call_command("scores", output_format="csv", stdout=out)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_a_dump_is_the_scores_command_csv_with_title_and_year(root, scored):
    dump = write_dump(run=scored)

    rows = read_csv(dump.path(f"datarank-run-{scored.pk}.csv.gz"))
    printed = scores_command_csv()
    assert rows[0] == [*CSV_COLUMNS, "title", "publication_year"] == list(DUMP_COLUMNS)
    assert [row[: len(CSV_COLUMNS)] for row in rows] == printed
    assert [row[0] for row in rows[1:]] == ["W1", "W2", "W3"]
    assert [row[-2:] for row in rows[1:]] == [
        ['ImageNet, "a large-scale" database', "2009"],
        ["Ünïcode — dataset\nwith a newline", "2020"],
        ["Work 3", ""],
    ]
    # Not ranked: no rank, top_percent or tier, as `scores` prints it.
    assert rows[3][CSV_COLUMNS.index("rank")] == rows[3][CSV_COLUMNS.index("tier")] == ""


def test_the_manifest_names_the_run_and_each_files_sha256(root, scored):
    dump = write_dump(run=scored)

    manifest = json.loads(dump.path("manifest.json").read_text())
    assert manifest["run"] == scored.pk
    assert manifest["algorithm"] == "datarank-1hop-v1"
    assert manifest["parameters"] == {"damping": 0.85, "citer_cap": 200}
    assert manifest["data_as_of"] == scored.data_as_of.isoformat()
    assert manifest["finished_at"] == scored.finished_at.isoformat()
    assert manifest["rows"] == 3 and manifest["columns"] == list(DUMP_COLUMNS)
    assert [file["name"] for file in manifest["files"]] == [
        f"datarank-run-{scored.pk}.csv.gz",
        f"datarank-run-{scored.pk}.parquet",
    ]
    for file in manifest["files"]:
        content = dump.path(file["name"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == file["sha256"]
        assert len(content) == file["bytes"]


def test_reading_the_parquet_back_gives_the_csvs_rows(root, scored):
    dump = write_dump(run=scored)

    csv_rows = read_csv(dump.path(f"datarank-run-{scored.pk}.csv.gz"))
    parquet = duckdb.connect().execute(
        "SELECT * FROM read_parquet(?)", [str(dump.path(f"datarank-run-{scored.pk}.parquet"))]
    )
    assert [column[0] for column in parquet.description] == csv_rows[0]
    # Each typed value written as the CSV writes it (floats exact: repr) is the CSV's cell.
    as_cells = [
        ["" if value is None else repr(value) if isinstance(value, float) else str(value) for value in row]
        for row in parquet.fetchall()
    ]
    assert as_cells == csv_rows[1:]


def test_a_dump_of_the_same_run_is_byte_for_byte_the_same(root, scored):
    first = write_dump(run=scored)
    again = write_dump(run=scored)

    assert [file.sha256 for file in again.files] == [file.sha256 for file in first.files]
    assert [dump.run_id for dump in list_dumps(root)] == [scored.pk]


def test_a_failed_run_writes_no_dump(root):
    failed = make_run(status=ScoringRun.Status.FAILED, papers_scored=0)

    assert write_dump(run=failed) is None
    assert write_dump_task(failed.pk) is None
    assert write_dump_task(999_999) is None  # a run since deleted
    assert not root.exists() or list(root.iterdir()) == []


def test_a_failed_rescore_enqueues_no_dump(root, monkeypatch, django_capture_on_commit_callbacks):
    make_work(1, corpus=True, cited_by_count=5)
    sent = []
    monkeypatch.setattr(write_dump_task, "delay", sent.append)

    def broken(*args, **kwargs):
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(services, "score_corpus", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        rescore_corpus()

    assert ScoringRun.objects.get().status == ScoringRun.Status.FAILED
    assert sent == []


def test_a_successful_rescore_enqueues_its_dump_once_committed(root, monkeypatch, django_capture_on_commit_callbacks):
    make_work(1, corpus=True, cited_by_count=5)
    sent = []
    monkeypatch.setattr(write_dump_task, "delay", sent.append)

    with django_capture_on_commit_callbacks() as callbacks:
        run = rescore_corpus()
        assert sent == []
    for callback in callbacks:
        callback()

    assert sent == [run.pk]
    write_dump_task(run.pk)
    assert [dump.run_id for dump in list_dumps(root)] == [run.pk]


def test_with_dumps_turned_off_a_rescore_enqueues_nothing(
    root, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.DATARANK_DUMPS_KEEP = 0
    make_work(1, corpus=True, cited_by_count=5)
    sent = []
    monkeypatch.setattr(write_dump_task, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=True):
        run = rescore_corpus()

    assert sent == [] and write_dump(run=run) is None


def test_only_the_newest_runs_dumps_are_kept(root, settings, scored, django_capture_on_commit_callbacks):
    settings.DATARANK_DUMPS_KEEP = 2
    runs = [scored]
    for _ in range(3):
        with django_capture_on_commit_callbacks():
            runs.append(rescore_corpus())
    for run in runs:
        write_dump(run=run)

    assert [dump.run_id for dump in list_dumps(root)] == [runs[3].pk, runs[2].pk]
    assert sorted(path.name for path in root.iterdir()) == [f"run-{runs[2].pk}", f"run-{runs[3].pk}"]
    # A late task for an older run writes it, and it goes at once: it is not among the newest.
    write_dump(run=runs[0])
    assert [dump.run_id for dump in list_dumps(root)] == [runs[3].pk, runs[2].pk]


def test_a_half_written_dump_is_never_listed_or_served(root, scored, monkeypatch):
    from scoring import dumps

    def broken(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(dumps, "_write_parquet", broken)
    with pytest.raises(OSError):
        write_dump(run=scored)

    assert list_dumps(root) == [] and list(root.iterdir()) == []
    assert served_file(f"run-{scored.pk}", f"datarank-run-{scored.pk}.csv.gz", root) is None


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("run-1", "manifest.json.bak"),
        ("run-1", "datarank-run-2.csv.gz"),
        ("run-1", "../run-1/manifest.json"),
        ("..", "manifest.json"),
        (".run-1.partial", "manifest.json"),
        ("run-1", "notes.txt"),
    ],
)
def test_only_a_dumps_own_files_are_served(root, folder, name):
    (root / "run-1").mkdir(parents=True)
    for file in ("manifest.json", "datarank-run-1.csv.gz", "datarank-run-2.csv.gz", "notes.txt", "manifest.json.bak"):
        (root / "run-1" / file).write_text("x")

    assert served_file(folder, name, root) is None
    assert served_file("run-1", "datarank-run-1.csv.gz", root) == root / "run-1" / "datarank-run-1.csv.gz"


# A snapshot build publishes a run too: the sample snapshot's fixtures (tests/scoring/test_build.py).
sample = test_build.sample
workdir = test_build.workdir


def test_a_snapshot_build_enqueues_its_runs_dump_and_one_failing_while_publishing_none(
    root, sample, workdir, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(write_dump_task, "delay", sent.append)
    original = scoring_build.publish_run

    def fail_after_publishing(**arguments):
        original(**arguments)
        raise RuntimeError("stopped while publishing")

    monkeypatch.setattr("scoring.management.commands.build_index.publish_run", fail_after_publishing)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        test_build.build_index(sample, workdir, keep_workdir=True)
    assert sent == [] and ScoringRun.objects.count() == 0
    monkeypatch.undo()
    monkeypatch.setattr(write_dump_task, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=True):
        test_build.build_index(sample, workdir)

    assert sent == [ScoringRun.objects.current().pk]
