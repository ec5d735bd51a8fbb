"""Reading OpenAlex works from files, whatever shape they come in.

Accepted: an API result page (`{"meta": …, "results": [works]}`), a JSON list of such pages,
a plain JSON list of works, one work (as the API's /works/W… gives it), and snapshot JSON Lines
(one work a line; a line may also be a whole result page). Any of them may be gzipped: that is
told by the magic bytes, not by the name. JSON Lines is streamed line by line, so a snapshot of
any size needs little memory; JSON documents (result pages are at most a few hundred works) are
parsed whole.

A record that cannot be read or parsed comes out as a `BadRecord` naming the file and line
(for a JSON document: the record's number in it, or the line of the JSON syntax error), and
reading goes on with the next one. A file that is none of the shapes above (binary data, a JSON
object that is neither a work nor a result page) is one BadRecord saying what was expected. A
record with a field longer than DataRank keeps (records.CAPS) is read, cut, and reported to
`on_truncation` as a `TruncatedField` naming the file, the line and the field.
"""

import codecs
import gzip
import io
import json
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from papers.openalex.records import RecordError, Truncation, WorkRecord, parse_work

GZIP_MAGIC = b"\x1f\x8b"
EXPECTED = (
    "expected an OpenAlex API result page (an object with `results`), a list of works, "
    "or JSON Lines (one work, with its `id`, a line), gzipped or not"
)
# How much of a first line is read before telling text from binary data: a binary file may have no
# newline at all, and is not read whole to find that out.
SNIFF_BYTES = 64 * 1024
# A corrupt gzip stream fails in any of these ways, as far as the reading has got.
READ_ERRORS = (OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class BadRecord:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class TruncatedField:
    """A field of a record that was read but cut (or, an identifier, dropped) to its cap."""

    path: Path
    line: int
    where: str  # "" or which record on the line: "result 2 of the page on this line: "
    truncation: Truncation

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.where}{self.truncation}"


class WorkFile:
    """One file of works; iterate it for WorkRecords and BadRecords, in file order.
    `on_truncation` hears of every over-long field, just before its record comes out."""

    def __init__(
        self, path: str | os.PathLike, *, on_truncation: Callable[[TruncatedField], None] | None = None
    ) -> None:
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.on_truncation = on_truncation
        self._raw: IO[bytes] | None = None

    def bytes_read(self) -> int:
        """How far into the file (compressed bytes) reading has got, for progress bars."""
        if self._raw is None:
            return 0
        return self.size if self._raw.closed else self._raw.tell()

    def __iter__(self) -> Iterator[WorkRecord | BadRecord]:
        with open(self.path, "rb") as raw:
            self._raw = raw
            gzipped = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            try:
                first = stream.readline(SNIFF_BYTES)
                if _is_binary(first):
                    yield BadRecord(
                        self.path, 1, f"not JSON text (binary data?), nothing in this file was read; {EXPECTED}"
                    )
                    return
                if len(first) == SNIFF_BYTES and not first.endswith(b"\n"):
                    first += stream.readline()
                json_lines = _is_json_lines(first, stream)
                data = b"" if json_lines else first + stream.read()
            except READ_ERRORS as error:
                yield BadRecord(self.path, 1, f"the file cannot be read: {error}")
                return
            if json_lines:
                yield from self._json_lines(first, stream)
            else:
                yield from self._json_document(data)

    def _json_lines(self, first: bytes, stream: io.BufferedIOBase) -> Iterator[WorkRecord | BadRecord]:
        line_number = 0
        lines = _chain(first, stream)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except READ_ERRORS as error:
                # A truncated or corrupt gzip stream: every line before this one has been read.
                yield BadRecord(self.path, line_number + 1, f"the file cannot be read past this line: {error}")
                return
            line_number += 1
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as error:
                yield BadRecord(self.path, line_number, f"not valid JSON: {error}")
                continue
            if isinstance(value, dict) and "results" in value:
                for index, item in enumerate(_page_results(value), start=1):
                    yield self._parse(item, line_number, f"result {index} of the page on this line: ")
            elif isinstance(value, dict) and "id" not in value:
                yield BadRecord(self.path, line_number, f"a JSON object with neither `id` nor `results`: {EXPECTED}")
            else:
                yield self._parse(value, line_number, "")

    def _json_document(self, data: bytes) -> Iterator[WorkRecord | BadRecord]:
        if not data.strip():
            return
        try:
            document = json.loads(data)
        except json.JSONDecodeError as error:
            yield BadRecord(self.path, error.lineno, f"not valid JSON, nothing in this file was read: {error.msg}")
            return
        except UnicodeDecodeError as error:
            yield BadRecord(
                self.path, 1, f"not JSON text (binary data?), nothing in this file was read: {error}; {EXPECTED}"
            )
            return
        except ValueError as error:
            yield BadRecord(self.path, 1, f"not valid JSON, nothing in this file was read: {error}")
            return
        if isinstance(document, dict) and "results" in document:
            items: Any = _page_results(document)
        elif isinstance(document, dict) and "id" in document:
            items = [document]  # one work, as the API's /works/W… gives it
        elif isinstance(document, list):
            items = (
                work
                for entry in document
                for work in (_page_results(entry) if isinstance(entry, dict) and "results" in entry else [entry])
            )
        else:
            shape = (
                "a JSON object with neither `id` nor `results`"
                if isinstance(document, dict)
                else f"a lone JSON {_JSON_KINDS.get(type(document), 'value')}"
            )
            yield BadRecord(self.path, 1, f"{shape}, nothing in this file was read: {EXPECTED}")
            return
        for index, item in enumerate(items, start=1):
            yield self._parse(item, index, f"record {index} of the document: ")

    def _parse(self, raw: Any, line: int, where: str) -> WorkRecord | BadRecord:
        try:
            record = parse_work(raw)
        except RecordError as error:
            return BadRecord(self.path, line, f"{where}{error}")
        if self.on_truncation is not None:
            for truncation in record.truncated:
                self.on_truncation(TruncatedField(self.path, line, where, truncation))
        return record


_JSON_KINDS = {str: "string", int: "number", float: "number", bool: "true or false", type(None): "null"}


def _page_results(page: dict) -> list:
    results = page["results"]
    # A page whose results are not a list is one malformed record, not a crash.
    return results if isinstance(results, list) else [results]


def _is_json_lines(first: bytes, stream: io.BufferedIOBase) -> bool:
    """A file whose first line is a whole JSON object is JSON Lines (a one-line result page
    reads the same either way); a pretty-printed document's first line never is. A broken
    first line is told apart by the second: in JSON Lines it is an object too."""
    if first.lstrip()[:1] != b"{":
        return False
    if _is_object(first):
        return True
    position = stream.tell()
    second = stream.readline()
    stream.seek(position)
    return _is_object(second)


def _is_binary(head: bytes) -> bool:
    """Whether the start of a file cannot be JSON text: a NUL byte, or bytes that are not UTF-8
    (a character cut at the end of `head` is fine)."""
    if b"\x00" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _chain(first: bytes, stream: io.BufferedIOBase) -> Iterator[bytes]:
    if first:
        yield first
    yield from stream
