"""python manage.py load_openalex FILE… [--corpus data|all|none]"""

import time
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import reset_queries
from django.utils import timezone

from papers.openalex.files import BadRecord, TruncatedField, WorkFile
from papers.openalex.ingest import CorpusMode, LoadSummary, load_records
from papers.openalex.records import CAPS, WorkRecord
from scoring.tasks import evaluate_arrivals


class Command(BaseCommand):
    help = (
        "Load OpenAlex works from API result pages (JSON), lists of works or snapshot JSON Lines, "
        "gzipped or not. Malformed records are reported as FILE:LINE and skipped, and a file with no "
        "records is named; the rest loads, and the exit status is then 1. A field longer than DataRank "
        f"keeps (a title over {CAPS['title']:,} characters, an abstract over {CAPS['abstract']:,}, …) is cut, "
        "reported as FILE:LINE with the field, and its record loads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--corpus",
            choices=["data", "all", "none"],
            default="data",
            help="data: works that pass the data-paper check join the corpus (default); "
            "all: every work joins; none: load citers only, leave the corpus alone.",
        )

    def handle(self, *args, files: list[Path], corpus: CorpusMode, **options) -> None:
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        loader = FileLoader(files, err=self.stderr, show_progress=self.stderr.isatty())
        summary = load_records(loader.records(), corpus=corpus, fetched_at=timezone.now())
        loader.finish()
        self.stdout.write(
            report(
                summary,
                files=len(files),
                malformed=loader.malformed,
                truncated=loader.truncated,
                seconds=loader.seconds(),
            )
        )
        self.stdout.write(evaluate_arrivals().arrivals_line())
        problems = [f"{loader.malformed} malformed record(s) skipped"] if loader.malformed else []
        problems += [f"no records in {path}" for path in loader.empty]
        if problems:
            loaded = "everything else was loaded" if summary.records else "nothing was loaded"
            raise CommandError(f"{'; '.join(problems)}; {loaded}.")


class FileLoader:
    """Reads the files in turn, reports malformed records and cut fields as it meets them, notes
    the files that hold no record at all, and keeps a progress line on a terminal."""

    def __init__(self, files: list[Path], *, err, show_progress: bool) -> None:
        self.files = files
        self.err = err
        self.show_progress = show_progress
        self.read = 0
        self.malformed = 0
        self.truncated = 0
        self.empty: list[Path] = []
        self.started = time.monotonic()
        self._shown = 0.0

    def records(self) -> Iterator[WorkRecord]:
        total = sum(path.stat().st_size for path in self.files) or 1
        done = 0
        for number, path in enumerate(self.files, start=1):
            work_file = WorkFile(path, on_truncation=self._truncated)
            seen = False
            for item in work_file:
                seen = True
                if isinstance(item, BadRecord):
                    self.malformed += 1
                    self._clear()
                    self.err.write(str(item))
                    continue
                self.read += 1
                yield item
                if self.read % 1000 == 0:
                    # With DEBUG on, Django keeps every query (with its parameters) in memory;
                    # over a snapshot of millions of works that would grow without bound.
                    reset_queries()
                self._progress(number, path, (done + work_file.bytes_read()) / total)
            done += work_file.size
            if not seen:
                # An empty file (or an empty result page) is almost always the wrong file.
                self._clear()
                self.err.write(f"no records in {path}")
                self.empty.append(path)
        self._progress(len(self.files), self.files[-1], 1.0, force=True)

    def _truncated(self, field: TruncatedField) -> None:
        self.truncated += 1
        self._clear()
        self.err.write(f"{field.path}:{field.line}: warning: {field.where}{field.truncation}; the record was loaded")

    def finish(self) -> None:
        if self.show_progress:
            self.err.write("")

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def _progress(self, number: int, path: Path, fraction: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.show_progress or (not force and now - self._shown < 0.2):
            return
        self._shown = now
        filled = int(30 * fraction)
        self.err.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%}  file {number}/{len(self.files)} "
            f"{path.name}  {self.read:,} records",
            ending="",
        )
        self.err.flush()

    def _clear(self) -> None:
        if self.show_progress:
            self.err.write("\r\033[K", ending="")


def report(summary: LoadSummary, *, files: int, malformed: int, truncated: int = 0, seconds: float) -> str:
    lines = [
        f"Files:                 {files:,}",
        f"Records read:          {summary.records:,}",
        f"Works upserted:        {summary.works_upserted:,}",
        f"New works:             {summary.new_works:,}",
        f"Older than held, kept: {summary.stale_skipped:,}",
        f"Authors upserted:      {summary.authors:,}",
        f"New citation links:    {summary.links_added:,}",
        f"Corpus papers added:   {summary.corpus_added:,}",
        f"Malformed records:     {malformed:,}",
        f"Fields cut to size:    {truncated:,}",
        f"Time:                  {seconds:.1f} s",
    ]
    return "\n".join(lines)
