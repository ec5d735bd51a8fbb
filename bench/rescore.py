"""The rescoring benchmark: `make bench`, or python bench/rescore.py [--papers N …].

In a database of its own (Django's test-database machinery: `test_<name of DATABASE_URL's
database>`, created, migrated and dropped here, so the data behind DATABASE_URL is never
touched), it generates a synthetic corpus with `generate_corpus`, loads it with
`load_openalex --corpus data` (the bulk path; both in child processes, so their memory is not
counted below) and then measures, in this process:

- baseline: one query reading every input the score needs once — the citation links to corpus
  papers joined to the citing works' two counts — fetched in full into arrays, the way the
  engine fetches;
- rescore: a full rescore_corpus() (load, score, write every PaperScore row and the
  researcher and institution scores, publish the run);
- the same run without the researcher and institution scores (scoring.roll_ups left out), and
  the ratio with / without (goal ≤ 1.3), taking the faster of two runs with them, one before and
  one after, as for the baseline;
- the ratio rescore / baseline (goal ≤ 3), taking the faster of two baseline runs, one before
  and one after the rescore, so a cold cache cannot flatter the ratio;
- peak RSS of this process (getrusage ru_maxrss; goal < 2 GB);
- refresh one paper: load one new citing work of one corpus paper through load_openalex (in this
  process), then the rescore a finished refresh runs, which recomputes only the papers whose
  inputs changed (here one) and ranks everyone again; against a full rescore of the same data,
  measured next, with the ratio (the two runs' rows are compared: they must be identical).
"""

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figures:
    papers: int
    links: int
    generate_seconds: float
    load_seconds: float
    baseline_seconds: float
    rescore_seconds: float
    without_roll_ups_seconds: float
    researchers: int
    institutions: int
    peak_rss_bytes: int
    refresh_seconds: float
    incremental_seconds: float
    recomputed: int
    full_after_refresh_seconds: float

    @property
    def ratio(self) -> float:
        return self.rescore_seconds / self.baseline_seconds

    def report(self) -> str:
        return "\n".join(
            [
                f"Corpus:             {self.papers:,} papers, {self.links:,} citation links to them",
                f"Generate:           {self.generate_seconds:.1f} s (generate_corpus)",
                f"Load:               {self.load_seconds:.1f} s (load_openalex --corpus data, bulk path)",
                f"Baseline read:      {self.baseline_seconds:.2f} s (one query: links + citers' two counts)",
                f"Full rescore:       {self.rescore_seconds:.2f} s (rescore_corpus: read, score, write, publish)",
                f"Ratio:              {self.ratio:.2f}x baseline (goal <= 3x)",
                f"Without roll-ups:   {self.without_roll_ups_seconds:.2f} s (the same run, no researcher or "
                f"institution scores); with them {self.rescore_seconds / self.without_roll_ups_seconds:.2f}x "
                f"(goal <= 1.3x) for {self.researchers:,} researchers and {self.institutions:,} institutions",
                f"Peak RSS:           {self.peak_rss_bytes / 2**20:,.0f} MiB of this process (goal < 2048 MiB)",
                f"Refresh one paper:  {self.refresh_seconds:.2f} s (load 1 new citer via load_openalex + rescore)",
                f"Incremental:        {self.incremental_seconds:.2f} s for the rescore ({self.recomputed:,} paper"
                f"{'' if self.recomputed == 1 else 's'} recomputed, all ranked) against "
                f"{self.full_after_refresh_seconds:.2f} s full = "
                f"{self.incremental_seconds / self.full_after_refresh_seconds:.2f}x; identical rows",
            ]
        )


def run_benchmark(*, papers: int, citers: int, pool: int, workdir: Path, child_env: dict | None) -> Figures:
    """Generate, load and measure in the current database. With child_env (PostgreSQL), the
    two commands run as child processes with that environment; without, in this process."""
    from scoring.roll_ups import SavedRollUps
    from scoring.services import rescore_corpus

    corpus_file = workdir / "corpus.jsonl.gz"
    started = time.perf_counter()
    manage(
        child_env,
        "generate_corpus",
        *("--papers", str(papers), "--citers", str(citers), "--pool", str(pool), "--seed", "1", str(corpus_file)),
    )
    generated = time.perf_counter()
    manage(child_env, "load_openalex", "--corpus", "data", str(corpus_file))
    loaded = time.perf_counter()

    full = partial(rescore_corpus, full=True)
    baseline_before, links = baseline()
    first, run = timed(full)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    with mock.patch("scoring.services.save_roll_ups", return_value=SavedRollUps(no_roll_ups(), no_roll_ups())):
        without_roll_ups, _ = timed(full)
    second, _ = timed(full)
    baseline_after, _ = baseline()

    refresh_started = time.perf_counter()
    one_citer = workdir / "one-citer.jsonl"
    one_citer.write_text(json.dumps(new_citer_of_first_paper(corpus_file)) + "\n", encoding="utf-8")
    # In this process: one record's load is small, and a child's start-up would dominate.
    manage(None, "load_openalex", "--corpus", "none", str(one_citer))
    incremental, refreshed = timed(rescore_corpus)
    refresh_seconds = time.perf_counter() - refresh_started
    full_after_refresh, recomputed_all = timed(full)
    if published_rows(refreshed) != published_rows(recomputed_all):
        raise AssertionError("the incremental rescore published other rows than a full one")

    return Figures(
        papers=papers,
        links=links,
        generate_seconds=generated - started,
        load_seconds=loaded - generated,
        baseline_seconds=min(baseline_before, baseline_after),
        rescore_seconds=min(first, second),
        without_roll_ups_seconds=without_roll_ups,
        researchers=run.researchers_scored,
        institutions=run.institutions_scored,
        peak_rss_bytes=peak,
        refresh_seconds=refresh_seconds,
        incremental_seconds=incremental,
        recomputed=refreshed.papers_recomputed,
        full_after_refresh_seconds=full_after_refresh,
    )


def no_roll_ups():
    """A run's roll-ups when there are none: the run without researcher or institution scores."""
    import numpy as np

    from scoring.researchers import RollUps

    return RollUps(*(np.zeros(0, np.int64) for _ in range(9)))


def published_rows(run) -> list[tuple]:
    """Every figure of every paper score of `run`, by paper."""
    from scoring.models import PaperScore

    names = [field.name for field in PaperScore._meta.concrete_fields if field.name not in ("id", "run")]
    return list(PaperScore.objects.filter(run=run).order_by("work_id").values_list(*names))


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def baseline() -> tuple[float, int]:
    """Seconds to read the score's inputs once, and how many links that was."""
    import numpy as np

    from papers.models import Citation
    from scoring.inputs import fetch_columns

    links = Citation.objects.filter(cited__corpus_entry__in_corpus=True).order_by()
    query = links.values_list("cited_id", "citing_id", "citing__cited_by_count", "citing__referenced_works_count")
    started = time.perf_counter()
    columns = fetch_columns(*query.query.sql_with_params(), dtypes=(np.int64, np.int64, np.int32, np.int32))
    return time.perf_counter() - started, len(columns[0])


def new_citer_of_first_paper(corpus_file: Path) -> dict:
    """A new citing work, shaped like the generated ones, that cites the file's first paper."""
    with gzip.open(corpus_file, "rt", encoding="utf-8") as f:
        paper = json.loads(f.readline())
    number = int(paper["id"].rsplit("W", 1)[1]) + 10**12
    return {
        "id": f"https://openalex.org/W{number}",
        "title": "Benchmark refresh: a new citer",
        "type": "article",
        "cited_by_count": 12,
        "referenced_works_count": 3,
        "referenced_works": [paper["id"]],
        "authorships": [],
        "updated_date": "2026-02-02T00:00:00.000000",
    }


def manage(child_env: dict | None, *args: str) -> None:
    if child_env is None:
        from django.core.management import call_command

        with open(os.devnull, "w") as sink:
            call_command(*args, stdout=sink, stderr=sink)
        return
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    subprocess.run(command, env=child_env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def child_env_for(database_name: str) -> dict:
    """This environment with DATABASE_URL naming `database_name` instead."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return {**os.environ, "DATABASE_URL": urlunsplit(parts._replace(path="/" + database_name))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000, help="corpus papers (default 100,000)")
    parser.add_argument("--citers", type=int, default=200, help="citers per paper (default 200)")
    parser.add_argument("--pool", type=int, default=1_000_000, help="citing works (default 1,000,000)")
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite (figures not meaningful)")
    options = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datarank_site.settings")
    import django

    django.setup()
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    if not postgres and not options.allow_sqlite:
        print(
            "bench/rescore.py measures PostgreSQL: set DATABASE_URL=postgres://user@host:port/name "
            "(it scores in its own database test_<name>), or pass --allow-sqlite.",
            file=sys.stderr,
        )
        return 2
    old_name = connection.settings_dict["NAME"]
    bench_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(f"Benchmark database: {bench_name} (dropped afterwards)", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="datarank-bench-") as workdir:
            figures = run_benchmark(
                papers=options.papers,
                citers=options.citers,
                pool=options.pool,
                workdir=Path(workdir),
                child_env=child_env_for(bench_name) if postgres else None,
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(figures.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
