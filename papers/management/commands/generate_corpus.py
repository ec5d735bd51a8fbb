"""python manage.py generate_corpus --papers N --citers K [--pool M] --seed S OUT.jsonl.gz

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
"""

import gzip
import json
import random
from collections.abc import Iterator
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


class Command(BaseCommand):
    help = "Write a synthetic OpenAlex snapshot (gzip JSON Lines) of data papers and their citers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--papers", type=int, required=True, metavar="N", help="data papers")
        parser.add_argument("--citers", type=int, required=True, metavar="K", help="citers per data paper")
        parser.add_argument("--pool", type=int, metavar="M", help="citing works to draw from (default 10·N)")
        parser.add_argument("--seed", type=int, required=True, metavar="S")
        parser.add_argument("out", type=Path, metavar="OUT.jsonl.gz")

    def handle(self, *args, papers: int, citers: int, pool: int | None, seed: int, out: Path, **options) -> None:
        pool = 10 * papers if pool is None else pool
        if papers < 1:
            raise CommandError("--papers must be at least 1")
        if citers < 0 or pool < 0:
            raise CommandError("--citers and --pool cannot be negative")
        if citers > pool:
            raise CommandError(f"each paper needs {citers} distinct citers but the pool holds only {pool}")
        generator = Generator(papers=papers, citers=citers, pool=pool, rng=random.Random(seed))
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


class Generator:
    def __init__(self, *, papers: int, citers: int, pool: int, rng: random.Random) -> None:
        self.papers = papers
        self.citers = citers
        self.pool = pool
        self.rng = rng
        # Citers' co-authors come from a shared pool, so unrelated works sometimes share people too.
        self.author_pool = max(pool // 3, 1)

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

    def _shares(self, citers: int, total: int) -> list[int]:
        """Split `total` among `citers`, heavy-tailed: cut points at the cumulative Pareto weights."""
        weights = [self.rng.paretovariate(1.2) for _ in range(citers)]
        scale = total / sum(weights)
        cuts = [0, *(round(cumulative * scale) for cumulative in accumulate(weights))]
        cuts[-1] = total
        return [b - a for a, b in pairwise(cuts)]

    def _data_paper(self, number: int) -> dict:
        rng = self.rng
        authors = [self._lead_author(number)] + [self._pool_author() for _ in range(rng.randint(0, 3))]
        reference_count = rng.randint(0, 40)
        return _work(
            work_id=WORK_BASE + number,
            doi=f"10.5555/synthetic.{number}",
            title=f"Synthetic dataset {number:07d} for DataRank benchmarks",
            abstract=f"Synthetic dataset number {number} generated for DataRank benchmarks; not real data.",
            year=rng.randint(2000, 2025),
            work_type="dataset",
            # Every paper has its K citers in the file and, like real ones, more we do not hold.
            cited_by_count=self.citers + int(min(rng.paretovariate(1.1), 1e6)) - 1,
            referenced_works=[],
            referenced_works_count=reference_count,
            venue="Synthetic Data Repository",
            venue_type="repository",
            authors=authors,
        )

    def _citer(self, number: int, cited_papers: list[int]) -> dict:
        rng = self.rng
        authors = [self._pool_author() for _ in range(rng.randint(1, 6))]
        if cited_papers and rng.random() < SELF_CITATION_RATE:
            authors.append(self._lead_author(rng.choice(cited_papers)))
        references = [f"https://openalex.org/W{WORK_BASE + paper}" for paper in sorted(cited_papers)]
        # Like real records, most count references we do not hold, and some count none at all.
        has_none = not references and rng.random() < 0.5
        reference_count = 0 if has_none else len(references) + int(rng.expovariate(1 / 25))
        return _work(
            work_id=WORK_BASE + self.papers + number,
            doi="",
            title=f"Synthetic citing work {number:07d}",
            abstract=None,
            year=rng.randint(2005, 2026),
            work_type=rng.choice(("article", "article", "article", "preprint", "book-chapter")),
            cited_by_count=0 if rng.random() < 0.3 else int(min(rng.paretovariate(1.16), 1e6)) - 1,
            referenced_works=references,
            referenced_works_count=reference_count,
            venue=None if rng.random() < 0.1 else "Synthetic Journal of Benchmarks",
            venue_type="journal",
            authors=authors,
        )

    def _lead_author(self, paper: int) -> tuple[int, str]:
        return AUTHOR_BASE + paper, f"Synthetic Author {paper}"

    def _pool_author(self) -> tuple[int, str]:
        number = self.papers + self.rng.randrange(self.author_pool)
        return AUTHOR_BASE + number, f"Synthetic Author {number}"


def _work(
    *, work_id: int, doi: str, title: str, abstract: str | None, year: int, work_type: str, cited_by_count: int,
    referenced_works: list[str], referenced_works_count: int, venue: str | None, venue_type: str,
    authors: list[tuple[int, str]],
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
        "updated_date": UPDATED,
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


def _inverted(text: str | None) -> dict[str, list[int]] | None:
    if text is None:
        return None
    index: dict[str, list[int]] = {}
    for position, word in enumerate(text.split()):
        index.setdefault(word, []).append(position)
    return index
