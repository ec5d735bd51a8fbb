"""The search vocabulary (papers.search): the corpus titles' words, filled from the titles held.

On PostgreSQL, fuzzystrmatch gives levenshtein_less_equal to narrow candidate corrections; the
trigram index on lower(title) (0004) goes: the trigram fallback it served is replaced by the
vocabulary's corrections, and every load paid for keeping it.
"""

import re
from collections import Counter

from django.db import migrations, models

# papers.models.SEARCH_WORD, copied so that this migration keeps its meaning.
SEARCH_WORD = re.compile(r"[^\W_]+")

FORWARD = ["CREATE EXTENSION IF NOT EXISTS fuzzystrmatch", "DROP INDEX IF EXISTS work_title_trgm_idx"]
BACKWARD = ["CREATE INDEX IF NOT EXISTS work_title_trgm_idx ON papers_work USING gin (lower(title) gin_trgm_ops)"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


def fill_vocabulary(apps, schema_editor):
    Work, SearchWord = apps.get_model("papers", "Work"), apps.get_model("papers", "SearchWord")
    counts = Counter()
    titles = Work.objects.filter(corpus_entry__in_corpus=True).values_list("title", flat=True)
    for title in titles.iterator(chunk_size=5000):
        counts.update({word for word in SEARCH_WORD.findall(title.lower()) if len(word) <= 200})
    SearchWord.objects.bulk_create([SearchWord(word=w, frequency=n) for w, n in counts.items()], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("papers", "0013_refreshrun_budget")]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("word", models.CharField(max_length=200, primary_key=True, serialize=False)),
                ("frequency", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
        migrations.RunPython(fill_vocabulary, migrations.RunPython.noop),
    ]
