"""The search benchmark: `make bench-search`, or python bench/search.py [--papers N …].

In a database of its own (`test_<name of DATABASE_URL's database>`, created, migrated and dropped
here, as bench/pages.py does), it grows a corpus of N papers in SQL whose titles draw their words
from a Zipf-distributed vocabulary (word k with probability about 1/k, from `--words` of them, so
that rare words and long-tail typos exist), each paper with three authors whose names come from
the same kind of vocabulary; scores it in SQL as a run that ranks by the base part of DataRank
(search reads only the run's order) and scores every author (the researchers a search names
above its papers), rebuilds the search index and places it in the run's order
as a snapshot build's publication does; then serves the site with gunicorn and measures the
server's own time for each class of query, interleaved with the minimal view (bench/views.py):

rare words, a word in about a tenth of all titles, two and three words of one title, half-typed
prefixes, typos (one edit of a title word that no paper holds), author names.

Goals (issue 16): p50 at most 20 ms and p99 at most 100 ms for every class, and the search
page's p50 at most 5x the minimal view's. The report gives each class's p50/p99 against the
minimal view's p50 measured in the same run, and the plan of the slowest query.
"""

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import Percentiles  # noqa: E402
from bench.pages import (  # noqa: E402
    FETCHED_AT,
    PAPER_BASE,
    POOL_AUTHOR_BASE,
    WORKS_COLUMNS,
    bulk_load,
    collect_static,
    measure,
    progress,
    serving,
    vacuum_analyze,
)

SEED = 0.23
# The goals of issue 16, server time.
P50_GOAL, P99_GOAL, RATIO_GOAL = 0.020, 0.100, 5.0
WORDS_PER_TITLE = 7
AUTHORS_PER_PAPER = 3
SUBFIELDS = 40

# Word k of the vocabulary, spelt in consonant-vowel syllables (base 85), with an ending that
# varies its length: k < 85 has 2-4 letters, the long tail 8-11.
WORD_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.bench_word(k bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(substr('bcdfghjklmnprstvz', ((k / (85 ^ i)::bigint) %% 85 / 5)::int + 1, 1)
                      || substr('aeiou', ((k / (85 ^ i)::bigint) %% 85 %% 5)::int + 1, 1), '' ORDER BY i)
           || (ARRAY['', 'n', 'st'])[k %% 3 + 1]
    FROM generate_series(0, CASE WHEN k < 85 THEN 0 WHEN k < 7225 THEN 1 WHEN k < 614125 THEN 2 ELSE 3 END) AS i
$$"""

# A Zipf draw from 1 … words-1: floor(words ^ u) has probability about 1/(k ln words).
ZIPF = "floor(power(%(words)s::float8, random()))::bigint"

PAPERS_SQL = [
    f"""INSERT INTO papers_work {WORKS_COLUMNS}
        SELECT %(paper_base)s::bigint + g, '10.5555/search.' || g,
               initcap((SELECT string_agg(pg_temp.bench_word({ZIPF}), ' ') FROM generate_series(1, %(per_title)s)
                        WHERE g >= 0)),
               '', 1990 + floor(random() * 36)::int,
               (ARRAY['Zenodo', 'Dryad', 'PANGAEA', 'Earth System Science Data', 'Scientific Data', ''])
                   [1 + floor(random() * 6)::int],
               CASE WHEN random() < 0.7 THEN 'dataset' ELSE 'article' END,
               CASE WHEN random() < 0.3 THEN 0 ELSE floor(exp(random() * 8))::int END, 10, true, 'green', false,
               '["datacite"]', '[]', '[]', DATE '2026-02-01', %(fetched_at)s, '[]', 'cc-by'
        FROM generate_series(0, %(papers)s::bigint - 1) AS g""",
    """UPDATE papers_work SET subfield_id = 1000 + (id %% %(subfields)s),
           primary_topic = jsonb_build_object('subfield', jsonb_build_object(
               'id', 1000 + (id %% %(subfields)s), 'name', 'Subfield ' || (id %% %(subfields)s)))""",
    """INSERT INTO papers_corpusentry (work_id, check_passed, confidence, reasons, included, override,
                                      checked_at, added_at)
       SELECT id, true, 0.9, '[]', true, '', %(fetched_at)s, %(fetched_at)s FROM papers_work""",
    f"""INSERT INTO papers_author (id, display_name, orcid)
        SELECT %(author_base)s::bigint + g,
               initcap(pg_temp.bench_word(1 + floor(power(5000::float8, random()))::bigint)) || ' '
               || initcap(pg_temp.bench_word({ZIPF})), ''
        FROM generate_series(0, %(authors)s::bigint - 1) AS g""",
    # Three distinct authors a paper: the first drawn, the others a third of the pool further on.
    """INSERT INTO papers_authorship (work_id, author_id, position)
       SELECT w.id, %(author_base)s::bigint + mod(w.first + p * greatest(%(authors)s / 3, 1), %(authors)s), p
       FROM (SELECT id, floor(random() * %(authors)s)::bigint AS first FROM papers_work) AS w,
            generate_series(0, %(per_paper)s - 1) AS p""",
]

# A run's scores ranking by the base part of DataRank, (1 - d) ln(1 + C): every paper cited at
# least once is ranked, the others are not (DESIGN.md §1's rules, ties sharing the best rank).
SCORES_SQL = [
    """INSERT INTO scoring_paperscore (run_id, work_id, base_contribution, network_contribution, datarank,
                                      citing_works, citers_with_signal, self_citations_excluded, cap_bound,
                                      rank, top_percent, tier)
       WITH scored AS (
           SELECT id, 0.15 * ln(1 + cited_by_count) AS datarank FROM papers_work
       ), ranked AS (
           SELECT id, datarank, rank() OVER (ORDER BY datarank DESC) AS rank,
                  count(*) OVER (ORDER BY datarank DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS k,
                  count(*) OVER () AS n
           FROM scored WHERE datarank > 0
       )
       SELECT %(run)s, s.id, s.datarank, 0, s.datarank, 0, 0, 0, false,
              r.rank, 100.0 * r.k / r.n, ceil(5.0 * r.k / r.n)::int
       FROM scored s LEFT JOIN ranked r ON r.id = s.id""",
]
# Every author scored in the run, so that the researchers a search names are found among as many
# as a site of that size holds: the score is their best paper's DataRank over 10 (theSindex's
# with one paper counted), ranked where above zero.
RESEARCHERS_SQL = """
    INSERT INTO scoring_researcherscore (run_id, author_id, papers, ranked_papers, researcher_score, sum_score,
                                         h_index, rank, top_percent, subfield_id)
    WITH totals AS (
        SELECT a.author_id, count(*) AS papers, count(s.rank) AS ranked, max(s.datarank) / 10 AS score,
               sum(s.datarank) AS total
        FROM papers_authorship a JOIN scoring_paperscore s ON s.work_id = a.work_id AND s.run_id = %(run)s
        GROUP BY a.author_id
    ), ranked AS (
        SELECT author_id, rank() OVER (ORDER BY score DESC) AS rank, count(*) OVER () AS n
        FROM totals WHERE score > 0
    )
    SELECT %(run)s, t.author_id, t.papers, t.ranked, t.score, t.total, least(t.papers, 1), r.rank,
           100.0 * r.rank / r.n, NULL
    FROM totals t LEFT JOIN ranked r ON r.author_id = t.author_id"""


@dataclass(frozen=True)
class Figures:
    papers: int
    words: int
    vocabulary: int
    generate_seconds: float
    index_seconds: float
    place_seconds: float
    minimal: Percentiles
    search: Percentiles
    by_class: tuple[tuple[str, Percentiles], ...]
    queries: dict[str, list[str]]
    slowest: str
    slowest_plan: str
    errors: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.search.p50 / self.minimal.p50

    def met(self) -> bool:
        classes = all(p.p50 <= P50_GOAL and p.p99 <= P99_GOAL for _, p in self.by_class)
        return classes and self.ratio <= RATIO_GOAL and not self.errors

    def report(self) -> str:
        minimal = self.minimal.p50
        lines = [
            f"Corpus:             {self.papers:,} papers, titles of {WORDS_PER_TITLE} words from a Zipf vocabulary of "
            f"{self.words:,}; {AUTHORS_PER_PAPER} authors each; search vocabulary {self.vocabulary:,} words",
            f"Generate:           {self.generate_seconds:.1f} s in SQL; search index rebuilt in the run's "
            f"order in {self.index_seconds:.1f} s; placed again after it in {self.place_seconds:.1f} s "
            "(a kept database reuses its corpus and index)",
            f"Minimal view:       {self.minimal.line()} ({self.minimal.count:,} requests)",
            f"Search, all:        {self.search.line()} ({self.search.count:,} requests); "
            f"p50 ratio {self.ratio:.2f}x the minimal view (goal <= {RATIO_GOAL:.0f}x)",
            f"By class (server time; goals p50 <= {P50_GOAL * 1000:.0f} ms, p99 <= {P99_GOAL * 1000:.0f} ms; "
            "ratio = class p50 / minimal p50):",
            *(
                f"  {name:10} {p.line()}  ratio {p.p50 / minimal:5.2f}x  ({p.count} requests; e.g. "
                f"{', '.join(repr(q) for q in self.queries[name][:3])})"
                for name, p in self.by_class
            ),
            f"Slowest request:    {self.slowest}",
            "Plan of its slowest query:",
            *(f"  {line}" for line in self.slowest_plan.splitlines()),
            f"Errors:             {len(self.errors)} responses other than 200",
            *(f"  {error}" for error in self.errors[:10]),
            f"Goals:              {'met' if self.met() else 'NOT met'}",
        ]
        return "\n".join(lines)


def generate(*, papers: int, words: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from scoring.models import PaperScore, ScoringRun
    from scoring.summary import recount

    params: dict[str, Any] = {
        "papers": papers,
        "words": words,
        "per_title": WORDS_PER_TITLE,
        "per_paper": AUTHORS_PER_PAPER,
        "authors": max(papers // 2, 1),
        "author_base": POOL_AUTHOR_BASE,
        "paper_base": PAPER_BASE,
        "fetched_at": FETCHED_AT,
        "subfields": SUBFIELDS,
    }
    tables = ("papers_work", "papers_corpusentry", "papers_author", "papers_authorship")
    with bulk_load(seed=SEED) as cursor:
        cursor.execute(WORD_FUNCTION, ())
        for statement in PAPERS_SQL:
            cursor.execute(statement, params)
    vacuum_analyze(tables)
    run = ScoringRun.objects.create(algorithm="bench-search", damping=0.85, citer_cap=200)
    with connection.cursor() as cursor:
        cursor.execute(SCORES_SQL[0], {**params, "run": run.pk})
    run.papers_scored = PaperScore.objects.filter(run=run).count()
    run.papers_ranked = PaperScore.objects.filter(run=run, rank__isnull=False).count()
    run.status, run.finished_at = ScoringRun.Status.SUCCEEDED, timezone.now()
    run.save()
    vacuum_analyze(("scoring_paperscore",))
    score_researchers(run)
    # The figures pages read, as publishing a run stores them (the facets name subfields from them).
    ScoringRun.objects.filter(pk=run.pk).update(figures=recount(run))


def score_researchers(run: Any) -> None:
    from django.db import connection

    from scoring.models import ResearcherScore, ScoringRun

    with connection.cursor() as cursor:
        cursor.execute(RESEARCHERS_SQL, {"run": run.pk})
    ScoringRun.objects.filter(pk=run.pk).update(
        researchers_scored=ResearcherScore.objects.filter(run=run).count(),
        researchers_ranked=ResearcherScore.objects.filter(run=run, rank__isnull=False).count(),
    )
    vacuum_analyze(("scoring_researcherscore",))


def pick_queries(*, per_class: int, seed: int = 7) -> dict[str, list[str]]:
    """Each class's queries, read off the corpus and its vocabulary in a fixed order (a seeded
    sample), so that every run at a size asks the same ones."""
    from django.db.models import F
    from django.db.models.functions import Abs

    from papers.models import Authorship, SearchEntry, SearchWord, Work

    rng = random.Random(seed)
    papers = Work.objects.in_corpus().count()
    by_frequency = SearchWord.objects.order_by("word")
    rare = list(
        by_frequency.filter(frequency__range=(2, 5), word__regex=r"^[a-z]{5,}$").values_list("word", flat=True)[:500]
    )
    tenth = (
        SearchWord.objects.filter(word__regex=r"^[a-z]+$")
        .order_by(Abs(F("frequency") - papers // 10), "word")
        .values_list("word", flat=True)[:3]
    )
    mid = list(
        by_frequency.filter(
            frequency__range=(papers // 1000 + 2, papers // 20 + 3), word__regex=r"^[a-z]{6,}$"
        ).values_list("word", flat=True)[:500]
    )
    sample = rng.sample(range(papers), min(papers, 50 * per_class))
    entries = [
        e.split()
        for e in SearchEntry.objects.filter(work_id__in=[PAPER_BASE + n for n in sample]).values_list(
            "words", flat=True
        )
    ]
    held = set(SearchWord.objects.filter(word__in={w for e in entries for w in e}).values_list("word", flat=True))
    typos: list[str] = []
    for words in entries:
        candidates = [w for w in words[:WORDS_PER_TITLE] if 6 <= len(w) <= 9]
        if candidates:
            word = rng.choice(candidates)
            i = rng.randrange(1, len(word) - 1)
            typo = (
                word[:i] + word[i + 1] + word[i] + word[i + 2 :]
                if rng.random() < 0.5
                else word[:i] + "q" + word[i + 1 :]
            )
            if typo not in held and not SearchWord.objects.filter(word=typo).exists():
                typos.append(typo)
    leads = Authorship.objects.filter(work_id__in=[PAPER_BASE + n for n in sample[:per_class]], position=0)
    names = list(leads.order_by("work_id").values_list("author__display_name", flat=True))
    titles = [words[:WORDS_PER_TITLE] for words in entries]
    return {
        "rare": rng.sample(rare, min(per_class, len(rare))),
        "tenth": list(tenth),
        "two words": [" ".join(t[i : i + 2]) for t in titles[:per_class] for i in [rng.randrange(len(t) - 1)]],
        "three": [
            " ".join(t[i : i + 3]) for t in titles[per_class : 2 * per_class] for i in [rng.randrange(len(t) - 2)]
        ],
        "prefix": [w[: max(3, len(w) // 2)] for w in rng.sample(mid, min(per_class, len(mid)))],
        "typo": typos[:per_class],
        "author": [name.lower() for name in names],
    }


def slowest_plan(path: str) -> str:
    """EXPLAIN ANALYZE of the slowest SQL the search view runs for `path`, in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    with CaptureQueriesContext(connection) as captured:
        client.get(path, HTTP_HOST="127.0.0.1")
    slowest = max(captured.captured_queries, key=lambda query: float(query["time"]))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return f"({slowest['time']} s) {slowest['sql'][:600]}\n{plan}"


def run_benchmark(
    *, papers: int, words: int, per_class: int, rounds: int, clients: int, workers: int, child_env: dict
) -> Figures:
    from django.db import connection

    from papers.models import SearchEntry, SearchWord, Work
    from papers.search import rebuild_search_index
    from scoring.models import PaperScore, ResearcherScore, ScoringRun

    if connection.vendor != "postgresql":
        raise RuntimeError("bench/search.py writes its corpus in PostgreSQL's SQL; it cannot run elsewhere")
    collect_static(child_env)
    started = time.perf_counter()
    held = Work.objects.count()
    if held and held != papers:
        raise RuntimeError(f"The kept database holds {held:,} papers, not {papers:,}: drop it or ask for {held:,}")
    if held:
        progress(f"Reusing the kept corpus of {held:,} papers")
    else:
        progress(f"Generating {papers:,} papers from a vocabulary of {words:,} words")
        generate(papers=papers, words=words)
    generated = time.perf_counter()
    run = ScoringRun.objects.current()
    assert run is not None
    if not ResearcherScore.objects.filter(run=run).exists():
        progress("Scoring the run's researchers")  # a corpus kept from before the benchmark had them
        score_researchers(run)
    if SearchEntry.objects.count() != papers:
        progress("Rebuilding the search index in the run's order")
        rebuild_search_index(PaperScore.objects.filter(run=run))
    indexed = time.perf_counter()
    # What every later run costs when its order is the same: nothing to move.
    SearchEntry.objects.place(PaperScore.objects.filter(run=run))
    placed = time.perf_counter()
    vacuum_analyze(("papers_searchentry", "papers_searchword"))

    queries = pick_queries(per_class=per_class)
    jobs = [(name, query) for name, listed in queries.items() for query in listed]
    paths = [f"/search/?{urlencode({'q': query})}" for _, query in jobs] * rounds
    random.Random(3).shuffle(paths)
    numbers = random.Random(4).sample(range(papers), min(papers, len(paths)))
    progress(f"Measuring {len(paths):,} searches of {len(jobs)} queries in {len(queries)} classes")
    with serving(child_env, workers=workers) as server:
        measured = measure(
            server,
            {"search": paths, "minimal": [f"/bench/minimal/{PAPER_BASE + n}/" for n in numbers]},
            clients=clients,
            requests=len(paths),
            warmup=min(len(paths), 2 * len(jobs)),
        )
    class_of = {query: name for name, query in jobs}
    by_class: dict[str, list[float]] = {name: [] for name in queries}
    timed: list[tuple[float, str]] = []
    for path, seconds in measured.server["search"]:
        query = parse_qs(urlsplit(path).query)["q"][0]
        by_class[class_of[query]].append(seconds)
        timed.append((seconds, path))
    slowest = max(timed)[1] if timed else ""
    return Figures(
        papers=papers,
        words=words,
        vocabulary=SearchWord.objects.count(),
        generate_seconds=generated - started,
        index_seconds=indexed - generated,
        place_seconds=placed - indexed,
        minimal=Percentiles.of([s for _, s in measured.server["minimal"]]),
        search=Percentiles.of([s for s, _ in timed]),
        by_class=tuple((name, Percentiles.of(seconds)) for name, seconds in by_class.items()),
        queries=queries,
        slowest=slowest,
        slowest_plan=slowest_plan(slowest) if slowest else "",
        errors=tuple(measured.errors),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=1_000_000, help="corpus papers (default 1,000,000)")
    parser.add_argument("--words", type=int, default=3_000_000, help="the Zipf vocabulary's size (default 3,000,000)")
    parser.add_argument("--per-class", type=int, default=20, help="distinct queries per class (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="times each query is asked (default 5)")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--keep-database",
        metavar="NAME",
        help="work in this database (it must exist) and keep it: a later run of the same size reuses its corpus",
    )
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datarank_site.settings")
    import django

    django.setup()
    from django.db import connection

    from bench.rescore import child_env_for

    if connection.vendor != "postgresql":
        print("bench/search.py measures PostgreSQL: set DATABASE_URL=postgres://user@host:port/name", file=sys.stderr)
        return 2
    old_name = connection.settings_dict["NAME"]
    if options.keep_database:
        # Kept from one run to the next: at 10M titles, generating and indexing take over an hour.
        bench_name = options.keep_database
        connection.settings_dict["NAME"] = bench_name
        with connection.cursor():
            pass
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        progress(f"Benchmark database: {bench_name} (kept)")
    else:
        bench_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        progress(f"Benchmark database: {bench_name} (dropped afterwards)")
    try:
        figures = run_benchmark(
            papers=options.papers,
            words=options.words,
            per_class=options.per_class,
            rounds=options.rounds,
            clients=options.clients,
            workers=options.workers,
            child_env=child_env_for(bench_name),
        )
    finally:
        if not options.keep_database:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    print(figures.report())
    return 0 if not figures.errors else 1


if __name__ == "__main__":
    sys.exit(main())
