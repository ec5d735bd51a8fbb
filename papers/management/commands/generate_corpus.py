"""python manage.py generate_corpus --papers N --citers K [--pool M] --seed S OUT.jsonl.gz
   python manage.py generate_corpus … --parts P [--jobs J] [--outside F] [--abstracts F] [--extra-fields] OUT/

A synthetic corpus in OpenAlex's snapshot shape, for benchmarks at scale: N data papers, each
cited by exactly K works drawn from a pool of M citing works, which come after them in the file.

How the citations are laid out so that the file streams in bounded memory (O(N + M/K), never
O(N·K)): the pool is split into K consecutive rounds of about M/K citers. In every round the N
papers are shuffled and dealt out, in order, to that round's citers in heavy-tailed shares (a
few citers cite hundreds of papers, many cite a handful or none). Each paper is dealt exactly
once per round, so it gets exactly K distinct citers, and a citer's references, all dealt within
one round, never repeat. Ids start at W9000000000000 and A9000000000000, a range real OpenAlex
does not use. One random.Random(seed) drives everything and gzip's timestamp is fixed, so the
same arguments give the same file, byte for byte.

With --parts, OUT is a works folder in the layout OpenAlex publishes — P parts
updated_date=YYYY-MM-DD/part_000.gz (one day each, the records' updated_date) and a manifest
with each part's size and record count — written by J processes side by side, for the build
benchmark at millions of works. The works are the same sequence split into consecutive parts;
each part draws from its own random.Random(seed, part), and each round of the deal from its own
random.Random(seed, round), so a part's bytes depend on the arguments only, not on J. Three
options make the records look like a real snapshot's: --outside F (that share of all references
point at works outside the corpus: the other works of the file, drawn at random, as ~95% of a
real snapshot's do), --abstracts F (that share of citing works has an abstract: random words that
none of the data-paper check's cues is part of) and --extra-fields (the fields OpenAlex records
carry that DataRank never reads — concepts, counts by year, related works, … —, so that a record
weighs about what a real one does: ~1.3 KB gzipped, as in the September 2023 manifest).
"""

import gzip
import json
import multiprocessing
import os
import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate, pairwise
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

WORK_BASE = 9_000_000_000_000
AUTHOR_BASE = 9_000_000_000_000
# Each author works at one of this many institutions (by author number), so that institution
# scores have the fan-in real ones have: thousands of authors per institution.
INSTITUTIONS = 1_000
INSTITUTION_BASE = 9_000_000_000_000
COUNTRIES = ("SA", "US", "DE", "CN", "BR", "IN", "GB", "AU")
SELF_CITATION_RATE = 0.05
UPDATED = "2026-02-01T00:00:00.000000"
# The first part's partition date; each next part is a day later.
FIRST_PARTITION = date(2025, 1, 1)
# What every word of a synthetic abstract is made of; words holding a cue of the data-paper check
# (papers.datapaper) are left out, so that only the data papers pass it.
SYLLABLES = ("ka", "lo", "mi", "nu", "pe", "ri", "so", "tu", "ve", "zo", "bra", "gli", "sto", "ren", "mal", "dex")
CUES = (
    "data",
    "corp",
    "atlas",
    "cohort",
    "biobank",
    "catalog",
    "inventor",
    "compilation",
    "file",
    "repositor",
    "deposit",
    "archive",
    "supplement",
    "supporting",
    "additional",
    "appendi",
    "table",
    "benchmark",
    "giga",
)
VOCABULARY = tuple(
    word
    for word in (a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", *SYLLABLES[:6]))
    if not any(cue in word for cue in CUES)
)
# Drawn once: the abstracts and concepts works pick from, so that a record costs its dumping and
# compressing, not a hundred and fifty draws (the generator's time at millions of works).
_TABLES = random.Random(0)
ABSTRACTS = tuple(" ".join(_TABLES.choices(VOCABULARY, k=_TABLES.randint(80, 220))) for _ in range(1024))
CONCEPTS = tuple(
    {
        "id": f"https://openalex.org/C{_TABLES.randrange(10**9)}",
        "wikidata": f"https://www.wikidata.org/wiki/Q{_TABLES.randrange(10**7)}",
        "display_name": " ".join(_TABLES.choices(VOCABULARY, k=2)),
        "level": _TABLES.randint(0, 5),
        "score": round(_TABLES.random(), 6),
    }
    for _ in range(4096)
)


class Command(BaseCommand):
    help = "Write a synthetic OpenAlex snapshot (gzip JSON Lines) of data papers and their citers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--papers", type=int, required=True, metavar="N", help="data papers")
        parser.add_argument("--citers", type=int, required=True, metavar="K", help="citers per data paper")
        parser.add_argument("--pool", type=int, metavar="M", help="citing works to draw from (default 10·N)")
        parser.add_argument("--seed", type=int, required=True, metavar="S")
        parser.add_argument("--parts", type=int, metavar="P", help="write a works folder of P parts and a manifest")
        parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="J",
                            help="processes writing parts (default: every core)")  # fmt: skip
        parser.add_argument("--outside", type=float, default=0.0, metavar="F",
                            help="share of all references that point outside the corpus (default 0)")  # fmt: skip
        parser.add_argument("--abstracts", type=float, default=0.0, metavar="F",
                            help="share of citing works with an abstract (default 0)")  # fmt: skip
        parser.add_argument("--extra-fields", action="store_true",
                            help="add the fields real records carry that DataRank does not read")  # fmt: skip
        parser.add_argument("out", type=Path, metavar="OUT.jsonl.gz | OUT/")

    def handle(
        self,
        *args,
        papers: int,
        citers: int,
        pool: int | None,
        seed: int,
        parts: int | None,
        jobs: int,
        outside: float,
        abstracts: float,
        extra_fields: bool,
        out: Path,
        **options,
    ) -> None:
        pool = 10 * papers if pool is None else pool
        if papers < 1:
            raise CommandError("--papers must be at least 1")
        if citers < 0 or pool < 0:
            raise CommandError("--citers and --pool cannot be negative")
        if citers > pool:
            raise CommandError(f"each paper needs {citers} distinct citers but the pool holds only {pool}")
        if not 0 <= outside < 1 or not 0 <= abstracts <= 1:
            raise CommandError("--outside must be in [0, 1) and --abstracts in [0, 1]")
        if outside and not pool:
            raise CommandError("--outside needs a pool of citing works to point at")
        shape = Shape(outside=outside, abstracts=abstracts, extra_fields=extra_fields)
        if parts is not None:
            if not 1 <= parts <= papers + pool or jobs < 1:
                raise CommandError(f"--parts must be in [1, {papers + pool:,}] and --jobs at least 1")
            links = write_snapshot(
                out, papers=papers, citers=citers, pool=pool, seed=seed, parts=parts, jobs=jobs, shape=shape
            )
            self.stdout.write(
                f"Wrote {papers:,} data papers and {pool:,} citing works ({links:,} references) "
                f"in {parts:,} parts to {out}"
            )
            return
        generator = Generator(papers=papers, citers=citers, pool=pool, rng=random.Random(seed), shape=shape)
        links = 0
        with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as stream:
            chunk: list[bytes] = []
            for work in generator.works():
                links += len(work["referenced_works"])
                chunk.append(json.dumps(work, separators=(",", ":")).encode() + b"\n")
                if len(chunk) == 1000:
                    stream.write(b"".join(chunk))
                    chunk.clear()
            stream.write(b"".join(chunk))
        self.stdout.write(f"Wrote {papers:,} data papers and {pool:,} citing works ({links:,} citations) to {out}")


@dataclass(frozen=True)
class Shape:
    """What the works carry besides their citations of the data papers; the defaults add nothing."""

    outside: float = 0.0
    abstracts: float = 0.0
    extra_fields: bool = False


def write_snapshot(
    out: Path, *, papers: int, citers: int, pool: int, seed: int, parts: int, jobs: int, shape: Shape
) -> int:
    """The works as a works folder of `parts` parts and its manifest; returns the references written."""
    total = papers + pool
    jobs_args = [
        (out, index, total * index // parts, total * (index + 1) // parts, papers, citers, pool, seed, shape)
        for index in range(parts)
    ]
    # Consecutive parts to the same process, which then deals each round of citers once. Started
    # by a fork server, not forked: the caller may hold threads (a test run, DuckDB's), and a
    # fork of a threaded process can deadlock in the child.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=min(jobs, parts), mp_context=context) as executor:
        written = list(executor.map(_write_part, jobs_args, chunksize=-(-parts // min(jobs, parts))))
    entries = [
        {"url": f"s3://openalex/data/works/{name}", "meta": {"content_length": size, "record_count": records}}
        for name, size, records, _ in written
    ]
    meta = {"content_length": sum(size for _, size, _, _ in written), "record_count": total}
    (out / "manifest").write_text(json.dumps({"entries": entries, "meta": meta}, indent=2))
    return sum(links for *_, links in written)


def _write_part(job: tuple) -> tuple[str, int, int, int]:
    out, index, first, end, papers, citers, pool, seed, shape = job
    day = FIRST_PARTITION + timedelta(days=index)
    name = f"updated_date={day.isoformat()}/part_000.gz"
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    generator = Generator(
        papers=papers, citers=citers, pool=pool, rng=random.Random(f"{seed}/part/{index}"), shape=shape,
        updated=f"{day.isoformat()}T00:00:00.000000", seed=seed,
    )  # fmt: skip
    links = 0
    # zlib's default level, which gzip(1) uses too: GzipFile's own, 9, took three times as long.
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as stream,
    ):
        chunk: list[bytes] = []
        for work in generator.works_between(first, end):
            links += len(work["referenced_works"])
            chunk.append(json.dumps(work, separators=(",", ":")).encode() + b"\n")
            if len(chunk) == 1000:
                stream.write(b"".join(chunk))
                chunk.clear()
        stream.write(b"".join(chunk))
    return name, path.stat().st_size, end - first, links


class Generator:
    def __init__(
        self,
        *,
        papers: int,
        citers: int,
        pool: int,
        rng: random.Random,
        shape: Shape = Shape(),
        updated: str = UPDATED,
        seed: int | None = None,
    ) -> None:
        self.papers = papers
        self.citers = citers
        self.pool = pool
        self.rng = rng
        self.shape = shape
        self.updated = updated
        # The seed of each round's own generator, in works_between.
        self.seed = seed
        self._round: tuple[int, list[int], list[int]] | None = None
        # Citers' co-authors come from a shared pool, so unrelated works sometimes share people too.
        self.author_pool = max(pool // 3, 1)
        # References outside the corpus per work, on average, for the share shape.outside of them all.
        inside = papers * citers
        self.outside_mean = inside * shape.outside / (1 - shape.outside) / max(papers + pool, 1)

    def works(self) -> Iterator[dict]:
        for number in range(self.papers):
            yield self._data_paper(number)
        order = list(range(self.papers))
        rounds = max(self.citers, 1)
        for round_number in range(rounds):
            first, end = self.pool * round_number // rounds, self.pool * (round_number + 1) // rounds
            if self.citers:
                self.rng.shuffle(order)
                shares = self._shares(end - first, self.papers)
            else:
                shares = [0] * (end - first)
            start = 0
            for offset, share in enumerate(shares):
                yield self._citer(first + offset, order[start : start + share])
                start += share

    def works_between(self, first: int, end: int) -> Iterator[dict]:
        """Works first..end-1 of the sequence works() makes (papers, then the pool), each round
        of the deal drawn from its own generator so that any slice can be made on its own."""
        for number in range(first, min(end, self.papers)):
            yield self._data_paper(number)
        rounds = max(self.citers, 1)
        for citer in range(max(first, self.papers) - self.papers, end - self.papers):
            round_number = citer * rounds // self.pool
            while self.pool * (round_number + 1) // rounds <= citer:
                round_number += 1
            while self.pool * round_number // rounds > citer:
                round_number -= 1
            start = self.pool * round_number // rounds
            order, cuts = self._dealt(round_number, self.pool * (round_number + 1) // rounds - start)
            offset = citer - start
            yield self._citer(citer, order[cuts[offset] : cuts[offset + 1]])

    def _dealt(self, round_number: int, citers: int) -> tuple[list[int], list[int]]:
        """A round's shuffled papers and its citers' cut points, dealt once per process."""
        if self._round is None or self._round[0] != round_number:
            rng = random.Random(f"{self.seed}/round/{round_number}")
            order = list(range(self.papers))
            if self.citers:
                rng.shuffle(order)
                cuts = _cuts(rng, citers, self.papers)
            else:
                cuts = [0] * (citers + 1)
            self._round = (round_number, order, cuts)
        return self._round[1], self._round[2]

    def _shares(self, citers: int, total: int) -> list[int]:
        """Split `total` among `citers`, heavy-tailed: cut points at the cumulative Pareto weights."""
        return [b - a for a, b in pairwise(_cuts(self.rng, citers, total))]

    def _outside(self, own: int) -> list[str]:
        """References to works of the pool, drawn at random (never the work itself)."""
        if not self.shape.outside:
            return []
        rng = self.rng
        count = int(rng.expovariate(1 / self.outside_mean) + 0.5) if self.outside_mean else 0
        drawn = {self.papers + int(rng.random() * self.pool) for _ in range(count)} - {own}
        return [f"https://openalex.org/W{WORK_BASE + number}" for number in sorted(drawn)]

    def _words(self) -> str:
        return ABSTRACTS[int(self.rng.random() * len(ABSTRACTS))]

    def _data_paper(self, number: int) -> dict:
        rng = self.rng
        authors = [self._lead_author(number)] + [self._pool_author() for _ in range(rng.randint(0, 3))]
        reference_count = rng.randint(0, 40)
        abstract = f"Synthetic dataset number {number} generated for DataRank benchmarks; not real data."
        references = self._outside(number)
        work = _work(
            work_id=WORK_BASE + number,
            doi=f"10.5555/synthetic.{number}",
            title=f"Synthetic dataset {number:07d} for DataRank benchmarks",
            abstract=f"{abstract} {self._words()}" if self.shape.abstracts else abstract,
            year=rng.randint(2000, 2025),
            work_type="dataset",
            # Every paper has its K citers in the file and, like real ones, more we do not hold.
            cited_by_count=self.citers + int(min(rng.paretovariate(1.1), 1e6)) - 1,
            referenced_works=references,
            referenced_works_count=len(references) if self.shape.outside else reference_count,
            venue="Synthetic Data Repository",
            venue_type="repository",
            authors=authors,
            updated=self.updated,
        )
        return self._extra(work) if self.shape.extra_fields else work

    def _citer(self, number: int, cited_papers: list[int]) -> dict:
        rng = self.rng
        authors = [self._pool_author() for _ in range(rng.randint(1, 6))]
        if cited_papers and rng.random() < SELF_CITATION_RATE:
            authors.append(self._lead_author(rng.choice(cited_papers)))
        references = [f"https://openalex.org/W{WORK_BASE + paper}" for paper in sorted(cited_papers)]
        if self.shape.outside:
            # Every reference is in the record, as in a snapshot: the count is the list's length.
            references += self._outside(self.papers + number)
            reference_count = len(references)
        else:
            # Like real records, most count references we do not hold, and some count none at all.
            has_none = not references and rng.random() < 0.5
            reference_count = 0 if has_none else len(references) + int(rng.expovariate(1 / 25))
        work = _work(
            work_id=WORK_BASE + self.papers + number,
            doi="",
            title=f"Synthetic citing work {number:07d}",
            abstract=self._words() if self.shape.abstracts and rng.random() < self.shape.abstracts else None,
            year=rng.randint(2005, 2026),
            work_type=rng.choice(("article", "article", "article", "preprint", "book-chapter")),
            cited_by_count=0 if rng.random() < 0.3 else int(min(rng.paretovariate(1.16), 1e6)) - 1,
            referenced_works=references,
            referenced_works_count=reference_count,
            venue=None if rng.random() < 0.1 else "Synthetic Journal of Benchmarks",
            venue_type="journal",
            authors=authors,
            updated=self.updated,
        )
        return self._extra(work) if self.shape.extra_fields else work

    def _extra(self, work: dict) -> dict:
        """The fields of a real record that DataRank does not read, about as large as real ones."""
        rng, number = self.rng, int(work["id"].rsplit("W", 1)[1])
        year = work["publication_year"]
        draw = rng.random
        works = self.papers + self.pool
        return {
            **work,
            "ids": {"openalex": work["id"], "doi": work["doi"], "mag": str(number % 10**10)},
            "language": "en",
            "publication_date": f"{year}-{1 + int(draw() * 12):02d}-{1 + int(draw() * 28):02d}",
            "biblio": {"volume": str(1 + int(draw() * 300)), "issue": str(1 + int(draw() * 12)),
                       "first_page": str(1 + int(draw() * 900)), "last_page": str(901 + int(draw() * 99))},
            "concepts": [CONCEPTS[int(draw() * len(CONCEPTS))] for _ in range(4 + int(draw() * 7))],
            "counts_by_year": [{"year": y, "cited_by_count": int(draw() * 50)} for y in range(max(year, 2012), 2026)],
            "related_works": [f"https://openalex.org/W{WORK_BASE + int(draw() * works)}" for _ in range(10)],
            "keywords": [{"keyword": VOCABULARY[int(draw() * len(VOCABULARY))], "score": round(draw(), 4)}
                         for _ in range(3)],
            "sustainable_development_goals": [],
            "grants": [],
            "has_fulltext": rng.random() < 0.5,
            "cited_by_api_url": f"https://api.openalex.org/works?filter=cites:W{number}",
            "created_date": "2016-06-24",
        }  # fmt: skip

    def _lead_author(self, paper: int) -> tuple[int, str]:
        return AUTHOR_BASE + paper, f"Synthetic Author {paper}"

    def _pool_author(self) -> tuple[int, str]:
        number = self.papers + self.rng.randrange(self.author_pool)
        return AUTHOR_BASE + number, f"Synthetic Author {number}"


def _cuts(rng: random.Random, citers: int, total: int) -> list[int]:
    """Cut points splitting `total` among `citers`, heavy-tailed: at the cumulative Pareto weights."""
    weights = [rng.paretovariate(1.2) for _ in range(citers)]
    scale = total / sum(weights) if weights else 0.0
    cuts = [0, *(round(cumulative * scale) for cumulative in accumulate(weights))]
    cuts[-1] = total
    return cuts


def _work(
    *, work_id: int, doi: str, title: str, abstract: str | None, year: int, work_type: str, cited_by_count: int,
    referenced_works: list[str], referenced_works_count: int, venue: str | None, venue_type: str,
    authors: list[tuple[int, str]], updated: str,
) -> dict:  # fmt: skip
    source = {"display_name": venue, "type": venue_type} if venue else None
    location = {"is_oa": True, "landing_page_url": f"https://example.org/W{work_id}", "pdf_url": None, "source": source}
    unique_authors = dict(authors)
    return {
        "id": f"https://openalex.org/W{work_id}",
        "doi": f"https://doi.org/{doi}" if doi else None,
        "title": title,
        "display_name": title,
        "publication_year": year,
        "type": work_type,
        "cited_by_count": cited_by_count,
        "referenced_works_count": referenced_works_count,
        "referenced_works": referenced_works,
        "abstract_inverted_index": _inverted(abstract),
        "primary_location": location,
        "locations": [location],
        "open_access": {"is_oa": True, "oa_status": "green" if venue_type == "repository" else "gold"},
        "is_retracted": False,
        "indexed_in": ["datacite"] if venue_type == "repository" else ["crossref"],
        "topics": [{"display_name": "Synthetic benchmark data"}],
        "authorships": [
            {
                "author_position": "first" if position == 0 else "middle",
                "author": {"id": f"https://openalex.org/A{author_id}", "display_name": name, "orcid": None},
                "institutions": [_institution(author_id)],
                "raw_affiliation_strings": [f"Synthetic Institute {author_id % INSTITUTIONS}"],
            }
            for position, (author_id, name) in enumerate(unique_authors.items())
        ],
        "updated_date": updated,
    }


def _institution(author_id: int) -> dict:
    number = author_id % INSTITUTIONS
    return {
        "id": f"https://openalex.org/I{INSTITUTION_BASE + number}",
        "display_name": f"Synthetic Institute {number}",
        "ror": None,
        "country_code": COUNTRIES[number % len(COUNTRIES)],
        "type": "education",
    }


# The citers' abstracts come from ABSTRACTS: each index is built once (and never changed).
@lru_cache(maxsize=2 * len(ABSTRACTS))
def _inverted(text: str | None) -> dict[str, list[int]] | None:
    if text is None:
        return None
    index: dict[str, list[int]] = {}
    for position, word in enumerate(text.split()):
        index.setdefault(word, []).append(position)
    return index
