"""Bulk writes of a run's rows (paper, researcher and institution scores), for the sizes a
snapshot build makes: the ORM's bulk_create builds one object per row, COPY streams them."""

from collections.abc import Iterable

from django.db import connection

# Rows per INSERT batch on SQLite.
BATCH = 5000


def insert_rows(table: str, fields: list[str], rows: Iterable[tuple]) -> None:
    """Write rows into `table` as fast as the database takes them: COPY on PostgreSQL, batched
    inserts on SQLite. Inside the caller's transaction; the rows are consumed as they come."""
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
