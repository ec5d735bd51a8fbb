"""OpenAlex's lists of merged author ids, read and recorded as AuthorMerge rows.

A snapshot holds them as `merged_ids/authors/*.csv.gz` beside its works folder, one file per
day of merging, each with the header `merge_date,id,merge_into_id` and a line per merge:
`2023-04-13,A3125154712,A4317838346` (A3125154712 was merged into A4317838346). Plain `*.csv`
reads the same: gzip is told by the magic bytes, not by the name.

A line that is not three fields, names an id that is not an author id (or merges one into
itself), or has no date is a `BadMergeLine` naming the file and line, and reading goes on with
the next one. The merges are recorded in batches through AuthorMerge.objects.record, which keeps
them flat and leaves out a merge that would close a loop; `record_merges` runs inside the
caller's transaction.
"""

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from papers.models import AuthorMerge
from papers.openalex.files import GZIP_MAGIC
from papers.openalex.records import openalex_number

HEADER = ["merge_date", "id", "merge_into_id"]
# Merges handed to AuthorMerge.objects.record at a time: it holds a batch, and the merges held
# for its ids, in memory.
MERGE_BATCH = 100_000
# A corrupt gzip stream fails in any of these ways, as far as the reading has got.
READ_ERRORS = (OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class Merge:
    old_id: int
    into_id: int
    merge_date: date


@dataclass(frozen=True)
class BadMergeLine:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class MergeSummary:
    files: int = 0
    read: int = 0
    recorded: int = 0
    # (old id, id merged into) of the merges left out: each would have closed a loop.
    left_out: list[tuple[int, int]] = field(default_factory=list)
    bad: list[BadMergeLine] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.read:,} read, {self.recorded:,} recorded, {len(self.left_out):,} left out (they would close a "
            f"loop), {len(self.bad):,} bad line(s) skipped"
        )


def left_out_line(merge: tuple[int, int]) -> str:
    old, into = merge
    return f"left out the merge of A{old} into A{into}: it would close a loop"


class MergeList:
    """One file of merges; iterate it for Merges and BadMergeLines, in file order. `name` is what
    its lines are named by (the path as given, unless told)."""

    def __init__(self, path: Path, *, name: str | None = None) -> None:
        self.path = Path(path)
        self.name = name or str(path)

    def __iter__(self) -> Iterator[Merge | BadMergeLine]:
        with open(self.path, "rb") as raw:
            gzipped = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            binary = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            lines = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace")
            number = 0
            while True:
                try:
                    line = next(lines)
                except StopIteration:
                    return
                except READ_ERRORS as error:
                    yield BadMergeLine(self.name, number + 1, f"the file cannot be read past this line: {error}")
                    return
                number += 1
                # Ids and dates need no quoting, and OpenAlex quotes nothing, but a quoted field reads the same.
                fields = [value.strip().strip('"') for value in line.split(",")]
                if (number == 1 and fields == HEADER) or not any(fields):
                    continue
                yield self._merge(fields, number)

    def _merge(self, fields: list[str], number: int) -> Merge | BadMergeLine:
        if len(fields) != len(HEADER):
            return BadMergeLine(self.name, number, f"{len(fields)} field(s), not the 3 of {','.join(HEADER)}")
        day, old, into = fields
        try:
            merge_date = date.fromisoformat(day)
        except ValueError:
            return BadMergeLine(self.name, number, f"merge_date {day[:40]!r} is not a date")
        ids = []
        for name, value in (("id", old), ("merge_into_id", into)):
            try:
                ids.append(openalex_number(value, kind="A"))
            except ValueError:
                return BadMergeLine(self.name, number, f"{name} {value[:40]!r} is not an OpenAlex author id (A…)")
        if ids[0] == ids[1]:
            return BadMergeLine(self.name, number, f"A{ids[0]} is merged into itself")
        return Merge(ids[0], ids[1], merge_date)


def record_merges(lists: Iterable[MergeList], *, batch_size: int = MERGE_BATCH) -> MergeSummary:
    """Read the lists in turn and record their merges, each list on its own (in batches of
    `batch_size`), in file order, which is the order of their days; call it inside a transaction
    for all of them to be recorded or none. A merge that would close a loop with one recorded
    before is left out; a loop within one batch leaves out every merge on it."""
    summary = MergeSummary()
    batch: list[tuple[int, int, date]] = []

    def flush() -> None:
        left_out = AuthorMerge.objects.record(batch)
        summary.recorded += len({old for old, _, _ in batch}) - len(left_out)
        summary.left_out.extend(left_out)
        batch.clear()

    for merge_list in lists:
        summary.files += 1
        for item in merge_list:
            if isinstance(item, BadMergeLine):
                summary.bad.append(item)
                continue
            summary.read += 1
            batch.append((item.old_id, item.into_id, item.merge_date))
            if len(batch) == batch_size:
                flush()
        if batch:
            flush()
    return summary
