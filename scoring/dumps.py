"""Bulk dumps: a scoring run's scores as files anyone can download, and the rows
`scores --format csv` prints, which the dumps repeat with each paper's title and year.

After each successful run a worker writes, into its own folder under DATARANK_DUMPS_DIR
(`run-<id>/`), the run's rows as `datarank-run-<id>.csv.gz` (exactly `scores --format csv`'s
cells, then `title` and `publication_year`) and as `datarank-run-<id>.parquet` (the same rows read
back from that CSV by DuckDB, typed), and `manifest.json`: the run, its algorithm and parameters,
its data date, the row count and each file's size and sha256. The folder is written beside its
final place and renamed into it, so a dump is listed whole or not at all; then only the newest
DATARANK_DUMPS_KEEP runs' folders are kept."""

import csv
import gzip
import hashlib
import io
import json
import logging
import re
import shutil
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from scoring.models import PaperScore, ScoringRun

logger = logging.getLogger(__name__)

# The columns of `scores --format csv`, in order (README, DESIGN.md §1).
CSV_COLUMNS = (
    "openalex_id",
    "doi",
    "datarank",
    "base_contribution",
    "network_contribution",
    "citing_works",
    "citers_with_signal",
    "self_citations_excluded",
    "rank",
    "top_percent",
    "tier",
    "cohort_size",
    "cohort_top_percent",
)
DUMP_COLUMNS = (*CSV_COLUMNS, "title", "publication_year")
# Written as Python's repr, so a float keeps every digit.
FLOATS = frozenset({"datarank", "base_contribution", "network_contribution", "top_percent", "cohort_top_percent"})
# What each column is read from, where it is not the PaperScore field of its name.
SOURCES = {
    "openalex_id": "work_id",
    "doi": "work__doi",
    "title": "work__title",
    "publication_year": "work__publication_year",
}
# The Parquet file's types: ids and text stay text, counts integers, figures doubles.
PARQUET_TYPES = {
    "openalex_id": "VARCHAR",
    "doi": "VARCHAR",
    "datarank": "DOUBLE",
    "base_contribution": "DOUBLE",
    "network_contribution": "DOUBLE",
    "citing_works": "INTEGER",
    "citers_with_signal": "INTEGER",
    "self_citations_excluded": "INTEGER",
    "rank": "INTEGER",
    "top_percent": "DOUBLE",
    "tier": "TINYINT",
    "cohort_size": "INTEGER",
    "cohort_top_percent": "DOUBLE",
    "title": "VARCHAR",
    "publication_year": "SMALLINT",
}
MANIFEST = "manifest.json"
# What each file is served as, by its last suffix.
CONTENT_TYPES = {".gz": "application/gzip", ".parquet": "application/vnd.apache.parquet", ".json": "application/json"}
# A run's folder, and the only names in it that are served.
FOLDER = re.compile(r"run-(?P<run>[0-9]{1,19})")
FILE_NAME = re.compile(r"datarank-run-(?P<run>[0-9]{1,19})\.(?:csv\.gz|parquet)|manifest\.json")


def score_rows(run: ScoringRun, *, columns: Sequence[str] = CSV_COLUMNS) -> Generator[dict, None, None]:
    """The run's scores as dicts of `columns` (openalex_id the bare number), in `scores`' order:
    the ranked papers by rank then id, then the papers not ranked by id. Read in chunks; closing
    the iterator closes the database cursor."""
    fields = [SOURCES.get(name, name) for name in columns]
    # NULLS LAST said outright: PostgreSQL and SQLite put nulls at opposite ends by default.
    scores = PaperScore.objects.filter(run=run).order_by(F("rank").asc(nulls_last=True), "work_id")
    results = scores.values_list(*fields).iterator(chunk_size=5000)
    try:
        for values in results:
            yield dict(zip(columns, values, strict=True))
    finally:
        # iterator() returns a generator, whose close() closes the cursor; django-stubs types it
        # a plain Iterator.
        results.close()  # type: ignore[attr-defined]


def csv_cells(row: dict) -> list:
    """One row's cells as `scores --format csv` writes them: `W` ids, floats exact (repr), and an
    empty cell for a figure the paper does not have (DESIGN.md §1), never a zero."""
    return [
        "" if value is None else f"W{value}" if name == "openalex_id" else repr(value) if name in FLOATS else value
        for name, value in row.items()
    ]


@dataclass(frozen=True, slots=True)
class DumpFile:
    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Dump:
    """One run's dump as its manifest describes it."""

    folder: Path
    run_id: int
    algorithm: str
    finished_at: datetime | None
    data_as_of: datetime | None
    rows: int
    files: tuple[DumpFile, ...]
    written_at: datetime | None

    def path(self, name: str) -> Path:
        return self.folder / name


def dumps_dir() -> Path:
    return Path(settings.DATARANK_DUMPS_DIR)


def write_dump(*, run: ScoringRun, root: Path | None = None, keep: int | None = None) -> Dump | None:
    """Write the dump of `run`, a succeeded run, and keep only the newest `keep` runs' dumps
    (DATARANK_DUMPS_KEEP); None, writing nothing, for a run that did not succeed or when `keep`
    is 0. A dump already there for the run is replaced whole."""
    root = dumps_dir() if root is None else root
    keep = settings.DATARANK_DUMPS_KEEP if keep is None else keep
    if run.status != ScoringRun.Status.SUCCEEDED or keep < 1:
        return None
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"run-{run.pk}"
    # A dot-folder is never listed (FOLDER does not match it), so a half-written dump is never seen.
    partial = root / f".run-{run.pk}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        csv_name, parquet_name = f"datarank-run-{run.pk}.csv.gz", f"datarank-run-{run.pk}.parquet"
        rows = _write_csv(run, partial / csv_name)
        _write_parquet(partial / csv_name, partial / parquet_name)
        files = [_described(partial / name) for name in (csv_name, parquet_name)]
        manifest = {
            "run": run.pk,
            "algorithm": run.algorithm,
            "parameters": {"damping": run.damping, "citer_cap": run.citer_cap},
            "finished_at": _iso(run.finished_at),
            "data_as_of": _iso(run.data_as_of),
            "papers_scored": run.papers_scored,
            "papers_ranked": run.papers_ranked,
            "rows": rows,
            "columns": list(DUMP_COLUMNS),
            "files": [{"name": file.name, "bytes": file.bytes, "sha256": file.sha256} for file in files],
            "written_at": _iso(timezone.now()),
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    prune(root=root, keep=keep)
    logger.info("Scoring run %s: dump of %s rows written to %s", run.pk, rows, final)
    return read_dump(final)


def _write_csv(run: ScoringRun, path: Path) -> int:
    rows = 0
    # mtime 0: the same run gives the same bytes, so its sha256 says what it holds.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        text = io.TextIOWrapper(packed, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(DUMP_COLUMNS)
        for row in score_rows(run, columns=DUMP_COLUMNS):
            writer.writerow(csv_cells(row))
            rows += 1
        text.flush()
        text.detach()
    return rows


def _write_parquet(source: Path, target: Path) -> None:
    """The CSV's rows as Parquet, read back by DuckDB with the columns' types: the two files
    hold the same rows by construction. DuckDB reads an empty cell as NULL."""
    import duckdb  # only the worker that writes dumps needs it loaded

    columns = ", ".join(f"{_sql_text(name)}: {_sql_text(kind)}" for name, kind in PARQUET_TYPES.items())
    db = duckdb.connect(":memory:")
    try:
        db.execute("SET threads = 1")
        db.execute(
            f"COPY (SELECT * FROM read_csv({_sql_text(str(source))}, header = true, auto_detect = false,"
            f" columns = {{{columns}}}, compression = 'gzip', delim = ',', quote = '\"', escape = '\"'))"
            f" TO {_sql_text(str(target))} (FORMAT parquet, COMPRESSION zstd)"
        )
    finally:
        db.close()


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _described(path: Path) -> DumpFile:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return DumpFile(name=path.name, bytes=path.stat().st_size, sha256=digest.hexdigest())


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def read_dump(folder: Path) -> Dump | None:
    """The dump in `folder` as its manifest says, or None when it has no readable manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return Dump(
            folder=folder,
            run_id=int(manifest["run"]),
            algorithm=manifest["algorithm"],
            finished_at=_moment(manifest.get("finished_at")),
            data_as_of=_moment(manifest.get("data_as_of")),
            rows=int(manifest["rows"]),
            files=tuple(DumpFile(name=f["name"], bytes=int(f["bytes"]), sha256=f["sha256"]) for f in manifest["files"]),
            written_at=_moment(manifest.get("written_at")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def list_dumps(root: Path | None = None) -> list[Dump]:
    """Every complete dump, the newest run first; no database query."""
    root = dumps_dir() if root is None else root
    if not root.is_dir():
        return []
    found = (read_dump(folder) for folder in root.iterdir() if FOLDER.fullmatch(folder.name) and folder.is_dir())
    return sorted((dump for dump in found if dump is not None), key=lambda dump: dump.run_id, reverse=True)


def prune(*, root: Path, keep: int) -> list[int]:
    """Delete all but the newest `keep` runs' dumps (run ids only grow); returns the runs deleted."""
    dropped = []
    for dump in list_dumps(root)[keep:]:
        shutil.rmtree(dump.folder, ignore_errors=True)
        dropped.append(dump.run_id)
    return dropped


def served_file(folder: str, name: str, root: Path | None = None) -> Path | None:
    """The file `folder/name` of a complete dump, or None: only a run's own files and manifest,
    so no other path under the folder (or outside it) can be asked for."""
    root = dumps_dir() if root is None else root
    folder_match, name_match = FOLDER.fullmatch(folder), FILE_NAME.fullmatch(name)
    if folder_match is None or name_match is None:
        return None
    if name_match["run"] is not None and name_match["run"] != folder_match["run"]:
        return None
    path = root / folder / name
    return path if path.is_file() and (root / folder / MANIFEST).is_file() else None


def open_served_file(folder: str, name: str, root: Path | None = None) -> BinaryIO | None:
    """served_file, opened for reading; None also when the dump was pruned in between."""
    path = served_file(folder, name, root)
    try:
        return path.open("rb") if path is not None else None
    except FileNotFoundError:
        return None
