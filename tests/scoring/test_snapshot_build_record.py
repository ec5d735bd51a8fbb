"""The SnapshotBuild record of a build_index, written as the build goes: its settings, each stage's
time and rows, the counts, the bad lines (capped, counted in full), the outcome and the run it
published; a failed build recorded as failed, a killed one marked abandoned by the next, a
second build refused while one runs. And the progress a build shows: log lines without a
terminal, one bar per stage on one."""

import fcntl
import json
import logging
from datetime import date
from io import StringIO
from pathlib import Path

import duckdb
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from papers.openalex import snapshot
from papers.openalex.snapshot import LogProgress, StageReport
from scoring import build as scoring_build
from scoring.management.commands.build_index import Bars
from scoring.models import ScoringRun, SnapshotBuild
from tests.conftest import SAMPLE_SNAPSHOT
from tests.papers.openalex.test_snapshot import write_manifest, write_part

pytestmark = pytest.mark.django_db

STAGES = [
    "extract parts",
    "works",
    "verdicts",
    "corpus_links",
    "engine_papers",
    "engine_links",
    "scores",
    "publish",
]
LINES = [
    b'{"id": "W1", "cited_by_count": 3, "type": "dataset", "title": "A data set", "updated_date": "2026-01-20"}',
    b'{"id": "W2", "cited_by_count": 1, "referenced_works": ["W1"]}',
    b"not json",
    b'{"id": "W3", "cited_by_count": 1, "referenced_works": ["W1", "W?"]}',
    b'{"cited_by_count": 1}',
]


@pytest.fixture
def works(tmp_path) -> Path:
    """A works folder in OpenAlex's layout: two partitions, three bad lines, a manifest."""
    folder = tmp_path / "works"
    write_part(folder / "updated_date=2026-01-20" / "part_000.gz", LINES[:3])
    write_part(folder / "updated_date=2026-02-03" / "part_000.gz", LINES[3:])
    write_manifest(folder)
    return folder


def build_index(works: Path, workdir: Path, **options) -> str:
    out = StringIO()
    call_command("build_index", str(works), workdir=str(workdir), threads=2, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_a_build_records_its_settings_stages_counts_bad_lines_and_run(works, tmp_path):
    summary = build_index(works, tmp_path / "work", memory_limit="1GB")
    record = SnapshotBuild.objects.get()
    assert f"Build {record.pk} recorded" in summary
    assert record.status == SnapshotBuild.Status.SUCCEEDED
    assert record.run == ScoringRun.objects.current()
    assert (record.snapshot_path, record.workdir) == (str(works), str(tmp_path / "work"))
    assert record.manifest_date == date(2026, 2, 3)
    assert record.fingerprint == snapshot.open_snapshot(works).fingerprint()
    assert (record.threads, record.memory_limit) == (2, "1GB")
    assert (record.citer_cap, record.damping) == (settings.DATARANK_CITER_CAP, settings.DATARANK_DAMPING)
    assert (record.records, record.works, record.duplicates, record.legacy_dropped) == (5, 2, 0, 0)
    assert [stage["name"] for stage in record.stages] == STAGES
    assert all(stage["seconds"] >= 0 and not stage["skipped"] for stage in record.stages)
    rows = {stage["name"]: stage["rows"] for stage in record.stages}
    assert (rows["extract parts"], rows["works"], rows["corpus_links"], rows["engine_papers"]) == (5, 2, 1, 1)
    assert record.bad_lines_total == 3
    assert record.bad_lines == [
        {"part": "updated_date=2026-01-20/part_000.gz", "line": 3,
         "reason": "not valid JSON: Expecting value: line 1 column 1 (char 0)"},
        {"part": "updated_date=2026-02-03/part_000.gz", "line": 1,
         "reason": "referenced_works holds 'W?', which is not an OpenAlex work id"},
        {"part": "updated_date=2026-02-03/part_000.gz", "line": 2, "reason": "id None is not an OpenAlex work id (W…)"},
    ]  # fmt: skip
    assert record.mismatched_parts == []
    assert record.peak_memory > 10 * 2**20
    assert record.finished_at >= record.started_at
    assert record.error == ""


def test_a_build_run_again_records_the_stages_it_found_done(works, tmp_path):
    build_index(works, tmp_path / "work", keep_workdir=True)
    build_index(works, tmp_path / "work")
    again = SnapshotBuild.objects.order_by("pk").last()
    # The later stages read what the site holds, which the first build's publishing changed.
    skipped = [stage["name"] for stage in again.stages if stage["skipped"]]
    assert skipped == ["extract parts", "works", "verdicts"]


def test_the_record_is_written_as_the_build_goes(works, tmp_path, monkeypatch):
    seen = {}
    original = snapshot.SnapshotBuild._references

    def look(self, output):
        record = SnapshotBuild.objects.get()
        seen.update(status=record.status, stages=[stage["name"] for stage in record.stages], records=record.records)
        original(self, output)

    monkeypatch.setattr(snapshot.SnapshotBuild, "_references", look)
    build_index(works, tmp_path / "work")
    assert seen == {"status": "running", "stages": ["extract parts", "works", "verdicts"], "records": 5}


def test_the_bad_lines_of_a_record_are_capped_and_counted_in_full(works, tmp_path, monkeypatch):
    monkeypatch.setattr(scoring_build, "BAD_LINES_KEPT", 2)
    build_index(works, tmp_path / "work")
    record = SnapshotBuild.objects.get()
    assert [(bad["part"], bad["line"]) for bad in record.bad_lines] == [
        ("updated_date=2026-01-20/part_000.gz", 3),
        ("updated_date=2026-02-03/part_000.gz", 1),
    ]
    assert record.bad_lines_total == 3


def test_a_build_whose_parts_are_not_as_the_manifest_lists_is_recorded_as_failed(works, tmp_path):
    write_manifest(works, records={"updated_date=2026-02-03/part_000.gz": 7})
    with pytest.raises(CommandError, match="do not hold what the manifest says"):
        build_index(works, tmp_path / "work")
    record = SnapshotBuild.objects.get()
    assert record.status == SnapshotBuild.Status.FAILED
    assert record.mismatched_parts == ["updated_date=2026-02-03/part_000.gz: holds 2 records, the manifest says 7"]
    assert record.error.startswith("CommandError: 1 part(s) do not hold what the manifest says; nothing was published")
    assert record.run is None and record.finished_at is not None
    assert [stage["name"] for stage in record.stages] == ["extract parts", "works"]
    assert not ScoringRun.objects.exists()


def test_a_build_missing_parts_of_its_manifest_is_recorded_as_failed(works, tmp_path):
    (works / "updated_date=2026-01-20" / "part_000.gz").unlink()
    with pytest.raises(CommandError, match="not here as listed"):
        build_index(works, tmp_path / "work")
    record = SnapshotBuild.objects.get()
    assert record.status == SnapshotBuild.Status.FAILED
    assert len(record.mismatched_parts) == 1
    assert record.mismatched_parts[0].startswith("updated_date=2026-01-20/part_000.gz: missing (the manifest lists 3")
    assert record.stages == []


def test_a_build_stopped_in_a_stage_is_recorded_as_failed_with_what_stopped_it(works, tmp_path, monkeypatch):
    def stop(self, output):
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot.SnapshotBuild, "_references", stop)
    with pytest.raises(KeyboardInterrupt):
        build_index(works, tmp_path / "work")
    record = SnapshotBuild.objects.get()
    assert (record.status, record.error) == (SnapshotBuild.Status.FAILED, "KeyboardInterrupt")
    assert [stage["name"] for stage in record.stages] == ["extract parts", "works", "verdicts"]


def test_a_killed_build_left_running_is_marked_abandoned_by_the_next_one(works, tmp_path):
    # What a build killed with SIGKILL leaves: a record still running, and no lock held.
    killed = SnapshotBuild.objects.create(snapshot_path=str(works), threads=2, citer_cap=200, damping=0.85)
    build_index(works, tmp_path / "work")
    killed.refresh_from_db()
    assert killed.status == SnapshotBuild.Status.ABANDONED
    assert killed.error == "abandoned: its process stopped before the build ended"
    assert SnapshotBuild.objects.exclude(pk=killed.pk).get().status == SnapshotBuild.Status.SUCCEEDED


def test_a_second_build_is_refused_while_one_runs_on_the_machine(works, tmp_path):
    running = SnapshotBuild.objects.create(snapshot_path="/elsewhere", threads=2, citer_cap=200, damping=0.85)
    with (Path(settings.VAR_DIR) / "build_index.lock").open("wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(CommandError, match=f"build {running.pk} of /elsewhere is running on this machine"):
            build_index(works, tmp_path / "work")
    running.refresh_from_db()
    assert running.status == SnapshotBuild.Status.RUNNING
    assert SnapshotBuild.objects.count() == 1


# Progress


def test_without_a_terminal_each_stage_logs_when_it_starts_and_ends(works, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="papers.openalex.snapshot"):
        build_index(works, tmp_path / "work")
    lines = [record.getMessage() for record in caplog.records if record.name == "papers.openalex.snapshot"]
    assert lines[0] == "stage extract parts: started, 5 rows to read"
    assert lines[1].startswith("stage extract parts: 5 rows in ")
    assert "stage works: started, 5 rows to read" in lines
    assert "stage verdicts: started, 2 rows to read" in lines
    assert "stage publish: started" in lines
    ended = [line.split(":")[0] for line in lines if " rows in " in line]
    assert ended == [f"stage {name}" for name in STAGES]


def test_log_progress_tells_rows_rate_and_time_left_while_a_stage_runs(caplog, monkeypatch):
    clock = iter([100.0, 110.0, 112.0, 120.0])
    monkeypatch.setattr(snapshot.time, "monotonic", lambda: next(clock))
    progress = LogProgress(every=5)
    with caplog.at_level(logging.INFO, logger="papers.openalex.snapshot"):
        progress.started("works", 1_000_000)
        progress.advanced("works", 250_000)  # 10 s in: logged
        progress.advanced("works", 300_000)  # 2 s after: too soon to log again
        progress.advanced("works", 500_000)  # 20 s in
        progress.finished(StageReport("works", 41.5, 990_000, False))
    assert [record.getMessage() for record in caplog.records] == [
        "stage works: started, 1,000,000 rows to read",
        "stage works: 250,000 rows read, 25,000 rows/s, 25% of 1,000,000, 30 s left",
        "stage works: 500,000 rows read, 25,000 rows/s, 50% of 1,000,000, 20 s left",
        "stage works: 990,000 rows in 41.50 s",
    ]


def test_while_a_statement_runs_duckdbs_estimate_advances_the_stage(monkeypatch):
    class Seen(snapshot.Progress):
        def __init__(self) -> None:
            self.done: list[int] = []

        def advanced(self, stage: str, done: int) -> None:
            self.done.append(done)

    monkeypatch.setattr(snapshot, "PROGRESS_EVERY", 0.05)
    db = duckdb.connect(config={"threads": 1})
    db.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    seen = Seen()
    with snapshot._Watch(db, seen, "works", 1_000):
        db.execute("SELECT count(DISTINCT md5(i::VARCHAR)) FROM range(3000000) t(i)").fetchall()
    assert seen.done and all(0 <= done <= 1_000 for done in seen.done)
    assert seen.done == sorted(seen.done)


def test_on_a_terminal_each_stage_gets_a_bar_and_a_stage_done_before_a_line():
    out = StringIO()
    bars = Bars(out)
    bars.started("works", 5_535)
    bars.advanced("works", 2_000)
    bars.finished(StageReport("works", 0.4, 5_535, False))
    bars.finished(StageReport("verdicts", 0.0, 5_535, True))
    shown = out.getvalue().replace("\r", "\n")
    assert "works         : 100%" in shown and "5.54k/5.54k" in shown and "rows/s" in shown
    assert "5,535 rows written" in shown
    assert "verdicts      : done before, 5,535 rows" in shown


def test_the_bundled_sample_snapshot_has_a_manifest_of_its_parts():
    manifest = json.loads((SAMPLE_SNAPSHOT / "manifest").read_text())
    found = snapshot.open_snapshot(SAMPLE_SNAPSHOT)
    assert found.problems == ()
    assert [part.name for part in found.parts] == [
        "updated_date=2026-01-01/part_000.gz",
        "updated_date=2026-03-01/part_000.gz",
    ]
    assert manifest["meta"]["record_count"] == sum(part.listed_records for part in found.parts) == 1_851 + 3_684


def test_the_admin_shows_a_build_read_only(works, tmp_path, admin_client):
    build_index(works, tmp_path / "work")
    record = SnapshotBuild.objects.get()
    listing = admin_client.get("/admin/scoring/snapshotbuild/")
    assert listing.status_code == 200 and str(works) in listing.text
    page = admin_client.get(f"/admin/scoring/snapshotbuild/{record.pk}/change/")
    assert page.status_code == 200
    assert "extract parts" in page.text and "5 rows" in page.text and "id None is not an OpenAlex work id" in page.text
    assert '<input type="submit"' not in page.text
    assert admin_client.get("/admin/scoring/snapshotbuild/add/").status_code == 403
