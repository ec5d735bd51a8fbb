"""The page benchmark: `make bench`, or python bench/pages.py [--papers N …].

In a database of its own (`test_<name of DATABASE_URL's database>`, created, migrated and dropped
here, as bench/rescore.py does, so the data behind DATABASE_URL is never touched), it serves the
site with gunicorn in production mode and measures, with concurrent clients, how long pages take
next to a minimal view that reads one row and renders a tiny template (bench/views.py):

- phase A, the paper page: a corpus of N papers, each cited by K works drawn from a pool of M
  citing works, scored by a real rescore_corpus(); paper pages of a fixed sample of papers,
  interleaved with the minimal view; the ratio of their medians (goal at most 3x);
- phase W, warm paper pages: the same corpus served by the production server (waitress,
  datarank_site/serve.py), each page rendered once and kept by the page cache; the server's own
  time on one connection (goal: p50 at most 2x the minimal view's), then a bounded load run of
  each kind alone over 32 connections (bench/load.py; goal: at least 0.5x the minimal view's
  requests/s, no errors);
- phase B, search: the corpus grown to S papers (the new ones have no citers) and rescored;
  title searches from a fixed list of queries, interleaved with the minimal view; the ratio of
  their medians (goal at most 5x).

Latency is measured by the clients, from sending a request to reading all of its response; with
more clients than workers it includes the wait for a free worker, which both kinds of request
share. The server's own time per request (gunicorn's access log, %(D)s: from the worker taking
the request to its response sent) is reported beside it, without that wait.

The corpus is written straight in SQL (INSERT … SELECT generate_series, random() under a fixed
setseed, so every run writes the same rows): loading is not what is measured here, and the JSON
loader would take most of an hour over 20 million links.
"""

import argparse
import os
import queue
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

if TYPE_CHECKING:
    from bench.load import Load, Percentiles

ROOT = Path(__file__).resolve().parent.parent

# Ids in a range real OpenAlex does not use, as generate_corpus does; citers after the papers.
PAPER_BASE = 9_000_000_000_000
CITER_BASE = 9_500_000_000_000
LEAD_AUTHOR_BASE = 9_000_000_000_000
POOL_AUTHOR_BASE = 9_500_000_000_000
# setseed's for each phase: phase B must not replay phase A's draws for its new papers.
SEED_A, SEED_B = 0.42, 0.17
FETCHED_AT = "2026-02-01T00:00:00+00:00"
SELF_CITATION_RATE = 0.05

OPENERS = (
    "A global", "A long-term", "A high-resolution", "An open", "An annotated", "A multi-site",
    "A national", "A harmonised", "A curated", "A daily", "A gridded", "A longitudinal",
    "A comprehensive", "An updated", "A new", "The first",
)  # fmt: skip
NOUNS = (
    "dataset", "database", "atlas", "corpus", "collection", "survey", "benchmark", "catalogue",
    "archive", "time series", "inventory", "map", "census", "compilation", "record",
)  # fmt: skip
TOPICS = (
    "soil moisture", "sea surface temperature", "glacier mass balance", "bird migration",
    "protein structures", "gene expression", "air quality", "urban heat islands", "coral reefs",
    "river discharge", "wildfire activity", "permafrost temperature", "crop yields",
    "household income", "hospital admissions", "earthquake catalogues", "ocean acidification",
    "snow cover", "leaf traits", "fish stocks", "groundwater levels", "lake ice phenology",
    "fossil pollen", "tree rings", "rainfall", "wind speed", "solar radiation", "gut microbiome",
    "antibiotic resistance", "brain imaging", "speech recordings", "parliamentary debates",
    "patent citations", "road traffic", "human mobility", "energy consumption",
    "building footprints", "land cover", "forest canopy height", "carbon fluxes",
    "methane emissions", "ice sheet elevation", "sea level", "coastal erosion", "plankton",
    "seabird colonies", "amphibian declines", "bat acoustics", "plant phenology",
    "invasive species", "drought indices", "flood extent", "landslides", "volcanic gas",
    "galaxy spectra", "exoplanet transits", "clinical trials", "vaccination coverage",
    "mortality", "cancer incidence", "sleep duration", "physical activity", "dietary intake",
    "school attainment", "labour markets", "migration flows", "housing prices", "news articles",
    "social media posts", "software repositories", "chemical reactions", "crystal structures",
    "battery materials", "single-cell transcriptomes", "ancient DNA", "insect abundance",
)  # fmt: skip
PLACES = (
    "Europe", "the Arctic", "the Amazon basin", "Sub-Saharan Africa", "the Tibetan Plateau",
    "Antarctica", "North America", "the Mediterranean", "Southeast Asia", "Australia", "the Andes",
    "the Baltic Sea", "Greenland", "India", "China", "Brazil", "the Alps", "Scandinavia",
    "the Sahel", "the North Atlantic",
)  # fmt: skip
REPOSITORIES = (
    "Zenodo", "Dryad", "PANGAEA", "Figshare", "Earth System Science Data", "Scientific Data",
    "Data in Brief", "GigaScience", "NERC EDS", "ICPSR", "UK Data Service", "Harvard Dataverse",
)  # fmt: skip
JOURNALS = (
    "Nature", "Science", "PLOS ONE", "Remote Sensing of Environment", "Global Change Biology",
    "The Cryosphere", "Journal of Climate", "Ecology Letters", "Bioinformatics", "The Lancet",
    "Water Resources Research", "Geophysical Research Letters", None,
)  # fmt: skip

# Title searches, each sent as often as the others: a common word, rarer words, two and three
# words, prefixes of a word as typed so far, and typos that only a correction can catch.
SEARCH_QUERIES = (
    "dataset",
    "glacier",
    "permafrost",
    "soil moisture",
    "coral reefs Australia",
    "sea surface temperature",
    "phenol",
    "groundw",
    "microbiom",
    "temprature",
    "glaicer mass",
    "antibiotc resistance",
)


def pick(name: str) -> str:
    """SQL for one random element of the text[] parameter `name`."""
    return f"(%({name})s::text[])[1 + floor(random() * cardinality(%({name})s::text[]))::int]"


# Corpus papers numbered lo ≤ n < hi, kept in a temporary table until the transaction ends so
# that works, corpus entries, authorships and citations all follow from the same random draws.
PAPERS_SQL = f"""
CREATE TEMP TABLE bench_paper ON COMMIT DROP AS
WITH draws AS MATERIALIZED (
    SELECT g AS n, {pick("openers")} AS opener, {pick("nouns")} AS noun, {pick("topics")} AS topic,
           {pick("topics")} AS topic2, {pick("places")} AS place, random() AS has_topic2,
           random() AS has_place, random() AS has_years, 1990 + floor(random() * 30)::int AS first_year,
           floor(random() * 20)::int AS span, 5 + floor(random() * 400)::int AS sites,
           {pick("repositories")} AS venue, random() AS popularity,
           floor(random() * 40)::int AS referenced_works_count,
           floor(random() * %(pool)s)::bigint AS first_citer, random() < %(self_rate)s AS self_cited,
           floor(random() * %(authors)s)::bigint AS coauthor
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS g
)
SELECT n, %(paper_base)s::bigint + n AS id,
       concat_ws(' ', opener, noun, 'of', topic, CASE WHEN has_topic2 < 0.5 THEN 'and ' || topic2 END,
                 CASE WHEN has_place < 0.6 THEN 'in ' || place END)
       || CASE WHEN has_years < 0.3 THEN ', ' || first_year || '-' || (first_year + span) ELSE '' END AS title,
       'We present ' || lower(opener) || ' ' || noun || ' of ' || topic
       || CASE WHEN has_place < 0.6 THEN ' in ' || place ELSE '' END || ', compiled from ' || sites
       || ' sites between ' || first_year || ' and ' || (first_year + span) || '. The records were '
       || 'quality-controlled, harmonised to common units and documented with their provenance. '
       || 'All files are openly available in standard formats, with the code that produced them '
       || 'and worked examples of reuse.' AS abstract,
       least(first_year + span + 1, 2025) AS year, venue,
       %(citers)s + floor(exp(popularity * 7))::int - 1 AS cited_by_count, referenced_works_count,
       first_citer, self_cited, coauthor
FROM draws
"""

WORKS_COLUMNS = """(id, doi, title, abstract, publication_year, venue, type, cited_by_count,
    referenced_works_count, is_oa, oa_status, is_retracted, indexed_in, topics, repository_locations,
    openalex_updated, fetched_at, datasets, license)"""

INSERT_PAPERS_SQL = [
    f"""INSERT INTO papers_work {WORKS_COLUMNS}
        SELECT id, '10.5555/bench.' || n, title, abstract, year, venue, 'dataset', cited_by_count,
               referenced_works_count, true, 'green', false, '["datacite"]', '[]', '[]', DATE '2026-02-01',
               %(fetched_at)s, '[]', 'cc-by'
        FROM bench_paper ORDER BY n""",
    """INSERT INTO papers_corpusentry (work_id, check_passed, confidence, reasons, included, override,
                                      checked_at, added_at)
       SELECT id, true, 0.9, '[]', true, '', %(fetched_at)s, %(fetched_at)s FROM bench_paper ORDER BY n""",
    """INSERT INTO papers_author (id, display_name, orcid)
       SELECT %(lead_author_base)s::bigint + n, 'Bench Author ' || n, '' FROM bench_paper ORDER BY n""",
    """INSERT INTO papers_authorship (work_id, author_id, position)
       SELECT id, %(lead_author_base)s::bigint + n, 0 FROM bench_paper
       UNION ALL SELECT id, %(pool_author_base)s::bigint + coauthor, 1 FROM bench_paper""",
]

# The citing works and their authors (the pool authors the papers' co-authors come from too).
CITERS_SQL = [
    """INSERT INTO papers_author (id, display_name, orcid)
       SELECT %(pool_author_base)s::bigint + g, 'Bench Coauthor ' || g, ''
       FROM generate_series(0, %(authors)s::bigint - 1) AS g""",
    f"""INSERT INTO papers_work {WORKS_COLUMNS}
        SELECT %(citer_base)s::bigint + g, '', 'Citing work ' || g || ' on ' || {pick("topics")}, '',
               2000 + floor(random() * 27)::int, coalesce({pick("journals")}, ''), 'article',
               CASE WHEN random() < 0.3 THEN 0 ELSE floor(exp(random() * random() * 12))::int END,
               20 + floor(random() * 60)::int, random() < 0.5, '', false, '["crossref"]', '[]', '[]',
               DATE '2026-02-01', %(fetched_at)s, '[]', ''
        FROM generate_series(0, %(pool)s::bigint - 1) AS g""",
    # Two distinct co-authors per citer: the second is the first shifted by 1 … authors-1.
    """INSERT INTO papers_authorship (work_id, author_id, position)
       WITH draws AS MATERIALIZED (
           SELECT g, floor(random() * %(authors)s)::bigint AS first,
                  floor(random() * greatest(%(authors)s - 1, 1))::bigint AS shift
           FROM generate_series(0, %(pool)s::bigint - 1) AS g
       )
       SELECT %(citer_base)s::bigint + g, %(pool_author_base)s::bigint + first, 0 FROM draws
       UNION ALL
       SELECT %(citer_base)s::bigint + g, %(pool_author_base)s::bigint + mod(first + 1 + shift, %(authors)s), 1
       FROM draws WHERE %(authors)s > 1""",
    # A self-citation: the paper's first citer shares its lead author.
    """INSERT INTO papers_authorship (work_id, author_id, position)
       SELECT %(citer_base)s::bigint + first_citer, %(lead_author_base)s::bigint + n, 2
       FROM bench_paper WHERE self_cited""",
    # K distinct citers per paper: first_citer + k·(M div K) for k < K, wrapped around the pool,
    # never meet again before K·(M div K) ≤ M. The lateral series keeps each paper's links together,
    # in the order of the (cited, citing) index.
    """INSERT INTO papers_citation (cited_id, citing_id, is_self_citation, pull_position)
       SELECT p.id, %(citer_base)s::bigint + mod(c, %(pool)s), p.self_cited AND c = p.first_citer, NULL
       FROM bench_paper p,
            generate_series(p.first_citer, p.first_citer + (%(citers)s - 1) * (%(pool)s / %(citers)s),
                            %(pool)s / %(citers)s) AS c""",
]

BULK_TABLES = ("papers_work", "papers_corpusentry", "papers_author", "papers_authorship", "papers_citation")

# The indexes a bulk insert can do without (no primary key, no constraint's index): dropped
# before and rebuilt after, which is many times faster than growing them row by row.
SECONDARY_INDEXES_SQL = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname = ANY(%s) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname
"""


@dataclass(frozen=True)
class Latencies:
    count: int
    median: float
    p90: float

    @classmethod
    def of(cls, seconds: list[float]) -> "Latencies":
        import numpy as np

        if not seconds:
            return cls(0, float("nan"), float("nan"))
        median, p90 = np.percentile(seconds, [50, 90])
        return cls(len(seconds), float(median), float(p90))

    def line(self) -> str:
        return f"{self.count:>5} requests, median {self.median * 1000:7.1f} ms, p90 {self.p90 * 1000:7.1f} ms"


@dataclass(frozen=True)
class Figures:
    papers: int
    citers: int
    pool: int
    links: int
    search_papers: int
    clients: int
    workers: int
    generate_seconds: float
    rescore_seconds: float
    grow_seconds: float
    search_rescore_seconds: float
    page: Latencies
    page_baseline: Latencies
    page_server: Latencies
    page_baseline_server: Latencies
    search: Latencies
    search_baseline: Latencies
    search_server: Latencies
    search_baseline_server: Latencies
    search_by_query: tuple[tuple[str, Latencies], ...]
    errors: tuple[str, ...]
    warm: "WarmFigures"

    @property
    def page_ratio(self) -> float:
        return self.page.median / self.page_baseline.median

    @property
    def search_ratio(self) -> float:
        return self.search.median / self.search_baseline.median

    @property
    def page_server_ratio(self) -> float:
        return self.page_server.median / self.page_baseline_server.median

    @property
    def search_server_ratio(self) -> float:
        return self.search_server.median / self.search_baseline_server.median

    def report(self) -> str:
        lines = [
            f"Server:             gunicorn, {self.workers} workers; {self.clients} concurrent clients",
            f"Corpus A:           {self.papers:,} papers x {self.citers} citers from {self.pool:,} citing works "
            f"({self.links:,} links)",
            f"Generate A:         {self.generate_seconds:.1f} s in SQL; rescore {self.rescore_seconds:.1f} s",
            f"Paper page:         {self.page.line()}",
            f"Minimal view (A):   {self.page_baseline.line()}",
            f"Page ratio:         {self.page_ratio:.2f}x the minimal view (goal <= 3x)",
            f"  server time:      page {self.page_server.line()}",
            f"                    minimal {self.page_baseline_server.line()}",
            f"                    ratio {self.page_server_ratio:.2f}x (without the wait for a free worker)",
            f"Corpus B:           {self.search_papers:,} papers (the {self.search_papers - self.papers:,} added "
            "have no citers)",
            f"Generate B:         {self.grow_seconds:.1f} s in SQL; rescore {self.search_rescore_seconds:.1f} s",
            f"Search:             {self.search.line()}",
            f"Minimal view (B):   {self.search_baseline.line()}",
            f"Search ratio:       {self.search_ratio:.2f}x the minimal view (goal <= 5x)",
            f"  server time:      search {self.search_server.line()}",
            f"                    minimal {self.search_baseline_server.line()}",
            f"                    ratio {self.search_server_ratio:.2f}x (without the wait for a free worker)",
            "Search by query (server time):",
            *(f"  q={query!r:26} {latencies.line()}" for query, latencies in self.search_by_query),
            *self.warm.report_lines(),
            f"Errors:             {len(self.errors)} responses other than 200",
            *(f"  {error}" for error in self.errors[:10]),
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class WarmFigures:
    """Phase W: paper pages once each has been rendered and kept by the page cache, served by
    the production server (waitress, datarank_site/serve.py) on corpus A, against the minimal view."""

    papers: int
    threads: int
    page_cache_seconds: int | None
    page_server: "Percentiles"
    """The server's own time (Server-Timing), one connection, the two kinds taking turns."""
    minimal_server: "Percentiles"
    page_load: "Load"
    minimal_load: "Load"
    errors: tuple[str, ...]

    @property
    def server_ratio(self) -> float:
        return self.page_server.p50 / self.minimal_server.p50

    @property
    def throughput_ratio(self) -> float:
        return self.page_load.per_second / self.minimal_load.per_second

    def report_lines(self) -> list[str]:
        seconds = self.page_cache_seconds
        cache = "the default" if seconds is None else f"DATARANK_PAGE_CACHE_SECONDS={seconds}"
        load = self.page_load
        return [
            f"Warm pages (W):     waitress, {self.threads} threads; {self.papers:,} paper pages of corpus A, each "
            f"rendered once before measuring (page cache: {cache})",
            f"  server time:      page {self.page_server.line()} ({self.page_server.count:,} requests, 1 connection)",
            f"                    minimal {self.minimal_server.line()} ({self.minimal_server.count:,} requests)",
            f"                    p50 ratio {self.server_ratio:.2f}x the minimal view (goal <= 2x)",
            f"  load, page:       {load.line()}",
            f"  load, minimal:    {self.minimal_load.line()}",
            f"                    {self.throughput_ratio:.2f}x the minimal view's requests/s (goal >= 0.5x, 0 errors)",
        ]


def run_benchmark(
    *, papers: int, citers: int, pool: int, search_papers: int, clients: int, requests: int, workers: int,
    child_env: dict, connections: int = 32, load_seconds: float = 10.0, warm_papers: int = 200, threads: int = 8,
    page_cache_seconds: int | None = None,
) -> Figures:  # fmt: skip
    """Generate, serve and measure in the current database (PostgreSQL); the server runs with
    `child_env`, whose DATABASE_URL must name this same database."""
    from django.db import connection

    from scoring.services import rescore_corpus

    if connection.vendor != "postgresql":
        raise RuntimeError("bench/pages.py writes its corpus in PostgreSQL's SQL; it cannot run elsewhere")
    if not 1 <= citers <= pool:
        raise ValueError(f"each paper needs {citers} distinct citers from a pool of {pool}")
    if search_papers < papers:
        raise ValueError(f"the search corpus ({search_papers:,}) cannot be smaller than the first ({papers:,})")

    collect_static(child_env)
    started = time.perf_counter()
    links = generate(papers=papers, citers=citers, pool=pool)
    generated = time.perf_counter()
    rescore_corpus()
    vacuum_analyze(("scoring_paperscore",))
    rescored = time.perf_counter()
    rng = random.Random(1)
    warmup = max(2 * clients, 3 * workers)
    # Every measured page a different paper, so each one's graph is built, not read from the cache.
    page_numbers = rng.sample(range(papers), min(papers, warmup + requests))
    progress(f"Phase A: {papers:,} papers scored; measuring the paper page")
    with serving(child_env, workers=workers) as server:
        page_run = measure(
            server,
            {
                "page": [f"/papers/W{PAPER_BASE + n}/" for n in page_numbers],
                "minimal": [f"/bench/minimal/{PAPER_BASE + n}/" for n in page_numbers],
            },
            clients=clients,
            requests=requests,
            warmup=warmup,
        )

    warm_numbers = random.Random(2).sample(range(papers), min(papers, warm_papers))
    progress(f"Phase W: {len(warm_numbers):,} warm paper pages under waitress")
    warm = measure_warm(
        child_env,
        warm_numbers,
        connections=connections,
        seconds=load_seconds,
        threads=threads,
        page_cache_seconds=page_cache_seconds,
    )

    progress(f"Phase B: growing the corpus to {search_papers:,} papers")
    grow_started = time.perf_counter()
    grow(papers=papers, search_papers=search_papers, pool=pool)
    grown = time.perf_counter()
    rescore_corpus()
    vacuum_analyze(("scoring_paperscore",))
    search_rescored = time.perf_counter()
    search_paths = [f"/search/?{urlencode({'q': query})}" for query in SEARCH_QUERIES]
    minimal_numbers = rng.sample(range(search_papers), min(search_papers, warmup + requests))
    progress("Phase B: measuring search")
    with serving(child_env, workers=workers) as server:
        search_run = measure(
            server,
            {
                # Each query's turn comes round equally often, warm-up included.
                "search": [search_paths[i % len(search_paths)] for i in range(warmup + requests)],
                "minimal": [f"/bench/minimal/{PAPER_BASE + n}/" for n in minimal_numbers],
            },
            clients=clients,
            requests=requests,
            warmup=warmup,
        )

    by_query: dict[str, list[float]] = {}
    for path, seconds in search_run.server["search"]:
        by_query.setdefault(parse_qs(urlsplit(path).query)["q"][0], []).append(seconds)
    return Figures(
        papers=papers,
        citers=citers,
        pool=pool,
        links=links,
        search_papers=search_papers,
        clients=clients,
        workers=workers,
        generate_seconds=generated - started,
        rescore_seconds=rescored - generated,
        grow_seconds=grown - grow_started,
        search_rescore_seconds=search_rescored - grown,
        page=Latencies.of([seconds for _, seconds in page_run.client["page"]]),
        page_baseline=Latencies.of([seconds for _, seconds in page_run.client["minimal"]]),
        page_server=Latencies.of([seconds for _, seconds in page_run.server["page"]]),
        page_baseline_server=Latencies.of([seconds for _, seconds in page_run.server["minimal"]]),
        search=Latencies.of([seconds for _, seconds in search_run.client["search"]]),
        search_baseline=Latencies.of([seconds for _, seconds in search_run.client["minimal"]]),
        search_server=Latencies.of([seconds for _, seconds in search_run.server["search"]]),
        search_baseline_server=Latencies.of([seconds for _, seconds in search_run.server["minimal"]]),
        search_by_query=tuple((query, Latencies.of(by_query.get(query, []))) for query in SEARCH_QUERIES),
        errors=tuple(page_run.errors + search_run.errors) + warm.errors,
        warm=warm,
    )


def measure_warm(
    child_env: dict, numbers: list[int], *, connections: int, seconds: float, threads: int,
    page_cache_seconds: int | None,
) -> WarmFigures:  # fmt: skip
    """Phase W: every page of `numbers` requested once (rendered and kept), then the server's own
    time on one connection, then a load run of each kind alone over `connections` connections
    for `seconds` seconds (bench/load.py)."""
    from bench.load import run_load

    env = dict(child_env)
    if page_cache_seconds is not None:
        env["DATARANK_PAGE_CACHE_SECONDS"] = str(page_cache_seconds)
    pages = [("page", f"/papers/W{PAPER_BASE + n}/") for n in numbers]
    minimal = [("minimal", f"/bench/minimal/{PAPER_BASE + n}/") for n in numbers]
    with serving_waitress(env, threads=threads) as base_url:
        _, warm_errors = drive(base_url, [*pages, *minimal], clients=threads, tagged=False)
        turns = [job for pair in zip(pages, minimal, strict=True) for job in pair]
        server = run_load(base_url, turns, connections=1, seconds=max(1.0, seconds / 2))
        minimal_load = run_load(base_url, minimal, connections=connections, seconds=seconds)["minimal"]
        page_load = run_load(base_url, pages, connections=connections, seconds=seconds)["page"]
    errors = [*warm_errors, *server["page"].errors, *server["minimal"].errors, *minimal_load.errors, *page_load.errors]
    return WarmFigures(
        papers=len(numbers),
        threads=threads,
        page_cache_seconds=page_cache_seconds,
        page_server=server["page"].server,
        minimal_server=server["minimal"].server,
        page_load=page_load,
        minimal_load=minimal_load,
        errors=tuple(errors),
    )


def generate(*, papers: int, citers: int, pool: int) -> int:
    """Phase A's corpus: papers, their citers and the links; returns how many links."""
    params = sql_params(lo=0, hi=papers, citers=citers, pool=pool)
    with bulk_load(seed=SEED_A) as cursor:
        cursor.execute(PAPERS_SQL, params)
        for statement in (*INSERT_PAPERS_SQL, *CITERS_SQL):
            cursor.execute(statement, params)
        cursor.execute("SELECT count(*) FROM papers_citation")
        (links,) = cursor.fetchone()
    vacuum_analyze(BULK_TABLES)
    return links


def grow(*, papers: int, search_papers: int, pool: int) -> None:
    """Phase B: corpus papers `papers` … `search_papers`-1, with no citers of their own."""
    if search_papers == papers:
        return
    from papers.search import rebuild_search_index

    params = sql_params(lo=papers, hi=search_papers, citers=0, pool=pool)
    with bulk_load(seed=SEED_B) as cursor:
        cursor.execute(PAPERS_SQL, params)
        for statement in INSERT_PAPERS_SQL:
            cursor.execute(statement, params)
    vacuum_analyze(BULK_TABLES)
    # Papers written in SQL are searched once indexed, as a snapshot build's are.
    rebuild_search_index()


def sql_params(*, lo: int, hi: int, citers: int, pool: int) -> dict:
    return {
        "lo": lo,
        "hi": hi,
        "citers": citers,
        "pool": pool,
        "authors": max(pool // 3, 1),
        "self_rate": SELF_CITATION_RATE if citers else 0.0,
        "paper_base": PAPER_BASE,
        "citer_base": CITER_BASE,
        "lead_author_base": LEAD_AUTHOR_BASE,
        "pool_author_base": POOL_AUTHOR_BASE,
        "fetched_at": FETCHED_AT,
        "openers": list(OPENERS),
        "nouns": list(NOUNS),
        "topics": list(TOPICS),
        "places": list(PLACES),
        "repositories": list(REPOSITORIES),
        "journals": list(JOURNALS),
    }


@contextmanager
def bulk_load(*, seed: float) -> Iterator:
    """One transaction with the bulk tables' secondary indexes dropped, rebuilt at the end,
    random() seeded with `seed`, and foreign keys not checked row by row (the rows are consistent by
    construction; checking 20 million deferred links would take longer than writing them)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(SECONDARY_INDEXES_SQL, [list(BULK_TABLES)])
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        yield cursor
        for _, definition in indexes:
            cursor.execute(definition)


def vacuum_analyze(tables: tuple[str, ...]) -> None:
    """What autovacuum would have done by the time visitors come: statistics for the planner
    and a visibility map for index-only scans."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")


def collect_static(child_env: dict) -> None:
    """Production serves hashed static names from a manifest, which collectstatic writes."""
    command = [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"]
    subprocess.run(command, env=server_env(child_env), check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def server_env(child_env: dict) -> dict:
    """Production settings for plain http on 127.0.0.1 (bench/settings.py adds the minimal view)."""
    return {
        **child_env,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATARANK_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }


@dataclass(frozen=True)
class Server:
    base_url: str
    access_log: Path


@contextmanager
def serving(child_env: dict, *, workers: int) -> Iterator[Server]:
    """gunicorn serving the site on a free port of 127.0.0.1, logging each request's status,
    time (µs), X-Bench header (the kind of a measured request) and request line."""
    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="datarank-bench-pages-") as logs:
        access_log, error_log = Path(logs) / "access.log", Path(logs) / "error.log"
        command = [
            sys.executable, "-m", "gunicorn", "datarank_site.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--timeout", "300", "--error-logfile", str(error_log),
            "--access-logfile", str(access_log), "--access-logformat", "%(s)s %(D)s %({x-bench}i)s %(r)s",
        ]  # fmt: skip
        server = subprocess.Popen(command, env=server_env(child_env), cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = error_log.read_text(errors="replace") if error_log.exists() else ""
                    raise RuntimeError(f"gunicorn did not start:\n{log[-3000:]}")
                try:
                    if requests.get(f"{base_url}/robots.txt", timeout=5).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass
                time.sleep(0.2)
            yield Server(base_url, access_log)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextmanager
def serving_waitress(child_env: dict, *, threads: int) -> Iterator[str]:
    """The production server, `python -m datarank_site.serve` (waitress, `threads` threads),
    serving the site on a free port of 127.0.0.1; yields its base URL."""
    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    env = {**server_env(child_env), "HOST": "127.0.0.1", "PORT": str(port), "THREADS": str(threads)}
    with tempfile.TemporaryDirectory(prefix="datarank-bench-waitress-") as logs:
        log = Path(logs) / "server.log"
        with log.open("wb") as output:
            command = [sys.executable, "-m", "datarank_site.serve"]
            server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"waitress did not start:\n{log.read_text(errors='replace')[-3000:]}")
                try:
                    if requests.get(f"{base_url}/robots.txt", timeout=5).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass
                time.sleep(0.2)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@dataclass(frozen=True)
class Measured:
    """Per kind of request: (path, seconds) as the clients saw them, and as the server spent them."""

    client: dict[str, list[tuple[str, float]]]
    server: dict[str, list[tuple[str, float]]]
    errors: list[str]


def measure(server: Server, paths: dict[str, list[str]], *, clients: int, requests: int, warmup: int) -> Measured:
    """Each kind's first `warmup` paths unmeasured, then `requests` more, the kinds taking turns
    so that each meets the same load. A response other than a 200 is an error, not a figure."""
    kinds = list(paths)

    def interleaved(start: int, stop: int) -> list[tuple[str, str]]:
        return [(kind, paths[kind][i % len(paths[kind])]) for i in range(start, stop) for kind in kinds]

    drive(server.base_url, interleaved(0, warmup), clients=clients, tagged=False)
    jobs = interleaved(warmup, warmup + requests)
    timed, errors = drive(server.base_url, jobs, clients=clients, tagged=True)
    client: dict[str, list[tuple[str, float]]] = {kind: [] for kind in kinds}
    for kind, path, seconds in timed:
        client[kind].append((path, seconds))
    return Measured(client, server_seconds(server.access_log, kinds, expected=len(jobs)), errors)


def drive(
    base_url: str, jobs: list[tuple[str, str]], *, clients: int, tagged: bool
) -> tuple[list[tuple[str, str, float]], list[str]]:
    """`clients` threads, each with its own session, take the jobs in order until none are left;
    `tagged` sends each job's kind in X-Bench, for the access log."""
    import requests

    todo: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    timed: list[tuple[str, str, float]] = []
    errors: list[str] = []

    def client() -> None:
        with requests.Session() as session:
            while True:
                try:
                    kind, path = todo.get_nowait()
                except queue.Empty:
                    return
                headers = {"X-Bench": kind} if tagged else {}
                started = time.perf_counter()
                try:
                    response = session.get(base_url + path, headers=headers, allow_redirects=False, timeout=300)
                except requests.RequestException as exc:
                    errors.append(f"{path}: {exc}")
                    continue
                seconds = time.perf_counter() - started
                if response.status_code == 200:
                    timed.append((kind, path, seconds))
                else:
                    errors.append(f"{path}: HTTP {response.status_code}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timed, errors


def server_seconds(access_log: Path, kinds: list[str], *, expected: int) -> dict[str, list[tuple[str, float]]]:
    """The server's time for each measured 200, by kind, with its path. A worker logs a request after sending
    its response, so the last lines may still be on their way: wait for all `expected`."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line.split(" ", 3) for line in access_log.read_text().splitlines()]
        measured = [fields for fields in lines if len(fields) == 4 and fields[2] in kinds]
        if len(measured) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    seconds: dict[str, list[tuple[str, float]]] = {kind: [] for kind in kinds}
    for status, microseconds, kind, request_line in measured:
        if status == "200":
            # "GET /search/?q=soil+moisture HTTP/1.1"
            seconds[kind].append((request_line.split(" ")[1], int(microseconds) / 1e6))
    return seconds


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000, help="corpus papers of phase A (default 100,000)")
    parser.add_argument("--citers", type=int, default=200, help="citers per paper (default 200)")
    parser.add_argument("--pool", type=int, default=1_000_000, help="citing works (default 1,000,000)")
    parser.add_argument(
        "--search-papers", type=int, default=1_000_000, help="corpus papers of phase B (default 1,000,000)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--requests", type=int, default=400, help="measured requests per kind and phase (default 400)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="connections of the load runs (default 32)")
    parser.add_argument("--load-seconds", type=float, default=10.0, help="seconds of each load run (default 10)")
    parser.add_argument("--warm-papers", type=int, default=200, help="paper pages of phase W (default 200)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads in phase W (default 8)")
    parser.add_argument(
        "--page-cache-seconds", type=int, default=None, help="DATARANK_PAGE_CACHE_SECONDS in phase W (0: off)"
    )
    options = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datarank_site.settings")
    import django

    django.setup()
    from django.db import connection

    from bench.rescore import child_env_for

    if connection.vendor != "postgresql":
        print(
            "bench/pages.py measures PostgreSQL: set DATABASE_URL=postgres://user@host:port/name "
            "(it serves from its own database test_<name>).",
            file=sys.stderr,
        )
        return 2
    old_name = connection.settings_dict["NAME"]
    bench_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    progress(f"Benchmark database: {bench_name} (dropped afterwards)")
    try:
        figures = run_benchmark(
            papers=options.papers,
            citers=options.citers,
            pool=options.pool,
            search_papers=options.search_papers,
            clients=options.clients,
            requests=options.requests,
            workers=options.workers,
            connections=options.connections,
            load_seconds=options.load_seconds,
            warm_papers=options.warm_papers,
            threads=options.threads,
            page_cache_seconds=options.page_cache_seconds,
            child_env=child_env_for(bench_name),
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(figures.report())
    if figures.errors:
        print(f"FAILED: {len(figures.errors)} responses were not 200 (listed above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
