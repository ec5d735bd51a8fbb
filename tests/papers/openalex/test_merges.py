"""OpenAlex's lists of merged author ids (merged_ids/authors/*.csv[.gz]): read line by line with
bad lines named file:line and skipped, recorded as AuthorMerge rows by `merge_authors` and by a
snapshot build that finds them beside its works folder, inside its publishing transaction."""

import gzip
import json
import shutil
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from papers.models import Author, AuthorMerge, Authorship
from papers.openalex.merges import BadMergeLine, Merge, MergeList, record_merges
from papers.openalex.snapshot import open_snapshot
from scoring.models import ScoringRun, SnapshotBuild
from tests.papers.openalex.test_snapshot import LAYOUT, write_part

MERGED = LAYOUT.parent / "merged_ids" / "authors"
LISTS = [MERGED / "2022-08-03.csv.gz", MERGED / "2023-04-13.csv"]
# What the two real lists hold: four ids merged into A4317838346 one day, one into A2090344885.
REAL = {
    3007116629: 2090344885,
    3125154712: 4317838346,
    3124276209: 4317838346,
    3123468810: 4317838346,
    3122914057: 4317838346,
}


def write_list(path: Path, lines: list[str], *, header: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(line + "\n" for line in (["merge_date,id,merge_into_id"] if header else []) + lines)
    path.write_bytes(gzip.compress(text.encode()) if path.name.endswith(".gz") else text.encode())
    return path


def merges() -> dict[int, int]:
    return dict(AuthorMerge.objects.values_list("old_id", "into_id"))


def merge_authors(*paths: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("merge_authors", *map(str, paths), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- reading -------------------------------------------------------------------------------


def test_it_reads_the_real_lists_gzipped_or_not():
    assert list(MergeList(LISTS[0])) == [Merge(3007116629, 2090344885, date(2022, 8, 3))]
    assert [(m.old_id, m.into_id, m.merge_date) for m in MergeList(LISTS[1])] == [
        (old, into, date(2023, 4, 13)) for old, into in REAL.items() if into == 4317838346
    ]


def test_it_names_each_bad_line_and_reads_on(tmp_path):
    path = write_list(
        tmp_path / "2024-01-02.csv",
        [
            "2024-01-02,A1,A2",
            "2024-01-02,A3",
            "2024-01-02,A3,A4,A5",
            "2024-01-02,W5,A6",
            "2024-01-02,A7,https://openalex.org/I8",
            "2024-13-02,A9,A10",
            "yesterday,A9,A10",
            ",A9,A10",
            "2024-01-02,A11,a11",
            "",
            ' "2024-01-02" , https://openalex.org/A12 ,"a13"',
        ],
    )
    read = list(MergeList(path, name="merged_ids/authors/2024-01-02.csv"))
    assert [str(item) for item in read if isinstance(item, BadMergeLine)] == [
        "merged_ids/authors/2024-01-02.csv:3: 2 field(s), not the 3 of merge_date,id,merge_into_id",
        "merged_ids/authors/2024-01-02.csv:4: 4 field(s), not the 3 of merge_date,id,merge_into_id",
        "merged_ids/authors/2024-01-02.csv:5: id 'W5' is not an OpenAlex author id (A…)",
        "merged_ids/authors/2024-01-02.csv:6: merge_into_id 'https://openalex.org/I8' is not an OpenAlex author id"
        " (A…)",
        "merged_ids/authors/2024-01-02.csv:7: merge_date '2024-13-02' is not a date",
        "merged_ids/authors/2024-01-02.csv:8: merge_date 'yesterday' is not a date",
        "merged_ids/authors/2024-01-02.csv:9: merge_date '' is not a date",
        "merged_ids/authors/2024-01-02.csv:10: A11 is merged into itself",
    ]
    assert [item for item in read if isinstance(item, Merge)] == [
        Merge(1, 2, date(2024, 1, 2)),
        Merge(12, 13, date(2024, 1, 2)),
    ]


def test_a_list_without_its_header_is_read_from_its_first_line(tmp_path):
    path = write_list(tmp_path / "list.csv", ["2024-01-02,A1,A2", "merge_date,id,merge_into_id"], header=False)
    assert [str(item) for item in MergeList(path)] == [
        "Merge(old_id=1, into_id=2, merge_date=datetime.date(2024, 1, 2))",
        f"{path}:2: merge_date 'merge_date' is not a date",
    ]


def test_a_cut_gzip_stream_yields_what_came_before_and_names_where_it_stops(tmp_path):
    whole = gzip.compress("".join(f"2024-01-02,A{n},A1\n" for n in range(2, 20_002)).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    read = list(MergeList(path))
    assert isinstance(read[-1], BadMergeLine) and "cannot be read past this line" in read[-1].reason
    assert 0 < len(read) - 1 < 20_000
    assert all(isinstance(item, Merge) for item in read[:-1])


# --- recording -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_merge_authors_records_the_real_lists_and_counts_what_it_did():
    out, err = merge_authors(*LISTS)
    assert merges() == REAL
    assert AuthorMerge.objects.survivor(3125154712) == 4317838346
    assert AuthorMerge.objects.get(old_id=3007116629).merge_date == date(2022, 8, 3)
    assert out.splitlines() == [
        "Files:                 2",
        "Merges read:           5",
        "Recorded:              5",
        "Left out (loops):      0",
        "Bad lines skipped:     0",
    ]
    assert err == ""
    merge_authors(*LISTS)
    assert merges() == REAL


@pytest.mark.django_db
def test_a_missing_file_is_refused_and_nothing_is_recorded(tmp_path):
    with pytest.raises(CommandError, match=r"^no such file: .*absent\.csv; nothing was recorded\.$"):
        merge_authors(LISTS[1], tmp_path / "absent.csv")
    assert merges() == {}


@pytest.mark.django_db
def test_bad_lines_are_named_the_rest_recorded_and_the_exit_status_is_1(tmp_path):
    path = write_list(tmp_path / "list.csv", ["2024-01-02,A1,A2", "2024-01-02,W3,A4", "2024-01-02,A5,A6"])
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match=r"^1 bad line\(s\) skipped; every other merge was recorded\.$"):
        call_command("merge_authors", str(path), stdout=out, stderr=err)
    assert merges() == {1: 2, 5: 6}
    assert err.getvalue() == f"{path}:3: id 'W3' is not an OpenAlex author id (A…)\n"
    assert "Bad lines skipped:     1" in out.getvalue()


@pytest.mark.django_db
def test_a_merge_that_would_close_a_loop_is_left_out_and_named(tmp_path):
    first = write_list(tmp_path / "2024-01-01.csv", ["2024-01-01,A1,A2"])
    later = write_list(tmp_path / "2024-01-02.csv", ["2024-01-02,A2,A1", "2024-01-02,A5,A6"])
    out, err = merge_authors(first, later)
    assert merges() == {1: 2, 5: 6}
    assert err == "left out the merge of A2 into A1: it would close a loop\n"
    assert "Recorded:              2" in out and "Left out (loops):      1" in out


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 2, 1_000])
def test_chains_across_lists_and_batches_end_at_the_last_survivor(tmp_path, batch_size):
    lists = [
        write_list(tmp_path / "2024-01-01.csv.gz", ["2024-01-01,A1,A2", "2024-01-01,A5,A2"]),
        write_list(tmp_path / "2024-01-02.csv", ["2024-01-02,A2,A3"]),
        write_list(tmp_path / "2024-01-03.csv", ["2024-01-03,A3,A4"]),
    ]
    summary = record_merges((MergeList(path) for path in lists), batch_size=batch_size)
    assert merges() == {1: 4, 5: 4, 2: 4, 3: 4}
    assert (summary.files, summary.read, summary.recorded, summary.left_out, summary.bad) == (3, 4, 4, [], [])


# --- in a snapshot build ---------------------------------------------------------------------


def test_the_merge_lists_are_found_beside_the_works_folder_however_the_snapshot_is_named(tmp_path):
    part = [b'{"id": "W1", "cited_by_count": 0}']
    for root, works, merged in [
        ("layout", "works", "merged_ids/authors"),
        ("openalex", "data/works", "data/merged_ids/authors"),
        ("flat", "data/works", "merged_ids/authors"),
    ]:
        write_part(tmp_path / root / works / "part_000.jsonl.gz", part)
        for path in LISTS:
            (tmp_path / root / merged).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, tmp_path / root / merged / path.name)
        expected = tuple(tmp_path / root / merged / path.name for path in LISTS)
        assert open_snapshot(tmp_path / root).merge_lists == expected, root
        assert open_snapshot(tmp_path / root / works).merge_lists == (expected if root != "flat" else ()), root
    assert open_snapshot(LAYOUT).merge_lists == tuple(LISTS)
    write_part(tmp_path / "bare" / "part_000.jsonl.gz", part)
    assert open_snapshot(tmp_path / "bare").merge_lists == ()


def snapshot_with_merges(root: Path, extra: list[str] = ()) -> Path:
    """A works folder with a dataset by A3125154712, which OpenAlex merged into A4317838346, and
    the real merge lists (plus `extra` lines in a list of their own) beside it."""
    author = {"id": "https://openalex.org/A3125154712", "display_name": "Merged Away", "orcid": None}
    raw = {
        "id": "W1",
        "cited_by_count": 2,
        "type": "dataset",
        "title": "A data set",
        "authorships": [{"author": author}],
    }
    write_part(root / "works" / "part_000.jsonl.gz", [json.dumps(raw).encode()])
    shutil.copytree(MERGED, root / "merged_ids" / "authors")
    if extra:
        write_list(root / "merged_ids" / "authors" / "2024-01-01.csv", list(extra))
    return root


def build_index(snapshot: Path, workdir: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("build_index", str(snapshot), workdir=str(workdir), threads=2, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_a_build_records_the_merge_lists_of_its_snapshot_and_says_so(tmp_path):
    snapshot = snapshot_with_merges(
        tmp_path / "snapshot", ["2024-01-01,A4317838346,W2", "2024-01-01,A4317838346,A3125154712"]
    )
    out, err = build_index(snapshot, tmp_path / "work")
    assert merges() == REAL
    assert "6 read, 5 recorded, 1 left out (they would close a loop), 1 bad line(s) skipped" in out
    assert err.splitlines() == [
        "skipped merged_ids/authors/2024-01-01.csv:2: merge_into_id 'W2' is not an OpenAlex author id (A…)",
        "left out the merge of A4317838346 into A3125154712: it would close a loop",
    ]
    record = SnapshotBuild.objects.get()
    assert {stage["name"]: stage["rows"] for stage in record.stages}["author merges"] == 5
    # The survivor, which no record names, takes the merged id's name; the paper counts for it.
    assert Author.objects.get(id=4317838346).display_name == "Merged Away"
    assert list(Authorship.objects.credited_to(4317838346).values_list("work_id", flat=True)) == [1]


@pytest.mark.django_db
def test_a_build_whose_publishing_fails_records_no_merge(tmp_path, monkeypatch):
    def fail(**arguments):
        raise RuntimeError("stopped while publishing")

    monkeypatch.setattr("scoring.management.commands.build_index.publish_run", fail)
    with pytest.raises(RuntimeError, match="stopped while publishing"):
        build_index(snapshot_with_merges(tmp_path / "snapshot"), tmp_path / "work")
    assert merges() == {}
    assert not ScoringRun.objects.exists()


@pytest.mark.django_db
def test_a_build_without_merge_lists_records_none_and_names_no_such_stage(tmp_path):
    snapshot = snapshot_with_merges(tmp_path / "snapshot")
    shutil.rmtree(snapshot / "merged_ids")
    out, _ = build_index(snapshot, tmp_path / "work")
    assert merges() == {}
    assert "author merges" not in out
    assert "author merges" not in [stage["name"] for stage in SnapshotBuild.objects.get().stages]
