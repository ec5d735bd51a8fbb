"""The corpus stages of a snapshot build (papers.openalex.snapshot) on real OpenAlex records:
the parts a manifest lists, what DuckDB extracts against what parse_work reads, the data-paper
verdicts against papers.datapaper's, bad input named part:line, the newest copy of a work
winning, and a second run skipping what the first finished."""

import gzip
import json
import shutil
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from papers.datapaper import check_data_paper
from papers.models import Affiliation, Author, Authorship, Institution, Work
from papers.openalex.files import BadRecord, WorkFile
from papers.openalex.records import Author as AuthorRecord
from papers.openalex.records import Institution as InstitutionRecord
from papers.openalex.records import Truncation, WorkRecord
from papers.openalex.snapshot import SnapshotBuild, export_held, held_corpus_ids, open_snapshot
from tests.conftest import FIXTURES, SNAPSHOT

LAYOUT = FIXTURES / "openalex" / "snapshot-layout" / "works"
JUNK = LAYOUT / "updated_date=2023-05-16" / "part_000.gz"
JUNK_NAME = "updated_date=2023-05-16/part_000.gz"
SAMPLE_PARTS = 3


def write_part(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(b"".join(line + b"\n" for line in lines)))
    return path


def write_manifest(works: Path, *, records: dict[str, int] | None = None) -> None:
    """OpenAlex's manifest for the parts under `works`, counting their non-empty lines
    (`records` overrides a part's count)."""
    entries = []
    for part in sorted(works.glob("updated_date=*/*.gz")):
        name = part.relative_to(works).as_posix()
        with gzip.open(part, "rb") as lines:
            count = sum(1 for line in lines if line.strip())
        count = (records or {}).get(name, count)
        entries.append(
            {
                "url": f"s3://openalex/data/works/{name}",
                "meta": {"content_length": part.stat().st_size, "record_count": count},
            }
        )
    (works / "manifest").write_text(json.dumps({"entries": entries, "meta": {}}))


def make_snapshot(root: Path, *, parts: int = SAMPLE_PARTS) -> Path:
    """The bundled snapshot file split into `parts` partitions, plus the real junk part, in the
    layout OpenAlex publishes, with a manifest; returns the works folder."""
    works = root / "data" / "works"
    with gzip.open(SNAPSHOT, "rb") as stream:
        lines = stream.read().split(b"\n")
    lines = [line for line in lines if line]
    size = -(-len(lines) // parts)
    for number in range(parts):
        write_part(
            works / f"updated_date=2026-02-0{number + 1}" / "part_000.gz", lines[number * size : (number + 1) * size]
        )
    (works / JUNK_NAME).parent.mkdir(parents=True)
    shutil.copy(JUNK, works / JUNK_NAME)
    write_manifest(works)
    return works


def records_of(*paths: Path) -> list[WorkRecord]:
    return [item for path in paths for item in WorkFile(path) if not isinstance(item, BadRecord)]


def extracted(build: SnapshotBuild, name: str) -> dict[int, dict]:
    result = build.db.execute(f"SELECT * FROM read_parquet('{build.path(name)}')")
    columns = [column[0] for column in result.description]
    rows = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    return {row["id"]: row for row in rows}


def notes(work: dict) -> tuple[Truncation, ...]:
    return tuple(Truncation(**note) for note in work["truncated"])


def authors_of(work: dict) -> tuple[AuthorRecord, ...]:
    """The extracted authors, as parse_work gives them."""
    return tuple(
        AuthorRecord(
            author["id"], author["display_name"], author["orcid"], author["author_position"],
            tuple(author["raw_affiliations"]),
            tuple(InstitutionRecord(**institution) for institution in author["institutions"]),
        )
        for author in work["authors"]
    )  # fmt: skip


def researcher_rows() -> dict[str, list[tuple]]:
    """Every field of every authorship, institution and affiliation held, the ids of the rows aside."""
    authorship = [field.attname for field in Authorship._meta.concrete_fields if not field.primary_key]
    affiliation = [field.attname for field in Affiliation._meta.concrete_fields if not field.primary_key]
    return {
        "authorships": list(Authorship.objects.order_by("work_id", "author_id").values_list(*authorship)),
        "institutions": list(Institution.objects.order_by("id").values_list()),
        "affiliations": list(Affiliation.objects.order_by(*affiliation).values_list(*affiliation)),
    }


def new_build(snapshot: Path, workdir: Path) -> SnapshotBuild:
    return SnapshotBuild(snapshot=open_snapshot(snapshot), workdir=workdir, threads=2, memory_limit=None, cap=200)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sample snapshot through the extract and check stages, once for the module."""
    root = tmp_path_factory.mktemp("snapshot")
    works = make_snapshot(root)
    build = new_build(root, root / "work")
    build.extract()
    build.check()
    yield build, works
    build.close()


def test_it_reads_the_parts_a_manifest_lists_in_name_order(built):
    build, works = built
    names = [part.name for part in build.snapshot.parts]
    assert names == [JUNK_NAME, *(f"updated_date=2026-02-0{n}/part_000.gz" for n in (1, 2, 3))]
    assert build.snapshot.manifest == works / "manifest"
    assert build.snapshot.problems == ()
    assert build.report.mismatched == []


def test_it_names_each_part_the_real_manifest_lists_that_is_not_here():
    snapshot = open_snapshot(LAYOUT)
    assert len(snapshot.parts) == 1
    assert len(snapshot.problems) == 464
    assert all(": missing (the manifest lists " in problem for problem in snapshot.problems)
    assert "updated_date=2023-09-03/part_013.gz: missing (the manifest lists 578,468 records, 882,983,201 bytes)" in (
        snapshot.problems
    )


def test_it_names_a_part_shorter_than_the_manifest_says(tmp_path):
    works = make_snapshot(tmp_path, parts=1)
    part = works / "updated_date=2026-02-01" / "part_000.gz"
    part.write_bytes(part.read_bytes()[:-100])
    problems = open_snapshot(works).problems
    assert len(problems) == 1
    assert problems[0].startswith("updated_date=2026-02-01/part_000.gz: ")
    assert "bytes, the manifest says" in problems[0]


def test_it_extracts_what_parse_work_reads_from_every_record(built):
    build, _ = built
    works = extracted(build, "works.parquet")
    records = [record for record in records_of(SNAPSHOT, JUNK) if record.type != "grant"]
    assert len(works) == len(records) == 3_684 + 1
    for record in records:
        work = works[record.id]
        assert {
            "doi": work["doi"],
            "title": work["title"],
            "abstract": work["abstract"],
            "publication_year": work["publication_year"],
            "venue": work["venue"],
            "type": work["type"],
            "cited_by_count": work["cited_by_count"],
            "referenced_works_count": work["referenced_works_count"],
            "is_oa": work["is_oa"],
            "oa_status": work["oa_status"],
            "is_retracted": work["is_retracted"],
            "indexed_in": work["indexed_in"],
            "topics": work["topics"],
            "repository_locations": work["repository_locations"],
            "openalex_updated": work["updated"],
            "license": work["license"],
            "datasets": tuple(work["datasets"]),
            "source_type": work["source_type"],
            "authors_truncated": work["authors_truncated"],
            "authors": authors_of(work),
            "unidentified_authors": work["unidentified_authors"],
            "primary_topic": work["primary_topic"]
            and tuple((level["id"], level["name"]) for level in work["primary_topic"].values()),
            "truncated": notes(work),
        } == {
            "doi": record.doi,
            "title": record.title,
            "abstract": record.abstract,
            "publication_year": record.publication_year,
            "venue": record.venue,
            "type": record.type,
            "cited_by_count": record.cited_by_count,
            "referenced_works_count": record.referenced_works_count,
            "is_oa": record.is_oa,
            "oa_status": record.oa_status,
            "is_retracted": record.is_retracted,
            "indexed_in": record.indexed_in,
            "topics": record.topics,
            "repository_locations": record.repository_locations,
            "openalex_updated": record.openalex_updated,
            "license": record.license,
            "datasets": record.datasets,
            "source_type": record.source_type,
            "authors_truncated": record.authors_truncated,
            "authors": record.authors,
            "unidentified_authors": record.unidentified_authors,
            "primary_topic": record.primary_topic and tuple(record.primary_topic),
            "truncated": record.truncated,
        }, record.openalex_id


def test_it_drops_the_legacy_grant_records_of_the_junk_part(built):
    build, _ = built
    assert build.report.records == 3_684 + 27
    assert build.report.legacy_dropped == 26
    assert build.report.bad == []


def test_its_verdicts_are_the_data_paper_checks_on_every_record(built):
    build, _ = built
    verdicts = extracted(build, "verdicts.parquet")
    records = [record for record in records_of(SNAPSHOT, JUNK) if record.type != "grant"]
    passed = 0
    for record in records:
        verdict = check_data_paper(
            type=record.type,
            venue=record.venue,
            title=record.title,
            abstract=record.abstract,
            source_type=record.source_type,
        )
        got = verdicts[record.id]
        assert (got["passed"], got["confidence"], tuple(got["reasons"])) == (
            verdict.passed,
            verdict.confidence,
            verdict.reasons,
        ), record.openalex_id
        passed += verdict.passed
    assert passed == 57


def authorship(author_id: str | None = "https://openalex.org/A3", **fields) -> dict:
    """An authorship with every key OpenAlex writes, which DuckDB reads in one typed pass."""
    author = {"id": author_id, "display_name": "Ada", "orcid": None}
    return {"author": author, "author_position": "first", "raw_affiliation_strings": ["Lab"], "institutions": [],
            **fields}  # fmt: skip


def institution(number: int | None, **fields) -> dict:
    return {"id": number and f"https://openalex.org/I{number}", "display_name": f"Institution {number}",
            "ror": None, "country_code": "SA", "type": "education", "lineage": [], **fields}  # fmt: skip


MALFORMED = [
    {"id": None},
    {"id": "https://openalex.org/A5"},
    {"id": "W0"},
    {"cited_by_count": -1},
    {"cited_by_count": 2.5},
    {"cited_by_count": True},
    {"cited_by_count": None},
    {"referenced_works_count": "12"},
    {"referenced_works": ["not an id"]},
    {"referenced_works": ["https://openalex.org/W2", 7]},
    {"referenced_works": "W2"},
    {"title": 5},
    {"title": "", "display_name": ["x"]},
    {"doi": "https://doi.org/garbage"},
    {"authorships": [{"author": {"id": "https://openalex.org/W3"}}]},
    {"authorships": [{"author": {"id": "https://openalex.org/A3", "display_name": 4}}]},
    {"authorships": ["A3"]},
    {"authorships": [None]},
    # Every key there, so that only telling a number from a string stops them.
    {"authorships": [{"author": {"id": "https://openalex.org/A3", "display_name": 4, "orcid": None}}]},
    {"authorships": [authorship(author={"id": "https://openalex.org/A3", "display_name": True, "orcid": None})]},
    {"authorships": [authorship(author_position=1)]},
    {"authorships": [authorship(raw_affiliation_strings="Lab")]},
    {"authorships": [authorship(raw_affiliation_strings=["Lab", 5])]},
    {"authorships": [authorship(institutions=institution(5))]},
    {"authorships": [authorship(institutions=[None])]},
    {"authorships": [authorship(institutions=[institution(5, id="https://openalex.org/W5")])]},
    {"authorships": [authorship(institutions=[institution(5, id=5)])]},
    {"authorships": [authorship(institutions=[institution(5, ror=5)])]},
    {"authorships": [authorship(institutions=[institution(5, type=False)])]},
    {"authorships": [authorship(), authorship(institutions=[institution(5, id="I0")])]},
    {"authorships": [{"author": {"id": "A3"}, "institutions": [{"id": "I5", "country_code": ["SA"]}]}]},
    {"authorships": [{"author": {"id": "A3"}, "author_position": {"first": True}}]},
    {"abstract_inverted_index": {"word": "0"}},
    {"abstract_inverted_index": {"word": [0.5]}},
    {"abstract_inverted_index": {"word": [True]}},
    {"publication_year": "2020"},
    {"publication_year": 40000},
    {"updated_date": "yesterday"},
    {"updated_date": 20250101},
    {"is_retracted": "no"},
    {"open_access": {"is_oa": 1}},
    {"primary_location": {"source": "PANGAEA"}},
    {"locations": [{"source": {"type": "repository", "display_name": "Zenodo"}, "landing_page_url": 5}]},
    {"topics": [{"display_name": 3}]},
    {"primary_topic": "T1"},
    {"primary_topic": {"id": "https://openalex.org/T1", "display_name": ["x"]}},
    {"datasets": "W5"},
]
ACCEPTED = [
    {"id": " https://openalex.org/W12/ "},
    {"referenced_works": ["w3", " https://openalex.org/W4 ", "https://openalex.org/W1"]},
    {"referenced_works_count": None, "referenced_works": ["W3", "W3"]},
    {"doi": "HTTP://DX.DOI.ORG/10.1002/%28SICI%291097"},
    {"doi": "doi: 10.5555/ABC"},
    {"title": "R&amp;D of CO&amp;lt;sub&amp;gt;2\\n\u00a0 tests"},
    {"title": None, "display_name": "From the display name"},
    {"abstract_inverted_index": {"b": [1, 3], "a": [0], "": [2], "x&amp;y": [4]}},
    {"authorships": [{"author": None}, {"author": {"id": None, "display_name": 5}}, {"author": {"id": "a7"}}]},
    {
        "authorships": [
            authorship(
                institutions=[
                    institution(None, display_name=None, country_code=None, type=None),
                    institution(5, country_code=None, type=None),
                ]
            )
        ]
    },
    # Every key there, but ids in a short form: they are read the slower way.
    {"authorships": [authorship("a3", institutions=[institution(5, id=" i5 ")]), authorship("A4")]},
    # What an authorship without an author id holds is never read.
    {
        "authorships": [
            authorship(None, author_position=5, raw_affiliation_strings=[5], institutions=[None]),
            authorship(author_position=None, raw_affiliation_strings=None, institutions=None),
        ]
    },
    {
        "authorships": [
            {
                "author": {"id": "a3"},
                "raw_affiliation_strings": ["R&amp;D\\n  lab", "", "R&D lab"],
                "institutions": [{"id": " i5 "}, {"id": "https://openalex.org/I5/", "display_name": "Later"}],
            }
        ]
    },
    {
        "authorships": [
            authorship(institutions=[institution(5)]),
            authorship(
                author_position="last",
                raw_affiliation_strings=["Other", "Lab"],
                institutions=[institution(6), institution(5, display_name="Again")],
            ),
        ]
    },
    {"updated_date": "2025-11-14T05:43:12.345678"},
    {"updated_date": "20251114"},
    {"host_venue": {"display_name": "Older venue"}},
    {"locations": [{"source": {"type": "journal", "display_name": 5}}]},
    {
        "locations": [
            {
                "source": {"type": "repository", "display_name": "PANGAEA"},
                "landing_page_url": 0,
                "pdf_url": "https://x.org/a.pdf",
            }
        ]
    },
    {"datasets": ["W9", 5, "nonsense"]},
    {"primary_topic": {"id": "T1", "display_name": "Topic", "subfield": None}},
    {"publication_year": None, "type": None, "open_access": None},
]


def test_it_skips_exactly_the_records_parse_work_rejects_and_reads_the_rest_as_it_does(tmp_path):
    base = {"id": "https://openalex.org/W1", "cited_by_count": 0, "referenced_works_count": 0}
    raws = [{**base, **change, **({"id": f"W{n + 10}"} if "id" not in change else {})}
            for n, change in enumerate(MALFORMED + ACCEPTED)]  # fmt: skip
    part = write_part(tmp_path / "works" / "part.jsonl.gz", [json.dumps(raw).encode() for raw in raws])
    build = new_build(tmp_path / "works", tmp_path / "work")
    build.extract()
    expected = [item for item in WorkFile(part)]
    bad = [item for item in expected if isinstance(item, BadRecord)]
    assert [(b.line, b.reason) for b in build.report.bad] == [(b.line, b.reason) for b in bad]
    assert len(bad) == len(MALFORMED)
    works = extracted(build, "works.parquet")
    for record in (item for item in expected if isinstance(item, WorkRecord)):
        work = works[record.id]
        assert (work["doi"], work["title"], work["abstract"], work["venue"], work["referenced_works_count"],
                work["updated"], tuple(work["datasets"]), authors_of(work), work["unidentified_authors"],
                work["repository_locations"], work["primary_topic"]) == (
            record.doi, record.title, record.abstract, record.venue, record.referenced_works_count,
            record.openalex_updated, record.datasets, record.authors, record.unidentified_authors,
            record.repository_locations, None,
        ), record.openalex_id  # fmt: skip
    build.close()


def test_it_names_bad_lines_and_bad_parts_and_goes_on(tmp_path):
    works = tmp_path / "works"
    good = json.dumps({"id": "W5", "cited_by_count": 1, "referenced_works": ["W6"]}).encode()
    bad_reference = json.dumps({"id": "W7", "cited_by_count": 0, "referenced_works": ["W1", "x"]}).encode()
    write_part(works / "a.jsonl.gz", [good, b"", b"{not json", json.dumps({"title": "no id"}).encode(), bad_reference])
    (works / "b.jsonl.gz").write_bytes(b'{"id": "W8", "cited_by_count": 0}\n')
    cut = gzip.compress(
        b"".join(json.dumps({"id": f"W{n}", "cited_by_count": 0}).encode() + b"\n" for n in range(9, 999))
    )
    (works / "c.jsonl.gz").write_bytes(cut[: len(cut) // 2])
    build = new_build(works, tmp_path / "work")
    build.extract()
    truncated = build.report.bad.pop(1)
    assert str(truncated).startswith("c.jsonl.gz: cannot be read, the part is skipped: ")
    assert [str(bad) for bad in build.report.bad] == [
        "b.jsonl.gz: not a gzip file; the part is skipped",
        "a.jsonl.gz:3: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "a.jsonl.gz:4: id None is not an OpenAlex work id (W…)",
        "a.jsonl.gz:5: referenced_works holds 'x', which is not an OpenAlex work id",
    ]
    assert build.report.records == 4
    assert list(extracted(build, "works.parquet")) == [5]
    build.close()


def test_a_work_met_twice_keeps_its_newest_record(tmp_path):
    works = tmp_path / "works"

    def line(title: str, **fields) -> bytes:
        return json.dumps({"id": "W1", "cited_by_count": 0, "title": title, **fields}).encode()

    write_part(works / "updated_date=2025-01-01" / "part_000.gz", [line("dated newest", updated_date="2025-06-01")])
    write_part(works / "updated_date=2025-03-01" / "part_000.gz", [line("undated, in a March partition")])
    other = json.dumps({"id": "W2", "cited_by_count": 0}).encode()
    write_part(
        works / "updated_date=2025-05-01" / "part_000.gz", [line("dated older", updated_date="2024-01-01"), other]
    )
    write_manifest(works)
    build = new_build(works, tmp_path / "work")
    build.extract()
    assert extracted(build, "works.parquet")[1]["title"] == "dated newest"
    assert build.report.duplicates == 2
    build.close()


def test_a_second_run_skips_every_finished_stage_and_redoes_only_a_changed_part(tmp_path):
    works = make_snapshot(tmp_path, parts=2)
    first = new_build(works, tmp_path / "work")
    first.extract()
    first.check()
    first.references(extra_corpus_ids=np.zeros(0, np.int64))
    first.close()
    again = new_build(works, tmp_path / "work")
    again.extract()
    again.check()
    again.references(extra_corpus_ids=np.zeros(0, np.int64))
    assert [(stage.name, stage.skipped) for stage in again.report.stages] == [
        ("extract parts", True),
        ("works", True),
        ("verdicts", True),
        ("corpus_links", True),
    ]
    again.close()
    part = works / "updated_date=2026-02-02" / "part_000.gz"
    with gzip.open(part, "rb") as stream:
        kept = stream.read().split(b"\n")[:-2]
    write_part(part, kept)
    write_manifest(works)
    changed = new_build(works, tmp_path / "work")
    changed.extract()
    assert [(stage.name, stage.skipped) for stage in changed.report.stages] == [
        ("extract parts", False),
        ("works", False),
    ]
    assert changed.report.works == 3_684 - 1 + 1
    assert len(list((tmp_path / "work" / "extract").glob("*.parquet"))) == 4  # the old copy of the part stays
    changed.close()


def over_long_work(number: int, *, every_key: bool) -> dict:
    """A work with every text field past its cap (records.CAPS). With `every_key`, each
    authorship has every key OpenAlex writes (the author's id, name and ORCID, the position, the
    affiliation strings and institutions), which DuckDB reads as one typed list; without, the
    slower way. Its second author is listed twice, with more institutions and strings the
    second time."""
    orcid = "https://orcid.org/" + "0" * 200
    level = {"id": "https://openalex.org/fields/22", "display_name": "F" * 700}
    authors = [
        {"id": None, "display_name": "N" * 900, "orcid": None},
        {"id": f"https://openalex.org/A{number}", "display_name": "A" * 501, "orcid": orcid},
        {"id": f"https://openalex.org/A{number}", "display_name": "B" * 900, "orcid": None},
        {"id": f"https://openalex.org/A{number + 1}", "display_name": "Short", "orcid": "https://orcid.org/1"},
    ]
    long = institution(number, display_name="I" * 501, ror="https://ror.org/" + "r" * 100, country_code="SAU",
                       type="e" * 51)  # fmt: skip
    places = [
        {"author_position": "n" * 20, "raw_affiliation_strings": ["N" * 3_000], "institutions": [long]},
        {"author_position": "p" * 11, "raw_affiliation_strings": ["X" * 2_001, "Lab"],
         "institutions": [long, institution(None, display_name=None, country_code=None, type=None)]},
        {"author_position": "middle", "raw_affiliation_strings": ["Lab", "Other " * 400],
         "institutions": [institution(number, display_name="Again"), institution(number + 1)]},
        {"author_position": "last", "raw_affiliation_strings": ["R&amp;D\\n centre"], "institutions": []},
    ]  # fmt: skip
    authorships = [{"author": author, **place} for author, place in zip(authors, places, strict=True)]
    if not every_key:
        del authors[3]["orcid"]
        del authorships[1]["author_position"]
        authorships[0]["institutions"] = [None]
    return {
        "id": f"https://openalex.org/W{number}",
        "cited_by_count": 3,
        "doi": "https://doi.org/10.1234/" + "d" * 300,
        "title": "A &amp; B " * 300_000,
        "abstract_inverted_index": {"data": list(range(0, 60_000, 2)), "set\u00e9": list(range(1, 60_000, 2))},
        "type": "dataset" + "t" * 60,
        "open_access": {"is_oa": True, "oa_status": "gold" * 10},
        "primary_location": {"source": {"display_name": "V" * 600, "type": "r" * 40}, "license": "L" * 150},
        "indexed_in": ["crossref", "\U0001f600" * 101],
        "topics": [{"display_name": ""}, {"display_name": "T" * 501}],
        "locations": [
            {"source": {"type": "journal", "display_name": "J" * 900}},
            {
                "source": {"type": "repository", "display_name": "R" * 501},
                "landing_page_url": "https://r.org/" + "p" * 2_000,
            },
            {"source": {"type": "repository", "display_name": "Zenodo"}, "pdf_url": "https://zenodo.org/x.pdf"},
        ],
        "authorships": authorships,
        "primary_topic": {"id": "T5", "display_name": "P" * 501, "subfield": level, "field": level, "domain": level},
    }


def test_it_cuts_over_long_fields_exactly_as_parse_work_does_and_names_them(tmp_path):
    short = {"id": "W2", "cited_by_count": 0, "title": "Short"}
    lines = [short, over_long_work(10, every_key=True), over_long_work(20, every_key=False)]
    part = write_part(tmp_path / "works" / "part.jsonl.gz", [json.dumps(line).encode() for line in lines])
    build = new_build(tmp_path / "works", tmp_path / "work")
    build.extract()
    build.check()
    cuts = []
    records = [item for item in WorkFile(part, on_truncation=cuts.append) if isinstance(item, WorkRecord)]
    assert build.report.bad == []
    works, verdicts = extracted(build, "works.parquet"), extracted(build, "verdicts.parquet")
    for record in records:
        got = works[record.id]
        assert (
            got["doi"], got["title"], got["abstract"], got["venue"], got["type"], got["oa_status"], got["license"],
            got["source_type"], got["indexed_in"], got["topics"], got["repository_locations"], authors_of(got),
            got["primary_topic"] and tuple((level["id"], level["name"]) for level in got["primary_topic"].values()),
            notes(got),
        ) == (
            record.doi, record.title, record.abstract, record.venue, record.type, record.oa_status, record.license,
            record.source_type, record.indexed_in, record.topics, record.repository_locations, record.authors,
            record.primary_topic and tuple(record.primary_topic), record.truncated,
        ), record.openalex_id  # fmt: skip
        verdict = check_data_paper(
            type=record.type, venue=record.venue, title=record.title, abstract=record.abstract,
            source_type=record.source_type,
        )  # fmt: skip
        assert verdicts[record.id]["passed"] is verdict.passed
    assert [len(record.truncated) for record in records] == [0, 25, 24]
    assert records[1].authors[0].institutions[1:] == (InstitutionRecord(11, "Institution 11", "SA", "", "education"),)
    assert len(records[1].title) == 2_000
    assert [(cut.line, str(cut.truncation)) for cut in cuts] == [
        (cut.line, cut.reason) for cut in build.report.truncated
    ]
    assert {cut.part for cut in build.report.truncated} == {"part.jsonl.gz"}
    assert str(build.report.truncated[1]) == (
        "part.jsonl.gz:2: title cut to 2,000 characters (the record's title had 1,799,999)"
    )
    build.close()


@pytest.mark.django_db
def test_a_published_build_holds_the_cut_fields_exactly_as_load_openalex_leaves_them(tmp_path):
    lines = [{**over_long_work(10, every_key=True), "type": "dataset"}, over_long_work(20, every_key=False)]
    lines[1]["type"] = "dataset"
    part = write_part(tmp_path / "works" / "part.jsonl.gz", [json.dumps(line).encode() for line in lines])
    build = new_build(tmp_path / "works", tmp_path / "work")
    build.extract()
    build.check()
    held = export_held()
    build.references(extra_corpus_ids=held_corpus_ids(held))
    build.citers(held=held)
    with transaction.atomic():
        build.publish_corpus(fetched_at=timezone.now())
    build.close()
    published = held_rows()
    assert published["works"][0][-1]["title"] == {"length": 1_799_999, "kept": 2_000}
    assert published["works"][0][-1]["doi"] == {"length": 308, "kept": 0}
    assert published["institutions"][0] == (10, "I" * 500, "", "", "e" * 50)

    clear_researchers()
    call_command("load_openalex", str(part), stdout=StringIO(), stderr=StringIO())
    assert held_rows() == published


def clear_researchers() -> None:
    """No work, author or institution held (their authorships and affiliations go with them)."""
    Work.objects.all().delete()
    Author.objects.all().delete()
    Institution.objects.all().delete()


def held_rows() -> dict[str, list[tuple]]:
    work_columns = [
        "id", "doi", "title", "abstract", "venue", "type", "oa_status", "license", "source_type", "indexed_in",
        "topics", "repository_locations", "primary_topic", "unidentified_authors", "truncated",
    ]  # fmt: skip
    return {
        "works": list(Work.objects.order_by("id").values_list(*work_columns)),
        "authors": list(Author.objects.order_by("id").values_list("id", "display_name", "orcid")),
        **researcher_rows(),
    }
