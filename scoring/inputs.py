"""The database reads the bulk engine is fed from: the corpus papers and the citation links to
them, as the parallel arrays of scoring.engine.CorpusInputs, in two queries; and, for a rescore
that recomputes only what changed, the marks of what changed (papers.ScoreInputChange) and the
figures the run before computed for everything else."""

from dataclasses import dataclass

import numpy as np
from django.db import connection

from papers.models import Authorship, Citation, CorpusEntry, ScoreInputChange, Work
from scoring.bulk import insert_rows
from scoring.engine import OWN_FIGURES, CorpusInputs, KnownFigures
from scoring.models import PaperScore

# Rows per fetch from the database cursor: big enough to amortise round trips, small enough
# that the Python tuples of one batch stay a few megabytes.
FETCH_ROWS = 50_000


# The temporary table a partial read joins its papers from.
RESCORED = "datarank_rescored"


@dataclass(frozen=True)
class CorpusPapers:
    """The corpus papers as the engine takes them: ids, cited_by_count, subfield and year (0 where
    unknown, which no cohort has)."""

    ids: np.ndarray
    cited_by_count: np.ndarray
    subfield: np.ndarray
    year: np.ndarray


def corpus_papers() -> CorpusPapers:
    sql = (
        "SELECT w.id, w.cited_by_count, coalesce(w.subfield_id, 0), coalesce(w.publication_year, 0) "
        f"FROM {_table(Work)} w JOIN {_table(CorpusEntry)} e ON e.work_id = w.id AND e.in_corpus"
    )
    return CorpusPapers(*fetch_columns(sql, [], dtypes=(np.int64,) * 4))


def load_corpus(papers: CorpusPapers | None = None, *, only: np.ndarray | None = None) -> CorpusInputs:
    """The engine's inputs in two queries: the corpus papers (unless given), then the citation
    links to them with the citer's counts and, decided by the database, whether the two share an
    author. `only`: the paper ids whose links to read (every corpus paper's when None)."""
    papers = papers or corpus_papers()
    if only is not None:
        _fill_rescored(only)
    cited, citing, cited_by_count, referenced_works_count, self_citation = fetch_columns(
        _links_sql(restricted=only is not None), [], dtypes=(np.int64, np.int64, np.int32, np.int32, np.bool_)
    )
    return CorpusInputs(
        paper_ids=papers.ids,
        paper_cited_by_count=papers.cited_by_count,
        link_cited=cited,
        link_citing=citing,
        link_cited_by_count=cited_by_count,
        link_referenced_works_count=referenced_works_count,
        link_self_citation=self_citation,
        paper_subfield=papers.subfield,
        paper_year=papers.year,
    )


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _fill_rescored(ids: np.ndarray) -> None:
    """The connection's own table of the papers a partial read is about, emptied and refilled."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {RESCORED} (id bigint PRIMARY KEY)")
        cursor.execute(f"DELETE FROM {RESCORED}")
    insert_rows(RESCORED, ["id"], ((value,) for value in ids.tolist()))


def _links_sql(*, restricted: bool = False) -> str:
    """Links to corpus papers, with the citer's counts and a shared-author flag.

    The flag comes from the pairs (corpus paper, work by one of its authors), found from the
    corpus papers' few authorships, which the links then meet in one hash join. Joining every
    link with both ends' authorships instead cost a third more, and an EXISTS per link (the
    ORM's natural spelling) three times more."""
    citation, entry, work, authorship = (_table(model) for model in (Citation, CorpusEntry, Work, Authorship))
    only = (lambda column: f"JOIN {RESCORED} r ON r.id = {column}") if restricted else (lambda column: "")
    return f"""
        WITH shared AS (
            SELECT DISTINCT b.work_id AS cited_id, a.work_id AS citing_id
            FROM {authorship} b
            {only("b.work_id")}
            JOIN {entry} e ON e.work_id = b.work_id AND e.in_corpus
            JOIN {authorship} a ON a.author_id = b.author_id AND a.work_id <> b.work_id
        )
        SELECT c.cited_id, c.citing_id, w.cited_by_count, w.referenced_works_count, s.citing_id IS NOT NULL
        FROM {citation} c
        {only("c.cited_id")}
        JOIN {entry} e ON e.work_id = c.cited_id AND e.in_corpus
        JOIN {work} w ON w.id = c.citing_id
        LEFT JOIN shared s ON s.cited_id = c.cited_id AND s.citing_id = c.citing_id
        WHERE c.citing_id <> c.cited_id
    """


def fetch_columns(sql: str, params, *, dtypes: tuple) -> list[np.ndarray]:
    """Run one query and return its result as one array per column, batch by batch, so the
    rows never all exist as Python tuples at once (a server-side cursor on PostgreSQL)."""
    names = [f"f{i}" for i in range(len(dtypes))]
    record = np.dtype(list(zip(names, dtypes, strict=True)))
    # Kept column by column and joined one column at a time: at 20 million links, joining
    # whole rows first held every value three times over (2.3 GB peak instead of about 1).
    parts: list[list[np.ndarray]] = [[] for _ in dtypes]
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            batch = np.array(rows, dtype=record)
            for column, name in zip(parts, names, strict=True):
                column.append(np.ascontiguousarray(batch[name]))
    columns = []
    for column, dtype in zip(parts, dtypes, strict=True):
        columns.append(np.concatenate(column) if column else np.zeros(0, dtype))
        column.clear()
    return columns


@dataclass(frozen=True)
class PendingChanges:
    """The marks of changed inputs a run read before its inputs: their ids, to delete once the
    run is published, and the works they name."""

    mark_ids: np.ndarray
    work_ids: np.ndarray


def pending_changes() -> PendingChanges:
    mark_ids, work_ids = fetch_columns(
        f"SELECT id, work_id FROM {_table(ScoreInputChange)}", [], dtypes=(np.int64, np.int64)
    )
    return PendingChanges(mark_ids=mark_ids, work_ids=np.unique(work_ids))


def consume_changes(changes: PendingChanges) -> None:
    """Delete exactly the marks `changes` read, inside the transaction that publishes the run.
    Not "every mark up to the highest read": on PostgreSQL a mark with a lower id can commit
    after a higher one, and would be lost unseen. The ids read come in few unbroken runs, so
    one range each."""
    ids = np.sort(changes.mark_ids)
    if not len(ids):
        return
    breaks = np.flatnonzero(np.diff(ids) != 1)
    starts, ends = ids[np.concatenate(([0], breaks + 1))], ids[np.concatenate((breaks, [len(ids) - 1]))]
    ranges = list(zip(starts.tolist(), ends.tolist(), strict=True))
    for first in range(0, len(ranges), 500):
        condition = " OR ".join(["id BETWEEN %s AND %s"] * len(ranges[first : first + 500]))
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_table(ScoreInputChange)} WHERE {condition}",
                [bound for pair in ranges[first : first + 500] for bound in pair],
            )


def load_known(*, run_id: int, papers: np.ndarray) -> KnownFigures:
    """The figures run `run_id` computed for those of `papers` (sorted ids) it scored."""
    columns = fetch_columns(
        f"SELECT work_id, {', '.join(OWN_FIGURES)} FROM {_table(PaperScore)} WHERE run_id = %s ORDER BY work_id",
        [run_id],
        dtypes=(np.int64, np.float64, np.float64, np.float64, np.int64, np.int64, np.int64, np.bool_),
    )
    keep = np.isin(columns[0], papers, assume_unique=True)
    return KnownFigures(*(column[keep] for column in columns))
