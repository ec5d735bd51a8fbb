"""Title search on PostgreSQL: full-text on a GIN-indexed generated column, and trigrams.

The column and the indexes exist only on PostgreSQL (SQLite has neither tsvector nor pg_trgm),
so they live in SQL here rather than on the model; WorkQuerySet.search reads them on PostgreSQL
and falls back to a plain word match elsewhere. The 'english' configuration stems title words,
so "datasets" finds "dataset"; trigrams catch typos that full-text cannot.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """ALTER TABLE papers_work ADD COLUMN title_search tsvector
       GENERATED ALWAYS AS (to_tsvector('english', title)) STORED""",
    "CREATE INDEX work_title_search_idx ON papers_work USING gin (title_search)",
    "CREATE INDEX work_title_trgm_idx ON papers_work USING gin (lower(title) gin_trgm_ops)",
]

BACKWARD = [
    "DROP INDEX IF EXISTS work_title_trgm_idx",
    "DROP INDEX IF EXISTS work_title_search_idx",
    "ALTER TABLE papers_work DROP COLUMN IF EXISTS title_search",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("papers", "0003_corpus_tracking_refresh_run")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
