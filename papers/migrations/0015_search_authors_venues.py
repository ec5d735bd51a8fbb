"""Search reads authors' names and venues too: their full-text indexes, and the vocabulary again.

On PostgreSQL each is a GIN expression index that WorkQuerySet.matching's to_tsvector calls
match exactly: 'english' for venues, as for titles, and 'simple' for names, which are neither
stemmed nor have stop words. The vocabulary is counted again from the corpus papers' titles,
venues and authors' names (papers.search.rebuild_vocabulary, at this migration's models).
"""

import itertools
import re
from collections import Counter

from django.db import migrations

# papers.models.SEARCH_WORD and SEARCH_WORD_MAX_LENGTH, copied so that this migration keeps its meaning.
SEARCH_WORD = re.compile(r"[^\W_]+")

FORWARD = [
    "CREATE INDEX IF NOT EXISTS work_venue_search_idx ON papers_work USING gin (to_tsvector('english', venue))",
    "CREATE INDEX IF NOT EXISTS author_name_search_idx ON papers_author USING gin (to_tsvector('simple', display_name))",
]
BACKWARD = ["DROP INDEX IF EXISTS author_name_search_idx", "DROP INDEX IF EXISTS work_venue_search_idx"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


def _words(text):
    return {word for word in SEARCH_WORD.findall(text.lower()) if len(word) <= 200}


def refill_vocabulary(apps, schema_editor):
    Work, Authorship = apps.get_model("papers", "Work"), apps.get_model("papers", "Authorship")
    SearchWord = apps.get_model("papers", "SearchWord")
    works = Work.objects.filter(corpus_entry__in_corpus=True).order_by("id").values_list("id", "title", "venue")
    names = (
        Authorship.objects.filter(work__corpus_entry__in_corpus=True)
        .order_by("work_id")
        .values_list("work_id", "author__display_name")
    )
    counts = Counter()
    by_work = itertools.groupby(names.iterator(chunk_size=5000), key=lambda row: row[0])
    pending = next(by_work, None)
    for work_id, title, venue in works.iterator(chunk_size=5000):
        words = _words(title) | _words(venue)
        while pending is not None and pending[0] <= work_id:
            if pending[0] == work_id:
                words.update(word for _, name in pending[1] for word in _words(name))
            pending = next(by_work, None)
        counts.update(words)
    SearchWord.objects.all().delete()
    SearchWord.objects.bulk_create([SearchWord(word=w, frequency=n) for w, n in counts.items()], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("papers", "0014_search_word")]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
        migrations.RunPython(refill_vocabulary, migrations.RunPython.noop),
    ]
