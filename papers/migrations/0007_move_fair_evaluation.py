"""FairEvaluation moves to scoring (scoring.0004) with its table, papers_fairevaluation: only
Django's idea of where the model lives changes, never the table or a row."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0006_citation_first_seen_and_removals"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name="fairevaluation",
                    name="fair_current_raw_idx",
                ),
                migrations.RemoveConstraint(
                    model_name="fairevaluation",
                    name="fair_one_latest_per_work",
                ),
                migrations.RemoveConstraint(
                    model_name="fairevaluation",
                    name="fair_f_0_100",
                ),
                migrations.RemoveConstraint(
                    model_name="fairevaluation",
                    name="fair_a_0_100",
                ),
                migrations.RemoveConstraint(
                    model_name="fairevaluation",
                    name="fair_i_0_100",
                ),
                migrations.RemoveConstraint(
                    model_name="fairevaluation",
                    name="fair_r_0_100",
                ),
                migrations.RemoveConstraint(
                    model_name="fairevaluation",
                    name="fair_raw_0_100",
                ),
                migrations.DeleteModel(
                    name="FairEvaluation",
                ),
            ],
            database_operations=[],
        ),
    ]
