"""The database read the bulk engine is fed from: the corpus papers and every citation link to
them, as the parallel arrays of scoring.engine.CorpusInputs, in two queries."""

import numpy as np
from django.db import connection

from papers.models import Authorship, Citation, CorpusEntry, Work
from scoring.engine import CorpusInputs

# Rows per fetch from the database cursor: big enough to amortise round trips, small enough
# that the Python tuples of one batch stay a few megabytes.
FETCH_ROWS = 50_000


def load_corpus() -> CorpusInputs:
    """The engine's inputs in two queries: the corpus papers, then every citation link to them
    with the citer's counts and, decided by the database, whether the two share an author."""
    rows = Work.objects.in_corpus().values_list("id", "cited_by_count", "subfield_id", "publication_year")
    # An unknown subfield or year is 0, which no cohort has.
    papers = np.array([[value or 0 for value in row] for row in rows], dtype=np.int64).reshape(-1, 4)
    cited, citing, cited_by_count, referenced_works_count, self_citation = fetch_columns(
        _links_sql(), [], dtypes=(np.int64, np.int64, np.int32, np.int32, np.bool_)
    )
    return CorpusInputs(
        paper_ids=papers[:, 0],
        paper_cited_by_count=papers[:, 1],
        link_cited=cited,
        link_citing=citing,
        link_cited_by_count=cited_by_count,
        link_referenced_works_count=referenced_works_count,
        link_self_citation=self_citation,
        paper_subfield=papers[:, 2],
        paper_year=papers[:, 3],
    )


def _links_sql() -> str:
    """Links to corpus papers, with the citer's counts and a shared-author flag.

    The flag comes from the pairs (corpus paper, work by one of its authors), found from the
    corpus papers' few authorships, which the links then meet in one hash join. Joining every
    link with both ends' authorships instead cost a third more, and an EXISTS per link (the
    ORM's natural spelling) three times more."""
    quote = connection.ops.quote_name
    citation, entry, work, authorship = (
        quote(model._meta.db_table) for model in (Citation, CorpusEntry, Work, Authorship)
    )
    return f"""
        WITH shared AS (
            SELECT DISTINCT b.work_id AS cited_id, a.work_id AS citing_id
            FROM {authorship} b
            JOIN {entry} e ON e.work_id = b.work_id AND e.in_corpus
            JOIN {authorship} a ON a.author_id = b.author_id AND a.work_id <> b.work_id
        )
        SELECT c.cited_id, c.citing_id, w.cited_by_count, w.referenced_works_count, s.citing_id IS NOT NULL
        FROM {citation} c
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
