"""FairEvaluation arrives from papers (papers.0007) and keeps its table, papers_fairevaluation;
ScoredWork is a proxy of papers.Work (no table)."""

import django.db.models.deletion
from django.db import migrations, models


def content_type_to(app_label: str):
    def move(apps, schema_editor) -> None:
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
        content_types.filter(model="fairevaluation").exclude(app_label=app_label).update(app_label=app_label)

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0007_move_fair_evaluation"),
        ("scoring", "0003_run_data_date_and_counts"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScoredWork",
            fields=[],
            options={
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("papers.work",),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="FairEvaluation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("method_version", models.CharField(max_length=40)),
                        ("evaluated_at", models.DateTimeField()),
                        ("f", models.FloatField()),
                        ("a", models.FloatField()),
                        ("i", models.FloatField()),
                        ("r", models.FloatField()),
                        ("raw", models.FloatField()),
                        (
                            "checks",
                            models.JSONField(
                                default=list, help_text="[{key, principle, metric, title, passed, evidence, fix}]"
                            ),
                        ),
                        ("is_latest", models.BooleanField(default=True)),
                        (
                            "work",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="fair_evaluations",
                                to="papers.work",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "papers_fairevaluation",
                        "ordering": ["-evaluated_at", "-id"],
                        "indexes": [
                            models.Index(fields=["is_latest", "method_version", "raw"], name="fair_current_raw_idx")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("is_latest", True)),
                                fields=("work",),
                                name="fair_one_latest_per_work",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("f__gte", 0), ("f__lte", 100)), name="fair_f_0_100"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("a__gte", 0), ("a__lte", 100)), name="fair_a_0_100"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("i__gte", 0), ("i__lte", 100)), name="fair_i_0_100"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("r__gte", 0), ("r__lte", 100)), name="fair_r_0_100"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("raw__gte", 0), ("raw__lte", 100)), name="fair_raw_0_100"
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        # Permissions given on evaluations ("Re-evaluate FAIR") stay given: the content type
        # moves with the model instead of a new one being made beside it.
        migrations.RunPython(content_type_to("scoring"), content_type_to("papers")),
    ]
