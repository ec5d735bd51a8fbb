"""python manage.py load_sample — the bundled real OpenAlex records, loaded once into an empty database.

The recorded API pages (data/openalex/api/) go in first, through load_openalex; then the sample
snapshot (data/openalex/snapshot/works/: a manifest and its parts, in the layout OpenAlex
publishes) through build_index, which merges what the site holds with the snapshot, so its one
scoring run scores the whole sample."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from papers.models import Work

SAMPLE_DIR = Path(settings.BASE_DIR) / "data" / "openalex"
SAMPLE_SNAPSHOT = SAMPLE_DIR / "snapshot" / "works"


def api_files() -> list[Path]:
    return sorted((SAMPLE_DIR / "api").glob("*.json"))


class Command(BaseCommand):
    help = "Load the bundled OpenAlex sample (data/openalex/) when the database holds no works yet."

    def handle(self, *args, **options) -> None:
        if Work.objects.exists():
            self.stdout.write("The sample is already loaded (the database holds works); nothing to do.")
            return
        files = api_files()
        self.stdout.write(f"Loading the OpenAlex sample from {SAMPLE_DIR}: {len(files)} recorded API files")
        call_command("load_openalex", *map(str, files), corpus="data", stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(f"Building the index from the sample snapshot {SAMPLE_SNAPSHOT}")
        call_command("build_index", str(SAMPLE_SNAPSHOT), stdout=self.stdout, stderr=self.stderr)
