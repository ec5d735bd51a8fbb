import gzip
import json
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from papers.datapaper import check_data_paper
from papers.models import Citation, Work
from papers.openalex.records import openalex_number, parse_work
from papers.openalex.snapshot import open_snapshot

PAPERS, CITERS, POOL = 20, 6, 50


def generate(path, *, papers=PAPERS, citers=CITERS, pool=POOL, seed=7):
    call_command(
        "generate_corpus", "--papers", papers, "--citers", citers, "--pool", pool, "--seed", seed, str(path),
        stdout=StringIO(),
    )  # fmt: skip
    return path


def raw_works(path):
    with gzip.open(path, "rt") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = generate(tmp_path_factory.mktemp("corpus") / "corpus.jsonl.gz")
    return path, raw_works(path)


def test_the_same_seed_gives_the_same_file_byte_for_byte(tmp_path, corpus):
    path, _ = corpus
    assert generate(tmp_path / "again.jsonl.gz").read_bytes() == path.read_bytes()


def test_another_seed_gives_another_corpus(tmp_path, corpus):
    path, _ = corpus
    assert generate(tmp_path / "other.jsonl.gz", seed=8).read_bytes() != path.read_bytes()


def test_it_writes_n_data_papers_then_the_pool_of_citers_with_synthetic_ids(corpus):
    _, works = corpus
    assert len(works) == PAPERS + POOL
    papers = works[:PAPERS]
    assert all(work["type"] == "dataset" and work["title"].startswith("Synthetic dataset") for work in papers)
    assert works[0]["id"] == "https://openalex.org/W9000000000000"
    assert all(parse_work(work).id >= 9_000_000_000_000 for work in works)
    authors = [a["author"]["id"] for work in works for a in work["authorships"]]
    assert all(author.startswith("https://openalex.org/A9") for author in authors)


def test_every_data_paper_is_cited_by_exactly_k_distinct_citers(corpus):
    _, works = corpus
    citations = Counter(cited for work in works[PAPERS:] for cited in work["referenced_works"])
    assert set(citations) == {work["id"] for work in works[:PAPERS]}
    assert set(citations.values()) == {CITERS}
    assert all(len(set(work["referenced_works"])) == len(work["referenced_works"]) for work in works)


def test_its_counts_are_skewed_and_consistent(corpus):
    _, works = corpus
    citers = works[PAPERS:]
    assert all(work["referenced_works_count"] >= len(work["referenced_works"]) for work in works)
    assert any(work["cited_by_count"] == 0 for work in citers)
    assert (
        max(work["cited_by_count"] for work in citers)
        > 5 * sorted(w["cited_by_count"] for w in citers)[len(citers) // 2]
    )
    assert all(work["cited_by_count"] >= CITERS for work in works[:PAPERS])


def test_some_citers_share_an_author_with_a_paper_they_cite(tmp_path):
    works = raw_works(generate(tmp_path / "big.jsonl.gz", papers=200, citers=10, pool=1000))
    leads = {work["id"]: work["authorships"][0]["author"]["id"] for work in works[:200]}
    self_citing = [
        work
        for work in works[200:]
        if {leads[cited] for cited in work["referenced_works"]} & {a["author"]["id"] for a in work["authorships"]}
    ]
    assert 0 < len(self_citing) < len(works) - 200


def test_some_citers_have_no_references_at_all(tmp_path):
    works = raw_works(generate(tmp_path / "sparse.jsonl.gz", papers=5, citers=2, pool=200))
    assert any(work["referenced_works_count"] == 0 and not work["referenced_works"] for work in works[5:])


@pytest.mark.django_db
def test_its_output_loads(corpus):
    path, works = corpus
    call_command("load_openalex", str(path), stdout=StringIO(), stderr=StringIO())
    assert Work.objects.count() == PAPERS + POOL
    assert Work.objects.in_corpus().count() == PAPERS
    assert Citation.objects.count() == PAPERS * CITERS
    authors = {work["id"]: {a["author"]["id"] for a in work["authorships"]} for work in works}
    self_citations = {
        (openalex_number(work["id"]), openalex_number(cited))
        for work in works
        for cited in work["referenced_works"]
        if authors[work["id"]] & authors[cited]
    }
    assert set(Citation.objects.filter(is_self_citation=True).values_list("citing_id", "cited_id")) == self_citations


def test_it_refuses_more_citers_per_paper_than_the_pool_holds(tmp_path):
    with pytest.raises(CommandError, match="pool holds only 5"):
        generate(tmp_path / "x.jsonl.gz", papers=3, citers=6, pool=5)


def test_the_pool_defaults_to_ten_citers_per_paper(tmp_path):
    path = tmp_path / "default.jsonl.gz"
    call_command("generate_corpus", "--papers", 4, "--citers", 2, "--seed", 1, str(path), stdout=StringIO())
    assert len(raw_works(path)) == 4 + 40


def snapshot(out, *, jobs=2, papers=40, citers=5, pool=760, parts=3, **options):
    arguments = ["--papers", papers, "--citers", citers, "--pool", pool, "--seed", 3, "--parts", parts]
    arguments += ["--jobs", jobs, "--outside", 0.95, "--abstracts", 0.9, "--extra-fields"]
    call_command("generate_corpus", *arguments, str(out), stdout=StringIO(), **options)
    parts = sorted(out.glob("updated_date=*/part_*.gz"))
    return parts, [work for part in parts for work in raw_works(part)]


@pytest.fixture(scope="module")
def snapshot_parts(tmp_path_factory):
    return snapshot(tmp_path_factory.mktemp("snapshot") / "works")


def test_a_snapshot_is_parts_in_the_published_layout_with_a_manifest_that_matches_them(snapshot_parts):
    parts, works = snapshot_parts
    snapshot_found = open_snapshot(parts[0].parent.parent)
    assert [part.name for part in snapshot_found.parts] == [
        "updated_date=2025-01-01/part_000.gz",
        "updated_date=2025-01-02/part_000.gz",
        "updated_date=2025-01-03/part_000.gz",
    ]
    assert snapshot_found.problems == ()
    assert [part.listed_records for part in snapshot_found.parts] == [266, 267, 267]
    assert len(works) == 40 + 760 and len({work["id"] for work in works}) == 800
    # Each record's updated_date is its partition's.
    first = raw_works(parts[0])
    assert {work["updated_date"][:10] for work in first} == {"2025-01-01"}


def test_a_snapshot_is_the_same_bytes_whichever_number_of_processes_writes_it(tmp_path, snapshot_parts):
    parts, _ = snapshot_parts
    again, _ = snapshot(tmp_path / "works", jobs=1)
    assert [part.read_bytes() for part in again] == [part.read_bytes() for part in parts]


def test_in_a_snapshot_each_paper_has_k_citers_and_most_references_point_outside_the_corpus(snapshot_parts):
    _, works = snapshot_parts
    papers = {work["id"] for work in works[:40]}
    references = [(work["id"], cited) for work in works for cited in work["referenced_works"]]
    inside = Counter(cited for _, cited in references if cited in papers)
    assert set(inside) == papers and set(inside.values()) == {5}
    assert 0.93 < 1 - len(inside) * 5 / len(references) < 0.97
    assert all(citing != cited for citing, cited in references)
    assert all(len(set(work["referenced_works"])) == len(work["referenced_works"]) for work in works)
    assert all(work["referenced_works_count"] == len(work["referenced_works"]) for work in works)


def test_in_a_snapshot_most_works_have_an_abstract_and_only_the_data_papers_pass_the_check(snapshot_parts):
    _, works = snapshot_parts
    records = [parse_work(work) for work in works]
    assert 0.85 < sum(bool(record.abstract) for record in records) / len(records) < 0.95
    verdicts = [check_data_paper(type=r.type, venue=r.venue, title=r.title, abstract=r.abstract) for r in records]
    assert [verdict.passed for verdict in verdicts] == [True] * 40 + [False] * 760


def test_a_snapshot_record_weighs_what_a_real_one_does_gzipped(snapshot_parts):
    parts, works = snapshot_parts
    # The September 2023 manifest: 318 GB for 244M works, 1.3 KB a work.
    assert 900 < sum(part.stat().st_size for part in parts) / len(works) < 1600
