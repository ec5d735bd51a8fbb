"""The build benchmark: `make bench-build`, or python bench/build.py [--works N …].

In a database of its own (Django's test-database machinery: `test_<name of DATABASE_URL's
database>`, created, migrated and dropped here, so the data behind DATABASE_URL is never
touched), it writes a synthetic snapshot in the layout OpenAlex publishes with `generate_corpus
--parts` (records shaped like real ones: ~95% of references outside the corpus, most works with
an abstract, the fields DataRank does not read; about 1.2 KB gzipped a work), builds it with
`manage.py build_index --memory-limit 4GB` in a child process, and prints, all measured in the
same run:

- the bare scan, the limit: one DuckDB statement over the same files, `count(*)` and
  `sum(len(referenced_works))`, with as many threads as the build; the faster of one run before
  and one after the build, so a cold page cache cannot flatter the ratio;
- the build end to end (its SnapshotBuild record, from opening to the run published: stages,
  scores, publishing), each stage as the record has it, and the command's whole process;
  references read per second;
- the ratio build / bare scan (goal: at most 3x);
- the build's peak RSS (its record's peak_memory, the child's ru_maxrss) against the limit + 25%;
- the work dir's disk, at its largest (sampled while the build runs) and at the end;
- a projection to the real snapshot (330 GB gzipped, ~2.9 billion references) from bytes, on this
  machine and on 16 cores, with its arithmetic;
- at the 1M-reference size (a second, small snapshot of the same shape): the build against
  `load_openalex --corpus data` of the same parts followed by `rescore`, each into an empty
  database, and their ratio;
- the live path at the built size: one new citer of the top paper loaded with `load_openalex`,
  then `rescore` (which recomputes only the papers whose inputs changed) against `rescore --full`
  of the same data, with the ratio, the two runs' rows compared; and, served by gunicorn, the home
  page, the ranking and paper pages (each measured paper a different one, so none comes from the
  page cache) against the minimal view, server time, median over median.

The generator runs in a child process too (its processes write the parts side by side); its
rate is printed, with what 10M works would take here.
"""

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT = "4GB"
# DuckDB's GB is 10^9 bytes; the goal is a peak under the limit + 25%.
MEMORY_GOAL_BYTES = 4 * 10**9 * 1.25
# The real snapshot the projection is for: about 330 GB gzipped, ~2.9 billion references.
REAL_BYTES = 330e9
REAL_REFERENCES = 2.9e9
PROJECTED_CORES = 16
OUTSIDE = 0.95
ABSTRACTS = 0.9
# Works per part: a real part holds a few hundred thousand; fewer make more parts to run side by side.
WORKS_PER_PART = 250_000
# The load_openalex comparison: the size issue 15 measured it at (1M references).
SMALL_REFERENCES = 1_000_000
SECONDS_BETWEEN_DISK_LOOKS = 0.5


@dataclass(frozen=True)
class Stage:
    name: str
    seconds: float
    rows: int


@dataclass(frozen=True)
class Built:
    """One snapshot generated and built."""

    works: int
    parts: int
    gzip_bytes: int
    generate_seconds: float
    bare_seconds: float
    records: int
    references: int
    # From the build's record opening to its run published; the command's process also evaluates
    # the FAIR score of the papers that arrived (scoring.tasks.evaluate_arrivals) after that.
    build_seconds: float
    command_seconds: float
    stages: tuple[Stage, ...]
    peak_rss_bytes: int
    peak_disk_bytes: int
    final_disk_bytes: int
    corpus_papers: int
    ranked: int

    @property
    def ratio(self) -> float:
        return self.build_seconds / self.bare_seconds

    @property
    def references_per_second(self) -> float:
        return self.references / self.build_seconds


@dataclass(frozen=True)
class Live:
    """The live path on the built index: a refresh's rescore, and the pages (when served)."""

    incremental_seconds: float
    recomputed: int
    full_seconds: float
    identical: bool
    # Server time, median, by kind of page; the minimal view is the baseline.
    page_seconds: dict[str, float]

    def lines(self) -> list[str]:
        lines = [
            f"Live rescore:       {self.incremental_seconds:,.2f} s after one new citer ({self.recomputed:,} paper"
            f"{'' if self.recomputed == 1 else 's'} recomputed, every one ranked) against "
            f"{self.full_seconds:,.2f} s for --full = {self.incremental_seconds / self.full_seconds:.2f}x; "
            + ("identical rows" if self.identical else "ROWS DIFFER"),
        ]
        minimal = self.page_seconds.get("minimal")
        for kind, seconds in self.page_seconds.items():
            if kind != "minimal" and minimal:
                lines.append(
                    f"  {kind + ' page:':<18}{seconds * 1000:8.1f} ms server median, minimal view "
                    f"{minimal * 1000:.1f} ms: {seconds / minimal:.1f}x"
                )
        return lines


@dataclass(frozen=True)
class Figures:
    threads: int
    big: Built
    small: Built
    small_load_seconds: float
    small_rescore_seconds: float
    live: Live

    @property
    def load_ratio(self) -> float:
        return (self.small_load_seconds + self.small_rescore_seconds) / self.small.build_seconds

    def report(self) -> str:
        big, small = self.big, self.small
        per_byte = big.build_seconds / big.gzip_bytes
        here = REAL_BYTES * per_byte
        wide = here * self.threads / PROJECTED_CORES
        by_references = REAL_REFERENCES / big.references_per_second
        generate_rate = big.works / big.generate_seconds
        limit = MEMORY_GOAL_BYTES
        lines = [
            f"Snapshot:           {big.works:,} works ({big.records:,} records) in {big.parts} parts, "
            f"{big.gzip_bytes / 1e9:,.2f} GB gzip ({big.gzip_bytes / big.records:,.0f} bytes a work), "
            f"{big.references:,} references, {big.corpus_papers:,} corpus papers ({big.ranked:,} ranked)",
            f"Generate:           {big.generate_seconds:,.1f} s ({generate_rate:,.0f} works/s with {self.threads} "
            f"processes; 10M works: {10e6 / generate_rate / 60:,.1f} min here)",
            f"Bare scan:          {big.bare_seconds:,.2f} s (DuckDB count(*), sum(len(referenced_works)), "
            f"{self.threads} threads) — the limit",
            f"Build:              {big.build_seconds:,.2f} s end to end (build_index --threads {self.threads} "
            f"--memory-limit {MEMORY_LIMIT}: its record, opened to published), "
            f"{big.references_per_second:,.0f} references/s",
            f"  the command:      {big.command_seconds:,.2f} s (start-up and the FAIR evaluation of the arrivals too)",
            *(f"  {stage.name + ':':<20}{stage.seconds:10.2f} s {stage.rows:>14,} rows" for stage in big.stages),
            f"Ratio:              {big.ratio:.2f}x the bare scan (goal <= 3x)",
            f"Peak RSS:           {big.peak_rss_bytes / 2**20:,.0f} MiB of the build "
            f"(goal under the limit + 25%: {limit / 2**20:,.0f} MiB) — "
            + ("under" if big.peak_rss_bytes < limit else "OVER"),
            f"Work dir:           {big.peak_disk_bytes / 1e9:,.2f} GB at its largest, "
            f"{big.final_disk_bytes / 1e9:,.2f} GB at the end ({big.peak_disk_bytes / big.gzip_bytes:.2f}x the gzip)",
            f"Projection:         330 GB gzip x {per_byte * 1e9:.2f} s/GB = {here / 3600:,.1f} h here "
            f"({self.threads} cores); x {self.threads}/{PROJECTED_CORES} = {wide / 3600:,.1f} h on "
            f"{PROJECTED_CORES} cores, if the per-part stages scale with cores (the publish does not)",
            f"  from references:  2.9e9 / {big.references_per_second:,.0f} per s = {by_references / 3600:,.1f} h "
            f"here; {by_references * self.threads / PROJECTED_CORES / 3600:,.1f} h on {PROJECTED_CORES} cores",
            f"  work dir:         {big.peak_disk_bytes / big.gzip_bytes:.2f} x 330 GB = "
            f"{REAL_BYTES * big.peak_disk_bytes / big.gzip_bytes / 1e9:,.0f} GB",
            f"At {small.references:,} references ({small.works:,} works, {small.corpus_papers:,} corpus papers):",
            f"  build_index:      {small.build_seconds:,.2f} s (bare scan {small.bare_seconds:.2f} s, "
            f"{small.ratio:.1f}x)",
            f"  load_openalex:    {self.small_load_seconds:,.2f} s + rescore {self.small_rescore_seconds:,.2f} s = "
            f"{self.small_load_seconds + self.small_rescore_seconds:,.2f} s",
            f"  ratio:            {self.load_ratio:.1f}x the build (load_openalex + rescore / build_index)",
            *self.live.lines(),
        ]
        return "\n".join(lines)


def shape(*, works: int, papers: int, references: int) -> tuple[int, int]:
    """(citers per corpus paper, pool of citing works) for `references` in all, OUTSIDE of them
    pointing outside the corpus."""
    pool = works - papers
    citers = max(1, round(references * (1 - OUTSIDE) / papers))
    if citers > pool:
        raise ValueError(f"{papers:,} papers x {citers} citers need more than the {pool:,} other works")
    return citers, pool


def run_benchmark(
    *,
    works: int,
    papers: int,
    references: int,
    small_references: int,
    threads: int,
    workdir: Path,
    child_env: dict | None,
    parts: int | None = None,
) -> Figures:
    """Generate, build and measure in the current (empty) database. With child_env, the commands
    run as child processes with that environment; without, in this process (the suite's size)."""
    small_works = max(small_references // 20, 2 * threads)
    small = build_one(
        works=small_works,
        papers=max(small_works // 10, 1),
        references=small_references,
        parts=max(threads, small_works // WORKS_PER_PART),
        threads=threads,
        workdir=workdir / "small",
        child_env=child_env,
    )
    manage(child_env, "flush", "--noinput")
    part_files = sorted(str(path) for path in (workdir / "small" / "works").glob("updated_date=*/*.gz"))
    load_seconds = timed(lambda: manage(child_env, "load_openalex", "--corpus", "data", *part_files))
    rescore_seconds = timed(lambda: manage(child_env, "rescore"))
    manage(child_env, "flush", "--noinput")
    big = build_one(
        works=works,
        papers=papers,
        references=references,
        parts=parts or max(threads, works // WORKS_PER_PART),
        threads=threads,
        workdir=workdir / "big",
        child_env=child_env,
    )
    return Figures(
        threads=threads,
        big=big,
        small=small,
        small_load_seconds=load_seconds,
        small_rescore_seconds=rescore_seconds,
        live=measure_live(workdir=workdir, child_env=child_env),
    )


def measure_live(*, workdir: Path, child_env: dict | None) -> Live:
    """A refresh on the built index: one new citer of the top paper, the rescore that follows
    against a full one; then the pages, when the commands run as child processes (a server needs
    the data committed where it can read it)."""
    import json

    from scoring.models import PaperScore, ScoringRun

    built = ScoringRun.objects.current()
    top = PaperScore.objects.filter(run=built, rank=1).order_by("work_id").values_list("work_id", flat=True)[0]
    citer = workdir / "new-citer.jsonl"
    record = {
        "id": f"https://openalex.org/W{10**15 + top}", "title": "Benchmark refresh: a new citer", "type": "article",
        "cited_by_count": 12, "referenced_works_count": 1, "referenced_works": [f"https://openalex.org/W{top}"],
        "authorships": [], "updated_date": "2026-02-02T00:00:00.000000",
    }  # fmt: skip
    citer.write_text(json.dumps(record) + "\n", encoding="utf-8")
    manage(child_env, "load_openalex", "--corpus", "none", str(citer))
    incremental_seconds = timed(lambda: manage(child_env, "rescore"))
    incremental = ScoringRun.objects.current()
    full_seconds = timed(lambda: manage(child_env, "rescore", "--full"))
    full = ScoringRun.objects.current()
    names = [field.name for field in PaperScore._meta.concrete_fields if field.name not in ("id", "run")]

    def rows(run: ScoringRun) -> list[tuple]:
        return list(PaperScore.objects.filter(run=run).order_by("work_id").values_list(*names))

    page_seconds = serve_pages(child_env, run=full) if child_env is not None else {}
    return Live(
        incremental_seconds=incremental_seconds,
        recomputed=incremental.papers_recomputed if incremental else 0,
        full_seconds=full_seconds,
        identical=incremental is not None and full is not None and rows(incremental) == rows(full),
        page_seconds=page_seconds,
    )


# Measured requests of each kind of page, and the unmeasured first ones.
PAGE_REQUESTS, PAGE_WARMUP = 60, 5


def serve_pages(child_env: dict, *, run) -> dict[str, float]:
    """Server medians of the home page, the ranking, paper pages and the minimal view."""
    import statistics

    from bench.pages import collect_static, measure, serving
    from scoring.models import PaperScore

    count = PAGE_WARMUP + PAGE_REQUESTS
    ranked = PaperScore.objects.filter(run=run, rank__isnull=False).order_by("rank", "work_id")
    # Papers spread over the ranking, each once: a second visit would come from the page cache.
    step = max(1, run.papers_ranked // count)
    papers = list(ranked.values_list("work_id", flat=True)[: step * count : step])
    pages_of_ranking = max(1, run.papers_ranked // 50)
    paths = {
        "home": ["/"],
        "ranking": [f"/ranking/?page={1 + (i * 7919) % pages_of_ranking}" for i in range(count)],
        "paper": [f"/papers/W{work}/" for work in papers],
        "minimal": [f"/bench/minimal/{work}/" for work in papers],
    }
    collect_static(child_env)
    with serving(child_env, workers=2) as server:
        measured = measure(server, paths, clients=2, requests=PAGE_REQUESTS, warmup=PAGE_WARMUP)
    if measured.errors:
        raise RuntimeError(f"{len(measured.errors)} page requests failed, e.g. {measured.errors[0]}")
    return {kind: statistics.median(seconds for _, seconds in served) for kind, served in measured.server.items()}


def build_one(
    *, works: int, papers: int, references: int, parts: int, threads: int, workdir: Path, child_env: dict | None
) -> Built:
    from scoring.models import ScoringRun, SnapshotBuild

    citers, pool = shape(works=works, papers=papers, references=references)
    snapshot = workdir / "works"
    generate_seconds = timed(
        lambda: manage(
            child_env,
            "generate_corpus",
            *("--papers", str(papers), "--citers", str(citers), "--pool", str(pool), "--seed", "1"),
            *("--parts", str(parts), "--jobs", str(threads), "--outside", str(OUTSIDE)),
            *("--abstracts", str(ABSTRACTS), "--extra-fields", str(snapshot)),
        )
    )
    files = sorted(snapshot.glob("updated_date=*/*.gz"))
    before, (records, linked) = bare_scan(files, threads=threads)
    build_dir = workdir / "build"
    with DiskWatch(build_dir) as disk:
        command_seconds = timed(
            lambda: manage(
                child_env,
                "build_index",
                str(snapshot),
                *("--threads", str(threads), "--memory-limit", MEMORY_LIMIT),
                *("--workdir", str(build_dir), "--keep-workdir"),
            )
        )
    after, _ = bare_scan(files, threads=threads)
    record = SnapshotBuild.objects.latest("pk")
    if record.status != SnapshotBuild.Status.SUCCEEDED or record.run_id is None or record.finished_at is None:
        raise RuntimeError(f"the build did not succeed: {record.status} {record.error}")
    run = ScoringRun.objects.get(pk=record.run_id)
    return Built(
        works=works,
        parts=len(files),
        gzip_bytes=sum(path.stat().st_size for path in files),
        generate_seconds=generate_seconds,
        bare_seconds=min(before, after),
        records=records,
        references=linked,
        build_seconds=(record.finished_at - record.started_at).total_seconds(),
        command_seconds=command_seconds,
        stages=tuple(Stage(stage["name"], stage["seconds"], stage["rows"]) for stage in record.stages),
        peak_rss_bytes=record.peak_memory or 0,
        peak_disk_bytes=disk.largest,
        final_disk_bytes=disk_bytes(build_dir),
        corpus_papers=run.papers_scored,
        ranked=run.papers_ranked,
    )


def bare_scan(files: list[Path], *, threads: int) -> tuple[float, tuple[int, int]]:
    """Seconds DuckDB takes to read every line of `files` and count their references. The `id`
    column is read too: with `referenced_works` alone DuckDB 2.0.1 takes ~15x longer."""
    import duckdb

    listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    db = duckdb.connect(config={"threads": threads})
    try:
        started = time.perf_counter()
        count, references = db.execute(
            f"""SELECT count(*), coalesce(sum(len(referenced_works)), 0)
                FROM read_json([{listed}], format = 'newline_delimited', compression = 'gzip',
                               columns = {{'id': 'VARCHAR', 'referenced_works': 'VARCHAR[]'}})"""
        ).fetchall()[0]
        return time.perf_counter() - started, (count, references)
    finally:
        db.close()


class DiskWatch:
    """The largest size a folder reaches while the block runs, looked at every half second."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "DiskWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.largest = max(self.largest, disk_bytes(self.folder))

    def _watch(self) -> None:
        while not self._stop.wait(SECONDS_BETWEEN_DISK_LOOKS):
            self.largest = max(self.largest, disk_bytes(self.folder))


def disk_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _, names in os.walk(folder):
        for name in names:
            # A stage's temporary file may be renamed or removed between the listing and the look.
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def manage(child_env: dict | None, *args: str) -> None:
    if child_env is None:
        from django.core.management import call_command

        with open(os.devnull, "w") as sink:
            call_command(*args, stdout=sink, stderr=sink)
        return
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    # The commands' log lines are kept back, and shown only if the command fails.
    done = subprocess.run(command, env=child_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode:
        sys.stderr.write(done.stderr.decode(errors="replace"))
        raise subprocess.CalledProcessError(done.returncode, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--works", type=int, default=10_000_000, help="works in the snapshot (default 10M)")
    parser.add_argument("--papers", type=int, default=1_000_000, help="corpus papers among them (default 1M)")
    parser.add_argument("--references", type=int, default=200_000_000, help="references in all (default 200M)")
    parser.add_argument("--parts", type=int, help=f"parts of the snapshot (default one per {WORKS_PER_PART:,} works)")
    parser.add_argument(
        "--small-references",
        type=int,
        default=SMALL_REFERENCES,
        help="references of the load_openalex comparison (default 1M)",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="DuckDB threads (default: every core)")
    parser.add_argument("--workdir", type=Path, help="where the snapshots go (default: a temporary folder)")
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite (figures not meaningful)")
    options = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datarank_site.settings")
    import django

    django.setup()
    from django.db import connection

    from bench.rescore import child_env_for

    postgres = connection.vendor == "postgresql"
    if not postgres and not options.allow_sqlite:
        print(
            "bench/build.py measures PostgreSQL: set DATABASE_URL=postgres://user@host:port/name "
            "(it builds into its own database test_<name>), or pass --allow-sqlite.",
            file=sys.stderr,
        )
        return 2
    old_name = connection.settings_dict["NAME"]
    bench_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(f"Benchmark database: {bench_name} (dropped afterwards)", flush=True)
    sqlite_env = {**os.environ, "DATABASE_URL": f"sqlite:///{bench_name}"}
    child_env = child_env_for(bench_name) if postgres else sqlite_env
    try:
        if options.workdir:
            options.workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="datarank-bench-build-", dir=options.workdir) as workdir:
            figures = run_benchmark(
                works=options.works,
                papers=options.papers,
                references=options.references,
                small_references=options.small_references,
                threads=options.threads,
                workdir=Path(workdir),
                child_env=child_env,
                parts=options.parts,
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(figures.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
