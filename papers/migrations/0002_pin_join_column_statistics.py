"""Pin PostgreSQL's estimate of how many distinct works the join columns hold.

Loading grows these tables by orders of magnitude between two ANALYZE runs, and with the
distinct counts sampled from a small table the planner expects hundreds of rows per work and
answers the self-citation UPDATE with a sequential scan per link (minutes per batch). The
shape of the data does not change with its size: about five authorships and twenty links per
work. A negative n_distinct is a fraction of the rows, so these estimates stay right at any size.
"""

from django.db import migrations

STATISTICS = [
    ("papers_authorship", "work_id", -0.2),
    ("papers_citation", "citing_id", -0.05),
    ("papers_citation", "cited_id", -0.05),
]


def pin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, fraction in STATISTICS:
        schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET (n_distinct = {fraction})')


def unpin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, _ in STATISTICS:
        schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" RESET (n_distinct)')


class Migration(migrations.Migration):
    dependencies = [("papers", "0001_initial")]

    operations = [migrations.RunPython(pin, unpin)]
