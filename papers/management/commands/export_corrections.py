"""python manage.py export_corrections [OUT.jsonl]

The accepted corrections as labelled examples for the data-paper check, one JSON object a line
in the shape of the hand labels (data/labels/README.md): `{"id": "W…", "label": 1|0,
"confidence": "high", "reason", "title", "type", "venue", "source": "correction"}`. "include"
(it is a data-sharing paper) is label 1, "exclude" label 0; an editor decided each, so the
confidence is high. Researcher corrections ("isn't theirs", "same person") say nothing of a
paper's data and are left out. A work corrected more than once gives one line, from its latest
decision, and the lines go in work-id order, so two exports of the same decisions are byte for
byte the same. Without OUT the lines go to standard output.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from papers.models import Correction, Work

SOURCE = "correction"


def labelled_examples() -> list[dict]:
    latest: dict[int, tuple[Correction, Work]] = {}
    accepted = Correction.objects.filter(
        status=Correction.Status.ACCEPTED, kind__in=[Correction.Kind.INCLUDE, Correction.Kind.EXCLUDE]
    ).select_related("work")
    for correction in accepted.order_by("work_id", "decided_at", "id"):
        # Always there for these two kinds (correction_subject_per_kind).
        if correction.work is not None:
            latest[correction.work.pk] = (correction, correction.work)
    return [
        {
            "id": work.openalex_id,
            "label": 1 if correction.kind == Correction.Kind.INCLUDE else 0,
            "confidence": "high",
            "reason": correction.reason,
            "title": work.title,
            "type": work.type or None,
            "venue": work.venue or None,
            "source": SOURCE,
        }
        for correction, work in latest.values()
    ]


class Command(BaseCommand):
    help = "Write the accepted corrections as labelled examples (JSON Lines, the hand labels' shape)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", nargs="?", type=Path, help="Where to write them; standard output without it.")

    def handle(self, *args, out: Path | None = None, **options) -> None:
        examples = labelled_examples()
        # The labels keep their text as written (titles in any script), one object a line; the two
        # Unicode line separators stay escaped, since some readers split lines on them.
        lines = "".join(
            json.dumps(example, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"
            for example in examples
        )
        if out is None:
            self.stdout.write(lines, ending="")
            return
        out.write_text(lines, encoding="utf-8")
        self.stderr.write(f"Wrote {len(examples)} labelled example(s) to {out}.")
