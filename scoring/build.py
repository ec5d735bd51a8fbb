"""The scores of a snapshot build: its engine inputs read with DuckDB, scored by the one engine,
published as a scoring run.

Contract. `load_build_inputs` reads the two Parquet files a build's citer stage writes — the
corpus papers (id, cited_by_count, subfield, year) and their capped citers in cap order (with the
citer's two counts and the self-citation flag) — straight into the NumPy arrays of
scoring.engine.CorpusInputs: DuckDB hands over whole columns, there is no Python loop per row.
`publish_run` saves the engine's scores as a succeeded ScoringRun with one PaperScore per paper
(COPY on PostgreSQL, batched inserts on SQLite). It runs inside the caller's transaction, which
also holds the corpus rows the scores were computed from: the previous run stays current until
that transaction commits, and a build stopped before leaves no run behind, not even a running one.
"""

from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
from django.db import connection
from django.utils import timezone

from scoring.engine import CorpusInputs, CorpusScores
from scoring.models import PaperScore, ScoringRun
from scoring.services import SCORE_COLUMNS, score_column, start_run

# PaperScore rows per batch sent to the database.
BATCH = 5000


def load_build_inputs(*, papers: Path, links: Path) -> CorpusInputs:
    """The engine's inputs from a build's engine_papers.parquet and engine_links.parquet."""
    db = duckdb.connect()
    try:
        paper = db.execute(
            f"SELECT id, cited_by_count, subfield_id, publication_year FROM read_parquet('{_path(papers)}') ORDER BY id"
        ).fetchnumpy()
        link = db.execute(
            "SELECT cited, citing, cited_by_count, referenced_works_count, self_citation "
            f"FROM read_parquet('{_path(links)}') ORDER BY cited, position"
        ).fetchnumpy()
    finally:
        db.close()
    return CorpusInputs(
        paper_ids=_array(paper["id"], np.int64),
        paper_cited_by_count=_array(paper["cited_by_count"], np.int64),
        link_cited=_array(link["cited"], np.int64),
        link_citing=_array(link["citing"], np.int64),
        # The integer types the database read gives the engine (scoring.inputs), so that both
        # ways in compute the same float64 figures.
        link_cited_by_count=_array(link["cited_by_count"], np.int32),
        link_referenced_works_count=_array(link["referenced_works_count"], np.int32),
        link_self_citation=_array(link["self_citation"], np.bool_),
        paper_subfield=_array(paper["subfield_id"], np.int64),
        paper_year=_array(paper["publication_year"], np.int64),
    )


def publish_run(
    *, inputs: CorpusInputs, scores: CorpusScores, damping: float, cap: int, data_as_of: datetime
) -> ScoringRun:
    """Save `scores` as a succeeded run; call it inside the transaction that publishes the corpus.
    Raises scoring.services.RescoreAlreadyRunning while another run is in progress."""
    run = start_run(damping=damping, cap=cap, started_by=None)
    columns = [score_column(scores, name) for name in SCORE_COLUMNS]
    fields = ["run_id", "work_id", *SCORE_COLUMNS[1:]]
    rows = ((run.pk, *figures) for figures in zip(*columns, strict=True))
    _insert(PaperScore._meta.db_table, fields, rows)
    run.status = ScoringRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.papers_scored = len(scores)
    run.papers_ranked = int(np.count_nonzero(scores.rank))
    run.links_read = len(inputs.link_cited)
    run.citers_read = len(np.unique(inputs.link_citing))
    run.data_as_of = data_as_of
    run.save()
    return run


def _insert(table: str, fields: list[str], rows) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _array(values, dtype) -> np.ndarray:
    # fetchnumpy gives masked arrays only for columns with NULLs, which the build never writes.
    return np.asarray(values).astype(dtype, copy=False)


def _path(path: Path) -> str:
    return str(path).replace("'", "''")
