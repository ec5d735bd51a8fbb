"""The vocabulary's indexes of words and reversed words in byte order (0019) hold the word and its
frequency too, so that reading the corrections that begin or end as a query word does
(papers.search._two_edit_ends) is an index-only scan: in the benchmark's vocabulary at 1M titles,
one such range held 8,894 words on 5,849 table pages. The trigram index goes: no query reads it
since corrections are read off the words' starts and ends."""

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS search_word_trgm_idx",
    "DROP INDEX IF EXISTS search_word_start_idx",
    "DROP INDEX IF EXISTS search_word_end_idx",
    'CREATE INDEX search_word_start_idx ON papers_searchword ((word COLLATE "C")) INCLUDE (frequency)',
    'CREATE INDEX search_word_end_idx ON papers_searchword ((reverse(word) COLLATE "C"), word) INCLUDE (frequency)',
]
BACKWARD = [
    "DROP INDEX IF EXISTS search_word_start_idx",
    "DROP INDEX IF EXISTS search_word_end_idx",
    'CREATE INDEX search_word_start_idx ON papers_searchword ((word COLLATE "C"))',
    'CREATE INDEX search_word_end_idx ON papers_searchword ((reverse(word) COLLATE "C"))',
    "CREATE INDEX search_word_trgm_idx ON papers_searchword USING gin (word gin_trgm_ops)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("papers", "0019_search_entries")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
