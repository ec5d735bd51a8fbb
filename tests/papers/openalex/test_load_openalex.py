import gzip
import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from papers.models import Affiliation, Author, Authorship, Citation, CorpusEntry, Institution, Work
from papers.openalex import ingest
from papers.openalex.files import BadRecord, WorkFile
from papers.openalex.ingest import load_records
from papers.openalex.records import WorkRecord, openalex_number, parse_work
from scoring.fair.evaluate import arrived_work_ids
from scoring.models import FairEvaluation
from tests.conftest import API_DIR, SAMPLE_DIR, SNAPSHOT

pytestmark = pytest.mark.django_db

SEEDS = API_DIR / "snowball_seeds_W3045921891_W3046863325.json"
CITERS = API_DIR / "snowball_citers_cites_W3046863325_or_W3045921891.json"
REFERENCES = API_DIR / "snowball_references_cited_by_W3046863325_or_W3045921891.json"
BERT = 2963341956
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def load(*paths, corpus="data"):
    out, err = StringIO(), StringIO()
    call_command("load_openalex", *map(str, paths), corpus=corpus, stdout=out, stderr=err)
    return out.getvalue()


def results(path: Path) -> list[dict]:
    return json.loads(path.read_text())["results"]


def work(number: int, **fields) -> dict:
    return {
        "id": f"https://openalex.org/W{number}",
        "title": f"Work {number}",
        "cited_by_count": 1,
        "referenced_works_count": 0,
        **fields,
    }


def author(number: int) -> dict:
    return {"author": {"id": f"https://openalex.org/A{number}", "display_name": f"Author {number}", "orcid": None}}


def write_lines(path: Path, lines: list[str], *, gzipped: bool = False) -> Path:
    data = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def dump() -> dict[str, list[tuple]]:
    """Every row of every table loading writes, every column."""
    tables = {}
    for model in (Work, Author, Authorship, Institution, Affiliation, Citation, CorpusEntry):
        columns = [field.attname for field in model._meta.concrete_fields]
        tables[model.__name__] = sorted(model.objects.values_list(*columns), key=repr)
    return tables


def links_between(raws: list[dict]) -> set[tuple[int, int]]:
    held = {raw["id"] for raw in raws}
    return {
        (openalex_number(raw["id"]), openalex_number(cited))
        for raw in raws
        for cited in raw["referenced_works"]
        if cited in held and cited != raw["id"]
    }


# Formats


def test_it_loads_an_api_result_page():
    summary = load(CITERS)
    assert set(Work.objects.values_list("id", flat=True)) == {
        int(raw["id"].rsplit("W", 1)[1]) for raw in results(CITERS)
    }
    assert "Records read:          5" in summary
    assert "Malformed records:     0" in summary


def test_it_loads_a_json_list_of_pages(tmp_path):
    pages = tmp_path / "pages.json"
    pages.write_text(json.dumps([json.loads(SEEDS.read_text()), json.loads(CITERS.read_text())], indent=2))
    load(pages)
    assert Work.objects.count() == 2 + 5


def test_it_loads_a_plain_json_list_of_works(tmp_path):
    works = tmp_path / "works.json"
    works.write_text(json.dumps(results(SEEDS)))
    load(works)
    assert set(Work.objects.values_list("id", flat=True)) == {3045921891, 3046863325}


@pytest.mark.parametrize("gzipped", [True, False])
def test_it_loads_json_lines_telling_gzip_by_its_bytes_not_its_name(tmp_path, gzipped):
    # The names lie on purpose: the gzipped one is called .jsonl, the plain one .gz.
    path = tmp_path / ("works.jsonl" if gzipped else "works.jsonl.gz")
    write_lines(path, [json.dumps(raw) for raw in results(CITERS)], gzipped=gzipped)
    load(path)
    assert Work.objects.count() == 5


def test_it_loads_a_gzipped_result_page_on_one_line(tmp_path):
    path = write_lines(tmp_path / "page.bin", [json.dumps(json.loads(SEEDS.read_text()))], gzipped=True)
    load(path)
    assert Work.objects.count() == 2


def test_the_bundled_snapshot_loads_with_every_link_between_its_works():
    load(SNAPSHOT, corpus="none")
    with gzip.open(SNAPSHOT, "rt") as lines:
        expected = links_between([json.loads(line) for line in lines])
    held = Work.objects.values("id")
    assert Work.objects.count() == 3_684
    assert set(Citation.objects.filter(cited_id__in=held).values_list("citing_id", "cited_id")) == expected


def test_it_keeps_the_primary_topic_and_its_subfield_for_cohorts():
    load(SNAPSHOT, corpus="none")
    with gzip.open(SNAPSHOT, "rt") as lines:
        raws = {int(raw["id"].rsplit("W", 1)[-1]): raw for raw in map(json.loads, lines)}
    held = {work.id: work for work in Work.objects.all()}

    with_topic = [number for number, raw in raws.items() if raw.get("primary_topic")]
    assert len(with_topic) == 3_594
    for number in with_topic[:50]:
        subfield = raws[number]["primary_topic"]["subfield"]
        assert held[number].subfield_id == int(subfield["id"].rsplit("/", 1)[-1])
        assert held[number].primary_topic["subfield"]["name"] == subfield["display_name"]
    assert Work.objects.filter(subfield_id__isnull=True).count() == 3_684 - 3_594


def test_it_streams_json_lines_with_progress_in_compressed_bytes(tmp_path):
    path = write_lines(tmp_path / "works.jsonl.gz", [json.dumps(raw) for raw in results(REFERENCES)], gzipped=True)
    work_file = WorkFile(path)
    assert work_file.bytes_read() == 0
    items = iter(work_file)
    assert isinstance(next(items), WorkRecord)
    assert 0 < work_file.bytes_read() <= work_file.size
    assert len(list(items)) == 37
    assert work_file.bytes_read() == work_file.size


# Idempotence


def test_loading_the_same_files_twice_leaves_exactly_the_same_rows():
    files = [SNAPSHOT, *sorted(API_DIR.glob("*.json"))]
    load(*files)
    first = dump()
    assert len(first["Work"]) == 3_684 + 220
    second_summary = load(*files)
    assert dump() == first
    assert "New works:             0" in second_summary
    assert "New citation links:    0" in second_summary
    assert "Corpus papers added:   0" in second_summary


# Malformed records


def test_a_file_with_a_broken_line_loads_the_rest_names_the_lines_and_exits_1(tmp_path):
    path = write_lines(
        tmp_path / "broken.jsonl",
        [
            json.dumps(work(1)),
            '{"id": "https://openalex.org/W2", "title": ',
            json.dumps(work(3)),
            json.dumps(work(4, cited_by_count=-5)),
            json.dumps(work(5)),
        ],
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 malformed record"):
        call_command("load_openalex", str(path), stdout=StringIO(), stderr=err)
    assert set(Work.objects.values_list("id", flat=True)) == {1, 3, 5}
    reported = err.getvalue().splitlines()
    assert reported[0].startswith(f"{path}:2: not valid JSON")
    assert reported[1] == f"{path}:4: cited_by_count -5 is negative"


def test_a_malformed_record_never_overwrites_what_is_stored(tmp_path):
    load(write_lines(tmp_path / "good.jsonl", [json.dumps(work(1, cited_by_count=7))]))
    with pytest.raises(CommandError):
        load(write_lines(tmp_path / "bad.jsonl", [json.dumps(work(1, cited_by_count="many"))]))
    assert Work.objects.get(id=1).cited_by_count == 7


def test_it_names_the_record_of_a_json_document_that_is_malformed(tmp_path):
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"meta": {}, "results": [work(1), work(2, id="W"), work(3)]}, indent=2))
    items = list(WorkFile(path))
    assert [type(item) for item in items] == [WorkRecord, BadRecord, WorkRecord]
    assert str(items[1]).startswith(f"{path}:2: record 2 of the document: id 'W'")


def test_it_names_the_line_of_a_json_syntax_error(tmp_path):
    path = tmp_path / "page.json"
    path.write_text('{\n  "meta": {},\n  "results": [\n    {"id": "W1",}\n  ]\n}\n')
    [item] = list(WorkFile(path))
    assert isinstance(item, BadRecord) and item.line == 4


def test_a_truncated_gzip_file_loads_what_came_before_the_cut(tmp_path):
    whole = gzip.compress("".join(json.dumps(work(n)) + "\n" for n in range(1, 2001)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    items = list(WorkFile(path))
    assert isinstance(items[-1], BadRecord) and "cannot be read" in items[-1].reason
    assert 0 < len(items) - 1 < 2000


def test_a_missing_file_is_refused_before_anything_loads(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        load(SEEDS, tmp_path / "absent.json")
    assert not Work.objects.exists()


# Quirks of real data


def test_it_stores_bert_with_its_empty_title():
    load(REFERENCES)
    bert = Work.objects.get(id=BERT)
    assert bert.title == ""
    assert bert.doi == "10.18653/v1/n19-1423"


def test_it_stores_a_null_abstract_and_a_null_source_as_empty():
    load(SEEDS)
    without_source = Work.objects.get(id=3046863325)
    assert without_source.venue == ""
    raw = next(raw for raw in results(REFERENCES) if raw["abstract_inverted_index"] is None)
    load(REFERENCES)
    assert Work.objects.get(id=parse_work(raw).id).abstract == ""


def test_it_keeps_a_referenced_works_count_of_zero_and_markup_in_titles(tmp_path):
    load(write_lines(tmp_path / "w.jsonl", [json.dumps(work(1, title="CO<sub>2</sub> in <i>situ</i>"))]))
    stored = Work.objects.get(id=1)
    assert stored.referenced_works_count == 0
    assert stored.title == "CO<sub>2</sub> in <i>situ</i>"


def test_it_drops_a_self_reference_and_keeps_each_link_once(tmp_path):
    load(write_lines(tmp_path / "w.jsonl", [json.dumps(work(1, referenced_works=["W1", "W2", "W2", "w2"]))]))
    assert list(Citation.objects.values_list("citing_id", "cited_id")) == [(1, 2)]


def test_it_skips_authors_without_an_id(tmp_path):
    nameless = {"author": {"id": None, "display_name": "Kai Lu", "orcid": "https://orcid.org/0000-0002-9761-3457"}}
    load(write_lines(tmp_path / "w.jsonl", [json.dumps(work(1, authorships=[author(7), nameless, author(8)]))]))
    assert list(Authorship.objects.values_list("author_id", "position")) == [(7, 1), (8, 2)]


# Citation links


def test_it_keeps_a_link_to_a_work_not_held_yet_and_completes_it_when_the_work_arrives():
    load(SEEDS)
    link = Citation.objects.get(citing_id=3045921891, cited_id=BERT)
    assert not Work.objects.filter(id=BERT).exists()
    load(REFERENCES)
    assert Citation.objects.get(citing_id=3045921891, cited_id=BERT) == link
    assert Work.objects.get(id=BERT).citations.filter(citing_id=3045921891).exists()


def test_a_reloaded_work_with_new_authors_replaces_its_authorships(tmp_path):
    load(write_lines(tmp_path / "a.jsonl", [json.dumps(work(1, authorships=[author(7), author(8)]))]))
    kept = Authorship.objects.get(work_id=1, author_id=8).pk
    load(write_lines(tmp_path / "b.jsonl", [json.dumps(work(1, authorships=[author(8), author(9)]))]))
    rows = list(Authorship.objects.order_by("position").values_list("pk", "author_id", "position"))
    assert [row[1:] for row in rows] == [(8, 1), (9, 2)]
    assert rows[0][0] == kept


def test_a_truncated_author_list_does_not_drop_the_authors_it_cut(tmp_path):
    load(write_lines(tmp_path / "a.jsonl", [json.dumps(work(1, authorships=[author(7), author(8)]))]))
    load(write_lines(tmp_path / "b.jsonl", [json.dumps(work(1, authorships=[author(7)], is_authors_truncated=True))]))
    assert set(Authorship.objects.values_list("author_id", flat=True)) == {7, 8}


def test_an_older_record_does_not_overwrite_a_fresher_one(tmp_path):
    load(write_lines(tmp_path / "new.jsonl", [json.dumps(work(1, cited_by_count=90, updated_date="2026-01-01"))]))
    old = work(1, cited_by_count=10, updated_date="2024-01-01", referenced_works=["W2"])
    summary = load(write_lines(tmp_path / "old.jsonl", [json.dumps(old)]))
    assert "Older than held, kept: 1" in summary
    assert Work.objects.get(id=1).cited_by_count == 90
    assert Citation.objects.filter(citing_id=1, cited_id=2).exists()


# Self-citations


def test_it_flags_a_self_citation_when_citer_and_cited_share_an_author(tmp_path):
    load(
        write_lines(
            tmp_path / "w.jsonl",
            [
                json.dumps(work(1, authorships=[author(7), author(8)])),
                json.dumps(work(2, authorships=[author(9), author(8)], referenced_works=["W1"])),
                json.dumps(work(3, authorships=[author(10)], referenced_works=["W1"])),
            ],
        )
    )
    assert dict(Citation.objects.values_list("citing_id", "is_self_citation")) == {2: True, 3: False}


def test_a_self_citation_is_found_when_the_cited_work_arrives_later(tmp_path):
    load(write_lines(tmp_path / "citer.jsonl", [json.dumps(work(2, authorships=[author(8)], referenced_works=["W1"]))]))
    assert not Citation.objects.get().is_self_citation
    load(write_lines(tmp_path / "cited.jsonl", [json.dumps(work(1, authorships=[author(8)]))]))
    assert Citation.objects.get().is_self_citation


def test_a_self_citation_flag_clears_when_the_shared_author_goes(tmp_path):
    citer = work(2, authorships=[author(8)], referenced_works=["W1"])
    load(write_lines(tmp_path / "a.jsonl", [json.dumps(work(1, authorships=[author(8)])), json.dumps(citer)]))
    assert Citation.objects.get().is_self_citation
    load(write_lines(tmp_path / "b.jsonl", [json.dumps({**citer, "authorships": [author(9)]})]))
    assert not Citation.objects.get().is_self_citation


def test_a_missing_author_id_never_makes_a_self_citation(tmp_path):
    nameless = {"author": {"id": None, "display_name": "Same Person", "orcid": None}}
    load(
        write_lines(
            tmp_path / "w.jsonl",
            [
                json.dumps(work(1, authorships=[nameless])),
                json.dumps(work(2, authorships=[nameless], referenced_works=["W1"])),
            ],
        )
    )
    assert not Citation.objects.get().is_self_citation


# The corpus


def dataset(number: int, **fields) -> dict:
    return work(number, type="dataset", title=f"Observations {number}", **fields)


def test_corpus_data_lets_the_check_decide(tmp_path):
    load(write_lines(tmp_path / "w.jsonl", [json.dumps(dataset(1)), json.dumps(work(2))]), corpus="data")
    entries = {entry.work_id: entry for entry in CorpusEntry.objects.all()}
    assert entries[1].in_corpus and entries[1].check_passed
    assert entries[1].reasons == ["OpenAlex type is dataset"]
    assert entries[1].confidence == pytest.approx(0.95)
    assert entries[1].checked_at == NOW
    assert not entries[2].in_corpus and not entries[2].check_passed


def test_corpus_all_puts_every_work_in_and_still_records_the_check(tmp_path):
    load(write_lines(tmp_path / "w.jsonl", [json.dumps(dataset(1)), json.dumps(work(2))]), corpus="all")
    assert set(Work.objects.in_corpus().values_list("id", flat=True)) == {1, 2}
    assert not CorpusEntry.objects.get(work_id=2).check_passed


def test_corpus_none_creates_and_changes_no_corpus_entry(tmp_path):
    path = write_lines(tmp_path / "w.jsonl", [json.dumps(dataset(1))])
    load(path, corpus="none")
    assert not CorpusEntry.objects.exists()
    load(write_lines(tmp_path / "x.jsonl", [json.dumps(work(1))]), corpus="data")
    before = list(CorpusEntry.objects.values_list())
    load(path, corpus="none")
    assert list(CorpusEntry.objects.values_list()) == before


def test_loading_never_takes_a_paper_out_of_the_corpus(tmp_path):
    load(write_lines(tmp_path / "a.jsonl", [json.dumps(dataset(1))]))
    load(write_lines(tmp_path / "b.jsonl", [json.dumps(work(1, type="article"))]))
    entry = CorpusEntry.objects.get(work_id=1)
    assert entry.in_corpus
    assert not entry.check_passed  # the check itself is refreshed


@pytest.mark.parametrize(("override", "in_corpus"), [("exclude", False), ("include", True)])
def test_an_admins_override_wins_over_a_reload(tmp_path, override, in_corpus):
    path = write_lines(tmp_path / "w.jsonl", [json.dumps(dataset(1) if override == "exclude" else work(1))])
    load(path, corpus="data")
    CorpusEntry.objects.filter(work_id=1).update(override=override)
    load(path, corpus="all")
    entry = CorpusEntry.objects.get(work_id=1)
    assert entry.override == override
    assert entry.in_corpus is in_corpus


def test_the_summary_counts_corpus_papers_added(tmp_path):
    summary = load(write_lines(tmp_path / "w.jsonl", [json.dumps(dataset(1)), json.dumps(work(2))]))
    assert "Corpus papers added:   1" in summary
    assert "New works:             2" in summary


def test_load_records_is_a_keyword_only_service():
    records = [parse_work(work(1)), parse_work(work(2, referenced_works=["W1", "W3"]))]
    summary = load_records(records, corpus="all", fetched_at=NOW, batch_size=1)
    assert (summary.records, summary.works_upserted, summary.new_works, summary.links_added) == (2, 2, 2, 2)
    assert summary.corpus_added == 2
    with pytest.raises(TypeError):
        load_records(records, "all", NOW)  # type: ignore[misc]
    with pytest.raises(ValueError, match="corpus"):
        load_records(records, corpus="some", fetched_at=NOW)  # type: ignore[arg-type]


# The bundled sample


def test_load_sample_loads_the_bundled_files_once(capsys):
    call_command("load_sample", stdout=StringIO())
    assert Work.objects.count() == 220 + 136  # the build publishes corpus papers and their capped citers only
    assert Work.objects.in_corpus().exists()
    again = StringIO()
    call_command("load_sample", stdout=again)
    assert "already loaded" in again.getvalue()


def test_the_sample_says_where_it_comes_from():
    readme = (SAMPLE_DIR / "README.md").read_text()
    assert "CC0" in readme and "72a26c4" in readme and "cpgone/idb" in readme


@pytest.mark.postgres
def test_a_big_load_leaves_postgresql_with_statistics_of_the_loaded_tables():
    """The pages' queries are planned from these figures: sampled only at the first batch,
    they would describe a table a fraction of its final size."""
    records = [parse_work(raw) for raw in results(API_DIR / "works_by_doi_chunk_1.json")]

    load_records(records, corpus="all", fetched_at=timezone.now(), batch_size=10)

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'papers_work'")
        (estimated,) = cursor.fetchone()
    assert len(records) > 20
    assert estimated == Work.objects.count()


def test_a_big_load_samples_statistics_each_time_the_tables_have_doubled_and_at_the_end(monkeypatch):
    works_at_each_sample = []
    monkeypatch.setattr(ingest, "_sample_statistics", lambda: works_at_each_sample.append(Work.objects.count()))
    records = [parse_work(raw) for raw in results(API_DIR / "works_by_doi_chunk_1.json")]

    load_records(records, corpus="all", fetched_at=timezone.now(), batch_size=5)

    # Before the self-citation UPDATE of batches 1, 2, 4 and 8 (their works are in by then), then at the end.
    assert works_at_each_sample == [5, 10, 20, 40, 50]


def test_loading_evaluates_fair_from_the_records_and_again_when_a_record_comes_back():
    out = load(API_DIR / "snowball_seeds_W3045921891_W3046863325.json", corpus="all")

    assert out.endswith(
        "FAIR from the records: 1 paper(s) evaluated, 1 provisional until doi.org or DataCite answers "
        "(the worker asks).\n"
    )
    # The ACM paper's record names Crossref: settled. The arXiv DOI is DataCite's: it waits.
    assert dict(FairEvaluation.objects.values_list("work_id", "provisional")) == {3046863325: False, 3045921891: True}
    assert arrived_work_ids() == []
    assert "FAIR from the records: 0 paper(s) evaluated, 0 provisional" in load(CITERS, corpus="none")

    Work.objects.filter(id=3046863325).update(fetched_at=NOW + timedelta(hours=1))
    assert arrived_work_ids() == [3046863325]
