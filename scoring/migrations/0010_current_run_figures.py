from django.db import migrations


def count_current_run(apps, schema_editor) -> None:
    """Give the current run the figures pages now read from it; later runs get theirs when
    published. A new database has no run, so the app's own code runs here only on a site that
    already has one, with the models as they are now."""
    historical = apps.get_model("scoring", "ScoringRun")
    newest = historical.objects.filter(status="succeeded").order_by("-finished_at", "-id").first()
    if newest is None:
        return
    from scoring.models import ScoringRun
    from scoring.summary import recount

    run = ScoringRun.objects.get(pk=newest.pk)
    run.figures = recount(run)
    run.save(update_fields=["figures"])


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0009_incremental_runs"),
        ("papers", "0018_score_input_changes"),
    ]

    operations = [migrations.RunPython(count_current_run, migrations.RunPython.noop)]
