"""What `load_openalex` says of each kind of bad file: it names the file (and the line, where
there is one), loads every good record and nothing else, and exits 1 — or, for a record with an
over-long field, cuts the field, says so, loads the record and exits 0."""

import gzip
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from papers.models import Author, Work

pytestmark = pytest.mark.django_db

FIFTY_MB = 50 * 1024 * 1024


def work(number: int, **fields) -> dict:
    return {"id": f"https://openalex.org/W{number}", "title": f"Work {number}", "cited_by_count": 1, **fields}


def jsonl(*works: dict) -> bytes:
    return b"".join(json.dumps(raw).encode() + b"\n" for raw in works)


def run(*paths: Path, corpus: str = "data") -> tuple[int, str, str]:
    """The exit status, standard output and standard error of `manage.py load_openalex PATHS`."""
    out, err = StringIO(), StringIO()
    try:
        call_command("load_openalex", *map(str, paths), corpus=corpus, stdout=out, stderr=err)
    except CommandError as error:
        # What `manage.py` prints before it exits with the error's status.
        err.write(f"CommandError: {error}\n")
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def held() -> set[int]:
    return set(Work.objects.values_list("id", flat=True))


def test_an_empty_file_says_there_are_no_records_in_it_and_exits_1(tmp_path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    status, out, err = run(path)
    assert status == 1
    assert err.splitlines() == [f"no records in {path}", f"CommandError: no records in {path}; nothing was loaded."]
    assert "Records read:          0" in out
    assert not Work.objects.exists()


@pytest.mark.parametrize(
    "content", [b"\n\n  \n", gzip.compress(b""), b'{"meta": {"count": 0}, "results": []}', b"[]"], ids=repr
)
def test_a_file_of_blank_lines_or_an_empty_page_has_no_records_either(tmp_path, content):
    path = tmp_path / "nothing.json"
    path.write_bytes(content)
    status, _, err = run(path)
    assert status == 1
    assert f"no records in {path}" in err.splitlines()


def test_an_empty_file_among_good_ones_is_named_and_the_others_load(tmp_path):
    good, empty = tmp_path / "good.jsonl", tmp_path / "empty.jsonl"
    good.write_bytes(jsonl(work(1), work(2)))
    empty.write_bytes(b"")
    status, _, err = run(good, empty)
    assert status == 1
    assert err.splitlines()[-1] == f"CommandError: no records in {empty}; everything else was loaded."
    assert held() == {1, 2}


@pytest.mark.parametrize("pretty", [False, True], ids=["one line", "pretty-printed"])
def test_an_object_without_results_says_what_shape_was_expected(tmp_path, pretty):
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"meta": {"count": 2}, "group_by": []}, indent=2 if pretty else None))
    status, _, err = run(path)
    assert status == 1
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:1: a JSON object with neither `id` nor `results`")
    assert "expected an OpenAlex API result page (an object with `results`), a list of works, or JSON Lines" in first
    assert "id None" not in err
    assert not Work.objects.exists()


def test_a_single_work_pretty_printed_loads_as_it_does_on_one_line(tmp_path):
    path = tmp_path / "W7.json"
    path.write_text(json.dumps(work(7), indent=2))
    assert run(path)[0] == 0
    assert held() == {7}


def test_a_lone_json_value_says_what_shape_was_expected(tmp_path):
    path = tmp_path / "number.json"
    path.write_text("42\n")
    status, _, err = run(path)
    assert status == 1
    assert err.startswith(f"{path}:1: a lone JSON number, nothing in this file was read: expected an OpenAlex")


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 4000,  # NUL bytes, no newline for a megabyte
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\xff" * 1000,
        b"[\xff\xfe not utf-8]\n",
    ],
    ids=["bytes", "png", "not utf-8"],
)
def test_a_binary_file_is_named_as_not_json_text_and_nothing_loads(tmp_path, content):
    path = tmp_path / "photo.json"
    path.write_bytes(content)
    status, _, err = run(path)
    assert status == 1
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:1: not JSON text (binary data?), nothing in this file was read")
    assert "expected an OpenAlex API result page" in first
    assert len(err) < 1_000
    assert not Work.objects.exists()


def test_a_truncated_gzip_file_loads_what_came_before_the_cut_names_the_line_and_exits_1(tmp_path):
    whole = gzip.compress(jsonl(*(work(n) for n in range(1, 2001))))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    status, _, err = run(path)
    assert status == 1
    [message, error] = err.splitlines()
    loaded = len(held())
    assert 0 < loaded < 2000
    assert held() == set(range(1, loaded + 1))  # the lines before the cut, whole, and nothing after
    assert message == (
        f"{path}:{loaded + 1}: the file cannot be read past this line: "
        "Compressed file ended before the end-of-stream marker was reached"
    )
    assert error == "CommandError: 1 malformed record(s) skipped; everything else was loaded."


def test_a_truncated_gzipped_document_is_named_and_nothing_loads(tmp_path):
    whole = gzip.compress(json.dumps({"results": [work(n) for n in range(1, 200)]}, indent=2).encode())
    path = tmp_path / "page.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    status, _, err = run(path)
    assert status == 1
    assert err.startswith(f"{path}:1: the file cannot be read: Compressed file ended")
    assert not Work.objects.exists()


def test_a_gzip_header_with_no_stream_behind_it_is_named(tmp_path):
    path = tmp_path / "works.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate")
    status, _, err = run(path)
    assert status == 1
    assert err.startswith(f"{path}:1: the file cannot be read: ")
    assert "Traceback" not in err


def test_a_broken_line_mid_file_is_named_and_the_lines_around_it_load(tmp_path):
    path = tmp_path / "works.jsonl"
    path.write_bytes(jsonl(work(1), work(2)) + b'{"id": "W3", "title": "cut he\n' + jsonl(work(4)))
    status, _, err = run(path)
    assert status == 1
    [message, error] = err.splitlines()
    assert message.startswith(f"{path}:3: not valid JSON: ")
    assert error == "CommandError: 1 malformed record(s) skipped; everything else was loaded."
    assert held() == {1, 2, 4}


def test_a_line_without_an_id_mid_file_says_what_a_line_should_be(tmp_path):
    path = tmp_path / "works.jsonl"
    path.write_bytes(jsonl(work(1), {"title": "no id"}, work(3)))
    status, _, err = run(path)
    assert status == 1
    assert err.startswith(f"{path}:2: a JSON object with neither `id` nor `results`: expected")
    assert held() == {1, 3}


def test_a_50_mb_title_is_cut_with_a_warning_the_record_loads_and_its_page_stays_small(tmp_path, client):
    path = tmp_path / "big.jsonl"
    # A real 50 MB line, made here: words, entities and all, as a runaway title would arrive.
    title = ("Sea ice &amp; snow " * (FIFTY_MB // 19 + 1))[:FIFTY_MB]
    authors = [{"author": {"id": "https://openalex.org/A5", "display_name": "N" * 5_000, "orcid": None}}]
    path.write_bytes(jsonl(work(1), work(2, title=title, type="dataset", authorships=authors), work(3)))
    assert path.stat().st_size > FIFTY_MB

    status, out, err = run(path, corpus="all")

    assert status == 0
    cleaned = " ".join(title.replace("&amp;", "&").split())
    kept = len(cleaned)
    assert err.splitlines() == [
        f"{path}:2: warning: title cut to 2,000 characters (the record's title had {kept:,}); the record was loaded",
        f"{path}:2: warning: authorships[1].author.display_name cut to 500 characters "
        "(the record's authorships[1].author.display_name had 5,000); the record was loaded",
    ]
    assert "Fields cut to size:    2" in out
    assert held() == {1, 2, 3}
    stored = Work.objects.get(id=2)
    assert stored.title == cleaned[:2_000]
    assert len(stored.title) == 2_000
    assert stored.truncated == {
        "title": {"length": kept, "kept": 2_000},
        "authorships[1].author.display_name": {"length": 5_000, "kept": 500},
    }
    assert len(Author.objects.get(id=5).display_name) == 500

    page = client.get("/papers/W2/")
    assert page.status_code == 200
    assert len(page.content) < 1_000_000
    assert f"… [truncated by DataRank: the record's title had {kept:,} characters]" in page.content.decode()


def test_a_reloaded_record_that_fits_clears_its_truncation(tmp_path):
    long, short = tmp_path / "long.jsonl", tmp_path / "short.jsonl"
    long.write_bytes(jsonl(work(1, title="x" * 3_000)))
    short.write_bytes(jsonl(work(1, title="Fixed", updated_date=timezone.now().date().isoformat())))
    run(long)
    assert Work.objects.get(id=1).truncated == {"title": {"length": 3_000, "kept": 2_000}}
    status, _, err = run(short)
    assert (status, err) == (0, "")
    assert Work.objects.get(id=1).truncated == {}
