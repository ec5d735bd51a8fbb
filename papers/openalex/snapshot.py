"""An OpenAlex snapshot turned into what the site publishes, with DuckDB, out of core.

Contract. `open_snapshot(path)` finds the parts of a snapshot root (holding data/works/ or
works/), of a works folder (a `manifest` and updated_date=YYYY-MM-DD/part_NNN.gz) or of a folder
of *.jsonl.gz, what the manifest says is missing or short, and the lists of merged author ids
(merged_ids/authors/ beside the works folder). `SnapshotBuild` then runs the corpus stages,
each one DuckDB statement over Parquet files in its work dir, each skipped when its output
exists for the same inputs (a fingerprint of the parts, their sizes and the settings):

1. extract — every line of every part (one part per statement, parts side by side), the fields
   `parse_work` reads, checked the way it checks them; then one row per work, the newest
   `updated_date` winning (the partition's date where the record has none, the later part and
   line on a tie, as `load_openalex` fed the parts in order would leave it). Legacy `grant`
   records are not works and are dropped;
2. check — papers.datapaper's verdict for every work, the Python check run only where SQL
   finds a word it could fire on (everything else gets the check's own no-signal verdict);
3. references — the parts read again for their `referenced_works`, unnested and semi-joined
   with the corpus ids: only links to corpus papers are written, the full list never is;
4. citers — merged with what the site already holds (`export_held`), each paper's citers in cap
   order (cited_by_count desc, id asc), the first cap + 1 kept (the extra one tells a later
   rescore that the cap binds), self-citations by shared author id; the engine's inputs are
   written as engine_papers.parquet and engine_links.parquet for scoring.

Each stage tells its `Progress` when it starts (with the rows it reads: the manifest's record
counts), how far it is while it runs and what it did when it ends; `LogProgress`, plain log
lines, unless the caller brings its own.

`publish_corpus` then writes, inside the caller's transaction, the corpus papers and their
capped citers (works, authors, authorships, institutions, affiliations, links, corpus entries),
exactly as `load_openalex` would have left them: a record older than the one held keeps the
held data, a truncated author list keeps the authors it cut, loading only adds to the corpus,
and an admin's override is never touched. COPY on PostgreSQL, batched inserts on SQLite.
`publish_merges` records the merge lists in the same transaction (papers.openalex.merges).

Bad input is counted and named `part:line` (a part that is not gzip, a line that is not JSON,
a record `parse_work` rejects — a reference that is not a work id costs its record, as it does
in `load_openalex`), and skipped. A field longer than records.CAPS allows is cut (an identifier
dropped) exactly as `parse_work` cuts it, named `part:line` in the report's `truncated`, and
kept in Work.truncated. Known differences from reading a line with Python: DuckDB
splits a line at a lone carriage return, and of a key given twice in one object it keeps the
first; OpenAlex writes neither.
"""

import hashlib
import json
import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
from django.db import connection
from duckdb.func import FunctionNullHandling

from papers.datapaper import DATA_JOURNALS, NEVER_DATA_PAPERS, check_data_paper
from papers.models import Affiliation, Author, Authorship, Citation, CorpusEntry, Institution, Work
from papers.openalex.files import GZIP_MAGIC
from papers.openalex.merges import MergeList, MergeSummary, record_merges
from papers.openalex.records import (
    CAPS,
    IDENTIFIER_CAPS,
    RecordError,
    Truncation,
    clean_text,
    normalize_doi,
    parse_work,
)
from papers.search import rebuild_search_index

logger = logging.getLogger(__name__)

# Part of every fingerprint: a change to what a stage computes makes its old output stale.
EXTRACT_VERSION = "3"
# Rows handed to the site's database per batch while publishing.
PUBLISH_BATCH = 5000
# Seconds between two looks at how far a running stage is.
PROGRESS_EVERY = 0.5
# The largest line (one work) the reader accepts: works with thousands of authors run to megabytes.
MAX_LINE_BYTES = 16 * 1024 * 1024
LEGACY_TYPES = ("grant",)
EPOCH = date(1970, 1, 1)
NO_DATE = -(2**31)

_PARTITION = re.compile(r"updated_date=(\d{4}-\d{2}-\d{2})")
# Python's whitespace (str.split, str.strip), which RE2's \s does not cover: U+2028, NBSP, …
_WS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in map(chr, range(0x3001)) if c.isspace()) + "]"
# The same but the plain space, which needs no replacing where it stands alone.
_WS_NOT_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in map(chr, range(0x3001)) if c.isspace() and c != " ") + "]"


class SnapshotError(Exception):
    """The snapshot cannot be built or published; the message says why and what to do."""


@dataclass(frozen=True)
class Part:
    index: int
    path: Path
    name: str  # relative to the works folder: updated_date=2023-05-16/part_000.gz
    partition_date: date | None
    size: int
    listed_records: int | None = None


@dataclass(frozen=True)
class Snapshot:
    works_dir: Path
    manifest: Path | None
    parts: tuple[Part, ...]
    # What the manifest lists that is not here as listed, one sentence per part.
    problems: tuple[str, ...] = ()
    # OpenAlex's lists of merged author ids (merged_ids/authors/*.csv.gz), in name order: by date.
    merge_lists: tuple[Path, ...] = ()

    def fingerprint(self) -> str:
        listing = [(part.name, part.size, part.path.stat().st_mtime_ns) for part in self.parts]
        return _digest(EXTRACT_VERSION, listing)


@dataclass(frozen=True)
class BadLine:
    part: str
    line: int  # 0 when the whole part could not be read
    reason: str

    def __str__(self) -> str:
        return f"{self.part}:{self.line}: {self.reason}" if self.line else f"{self.part}: {self.reason}"


@dataclass
class StageReport:
    name: str
    seconds: float
    rows: int
    skipped: bool


@dataclass
class BuildReport:
    parts: int = 0
    records: int = 0
    works: int = 0
    duplicates: int = 0
    legacy_dropped: int = 0
    corpus_papers: int = 0
    corpus_links: int = 0
    engine_links: int = 0
    bad: list[BadLine] = field(default_factory=list)
    # Fields cut to their cap (records.CAPS), one per field, named part:line; their records are kept.
    truncated: list[BadLine] = field(default_factory=list)
    # Parts whose record count differs from the manifest's: the build must not publish.
    mismatched: list[str] = field(default_factory=list)
    stages: list[StageReport] = field(default_factory=list)
    # What publish_merges read and recorded; None until then, and for a snapshot without merge lists.
    merges: MergeSummary | None = None


class Progress:
    """What a build tells as it goes; this one tells nothing. `started` and `advanced` come for
    a stage that runs, `finished` for every stage, run or done before. `advanced` may come from
    another thread than the build's."""

    def started(self, stage: str, total: int | None) -> None:
        """`total`: the rows the stage reads, where known (from the manifest's record counts)."""

    def advanced(self, stage: str, done: int) -> None:
        """`done` rows of the stage's total are read: DuckDB's estimate inside a statement, the
        finished parts' records while extracting (DuckDB tells nothing inside one gzip stream)."""

    def finished(self, report: StageReport) -> None:
        """The stage is over: its time, the rows it wrote and whether it was done before."""


class LogProgress(Progress):
    """Plain log lines, for output that is no terminal: when a stage starts, every `every`
    seconds while it runs (rows, rows/s, time left), and when it ends."""

    def __init__(self, every: float = 30.0) -> None:
        self.every = every
        self._started = self._logged = 0.0
        self._total: int | None = None

    def started(self, stage: str, total: int | None) -> None:
        self._started = self._logged = time.monotonic()
        self._total = total
        logger.info("stage %s: started%s", stage, "" if total is None else f", {total:,} rows to read")

    def advanced(self, stage: str, done: int) -> None:
        now = time.monotonic()
        if now - self._logged < self.every:
            return
        self._logged = now
        rate = done / max(now - self._started, 1e-9)
        if self._total and rate:
            left = f", {done / self._total:.0%} of {self._total:,}, {(self._total - done) / rate:,.0f} s left"
        else:
            left = ""
        logger.info("stage %s: %s rows read, %s rows/s%s", stage, f"{done:,}", f"{rate:,.0f}", left)

    def finished(self, report: StageReport) -> None:
        logger.info(
            "stage %s: %s rows in %.2f s%s",
            report.name,
            f"{report.rows:,}",
            report.seconds,
            " (done before)" * report.skipped,
        )


def open_snapshot(path: Path) -> Snapshot:
    """The parts of a snapshot root (holding data/works/ or works/), a works folder or a folder
    of *.jsonl.gz, in name order, and the lists of merged author ids beside its works folder."""
    path = Path(path)
    if not path.is_dir():
        raise SnapshotError(f"{path} is not a folder")
    works_dir = next((path / sub for sub in ("data/works", "works") if (path / sub).is_dir()), path)
    merge_lists = _merge_lists(path, works_dir)
    manifest = works_dir / "manifest"
    if manifest.is_file():
        return _from_manifest(works_dir, manifest, merge_lists)
    found = sorted(works_dir.glob("updated_date=*/*.gz")) or sorted(works_dir.glob("*.jsonl.gz"))
    if not found:
        raise SnapshotError(f"{works_dir} holds no manifest, no updated_date=*/part_*.gz and no *.jsonl.gz")
    parts = tuple(
        Part(index, item, item.relative_to(works_dir).as_posix(), _partition_date(item), item.stat().st_size)
        for index, item in enumerate(found)
    )
    return Snapshot(works_dir, None, parts, merge_lists=merge_lists)


def _merge_lists(path: Path, works_dir: Path) -> tuple[Path, ...]:
    """merged_ids/authors/ beside the works folder (data/merged_ids/ in OpenAlex's own layout),
    or else in the root given."""
    for folder in (works_dir.parent / "merged_ids" / "authors", path / "merged_ids" / "authors"):
        if folder.is_dir():
            return tuple(sorted(item for item in folder.iterdir() if item.name.endswith((".csv", ".csv.gz"))))
    return ()


def _from_manifest(works_dir: Path, manifest: Path, merge_lists: tuple[Path, ...]) -> Snapshot:
    try:
        entries = json.loads(manifest.read_text())["entries"]
        listed = [(entry["url"], entry["meta"]["content_length"], entry["meta"]["record_count"]) for entry in entries]
    except (ValueError, KeyError, TypeError) as error:
        raise SnapshotError(f"{manifest} is not an OpenAlex manifest: {error}") from None
    parts: list[Part] = []
    problems: list[str] = []
    for url, length, count in sorted(listed, key=lambda item: _listed_name(item[0])):
        name = _listed_name(url)
        part_path = works_dir / name
        if not part_path.is_file():
            problems.append(f"{name}: missing (the manifest lists {count:,} records, {length:,} bytes)")
            continue
        size = part_path.stat().st_size
        if size != length:
            problems.append(f"{name}: {size:,} bytes, the manifest says {length:,}")
        parts.append(Part(len(parts), part_path, name, _partition_date(part_path), size, count))
    return Snapshot(works_dir, manifest, tuple(parts), tuple(problems), merge_lists)


def _listed_name(url: str) -> str:
    # s3://openalex/data/works/updated_date=2023-05-16/part_000.gz -> updated_date=2023-05-16/part_000.gz
    return url.split("/data/works/", 1)[-1]


def _partition_date(path: Path) -> date | None:
    match = _PARTITION.search(path.as_posix())
    return date.fromisoformat(match[1]) if match else None


def _digest(*values) -> str:
    return hashlib.sha256(json.dumps(values, default=str, sort_keys=True).encode()).hexdigest()[:16]


# --- the build -----------------------------------------------------------------------------


class SnapshotBuild:
    """The corpus stages of one build over one work dir. Stages run in order; each returns
    quickly when its output is already there for the same inputs."""

    def __init__(
        self,
        *,
        snapshot: Snapshot,
        workdir: Path,
        threads: int,
        memory_limit: str | None,
        cap: int,
        progress: Progress | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.workdir = Path(workdir)
        self.threads = threads
        self.cap = cap
        self.progress = progress or LogProgress()
        self.report = BuildReport(parts=len(snapshot.parts))
        (self.workdir / "extract").mkdir(parents=True, exist_ok=True)
        (self.workdir / "spill").mkdir(exist_ok=True)
        self.db = duckdb.connect(config={"threads": threads, "preserve_insertion_order": True})
        # DuckDB keeps its progress estimate (query_progress) only with its bar on; it prints none.
        self.db.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        self.db.execute(f"SET temp_directory = '{_sql_text(str(self.workdir / 'spill'))}'")
        if memory_limit:
            self.db.execute(f"SET memory_limit = '{_sql_text(memory_limit)}'")
        _install_functions(self.db)
        self.fingerprint = snapshot.fingerprint()
        self._part_outputs: dict[int, Path] = {}

    def path(self, name: str) -> Path:
        return self.workdir / name

    def close(self) -> None:
        self.db.close()

    def run_stage(
        self,
        name: str,
        fingerprint: str,
        produce: Callable[[Path], None],
        *,
        count_rows: bool = True,
        total: int | None = None,
    ) -> None:
        """Produce `name` (a Parquet file in the work dir) unless it exists for `fingerprint`.
        Written under a temporary name and renamed, then marked done: an interrupted stage
        leaves no output that could pass for finished. `total`: the rows it reads, for progress."""
        output, done = self.path(name), self.path(f"{name}.done")
        stage = name.removesuffix(".parquet")
        started = time.monotonic()
        skipped = output.exists() and done.exists() and done.read_text() == fingerprint
        if not skipped:
            done.unlink(missing_ok=True)
            partial = self.path(f"{name}.partial")
            partial.unlink(missing_ok=True)
            self.progress.started(stage, total)
            with _disk_errors(self.workdir), _Watch(self.db, self.progress, stage, total):
                produce(partial)
                partial.replace(output)
                done.write_text(fingerprint)
        rows = self.count(name) if count_rows else 0
        self._finished(StageReport(stage, time.monotonic() - started, rows, skipped))

    def _finished(self, report: StageReport) -> None:
        self.report.stages.append(report)
        self.progress.finished(report)

    def count(self, name: str) -> int:
        return self.db.execute(f"SELECT count(*) FROM read_parquet('{self._q(name)}')").fetchall()[0][0]

    def _q(self, name: str) -> str:
        return _sql_text(str(self.path(name)))

    def _rows(self, output: Path) -> int:
        # A Parquet file's row count is in its footer: nothing is scanned.
        if not output.exists():
            return 0
        return self.db.execute(f"SELECT count(*) FROM read_parquet('{_sql_text(str(output))}')").fetchall()[0][0]

    # Stage 1 -----------------------------------------------------------------------------

    def extract(self) -> None:
        """Stage 1: every part to its own Parquet file (line order kept, so a row's position
        is its line), then one row per work."""
        started = time.monotonic()
        pending = []
        for part in self.snapshot.parts:
            output = self.path(f"extract/{_digest(EXTRACT_VERSION, part.name, part.size)}-{part.index}.parquet")
            self._part_outputs[part.index] = output
            if not output.exists():
                pending.append((part, output))
        listed = [part.listed_records for part, _ in pending if part.listed_records is not None]
        if pending:
            self.progress.started("extract parts", sum(listed) if len(listed) == len(pending) else None)
        read = 0
        with _disk_errors(self.workdir), ThreadPoolExecutor(max_workers=self.threads) as pool:
            for (part, problem), (_, output) in zip(pool.map(self._extract_part, pending), pending, strict=True):
                if problem:
                    self.report.bad.append(BadLine(part.name, 0, problem))
                # The manifest's count keeps the rows in step with its total, even for a part that failed.
                read += part.listed_records if part.listed_records is not None else self._rows(output)
                self.progress.advanced("extract parts", read)
        readable = [path for path in self._part_outputs.values() if path.exists()]
        lines = sum(map(self._rows, readable))
        self._finished(StageReport("extract parts", time.monotonic() - started, lines, not pending))
        self._check_parts()
        self.run_stage("works.parquet", _digest(self.fingerprint, "works"), self._dedupe, total=self.report.records)
        self.report.works = self.count("works.parquet")
        self.report.duplicates, self.report.legacy_dropped = self.db.execute(
            f"""SELECT count(*) FILTER (WHERE status = 'ok' AND type NOT IN {_sql_list(LEGACY_TYPES)})
                           - {self.report.works},
                       count(*) FILTER (WHERE status = 'ok' AND type IN {_sql_list(LEGACY_TYPES)})
                FROM read_parquet({self._extract_files()})"""
        ).fetchall()[0]

    def _extract_part(self, job: tuple[Part, Path]) -> tuple[Part, str | None]:
        part, output = job
        with open(part.path, "rb") as raw:
            if raw.read(2) != GZIP_MAGIC:
                return part, "not a gzip file; the part is skipped"
        partial = output.with_suffix(".partial")
        cursor = self.db.cursor()
        try:
            # One thread per part: a gzip stream is read from its start anyway, and the parts
            # side by side keep every core busy.
            cursor.execute(f"""
                COPY ({_extract_sql(_sql_text(str(part.path)), part.index, part.partition_date)})
                TO '{_sql_text(str(partial))}' (FORMAT parquet, COMPRESSION zstd)""")
        except (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException) as error:
            # A corrupt gzip stream or a line past MAX_LINE_BYTES costs its part; a full disk stops the build.
            if _out_of_disk(error):
                raise
            partial.unlink(missing_ok=True)
            return part, f"cannot be read, the part is skipped: {error}"
        finally:
            cursor.close()
        partial.replace(output)
        return part, None

    def _extract_files(self) -> str:
        files = [str(path) for path in self._part_outputs.values() if path.exists()]
        return "[" + ", ".join(f"'{_sql_text(name)}'" for name in files) + "]" if files else "[]"

    def _check_parts(self) -> None:
        """Name the bad lines, and every part whose record count is not the manifest's."""
        if not any(path.exists() for path in self._part_outputs.values()):
            raise SnapshotError("no part of the snapshot could be read")
        rows = self.db.execute(f"""
            SELECT part, file_row_number + 1, status, error
            FROM read_parquet({self._extract_files()}, file_row_number = true)
            WHERE status = 'bad' ORDER BY part, file_row_number""").fetchall()
        names = {part.index: part.name for part in self.snapshot.parts}
        self.report.bad.extend(BadLine(names[part], line, error) for part, line, _, error in rows)
        cut = self.db.execute(f"""
            SELECT part, file_row_number + 1, truncated
            FROM read_parquet({self._extract_files()}, file_row_number = true)
            WHERE status = 'ok' AND len(truncated) > 0 ORDER BY part, file_row_number""").fetchall()
        self.report.truncated.extend(
            BadLine(names[part], line, str(Truncation(**note))) for part, line, notes in cut for note in notes
        )
        counts = dict(
            self.db.execute(f"""
                SELECT part, count(*) FILTER (WHERE status <> 'blank')
                FROM read_parquet({self._extract_files()}) GROUP BY part""").fetchall()
        )
        self.report.records = sum(counts.values())
        for part in self.snapshot.parts:
            if part.listed_records is not None and counts.get(part.index) != part.listed_records:
                held = "could not be read" if part.index not in counts else f"holds {counts[part.index]:,} records"
                self.report.mismatched.append(f"{part.name}: {held}, the manifest says {part.listed_records:,}")

    def _dedupe(self, output: Path) -> None:
        # The newest copy is chosen on the few columns that decide it; the whole rows (abstracts,
        # authors) are read once more and streamed, never sorted.
        files = self._extract_files()
        self.db.execute(f"""
            COPY (
                WITH newest AS (
                    SELECT part, file_row_number
                    FROM (
                        SELECT part, file_row_number,
                               row_number() OVER (PARTITION BY id
                                                  ORDER BY coalesce(updated, partition_date) DESC NULLS LAST,
                                                  part DESC, file_row_number DESC) AS newest
                        FROM read_parquet({files}, file_row_number = true)
                        WHERE status = 'ok' AND type NOT IN {_sql_list(LEGACY_TYPES)}
                    ) WHERE newest = 1
                )
                SELECT s.* EXCLUDE (status, error), s.file_row_number + 1 AS line
                FROM read_parquet({files}, file_row_number = true) s
                SEMI JOIN newest n ON n.part = s.part AND n.file_row_number = s.file_row_number
            ) TO '{_sql_text(str(output))}' (FORMAT parquet, COMPRESSION zstd)""")

    # Stage 2 -----------------------------------------------------------------------------

    def check(self) -> None:
        """Stage 2: the data-paper verdict of every work."""
        self.run_stage(
            "verdicts.parquet", _digest(self.fingerprint, "verdicts"), self._check, total=self.count("works.parquet")
        )

    def _check(self, output: Path) -> None:
        nothing = check_data_paper(type="", venue="", title="", abstract="")
        self.db.execute(f"""
            COPY (
                SELECT id, verdict.passed AS passed, verdict.confidence AS confidence, verdict.reasons AS reasons
                FROM (
                    SELECT id, CASE WHEN {_MAY_FIRE}
                                    THEN dr_check(type, venue, title, abstract, source_type)
                                    ELSE {{'passed': false, 'confidence': {nothing.confidence!r},
                                           'reasons': {_sql_list(nothing.reasons, array=True)}}}
                               END AS verdict
                    FROM read_parquet('{self._q("works.parquet")}')
                )
            ) TO '{_sql_text(str(output))}' (FORMAT parquet, COMPRESSION zstd)""")

    # Stage 3 -----------------------------------------------------------------------------

    def references(self, *, extra_corpus_ids: np.ndarray) -> None:
        """Stage 3: the links to corpus papers — to works that pass the check, and to the
        papers the site already counts in its corpus (`extra_corpus_ids`)."""
        extra = np.unique(extra_corpus_ids.astype(np.int64))
        self.db.execute(
            "CREATE OR REPLACE TEMP TABLE extra_corpus AS SELECT unnest($1::BIGINT[]) AS id", [extra.tolist()]
        )
        fingerprint = _digest(self.fingerprint, "references", hashlib.sha256(extra.tobytes()).hexdigest())
        self.run_stage("corpus_links.parquet", fingerprint, self._references, total=self.report.records or None)
        self.report.corpus_links = self.count("corpus_links.parquet")

    def _references(self, output: Path) -> None:
        readable = [part for part in self.snapshot.parts if self._part_outputs[part.index].exists()]
        files = "[" + ", ".join(f"'{_sql_text(str(part.path))}'" for part in readable) + "]"
        # file_index counts the files as listed, which is the parts' order among the readable ones.
        part_of_file = _sql_list([part.index for part in readable], array=True)
        self.db.execute(f"""
            COPY (
                WITH corpus AS (
                    SELECT id FROM read_parquet('{self._q("verdicts.parquet")}') WHERE passed
                    UNION SELECT id FROM extra_corpus
                ),
                cites AS (
                    SELECT {part_of_file}[file_index::BIGINT + 1] AS part, dr_work_number(id) AS citing,
                           updated_date AS updated_raw, dr_work_number(unnest(referenced_works)) AS cited
                    FROM read_json({files}, format = 'newline_delimited', compression = 'gzip',
                                   columns = {{'id': 'VARCHAR', 'updated_date': 'VARCHAR',
                                               'referenced_works': 'VARCHAR[]'}},
                                   ignore_errors = true, maximum_object_size = {MAX_LINE_BYTES},
                                   hive_partitioning = false)
                ),
                to_corpus AS (SELECT * FROM cites SEMI JOIN corpus ON cites.cited = corpus.id)
                -- Only the version of each work that won the deduplication counts.
                SELECT DISTINCT l.citing, l.cited
                FROM to_corpus l
                JOIN read_parquet('{self._q("works.parquet")}') w
                  ON w.id = l.citing AND w.part = l.part AND w.updated_raw IS NOT DISTINCT FROM l.updated_raw
                WHERE l.citing <> l.cited
            ) TO '{_sql_text(str(output))}' (FORMAT parquet, COMPRESSION zstd)""")

    # Stage 4 -----------------------------------------------------------------------------

    def citers(self, *, held: "HeldState") -> None:
        """Stage 4: the snapshot merged with what the site holds; each corpus paper's capped
        citers with their counts and self-citation flags (the engine's inputs), and what to
        publish."""
        held.load_into(self.db)
        fingerprint = _digest(self.fingerprint, "citers", self.cap, held.digest(), self._done("corpus_links.parquet"))
        works, verdicts = self._q("works.parquet"), self._q("verdicts.parquet")
        self.db.execute(f"""
            CREATE OR REPLACE TEMP VIEW merged AS
            SELECT coalesce(s.id, h.id) AS id,
                   s.id IS NOT NULL AND NOT coalesce(s.updated < h.openalex_updated, false) AS fresh,
                   s.id IS NOT NULL AS in_snapshot
            FROM read_parquet('{works}') s FULL OUTER JOIN held_works h ON h.id = s.id;
            CREATE OR REPLACE TEMP VIEW corpus AS
            SELECT m.id
            FROM merged m
            LEFT JOIN read_parquet('{verdicts}') v ON v.id = m.id
            LEFT JOIN held_entries e ON e.work_id = m.id
            WHERE CASE coalesce(e.override, '')
                      WHEN 'include' THEN true WHEN 'exclude' THEN false
                      ELSE coalesce(e.included, false) OR (m.fresh AND coalesce(v.passed, false)) END;
            -- Each work's figures and authors as the site will hold them once published.
            CREATE OR REPLACE TEMP VIEW figures AS
            SELECT m.id, m.fresh,
                   CASE WHEN m.fresh THEN s.cited_by_count ELSE h.cited_by_count END AS cited_by_count,
                   CASE WHEN m.fresh THEN s.referenced_works_count ELSE h.referenced_works_count END
                       AS referenced_works_count,
                   CASE WHEN m.fresh THEN s.subfield_id ELSE h.subfield_id END AS subfield_id,
                   CASE WHEN m.fresh THEN s.publication_year ELSE h.publication_year END AS publication_year
            FROM merged m
            LEFT JOIN read_parquet('{works}') s ON s.id = m.id
            LEFT JOIN held_works h ON h.id = m.id;
            CREATE OR REPLACE TEMP VIEW authorships AS
            SELECT s.id AS work_id, unnest(s.authors).id AS author_id
            FROM read_parquet('{works}') s JOIN merged m ON m.id = s.id AND m.fresh
            UNION
            -- A truncated author list says nothing about the authors it cut: the held ones stay.
            SELECT a.work_id, a.author_id
            FROM held_authorships a
            LEFT JOIN read_parquet('{works}') s ON s.id = a.work_id
            LEFT JOIN merged m ON m.id = a.work_id
            WHERE NOT coalesce(m.fresh, false) OR s.authors_truncated;
        """)
        self.run_stage("engine_papers.parquet", fingerprint, self._engine_papers, total=self.count("works.parquet"))
        self.run_stage(
            "engine_links.parquet", fingerprint, self._engine_links, total=self.count("corpus_links.parquet")
        )
        self.report.corpus_papers = self.count("engine_papers.parquet")
        self.report.engine_links = self.count("engine_links.parquet")

    def _done(self, name: str) -> str:
        return self.path(f"{name}.done").read_text()

    def _engine_papers(self, output: Path) -> None:
        self.db.execute(f"""
            COPY (
                SELECT f.id, f.cited_by_count, coalesce(f.subfield_id, 0) AS subfield_id,
                       coalesce(f.publication_year, 0) AS publication_year
                FROM corpus c JOIN figures f ON f.id = c.id ORDER BY f.id
            ) TO '{_sql_text(str(output))}' (FORMAT parquet)""")

    def _engine_links(self, output: Path) -> None:
        self.db.execute(f"""
            COPY (
                WITH links AS (
                    SELECT citing, cited FROM read_parquet('{self._q("corpus_links.parquet")}')
                    UNION SELECT citing_id, cited_id FROM held_links
                ),
                candidates AS (
                    SELECT l.cited, l.citing, f.cited_by_count, f.referenced_works_count,
                           row_number() OVER (PARTITION BY l.cited ORDER BY f.cited_by_count DESC, l.citing) AS position
                    FROM links l
                    SEMI JOIN corpus c ON c.id = l.cited
                    JOIN figures f ON f.id = l.citing
                    WHERE l.citing <> l.cited
                ),
                capped AS (SELECT * FROM candidates WHERE position <= {self.cap + 1}),
                shared AS (
                    SELECT DISTINCT k.cited, k.citing
                    FROM capped k
                    JOIN authorships a ON a.work_id = k.cited
                    JOIN authorships b ON b.work_id = k.citing AND b.author_id = a.author_id
                )
                SELECT k.cited, k.citing, k.cited_by_count, k.referenced_works_count, k.position,
                       s.citing IS NOT NULL AS self_citation
                FROM capped k LEFT JOIN shared s ON s.cited = k.cited AND s.citing = k.citing
                ORDER BY k.cited, k.position
            ) TO '{_sql_text(str(output))}' (FORMAT parquet)""")

    # Stage 6, the corpus side ---------------------------------------------------------------

    def publish_corpus(self, *, fetched_at: datetime) -> dict[str, int]:
        """Write the corpus papers and their capped citers into the site's database, inside the
        caller's transaction; returns how many rows of each kind were written."""
        works = self._q("works.parquet")
        self.db.execute(f"""
            CREATE OR REPLACE TEMP TABLE published AS
            SELECT DISTINCT id FROM (
                SELECT id FROM read_parquet('{self._q("engine_papers.parquet")}')
                UNION ALL SELECT citing FROM read_parquet('{self._q("engine_links.parquet")}')
            );
            CREATE OR REPLACE TEMP TABLE fresh AS
            SELECT s.* FROM read_parquet('{works}') s SEMI JOIN published p ON p.id = s.id
            SEMI JOIN merged m ON m.id = s.id AND m.fresh;
        """)
        written = {}
        written["works"] = _write(
            Work,
            self.db.execute(_WORK_ROWS_SQL),
            conflict=["id"],
            update=True,
            extra=(fetched_at,),
        )
        written["authors"] = _write(
            Author,
            self.db.execute("""
                SELECT author.id, substring(arg_max(author.display_name, (part, line)), 1, 500),
                       substring(arg_max(author.orcid, (part, line)), 1, 100)
                FROM (SELECT part, line, unnest(authors) AS author FROM fresh) GROUP BY author.id ORDER BY 1"""),
            conflict=["id"],
            update=True,
        )
        written["authorships"] = _write(
            Authorship,
            self.db.execute("""
                SELECT id, author.id, position, author.author_position, to_json(author.raw_affiliations) FROM (
                    SELECT id, unnest(authors) AS author, generate_subscripts(authors, 1) AS position FROM fresh
                ) ORDER BY 1, 3"""),
            conflict=["work_id", "author_id"],
            update=True,
            columns=["work_id", "author_id", "position", "author_position", "raw_affiliations"],
        )
        gone = self.db.execute("""
            SELECT a.work_id, a.author_id FROM held_authorships a
            JOIN fresh s ON s.id = a.work_id AND NOT s.authors_truncated
            WHERE NOT list_contains(list_transform(s.authors, lambda x: x.id), a.author_id)""").fetchall()
        _delete_authorships(gone)
        # The newest record naming an institution wins, as for authors; within one, its last mention.
        self.db.execute("""
            CREATE OR REPLACE TEMP TABLE affiliated AS
            SELECT id AS work_id, author.id AS author_id, unnest(author.institutions) AS institution,
                   generate_subscripts(author.institutions, 1) AS place, part, line, listed
            FROM (SELECT id, part, line, unnest(authors) AS author, generate_subscripts(authors, 1) AS listed
                  FROM fresh)""")
        written["institutions"] = _write(
            Institution,
            self.db.execute("""
                SELECT institution.id, arg_max(institution.display_name, (part, line, listed, place)),
                       arg_max(institution.country_code, (part, line, listed, place)),
                       arg_max(institution.ror, (part, line, listed, place)),
                       arg_max(institution.type, (part, line, listed, place))
                FROM affiliated GROUP BY institution.id ORDER BY 1"""),
            conflict=["id"],
            update=True,
        )
        written["affiliations"] = _write(
            Affiliation,
            self.db.execute("""
                SELECT DISTINCT work_id, author_id, institution.id FROM affiliated ORDER BY 1, 2, 3"""),
            conflict=["work_id", "author_id", "institution_id"],
            update=False,
            columns=["work_id", "author_id", "institution_id"],
        )
        # A listed author's institutions are all there even when the list of authors is cut short.
        gone = self.db.execute("""
            SELECT h.work_id, h.author_id, h.institution_id FROM held_affiliations h
            JOIN fresh s ON s.id = h.work_id
            WHERE (NOT s.authors_truncated OR list_contains(list_transform(s.authors, lambda x: x.id), h.author_id))
              AND NOT EXISTS (SELECT 1 FROM affiliated a WHERE a.work_id = h.work_id AND a.author_id = h.author_id
                                                           AND a.institution.id = h.institution_id)""").fetchall()
        _delete_affiliations(gone)
        written["links"] = _write(
            Citation,
            self.db.execute(f"""
                SELECT citing, cited, self_citation FROM read_parquet('{self._q("engine_links.parquet")}')
                ORDER BY cited, position"""),
            conflict=["cited_id", "citing_id"],
            update=False,
            columns=["citing_id", "cited_id", "is_self_citation", "first_seen_at"],
            extra=(fetched_at,),
        )
        # Links the site held whose two ends now share an author, or no longer do.
        changed = self.db.execute("""
            SELECT h.citing_id, h.cited_id, s.work_id IS NOT NULL
            FROM held_links h
            LEFT JOIN (SELECT DISTINCT a.work_id, b.work_id AS other FROM authorships a
                       JOIN authorships b ON b.author_id = a.author_id AND b.work_id <> a.work_id) s
              ON s.work_id = h.citing_id AND s.other = h.cited_id
            WHERE (h.citing_id IN (SELECT id FROM fresh) OR h.cited_id IN (SELECT id FROM fresh))
              AND h.is_self_citation <> (s.work_id IS NOT NULL)""").fetchall()
        _update_self_citations(changed)
        written["corpus_entries"] = _write(
            CorpusEntry,
            self.db.execute(f"""
                SELECT s.id, v.passed, v.confidence, to_json(v.reasons),
                       coalesce(e.included, false) OR v.passed
                FROM fresh s JOIN read_parquet('{self._q("verdicts.parquet")}') v ON v.id = s.id
                LEFT JOIN held_entries e ON e.work_id = s.id ORDER BY s.id"""),
            conflict=["work_id"],
            update=True,
            columns=[
                "work_id",
                "check_passed",
                "confidence",
                "reasons",
                "included",
                "checked_at",
                "override",
                "added_at",
            ],
            extra=(fetched_at, CorpusEntry.Override.NONE, fetched_at),
            update_columns=["check_passed", "confidence", "reasons", "included", "checked_at"],
        )
        written["search_words"] = rebuild_search_index()
        return written

    def publish_merges(self) -> MergeSummary | None:
        """Record the snapshot's lists of merged author ids, inside the caller's transaction, each
        line named by its place in the snapshot (merged_ids/authors/2023-04-13.csv:2); None when
        it has none."""
        if not self.snapshot.merge_lists:
            return None
        self.report.merges = record_merges(
            MergeList(path, name=path.relative_to(path.parent.parent.parent).as_posix())
            for path in self.snapshot.merge_lists
        )
        return self.report.merges


# --- what the site already holds -----------------------------------------------------------


@dataclass
class HeldState:
    """The site's own rows that the build merges with: every work's figures and OpenAlex date,
    the corpus entries, the links, the authorships and their affiliations, as NumPy columns."""

    works: dict[str, np.ndarray]
    entries: dict[str, np.ndarray]
    links: dict[str, np.ndarray]
    authorships: dict[str, np.ndarray]
    affiliations: dict[str, np.ndarray]

    def digest(self) -> str:
        # Of what the citers stage reads: the affiliations only tell publishing what to replace.
        parts = [self.works, self.entries, self.links, self.authorships]
        return hashlib.sha256(b"".join(_column_bytes(c) for p in parts for c in p.values())).hexdigest()

    def load_into(self, db: duckdb.DuckDBPyConnection) -> None:
        # Typed explicitly: an empty NumPy column says nothing of its type.
        for name, columns, select in (
            ("held_works", self.works, f"""id::BIGINT AS id,
                CASE WHEN openalex_updated <> {NO_DATE} THEN DATE '1970-01-01' + openalex_updated::INTEGER END
                    AS openalex_updated,
                cited_by_count::BIGINT AS cited_by_count, referenced_works_count::BIGINT AS referenced_works_count,
                subfield_id::BIGINT AS subfield_id, publication_year::BIGINT AS publication_year"""),
            ("held_entries", self.entries,
             "work_id::BIGINT AS work_id, included::BOOLEAN AS included, override::VARCHAR AS override"),
            ("held_links", self.links,
             "citing_id::BIGINT AS citing_id, cited_id::BIGINT AS cited_id,"
             " is_self_citation::BOOLEAN AS is_self_citation"),
            ("held_authorships", self.authorships, "work_id::BIGINT AS work_id, author_id::BIGINT AS author_id"),
            ("held_affiliations", self.affiliations,
             "work_id::BIGINT AS work_id, author_id::BIGINT AS author_id, institution_id::BIGINT AS institution_id"),
        ):  # fmt: skip
            db.register(f"{name}_arrays", columns)
            db.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select} FROM {name}_arrays")
            db.unregister(f"{name}_arrays")


def _column_bytes(column: np.ndarray) -> bytes:
    # An object column's own bytes are its items' addresses, another in every process: a build
    # killed while publishing could never resume its citer stage. Its values are hashed instead.
    column = np.asarray(column)
    if column.dtype == object:
        return "\0".join(map(str, column)).encode() + b"\1"
    return column.tobytes()


def export_held() -> HeldState:
    """Read what the site holds that a build merges with (empty on a fresh site)."""
    works = Work.objects.values_list(
        "id", "openalex_updated", "cited_by_count", "referenced_works_count", "subfield_id", "publication_year"
    )
    rows = list(works.iterator(chunk_size=PUBLISH_BATCH))
    return HeldState(
        works={
            "id": np.array([row[0] for row in rows], np.int64),
            # Days since 1970 (NO_DATE: none), turned back into a DATE in DuckDB.
            "openalex_updated": np.array([(row[1] - EPOCH).days if row[1] else NO_DATE for row in rows], np.int64),
            "cited_by_count": np.array([row[2] for row in rows], np.int64),
            "referenced_works_count": np.array([row[3] for row in rows], np.int64),
            "subfield_id": np.array([row[4] or 0 for row in rows], np.int64),
            "publication_year": np.array([row[5] or 0 for row in rows], np.int64),
        },
        entries=_columns(
            CorpusEntry.objects.values_list("work_id", "included", "override"),
            {"work_id": np.int64, "included": np.bool_, "override": object},
        ),
        links=_columns(
            Citation.objects.values_list("citing_id", "cited_id", "is_self_citation"),
            {"citing_id": np.int64, "cited_id": np.int64, "is_self_citation": np.bool_},
        ),
        authorships=_columns(
            Authorship.objects.values_list("work_id", "author_id"), {"work_id": np.int64, "author_id": np.int64}
        ),
        affiliations=_columns(
            Affiliation.objects.values_list("work_id", "author_id", "institution_id"),
            {"work_id": np.int64, "author_id": np.int64, "institution_id": np.int64},
        ),
    )


def held_corpus_ids(held: HeldState) -> np.ndarray:
    """The works the site counts in its corpus, which the references stage must look for too."""
    entries = held.entries
    override = entries["override"]
    keep = (override == CorpusEntry.Override.INCLUDE) | (
        (override != CorpusEntry.Override.EXCLUDE) & entries["included"]
    )
    return entries["work_id"][keep]


def _columns(rows, dtypes: dict[str, type]) -> dict[str, np.ndarray]:
    values = list(rows.iterator(chunk_size=PUBLISH_BATCH))
    return {name: np.array([row[i] for row in values], dtype) for i, (name, dtype) in enumerate(dtypes.items())}


# --- writing into the site's database ------------------------------------------------------

_WORK_COLUMNS = [
    "id", "doi", "title", "abstract", "publication_year", "venue", "type", "cited_by_count", "referenced_works_count",
    "is_oa", "oa_status", "is_retracted", "indexed_in", "topics", "repository_locations", "openalex_updated",
    "license", "datasets", "primary_topic", "subfield_id", "source_type", "truncated", "unidentified_authors",
    "fetched_at",
]  # fmt: skip
# Free text cut to its column, as papers.openalex.ingest does: one long venue must not fail the publish.
_WORK_ROWS_SQL = f"""
    SELECT id, doi, title, abstract, publication_year,
           substring(venue, 1, {Work._meta.get_field("venue").max_length}),
           substring(type, 1, {Work._meta.get_field("type").max_length}),
           cited_by_count, referenced_works_count, is_oa,
           substring(oa_status, 1, {Work._meta.get_field("oa_status").max_length}), is_retracted,
           to_json(indexed_in), to_json(topics), to_json(repository_locations), updated,
           substring(license, 1, {Work._meta.get_field("license").max_length}), to_json(datasets),
           CASE WHEN primary_topic IS NOT NULL THEN to_json(primary_topic) END, subfield_id,
           substring(source_type, 1, {Work._meta.get_field("source_type").max_length}),
           -- Work.truncated, as papers.openalex.ingest.truncated_data writes it.
           to_json(map_from_entries(list_transform(truncated, lambda t: {{'k': t.field,
               'v': {{'length': t.length, 'kept': CASE WHEN t.dropped THEN 0 ELSE t.cap END}}}}))),
           unidentified_authors
    FROM fresh ORDER BY id"""


def _write(
    model,
    result: duckdb.DuckDBPyConnection,
    *,
    conflict: list[str],
    update: bool,
    columns: list[str] | None = None,
    extra: tuple = (),
    update_columns: list[str] | None = None,
) -> int:
    """Upsert (or, without `update`, insert where new) the rows of a DuckDB result, plus the
    `extra` values at the end of every row, into `model`'s table; returns the rows sent."""
    if columns is None:
        columns = _WORK_COLUMNS if model is Work else [f.column for f in model._meta.concrete_fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(name) for name in columns)
    keys = ", ".join(quote(name) for name in conflict)
    updates = [name for name in (update_columns or columns) if name not in conflict]
    action = (
        "DO UPDATE SET " + ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in updates)
        if update
        else "DO NOTHING"
    )
    total = 0
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                f"CREATE TEMPORARY TABLE datarank_incoming ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"
            )
        for batch in _batches(result):
            rows = [(*row, *extra) for row in batch]
            total += len(rows)
            if postgres:
                with cursor.cursor.copy(f"COPY datarank_incoming ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                adapted = [_sqlite_row(row) for row in rows]
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))}) "
                    f"ON CONFLICT ({keys}) {action}",
                    adapted,
                )
        if postgres:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM datarank_incoming ON CONFLICT ({keys}) {action}"
            )
            cursor.execute("DROP TABLE datarank_incoming")
    return total


def _sqlite_row(row: tuple) -> tuple:
    return tuple(
        connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value for value in row
    )


def _batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while batch := result.fetchmany(PUBLISH_BATCH):
        yield batch


def _delete_authorships(pairs: list[tuple[int, int]]) -> None:
    if pairs:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {connection.ops.quote_name(Authorship._meta.db_table)}"
                " WHERE work_id = %s AND author_id = %s",
                pairs,
            )


def _delete_affiliations(rows: list[tuple[int, int, int]]) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {connection.ops.quote_name(Affiliation._meta.db_table)}"
                " WHERE work_id = %s AND author_id = %s AND institution_id = %s",
                rows,
            )


def _update_self_citations(changes: list[tuple[int, int, bool]]) -> None:
    if changes:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {connection.ops.quote_name(Citation._meta.db_table)} SET is_self_citation = %s "
                "WHERE citing_id = %s AND cited_id = %s",
                [(flag, citing, cited) for citing, cited, flag in changes],
            )


# --- SQL -------------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return value.replace("'", "''")


def _sql_list(values, *, array: bool = False) -> str:
    items = ", ".join(f"'{_sql_text(v)}'" if isinstance(v, str) else str(v) for v in values)
    return f"[{items}]" if array else f"({items})"


class _Watch:
    """While a stage's statement runs, hands DuckDB's estimate of how far it is to `progress`
    every PROGRESS_EVERY seconds, as rows of the stage's `total`."""

    def __init__(self, db: duckdb.DuckDBPyConnection, progress: Progress, stage: str, total: int | None) -> None:
        self.db, self.progress, self.stage, self.total = db, progress, stage, total
        self._stop = threading.Event()
        # Started only for a stage with a total.
        self._thread = threading.Thread(target=self._watch, args=(total or 0,), daemon=True)

    def __enter__(self) -> None:
        if self.total:
            self._thread.start()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self, total: int) -> None:
        while not self._stop.wait(PROGRESS_EVERY):
            try:
                percent = self.db.query_progress()
            except duckdb.Error:
                return
            # -1: no statement is running at this instant (between two of a stage's statements).
            if percent >= 0:
                self.progress.advanced(self.stage, int(total * min(percent, 100.0) / 100))


class _disk_errors:
    """Turn "no space left on device" into a SnapshotError that says what to do."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, trace) -> None:
        if error is not None and _out_of_disk(error):
            free = shutil.disk_usage(self.workdir).free
            raise SnapshotError(
                f"out of disk in the work dir {self.workdir} ({free / 1e9:.1f} GB free): nothing was published; "
                "free some space (or point --workdir elsewhere) and run the build again — finished stages are kept"
            ) from error


def _out_of_disk(error: BaseException) -> bool:
    return getattr(error, "errno", None) == 28 or "No space left on device" in str(error)


def _install_functions(db: duckdb.DuckDBPyConnection) -> None:
    """The macros of the extraction and the few Python functions for what SQL cannot say
    exactly (HTML entities, percent-encoded DOIs, odd dates, the data-paper check); each is
    called only on the rows that need it."""
    db.create_function("dr_clean_py", clean_text, ["VARCHAR"], "VARCHAR")
    db.create_function("dr_doi_py", _doi_or_none, ["VARCHAR"], "VARCHAR", null_handling=FunctionNullHandling.SPECIAL)
    db.create_function("dr_date_py", _date_or_none, ["VARCHAR"], "DATE", null_handling=FunctionNullHandling.SPECIAL)
    db.create_function("dr_problem_py", _problem, ["VARCHAR"], "VARCHAR")
    db.create_function("dr_merge_listings_py", _merge_listings, [_LISTINGS], _LISTINGS)
    db.create_function(
        "dr_check",
        _check,
        ["VARCHAR"] * 5,
        "STRUCT(passed BOOLEAN, confidence DOUBLE, reasons VARCHAR[])",
    )
    for macro in _MACROS:
        db.execute(f"CREATE OR REPLACE MACRO {macro}")


def _doi_or_none(text: str) -> str | None:
    try:
        return normalize_doi(text)
    except ValueError:
        return None


def _date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _problem(line: str) -> str:
    """Why `load_openalex` would skip this line, in its words."""
    try:
        raw = json.loads(line)
    except ValueError as error:
        return f"not valid JSON: {error}"
    try:
        parse_work(raw)
    except RecordError as error:
        return str(error)
    return "a record of a shape this reader does not take"


def _merge_listings(found: list[dict]) -> list[dict]:
    """records._authors' merge, for a work that lists an author (or one of their affiliation
    strings or institutions) twice: each author once, with the first listing's fields, and the
    strings and institutions of every listing, each once, where first met."""
    merged: dict[int, dict] = {}
    for listing in found:
        author = merged.setdefault(listing["id"], {**listing, "raw": {}, "institutions": {}})
        for text in listing["raw"]:
            author["raw"].setdefault(text["text"], text)
        for institution in listing["institutions"]:
            author["institutions"].setdefault(institution["id"], institution)
    return [
        {**author, "raw": list(author["raw"].values()), "institutions": list(author["institutions"].values())}
        for author in merged.values()
    ]


def _check(work_type: str, venue: str, title: str, abstract: str, source_type: str) -> dict:
    verdict = check_data_paper(type=work_type, venue=venue, title=title, abstract=abstract, source_type=source_type)
    return {"passed": verdict.passed, "confidence": verdict.confidence, "reasons": list(verdict.reasons)}


_ID = r"(?:^|/)([A-Za-z])([0-9]+)/?$"
# The shapes nearly every record has, checked with one regular expression over the minified JSON
# (an id that is not zero; positions that are whole numbers) before anything slower is tried.
_NUMBER = "[0-9]*[1-9][0-9]*"
_WORK_URL = f'"https://openalex\\.org/W{_NUMBER}"'
_REFERENCES = f"\\[(?:{_WORK_URL}(?:,{_WORK_URL})*)?\\]"
_AUTHOR = f"https://openalex\\.org/A{_NUMBER}"
_INSTITUTION = f"https://openalex\\.org/I{_NUMBER}"
_KEY = r'"(?:[^"\\]|\\.)*"'
_POSITIONS = r"\[(?:-?[0-9]+(?:,-?[0-9]+)*)?\]"
_ABSTRACT_INDEX = f"\\{{(?:{_KEY}:{_POSITIONS}(?:,{_KEY}:{_POSITIONS})*)?\\}}"
# The texts as JSON, so that a number where a string belongs is told apart: a VARCHAR would take it.
_AUTHORSHIPS = json.dumps([{
    "author": {"id": "VARCHAR", "display_name": "JSON", "orcid": "JSON"},
    "author_position": "JSON",
    "raw_affiliation_strings": ["JSON"],
    "institutions": [{"id": "VARCHAR", "display_name": "JSON", "country_code": "JSON", "ror": "JSON", "type": "JSON"}],
}])  # fmt: skip
# An authorship as the extraction lists it, each text and institution with its place in the record.
_LISTINGS = (
    "STRUCT(n BIGINT, id BIGINT, display_name VARCHAR, orcid VARCHAR, position VARCHAR,"
    " raw STRUCT(n BIGINT, k BIGINT, text VARCHAR)[], institutions STRUCT(n BIGINT, m BIGINT, id BIGINT,"
    " display_name VARCHAR, country_code VARCHAR, ror VARCHAR, type VARCHAR)[])[]"
)
_MACROS = [
    f"dr_strip(s) AS regexp_replace(s, '^{_WS}+|{_WS}+$', '', 'g')",
    # Only runs of two or more and lone whitespace other than a space are replaced: a pattern
    # matching every single space rewrote every word gap of every abstract.
    f"dr_collapse(s) AS dr_strip(regexp_replace(s, '{_WS}{{2,}}|{_WS_NOT_SPACE}', ' ', 'g'))",
    "dr_null(j) AS j IS NULL OR json_type(j) = 'NULL'",
    "dr_is_str(j) AS coalesce(json_type(j) = 'VARCHAR', false)",
    "dr_is_int(j) AS coalesce(json_type(j) IN ('BIGINT', 'UBIGINT'), false)",
    "dr_text_ok(j) AS dr_null(j) OR dr_is_str(j)",
    "dr_text(j) AS CASE WHEN dr_is_str(j) THEN j ->> '$' ELSE '' END",
    "dr_flag_ok(j) AS dr_null(j) OR coalesce(json_type(j) = 'BOOLEAN', false)",
    "dr_flag(j) AS coalesce(j::VARCHAR = 'true', false)",
    "dr_obj_ok(j) AS dr_null(j) OR coalesce(json_type(j) = 'OBJECT', false)",
    "dr_list_ok(j) AS dr_null(j) OR coalesce(json_type(j) = 'ARRAY', false)",
    "dr_items(j) AS CASE WHEN json_type(j) = 'ARRAY' THEN json_transform(j, '[\"JSON\"]') ELSE []::JSON[] END",
    "dr_all(l) AS coalesce(list_bool_and(list_transform(l, lambda b: coalesce(b, false))), true)",
    # Python's truthiness of a JSON value: null, "", 0, false, [] and {} are false.
    "dr_truthy(j) AS NOT (dr_null(j) OR j::VARCHAR IN ('\"\"', 'false', '[]', '{}')"
    " OR (json_type(j) IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND TRY_CAST(j::VARCHAR AS DOUBLE) = 0))",
    # openalex_number: the number of an id of the given kind, NULL when it is none.
    f"dr_number(s, kind) AS CASE WHEN upper(regexp_extract(dr_strip(s), '{_ID}', 1)) = kind"
    f" THEN nullif(TRY_CAST(regexp_extract(dr_strip(s), '{_ID}', 2) AS BIGINT), 0) END",
    # The full form every reference has, read without dr_number's whitespace strip (two regular
    # expressions over Python's whitespace, the references stage's cost per reference before).
    "dr_work_number(s) AS CASE WHEN regexp_full_match(s, 'https://openalex\\.org/W[0-9]{1,18}')"
    " THEN nullif(CAST(s[23:] AS BIGINT), 0) ELSE dr_number(s, 'W') END",
    # records.CAPS: a field's note of its length against its cap, kept where the cap is passed.
    "dr_note(name, value, cap, dropped) AS {'field': name, 'length': length(value)::BIGINT, 'cap': cap::BIGINT,"
    " 'dropped': dropped}",
    # The text cut to its cap; an identifier past its cap is dropped, never cut.
    "dr_cut(value, cap) AS substring(value, 1, cap)",
    "dr_bounded(value, cap) AS CASE WHEN length(value) > cap THEN '' ELSE value END",
    # records.clean_text: entities need Python's html module; the rest is two substitutions.
    "dr_clean(s) AS CASE WHEN contains(s, '&') THEN dr_clean_py(s)"
    " ELSE dr_collapse(regexp_replace(s, '\\\\[nrt]', ' ', 'g')) END",
]


def _may_fire() -> str:
    """SQL true for every work on which the data-paper check could give more than its
    no-signal verdict: a word any of its signals or notes needs, in the text it reads. A
    superset by construction (the test of stage 2 compares every record)."""
    journal_words = ("data", "giga", "announcement")
    assert all(any(word in key for word in journal_words) for key in DATA_JOURNALS), "a data journal escapes the filter"

    # Python's re.IGNORECASE also folds the dotless and dotted i; RE2's (?i) does not.
    def words(*items: str) -> str:
        return "(?i)(?:" + "|".join(item.replace("i", "[i\u0131\u0130]") for item in items) + ")"

    cues = ("data", "corp", "atlas", "cohort", "biobank", "catalog", "inventor", "compilation")
    title = words(*cues, "supplement", "supporting", "additional", "appendi", "table", "benchmark")
    abstract = words(*cues, "file", "repositor", "deposit", "archive")
    types = words("dataset", *NEVER_DATA_PAPERS)
    return f"""(
        regexp_matches(type, '{types}') OR regexp_matches(source_type, '(?i)repository')
        OR regexp_matches(venue, '{words(*journal_words)}')
        OR regexp_matches(regexp_replace(title, '<[^>]+>', '', 'g'), '{title}')
        OR regexp_matches(abstract, '{abstract}'))"""


_MAY_FIRE = _may_fire()


_TOPIC_LEVELS = ("$", "$.subfield", "$.field", "$.domain")


def _extract_sql(path: str, part: int, partition_date: date | None) -> str:
    """One row per line of one part, in line order: status ('blank', 'ok', 'bad'), the reason a
    bad line is skipped, and the fields `parse_work` gives, checked as it checks them."""
    partition = f"DATE '{partition_date.isoformat()}'" if partition_date else "NULL::DATE"
    keys = [
        "id",
        "doi",
        "title",
        "display_name",
        "abstract_inverted_index",
        "publication_year",
        "primary_location",
        "host_venue",
        "type",
        "cited_by_count",
        "referenced_works_count",
        "referenced_works",
        "open_access",
        "is_retracted",
        "indexed_in",
        "topics",
        "locations",
        "updated_date",
        "authorships",
        "is_authors_truncated",
        "best_oa_location",
        "datasets",
        "primary_topic",
    ]
    structure = "{" + ", ".join(f'"{key}": "JSON"' for key in keys) + "}"
    # primary_topic's four levels read from two lists made in one parse each (`pt_types`, `pt_text`,
    # made in `fields`): a `->` per leaf parsed the whole topic again, forty times a record.
    topic_kinds = ", ".join(f"'{path}', '{path}.id', '{path}.display_name'" for path in _TOPIC_LEVELS)
    topic_texts = ", ".join(f"'{path}.id', '{path}.display_name'" for path in _TOPIC_LEVELS)

    def kind(level: int, leaf: int) -> str:  # leaf 0: the level itself, 1: its id, 2: its display_name
        return f"pt_types[{3 * level + leaf + 1}]"

    def text(level: int, leaf: int) -> str:
        return f"pt_text[{2 * level + leaf}]"

    level_number = [
        f"CASE WHEN coalesce({kind(k, 1)} = 'VARCHAR', false)"
        f" THEN TRY_CAST(regexp_extract({text(k, 1)}, '([0-9]+)/?$', 1) AS BIGINT) END"
        for k in range(4)
    ]
    level_good = [
        f"(coalesce({kind(k, 0)} = 'OBJECT', false) AND {level_number[k]} IS NOT NULL"
        f" AND coalesce({kind(k, 2)} = 'VARCHAR' AND {text(k, 2)} <> '', false))"
        for k in range(4)
    ]
    # primary_topic: a bad display_name is an error only where every level above it was whole.
    topic_errors = " OR ".join(
        "(" + " AND ".join([*level_good[:k], f"coalesce({kind(k, 0)} = 'OBJECT', false)",
                            f"NOT coalesce({kind(k, 2)} IN ('NULL', 'VARCHAR'), true)"]) + ")"
        for k in range(4)
    )  # fmt: skip
    topic_value = (
        "CASE WHEN "
        + " AND ".join(level_good)
        + " THEN {"
        + ", ".join(
            f"'{name}': {{'id': {level_number[k]}, 'name': {text(k, 2)}}}"
            for k, name in enumerate(("topic", "subfield", "field", "domain"))
        )
        + "} END"
    )
    caps, ids = CAPS, IDENTIFIER_CAPS
    topic_cut = (
        "{"
        + ", ".join(
            f"'{name}': {{'id': primary_topic.{name}.id,"
            f" 'name': dr_cut(primary_topic.{name}.name, {caps['topic_name']})}}"
            for name in ("topic", "subfield", "field", "domain")
        )
        + "}"
    )
    # A missing primary topic has NULL names, whose notes the filter drops.
    topic_notes = ", ".join(
        f"dr_note('{path}.display_name', primary_topic.{name}.name, {caps['topic_name']}, false)"
        for path, name in (("primary_topic", "topic"), ("primary_topic.subfield", "subfield"),
                           ("primary_topic.field", "field"), ("primary_topic.domain", "domain"))
    )  # fmt: skip
    return f"""
    WITH lines AS (
        -- Not parallel = false: that reader keeps every buffer of a gzip stream until the end, a
        -- part's whole text in memory; a gzip stream is read in order either way.
        SELECT line FROM read_csv('{path}', columns = {{'line': 'VARCHAR'}}, auto_detect = false, header = false,
                                  delim = E'\\x01', quote = '', escape = '', compression = 'gzip',
                                  strict_mode = false, max_line_size = {MAX_LINE_BYTES}, hive_partitioning = false,
                                  buffer_size = {2 * MAX_LINE_BYTES})
    ),
    parsed AS (
        SELECT line,
               -- The first character that is not blank, found at once; trim() would copy every line.
               line IS NULL OR NOT regexp_matches(line, '[^ \\t\\n\\r\\x0b\\x0c]') AS blank,
               -- One parse: a line that is not JSON gives NULL, one that is JSON but no object is
               -- told by its first character (JSON's own blanks before it).
               CASE WHEN regexp_matches(line, '^[ \\t\\n\\r]*[{{]')
                    THEN TRY(json_transform(line, '{structure}')) END AS r
        FROM lines
    ),
    fields AS (
        SELECT line, blank, r,
               TRY(json_transform_strict(r.authorships, '{_AUTHORSHIPS}')) AS typed_authorships,
               dr_items(r.topics) AS topics,
               -- Each location's leaves from three parses of it: a `->` per leaf parsed it a dozen times.
               list_transform(dr_items(r.locations), lambda l: {{
                   't': json_type(l, ['$', '$.source', '$.source.type', '$.source.display_name',
                                      '$.landing_page_url', '$.pdf_url']),
                   'j': json_extract(l, ['$.landing_page_url', '$.pdf_url']),
                   's': json_extract_string(l, ['$.source.type', '$.source.display_name', '$.landing_page_url',
                                                '$.pdf_url'])}}) AS locations,
               dr_items(r.indexed_in) AS indexed_in,
               r.open_access AS oa,
               r.primary_location AS pl,
               json_type(r.primary_topic, [{topic_kinds}]) AS pt_types,
               json_extract_string(r.primary_topic, [{topic_texts}]) AS pt_text,
               r.primary_location -> '$.source' AS pl_source,
               CASE WHEN dr_text(r.title) <> '' THEN r.title ELSE r.display_name END AS title_json,
               CASE WHEN json_type(r.abstract_inverted_index) = 'OBJECT'
                    THEN map_entries(json_transform(r.abstract_inverted_index, '"MAP(VARCHAR, BIGINT[])"'))
                    END AS words,
               CASE WHEN dr_is_str(r.doi) THEN r.doi ->> '$' END AS doi_text,
               CASE WHEN dr_is_str(r.updated_date) THEN r.updated_date ->> '$' END AS updated_text,
               CASE WHEN json_type(r.host_venue) = 'OBJECT' THEN NOT json_exists(line, '$.primary_location')
                    ELSE false END AS older_schema
        FROM parsed
    ),
    checked AS (
        SELECT *,
            coalesce(r IS NOT NULL
            AND dr_is_str(r.id) AND dr_work_number(r.id ->> '$') IS NOT NULL
            -- CASE, not OR: DuckDB evaluates every side of an OR on every row, and the slow
            -- second ways are for the rare record the fast first one does not take.
            AND CASE WHEN dr_null(r.referenced_works) OR regexp_full_match(r.referenced_works::VARCHAR, '{_REFERENCES}')
                     THEN true
                     ELSE json_type(r.referenced_works) = 'ARRAY'
                          AND dr_all(list_transform(dr_items(r.referenced_works), lambda x:
                                                    dr_is_str(x) AND dr_work_number(x ->> '$') IS NOT NULL)) END
            AND (dr_null(r.referenced_works_count) OR (dr_is_int(r.referenced_works_count)
                 AND TRY_CAST(r.referenced_works_count::VARCHAR AS BIGINT) >= 0))
            AND dr_is_int(r.cited_by_count) AND TRY_CAST(r.cited_by_count::VARCHAR AS BIGINT) >= 0
            AND dr_obj_ok(oa) AND dr_flag_ok(oa -> '$.is_oa') AND dr_text_ok(oa -> '$.oa_status')
            AND CASE WHEN dr_null(r.authorships) OR typed_ok THEN true
                 ELSE (json_type(r.authorships) = 'ARRAY' AND dr_all(list_transform(dr_items(r.authorships), lambda a:
                    coalesce(json_type(a) = 'OBJECT', false) AND dr_obj_ok(a -> '$.author')
                    AND (dr_null(a -> '$.author' -> '$.id')
                         OR (dr_is_str(a -> '$.author' -> '$.id')
                             AND dr_number(a -> '$.author' ->> '$.id', 'A') IS NOT NULL
                             AND dr_text_ok(a -> '$.author' -> '$.display_name')
                             AND dr_text_ok(a -> '$.author' -> '$.orcid')
                             AND dr_text_ok(a -> '$.author_position')
                             AND dr_list_ok(a -> '$.raw_affiliation_strings')
                             AND dr_all(list_transform(dr_items(a -> '$.raw_affiliation_strings'),
                                                       lambda x: dr_is_str(x)))
                             AND dr_list_ok(a -> '$.institutions')
                             AND dr_all(list_transform(dr_items(a -> '$.institutions'), lambda x:
                                 coalesce(json_type(x) = 'OBJECT', false)
                                 AND (dr_null(x -> '$.id')
                                      OR (dr_is_str(x -> '$.id') AND dr_number(x ->> '$.id', 'I') IS NOT NULL
                                          AND dr_text_ok(x -> '$.display_name') AND dr_text_ok(x -> '$.country_code')
                                          AND dr_text_ok(x -> '$.ror') AND dr_text_ok(x -> '$.type')))))))))) END
            AND dr_flag_ok(r.is_authors_truncated)
            AND (dr_null(r.doi) OR doi_text = '' OR (doi_text IS NOT NULL AND doi IS NOT NULL))
            AND dr_text_ok(r.title) AND dr_text_ok(title_json)
            AND (dr_null(r.abstract_inverted_index)
                 OR regexp_full_match(r.abstract_inverted_index::VARCHAR, '{_ABSTRACT_INDEX}'))
            AND (dr_null(r.publication_year) OR (dr_is_int(r.publication_year)
                 AND TRY_CAST(r.publication_year::VARCHAR AS BIGINT) BETWEEN 0 AND 32767))
            AND (NOT older_schema OR dr_text_ok(r.host_venue -> '$.display_name'))
            AND dr_obj_ok(pl) AND dr_obj_ok(pl_source)
            AND dr_text_ok(pl_source -> '$.display_name') AND dr_text_ok(pl_source -> '$.type')
            AND dr_text_ok(r.type) AND dr_flag_ok(r.is_retracted)
            AND dr_list_ok(r.indexed_in) AND dr_all(list_transform(indexed_in, lambda x: dr_is_str(x)))
            AND dr_list_ok(r.topics) AND dr_all(list_transform(topics, lambda t:
                    coalesce(json_type(t) = 'OBJECT', false) AND dr_text_ok(t -> '$.display_name')))
            AND dr_list_ok(r.locations) AND dr_all(list_transform(locations, lambda l:
                    coalesce(l.t[1] = 'OBJECT', false) AND coalesce(l.t[2] IN ('NULL', 'OBJECT'), true)
                    AND (NOT coalesce(l.s[1] = 'repository' AND l.t[3] = 'VARCHAR', false)
                         OR ((CASE WHEN dr_truthy(l.j[1]) THEN coalesce(l.t[5] = 'VARCHAR', false)
                                   WHEN dr_truthy(l.j[2]) THEN coalesce(l.t[6] = 'VARCHAR', false) ELSE true END)
                             AND coalesce(l.t[4] IN ('NULL', 'VARCHAR'), true)))))
            AND (dr_null(r.updated_date) OR updated_text = '' OR (updated_text IS NOT NULL AND updated IS NOT NULL))
            AND (CASE WHEN dr_is_str(pl -> '$.license') AND pl ->> '$.license' <> '' THEN true
                      ELSE dr_obj_ok(r.best_oa_location) END)
            AND dr_list_ok(r.datasets)
            AND (dr_null(r.primary_topic) OR (coalesce(json_type(r.primary_topic) = 'OBJECT', false)
                 AND NOT coalesce({topic_errors}, false))), false)
            AS ok
        FROM (
            SELECT *,
                CASE WHEN doi_text IS NULL OR doi_text = '' THEN ''
                     WHEN regexp_full_match(doi_text, '(?i)https?://(?:dx\\.|www\\.)?doi\\.org/10\\.[0-9]{{4,}}(?:\\.[0-9]+)*/[\\x21-\\x7e]+')
                          AND NOT contains(doi_text, '%')
                     THEN lower(regexp_replace(doi_text, '^(?i)https?://(?:dx\\.|www\\.)?doi\\.org/', ''))
                     WHEN regexp_full_match(doi_text, '10\\.[0-9]{{4,}}(?:\\.[0-9]+)*/[\\x21-\\x7e]+')
                     THEN lower(doi_text)
                     WHEN doi_text IS NOT NULL THEN dr_doi_py(doi_text) END AS doi,
                CASE WHEN updated_text = '' THEN NULL
                     WHEN regexp_full_match(updated_text[1:10], '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')
                          AND TRY_CAST(updated_text[1:10] AS DATE) IS NOT NULL AND updated_text[1:4] <> '0000'
                     THEN TRY_CAST(updated_text[1:10] AS DATE)
                     WHEN updated_text IS NOT NULL THEN dr_date_py(updated_text) END AS updated,
                -- The authorships as the typed list reads them, every id in its full form: nearly all records.
                coalesce(typed_authorships IS NOT NULL AND dr_all(list_transform(typed_authorships, lambda a:
                    a IS NOT NULL AND (a.author.id IS NULL OR (regexp_full_match(a.author.id, '{_AUTHOR}')
                    AND dr_text_ok(a.author.display_name) AND dr_text_ok(a.author.orcid)
                    AND dr_text_ok(a.author_position)
                    AND dr_all(list_transform(a.raw_affiliation_strings, lambda x: dr_is_str(x)))
                    AND dr_all(list_transform(a.institutions, lambda x: x IS NOT NULL AND (x.id IS NULL
                        OR (regexp_full_match(x.id, '{_INSTITUTION}') AND dr_text_ok(x.display_name)
                            AND dr_text_ok(x.country_code) AND dr_text_ok(x.ror) AND dr_text_ok(x.type))))))))),
                    false) AS typed_ok
            FROM fields
        )
    )
    , whole AS (SELECT
        CASE WHEN blank THEN 'blank' WHEN ok THEN 'ok' ELSE 'bad' END AS status,
        CASE WHEN NOT blank AND NOT ok THEN dr_problem_py(line) END AS error,
        {part} AS part,
        {partition} AS partition_date,
        dr_work_number(r.id ->> '$') AS id,
        updated AS updated,
        updated_text AS updated_raw,
        doi AS doi,
        dr_clean(dr_text(title_json)) AS title,
        dr_clean(coalesce(array_to_string(list_transform(list_sort(flatten(list_transform(words,
                lambda e: list_transform(e.value, lambda p: {{'p': p, 'w': e.key}})))),
                lambda x: x.w), ' '), '')) AS abstract,
        TRY_CAST(r.publication_year::VARCHAR AS SMALLINT) AS publication_year,
        CASE WHEN older_schema THEN dr_text(r.host_venue -> '$.display_name')
                               ELSE dr_text(pl_source -> '$.display_name') END AS venue,
        dr_text(r.type) AS type,
        TRY_CAST(r.cited_by_count::VARCHAR AS BIGINT) AS cited_by_count,
        coalesce(TRY_CAST(r.referenced_works_count::VARCHAR AS BIGINT),
                 json_array_length(r.referenced_works)::BIGINT, 0)
            AS referenced_works_count,
        dr_flag(oa -> '$.is_oa') AS is_oa,
        dr_text(oa -> '$.oa_status') AS oa_status,
        dr_flag(r.is_retracted) AS is_retracted,
        list_transform(indexed_in, lambda x: x ->> '$') AS indexed_in,
        -- Topics and locations with their place in the record (`n`), which a cut field is named by.
        list_filter(list_transform(topics, lambda t, i: {{'n': i, 'name': dr_text(t -> '$.display_name')}}),
                    lambda t: t.name <> '') AS topics_n,
        list_filter(list_transform(locations, lambda l, i: {{'n': i,
                'repository': coalesce(l.s[1] = 'repository' AND l.t[3] = 'VARCHAR', false),
                'source': CASE WHEN coalesce(l.t[4] = 'VARCHAR', false) THEN l.s[2] ELSE '' END,
                'url_key': CASE WHEN dr_truthy(l.j[1]) THEN 'landing_page_url' ELSE 'pdf_url' END,
                'url': CASE WHEN dr_truthy(l.j[1]) THEN l.s[3] WHEN dr_truthy(l.j[2]) THEN l.s[4] ELSE '' END}}),
            lambda l: l.repository) AS locations_n,
        CASE WHEN dr_is_str(pl -> '$.license') AND pl ->> '$.license' <> '' THEN pl ->> '$.license'
                               WHEN dr_is_str(r.best_oa_location -> '$.license')
                                    AND r.best_oa_location ->> '$.license' <> ''
                               THEN r.best_oa_location ->> '$.license' ELSE '' END AS license,
        list_transform(list_filter(dr_items(r.datasets), lambda x:
                dr_is_str(x) AND dr_work_number(x ->> '$') IS NOT NULL),
            lambda x: 'W' || dr_work_number(x ->> '$')) AS datasets,
        {topic_value} AS primary_topic,
        CASE WHEN {" AND ".join(level_good)} THEN {level_number[1]} END AS subfield_id,
        dr_text(pl_source -> '$.type') AS source_type,
        dr_flag(r.is_authors_truncated) AS authors_truncated,
        listed - len(found) AS unidentified_authors,
        -- An author, an affiliation string or an institution listed twice: records._authors in Python, rarely.
        CASE WHEN len(list_distinct(list_transform(found, lambda a: a.id))) < len(found)
                  OR NOT dr_all(list_transform(found, lambda a:
                         len(list_distinct(list_transform(a.raw, lambda x: x.text))) = len(a.raw)
                         AND len(list_distinct(list_transform(a.institutions, lambda x: x.id))) = len(a.institutions)))
             THEN dr_merge_listings_py(found) ELSE found END AS authors
    FROM (
        SELECT *, CASE WHEN typed_ok
            THEN list_filter(list_transform(typed_authorships, lambda a, i: {{
                    'n': i,
                    'id': TRY_CAST(substring(a.author.id, 23) AS BIGINT),
                    'display_name': dr_text(a.author.display_name),
                    'orcid': dr_text(a.author.orcid),
                    'position': dr_text(a.author_position),
                    'raw': list_filter(list_transform(coalesce(a.raw_affiliation_strings, []), lambda x, k:
                        {{'n': i, 'k': k, 'text': dr_clean(dr_text(x))}}), lambda x: x.text <> ''),
                    'institutions': list_filter(list_transform(coalesce(a.institutions, []), lambda x, m: {{
                        'n': i, 'm': m, 'id': TRY_CAST(substring(x.id, 23) AS BIGINT),
                        'display_name': dr_text(x.display_name), 'country_code': dr_text(x.country_code),
                        'ror': dr_text(x.ror), 'type': dr_text(x.type)}}), lambda x: x.id IS NOT NULL)}}),
                  lambda a: a.id IS NOT NULL)
            ELSE list_filter(list_transform(dr_items(r.authorships), lambda a, i: {{
                    'n': i,
                    'id': dr_number(a -> '$.author' ->> '$.id', 'A'),
                    'display_name': dr_text(a -> '$.author' -> '$.display_name'),
                    'orcid': dr_text(a -> '$.author' -> '$.orcid'),
                    'position': dr_text(a -> '$.author_position'),
                    'raw': list_filter(list_transform(dr_items(a -> '$.raw_affiliation_strings'), lambda x, k:
                        {{'n': i, 'k': k, 'text': dr_clean(dr_text(x))}}), lambda x: x.text <> ''),
                    'institutions': list_filter(list_transform(dr_items(a -> '$.institutions'), lambda x, m: {{
                        'n': i, 'm': m, 'id': dr_number(x ->> '$.id', 'I'),
                        'display_name': dr_text(x -> '$.display_name'),
                        'country_code': dr_text(x -> '$.country_code'),
                        'ror': dr_text(x -> '$.ror'), 'type': dr_text(x -> '$.type')}}), lambda x: x.id IS NOT NULL)}}),
                  lambda a: a.id IS NOT NULL) END AS found,
            CASE WHEN typed_ok THEN len(typed_authorships) ELSE len(dr_items(r.authorships)) END AS listed
        FROM checked
    ))
    -- records.CAPS: every text field cut to its cap, an identifier past its cap dropped, and a note
    -- of each, in the order parse_work makes them.
    SELECT * EXCLUDE (topics_n, locations_n) REPLACE (
        dr_bounded(doi, {ids["doi"]}) AS doi,
        dr_cut(title, {caps["title"]}) AS title,
        dr_cut(abstract, {caps["abstract"]}) AS abstract,
        dr_cut(venue, {caps["venue"]}) AS venue,
        dr_cut(type, {caps["type"]}) AS type,
        dr_cut(oa_status, {caps["oa_status"]}) AS oa_status,
        list_transform(indexed_in, lambda x: dr_cut(x, {caps["indexed_in"]})) AS indexed_in,
        dr_cut(license, {caps["license"]}) AS license,
        CASE WHEN primary_topic IS NOT NULL THEN {topic_cut} END AS primary_topic,
        dr_cut(source_type, {caps["source_type"]}) AS source_type,
        list_transform(authors, lambda a: {{
            'id': a.id, 'display_name': dr_cut(a.display_name, {caps["author_name"]}),
            'orcid': dr_bounded(a.orcid, {ids["orcid"]}),
            'author_position': dr_cut(a.position, {caps["author_position"]}),
            'raw_affiliations': list_transform(a.raw, lambda x: dr_cut(x.text, {caps["raw_affiliation"]})),
            'institutions': list_transform(a.institutions, lambda x: {{
                'id': x.id, 'display_name': dr_cut(x.display_name, {caps["institution_name"]}),
                'country_code': dr_bounded(x.country_code, {ids["country_code"]}),
                'ror': dr_bounded(x.ror, {ids["ror"]}), 'type': dr_cut(x.type, {caps["institution_type"]})}})}})
            AS authors),
        list_transform(topics_n, lambda t: dr_cut(t.name, {caps["topic_name"]})) AS topics,
        list_transform(locations_n, lambda l: {{'source': dr_cut(l.source, {caps["repository_name"]}),
                                                'url': dr_bounded(l.url, {ids["url"]})}}) AS repository_locations,
        list_filter(
            [dr_note('doi', doi, {ids["doi"]}, true), dr_note('title', title, {caps["title"]}, false),
             dr_note('abstract', abstract, {caps["abstract"]}, false), dr_note('venue', venue, {caps["venue"]}, false),
             dr_note('type', type, {caps["type"]}, false), dr_note('oa_status', oa_status, {caps["oa_status"]}, false)]
            || list_transform(indexed_in, lambda x, i: dr_note(concat('indexed_in[', i, ']'), x,
                                                                {caps["indexed_in"]}, false))
            || list_transform(topics_n, lambda t: dr_note(concat('topics[', t.n, '].display_name'), t.name,
                                                           {caps["topic_name"]}, false))
            || flatten(list_transform(locations_n, lambda l: [
                   dr_note(concat('locations[', l.n, '].source.display_name'), l.source,
                           {caps["repository_name"]}, false),
                   dr_note(concat('locations[', l.n, '].', l.url_key), l.url, {ids["url"]}, true)]))
            || flatten(list_transform(authors, lambda a: [
                   dr_note(concat('authorships[', a.n, '].author.display_name'), a.display_name,
                           {caps["author_name"]}, false),
                   dr_note(concat('authorships[', a.n, '].author.orcid'), a.orcid, {ids["orcid"]}, true),
                   dr_note(concat('authorships[', a.n, '].author_position'), a.position, {caps["author_position"]},
                           false)]
                || list_transform(a.raw, lambda x: dr_note(concat('authorships[', x.n, '].raw_affiliation_strings[',
                                                                  x.k, ']'), x.text, {caps["raw_affiliation"]}, false))
                || flatten(list_transform(a.institutions, lambda x: [
                       dr_note(concat('authorships[', x.n, '].institutions[', x.m, '].display_name'), x.display_name,
                               {caps["institution_name"]}, false),
                       dr_note(concat('authorships[', x.n, '].institutions[', x.m, '].country_code'), x.country_code,
                               {ids["country_code"]}, true),
                       dr_note(concat('authorships[', x.n, '].institutions[', x.m, '].ror'), x.ror, {ids["ror"]}, true),
                       dr_note(concat('authorships[', x.n, '].institutions[', x.m, '].type'), x.type,
                               {caps["institution_type"]}, false)]))))
            || [dr_note('license', license, {caps["license"]}, false)]
            || [{topic_notes}]
            || [dr_note('source_type', source_type, {caps["source_type"]}, false)],
            lambda t: t.length > t.cap) AS truncated
    FROM whole"""
