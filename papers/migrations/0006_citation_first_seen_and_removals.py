"""When a citation link first arrived, and which links citer pulls dropped, for run diffs.

Links held before this migration get no date rather than the migration's: nobody knows when
they arrived, and dating them all today would make the next run's diff call them all new."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("papers", "0005_fair")]

    operations = [
        migrations.CreateModel(
            name="CitationRemoval",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cited_id", models.BigIntegerField()),
                ("citing_id", models.BigIntegerField()),
                ("removed_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.AddField(
            model_name="citation",
            name="first_seen_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="citation",
            name="first_seen_at",
            field=models.DateTimeField(
                blank=True,
                default=django.utils.timezone.now,
                help_text="When we first held this link (empty: before we kept it).",
                null=True,
            ),
        ),
    ]
