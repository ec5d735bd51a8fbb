"""python manage.py load_sample — the bundled real OpenAlex records, loaded once into an empty database."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from papers.models import Work

SAMPLE_DIR = Path(settings.BASE_DIR) / "data" / "openalex"


def sample_files() -> list[Path]:
    return sorted((SAMPLE_DIR / "api").glob("*.json")) + sorted((SAMPLE_DIR / "snapshot").glob("*.jsonl.gz"))


class Command(BaseCommand):
    help = "Load the bundled OpenAlex sample (data/openalex/) when the database holds no works yet."

    def handle(self, *args, **options) -> None:
        if Work.objects.exists():
            self.stdout.write("The sample is already loaded (the database holds works); nothing to do.")
            return
        files = sample_files()
        self.stdout.write(f"Loading the OpenAlex sample: {len(files)} files from {SAMPLE_DIR}")
        call_command("load_openalex", *map(str, files), corpus="data")
