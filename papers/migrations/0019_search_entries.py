"""Search entries (papers.search): what search reads of each corpus paper, in the current run's order.

On PostgreSQL the entry's words get a generated, stemmed tsvector, GIN-indexed once per band of
positions (papers.search.POSITION_BANDS, copied here), so that a word's best matches are found in
the first bands without reading all of them. The vocabulary gets the indexes that find candidate
corrections without reading every word of a length: the word and its reverse in byte order
(COLLATE "C", which serves LIKE 'start%' and the first word in order) and trigrams (its
middle). The title's full-text column and the venue's index (0004, 0015) go: search reads the
entries instead; the authors' name index stays for the researchers search finds.

The entries are filled from the corpus and placed in the current run's order, as
SearchEntryQuerySet.place does after each run.
"""

import re

import django.db.models.deletion
from django.db import migrations, models

# papers.models.UNPLACED_POSITION and papers.search.POSITION_BANDS, copied so that this migration
# keeps its meaning.
UNPLACED_POSITION = 2**40
POSITION_BANDS = (0, 4_096, 32_768, 262_144, 2_097_152, 16_777_216, UNPLACED_POSITION)
SEARCH_WORD = re.compile(r"[^\W_]+")


def _band_index(number: int, start: int, end: int | None) -> str:
    within = f"position >= {start}" + (f" AND position < {end}" if end is not None else "")
    return f"CREATE INDEX search_entry_band_{number}_idx ON papers_searchentry USING gin (document) WHERE {within}"


BANDS = list(zip(POSITION_BANDS, (*POSITION_BANDS[1:], None), strict=True))
FORWARD = [
    """ALTER TABLE papers_searchentry ADD COLUMN document tsvector
       GENERATED ALWAYS AS (to_tsvector('english', words)) STORED""",
    *(_band_index(number, start, end) for number, (start, end) in enumerate(BANDS)),
    'CREATE INDEX search_word_start_idx ON papers_searchword ((word COLLATE "C"))',
    'CREATE INDEX search_word_end_idx ON papers_searchword ((reverse(word) COLLATE "C"))',
    "CREATE INDEX search_word_trgm_idx ON papers_searchword USING gin (word gin_trgm_ops)",
    "DROP INDEX IF EXISTS work_venue_search_idx",
    "DROP INDEX IF EXISTS work_title_search_idx",
    "ALTER TABLE papers_work DROP COLUMN IF EXISTS title_search",
]
BACKWARD = [
    """ALTER TABLE papers_work ADD COLUMN IF NOT EXISTS title_search tsvector
       GENERATED ALWAYS AS (to_tsvector('english', title)) STORED""",
    "CREATE INDEX IF NOT EXISTS work_title_search_idx ON papers_work USING gin (title_search)",
    "CREATE INDEX IF NOT EXISTS work_venue_search_idx ON papers_work USING gin (to_tsvector('english', venue))",
    "DROP INDEX IF EXISTS search_word_trgm_idx",
    "DROP INDEX IF EXISTS search_word_end_idx",
    "DROP INDEX IF EXISTS search_word_start_idx",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


def _words(text):
    return [word for word in SEARCH_WORD.findall(text.lower()) if len(word) <= 200]


def fill_entries(apps, schema_editor):
    Work, Authorship = apps.get_model("papers", "Work"), apps.get_model("papers", "Authorship")
    SearchEntry = apps.get_model("papers", "SearchEntry")
    names = {}
    held = Authorship.objects.filter(work__corpus_entry__in_corpus=True).order_by("work_id", "position", "id")
    for work_id, name in held.values_list("work_id", "author__display_name").iterator(chunk_size=5000):
        names.setdefault(work_id, []).extend(_words(name))
    works = Work.objects.filter(corpus_entry__in_corpus=True).order_by("id")
    entries = (
        SearchEntry(
            work_id=work.id,
            words=f" {' '.join([*_words(work.title), *_words(work.venue), *names.get(work.id, [])])} ",
            position=UNPLACED_POSITION + work.id,
            publication_year=work.publication_year,
            type=work.type,
            subfield_id=work.subfield_id,
        )
        for work in works.only("id", "title", "venue", "publication_year", "type", "subfield_id").iterator(
            chunk_size=5000
        )
    )
    SearchEntry.objects.bulk_create(entries, batch_size=2000)
    # The current run's order: the latest succeeded run, as ScoringRun.objects.current() picks it.
    run = (
        apps.get_model("scoring", "ScoringRun")
        .objects.filter(status="succeeded")
        .order_by("-finished_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if run is None:
        return
    scores = apps.get_model("scoring", "PaperScore").objects.filter(run_id=run)
    placed = sorted(
        scores.values_list("rank", "work_id", "tier"), key=lambda row: (row[0] is None, row[0] or 0, row[1])
    )
    by_work = {work_id: (position, tier) for position, (_, work_id, tier) in enumerate(placed)}
    changed = []
    for entry in SearchEntry.objects.filter(work_id__in=list(by_work)).iterator(chunk_size=5000):
        entry.position, entry.tier = by_work[entry.work_id]
        changed.append(entry)
    SearchEntry.objects.bulk_update(changed, ["position", "tier"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("papers", "0018_score_input_changes"), ("scoring", "0008_researcher_scores")]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "work",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_entry",
                        serialize=False,
                        to="papers.work",
                    ),
                ),
                ("words", models.TextField()),
                ("position", models.BigIntegerField()),
                ("publication_year", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("type", models.CharField(blank=True, max_length=50)),
                ("subfield_id", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "tier",
                    models.PositiveSmallIntegerField(
                        blank=True, help_text="In the run that placed it; empty: not ranked.", null=True
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "search entries",
                "indexes": [models.Index(fields=["position"], name="search_entry_position_idx")],
            },
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
        migrations.RunPython(fill_entries, migrations.RunPython.noop),
    ]
