"""A DataRank of 0 is no rank (DESIGN.md §1): the scores already held that have one lose their rank,
top_percent and tier before the constraint that says so; earlier runs keep the rest of their
figures as they were computed."""

from django.db import migrations, models


def unrank_zeros(apps, schema_editor) -> None:
    db = schema_editor.connection.alias
    PaperScore = apps.get_model("scoring", "PaperScore")
    ScoringRun = apps.get_model("scoring", "ScoringRun")
    PaperScore.objects.using(db).filter(datarank__lte=0).update(rank=None, top_percent=None, tier=None)
    for run in ScoringRun.objects.using(db).all():
        run.papers_ranked = PaperScore.objects.using(db).filter(run=run, rank__isnull=False).count()
        run.save(update_fields=["papers_ranked"])


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0008_work_primary_topic_and_source_type"),
        ("scoring", "0004_move_fair_evaluation"),
    ]

    operations = [
        migrations.AddField(
            model_name="paperscore",
            name="cohort_size",
            field=models.PositiveIntegerField(
                blank=True, help_text="Ranked papers of its subfield within a year of it, itself included.", null=True
            ),
        ),
        migrations.AddField(
            model_name="paperscore",
            name="cohort_top_percent",
            field=models.FloatField(blank=True, help_text="Given from 20 cohort papers on.", null=True),
        ),
        migrations.AddField(
            model_name="scoringrun",
            name="papers_ranked",
            field=models.PositiveIntegerField(
                default=0, help_text="N: the scored papers with a DataRank above zero, which alone are ranked."
            ),
        ),
        migrations.AlterField(
            model_name="paperscore",
            name="rank",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="paperscore",
            name="tier",
            field=models.PositiveSmallIntegerField(blank=True, help_text="1 (S1, top 20%) to 5 (S5).", null=True),
        ),
        migrations.AlterField(
            model_name="paperscore",
            name="top_percent",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.RunPython(unrank_zeros, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="paperscore",
            index=models.Index(fields=["run", "tier", "rank"], name="score_run_tier_rank_idx"),
        ),
        migrations.AddConstraint(
            model_name="paperscore",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("rank__isnull", True), ("top_percent__isnull", True), ("tier__isnull", True)),
                    models.Q(
                        ("rank__isnull", False),
                        ("top_percent__isnull", False),
                        ("tier__isnull", False),
                        ("datarank__gt", 0),
                    ),
                    _connector="OR",
                ),
                name="score_ranked_above_zero_only",
            ),
        ),
        migrations.AddConstraint(
            model_name="paperscore",
            constraint=models.CheckConstraint(
                condition=models.Q(("cohort_size__isnull", True), ("rank__isnull", False), _connector="OR"),
                name="score_cohort_only_if_ranked",
            ),
        ),
        migrations.AddConstraint(
            model_name="paperscore",
            constraint=models.CheckConstraint(
                condition=models.Q(("cohort_top_percent__isnull", True), ("cohort_size__gte", 20), _connector="OR"),
                name="score_cohort_from_20",
            ),
        ),
    ]
