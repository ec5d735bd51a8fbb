"""Tracking papers from the live OpenAlex API: admins name papers (DOIs, OpenAlex ids or a
filter), the papers that pass the data-paper check join the corpus, and each corpus paper's
citers are pulled (papers.openalex.citers). A paper OpenAlex merged into another hands that
work its corpus place.

Every OpenAlex call of a service happens before its database transaction opens, so a fault
(a 500 after the retries, a spent budget) leaves the database as it was and a retry starts clean.
Rescoring is the caller's job: ranks compare the whole corpus, so one run follows a whole batch.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from papers.models import CorpusEntry
from papers.openalex.citers import pull_citers
from papers.openalex.client import OpenAlexClient
from papers.openalex.ingest import load_records
from papers.openalex.records import WorkRecord, normalize_doi
from papers.search import index_for_search

# Longer than any identifier: a pasted document, not a list of ids. Refused before it is split.
MAX_LINE_LENGTH = 500
# How much of a refused input a report repeats.
SHOWN_CHARACTERS = 60

_WORK_ID = re.compile(r"^(?:https?://(?:www\.)?openalex\.org/(?:works/)?)?[Ww](\d{1,19})/?$")
_OTHER_OPENALEX_ID = re.compile(r"^(?:https?://(?:www\.)?openalex\.org/(?:\w+/)?)?[A-Za-z](\d{1,19})/?$")
_LOOKS_LIKE_DOI = re.compile(r"^(?:doi:|https?://(?:dx\.|www\.)?doi\.org/|(?:dx\.|www\.)?doi\.org/|10\.)", re.I)


@dataclass(frozen=True)
class BadIdentifier:
    text: str
    reason: str


@dataclass(frozen=True)
class Identifiers:
    """Normalised identifiers, each once and in the order given, and the refused ones."""

    work_ids: tuple[int, ...] = ()
    dois: tuple[str, ...] = ()
    bad: tuple[BadIdentifier, ...] = ()

    def as_strings(self) -> list[str]:
        """The good identifiers as plain strings (`W123`, `10.…`): what a Celery task carries."""
        return [f"W{number}" for number in self.work_ids] + list(self.dois)

    def __len__(self) -> int:
        return len(self.work_ids) + len(self.dois)


@dataclass(frozen=True)
class TrackResult:
    tracked: tuple[int, ...]  # in the corpus now
    not_data_papers: tuple[int, ...]  # failed the data-paper check (and no `force`): held, not in the corpus
    kept_out: tuple[int, ...]  # an admin's "keep out" override stands (no `force`)
    bad: tuple[BadIdentifier, ...]
    citers_pulled: int  # citer links written by the pulls this call made
    list_calls: int


def parse_identifiers(lines: Iterable[str]) -> Identifiers:
    """DOIs (bare, `doi:`, `https://doi.org/…`, `http://dx.doi.org/…`) and OpenAlex work ids
    (`W…`, `https://openalex.org/W…`), one a line or separated by whitespace. Blanks and
    repeats are ignored; each refused one is listed with its reason."""
    work_ids: dict[int, None] = {}
    dois: dict[str, None] = {}
    bad: list[BadIdentifier] = []
    for line in lines:
        if len(line) > MAX_LINE_LENGTH:
            bad.append(BadIdentifier(_shown(line), f"line longer than {MAX_LINE_LENGTH} characters"))
            continue
        for token in line.split():
            if match := _WORK_ID.match(token):
                number = int(match[1])
                if number == 0:
                    bad.append(BadIdentifier(token, "not an OpenAlex id (W0)"))
                else:
                    work_ids[number] = None
            elif _OTHER_OPENALEX_ID.match(token):
                bad.append(BadIdentifier(token, "an OpenAlex id, but not of a work (W…)"))
            elif _LOOKS_LIKE_DOI.match(token):
                try:
                    dois[normalize_doi(token)] = None
                except ValueError:
                    bad.append(BadIdentifier(_shown(token), "malformed DOI (expected 10.<registrant>/<suffix>)"))
            else:
                bad.append(BadIdentifier(_shown(token), "not a DOI or an OpenAlex id"))
    return Identifiers(work_ids=tuple(work_ids), dois=tuple(dois), bad=tuple(bad))


def track_papers(
    *,
    identifiers: Identifiers | list[str],
    openalex_filter: str | None = None,
    max_papers: int | None = None,
    force: bool = False,
    client: OpenAlexClient | None = None,
) -> TrackResult:
    """Fetch the named works (100 to a list call) and those of an OpenAlex filter (at most
    `max_papers`), run the data-paper check on each, let those that pass join the corpus and
    pull the citers of every tracked paper whose citers were never pulled.

    `force` puts every fetched work in the corpus whatever the check says, by setting the
    admin override "include": unlike the loader's `included`, it also lifts an earlier "keep
    out" and survives a later reload, and the admin shows it was forced. Without `force` an
    admin's "keep out" stands. An identifier OpenAlex does not know is reported as bad.

    Idempotent: tracking the same papers again changes nothing but their metadata, and a call
    interrupted during the pulls finishes them on the next try."""
    if not isinstance(identifiers, Identifiers):
        identifiers = parse_identifiers(identifiers)
    client = client or OpenAlexClient()
    calls_before = client.list_calls

    records, not_found = _resolve(identifiers, client=client)
    if openalex_filter:
        records += client.works(openalex_filter, limit=max_papers)
    by_id = {record.id: record for record in records}

    now = timezone.now()
    with transaction.atomic():
        load_records(by_id.values(), corpus="data", fetched_at=now)
        entries = CorpusEntry.objects.filter(work_id__in=by_id)
        if force:
            entries.update(override=CorpusEntry.Override.INCLUDE)
            index_for_search(by_id)  # the load added only the papers the data-paper check let in
        entries.filter(in_corpus=True, tracked_at__isnull=True).update(tracked_at=now)
        outcome = {
            work: (in_corpus, override)
            for work, in_corpus, override in entries.values_list("work_id", "in_corpus", "override")
        }
    # A record older than the version we hold writes no entry; one missing counts as not in.
    in_corpus = {work: outcome.get(work, (False, ""))[0] for work in by_id}
    tracked = tuple(work for work in by_id if in_corpus[work])
    kept_out = tuple(
        work
        for work in by_id
        if not in_corpus[work] and outcome.get(work, (False, ""))[1] == CorpusEntry.Override.EXCLUDE
    )
    not_data_papers = tuple(work for work in by_id if work not in tracked and work not in kept_out)

    # Pulled one paper at a time, each in its own transaction: a fault loses at most one pull.
    unpulled = CorpusEntry.objects.filter(work_id__in=tracked, citers_pulled_at__isnull=True)
    citers_pulled = sum(
        pull_citers(work_id=work, client=client).citers
        for work in unpulled.order_by("work_id").values_list("work_id", flat=True)
    )
    return TrackResult(
        tracked=tracked,
        not_data_papers=not_data_papers,
        kept_out=kept_out,
        bad=identifiers.bad + not_found,
        citers_pulled=citers_pulled,
        list_calls=client.list_calls - calls_before,
    )


def untrack_paper(*, work_id: int) -> None:
    """Take a paper out of the corpus with the admin override "keep out"; its work, authors,
    citers and links stay, so tracking it again with `force` costs no citer pull."""
    CorpusEntry.objects.filter(work_id=work_id).update(override=CorpusEntry.Override.EXCLUDE)


def move_to_merged_work(*, old_id: int, new_id: int) -> None:
    """OpenAlex merged corpus paper `old_id` into `new_id`: the new work takes the old one's
    place in the corpus (its verdict, override and tracking date), and the old one leaves it,
    its reasons saying where it went. The new work must be held already."""
    with transaction.atomic():
        old = CorpusEntry.objects.select_for_update().get(work_id=old_id)
        CorpusEntry.objects.update_or_create(
            work_id=new_id,
            defaults={
                "check_passed": old.check_passed,
                "confidence": old.confidence,
                "reasons": old.reasons,
                "included": True,
                "override": old.override,
                "tracked_at": old.tracked_at,
                "checked_at": old.checked_at,
            },
        )
        old.override = CorpusEntry.Override.EXCLUDE
        old.reasons = [*old.reasons, f"merged by OpenAlex into W{new_id}"]
        old.save(update_fields=["override", "reasons"])


def _resolve(identifiers: Identifiers, *, client: OpenAlexClient) -> tuple[list[WorkRecord], tuple[BadIdentifier, ...]]:
    """The works named, 100 to a list call, and the identifiers OpenAlex does not know."""
    records: list[WorkRecord] = []
    if identifiers.work_ids:
        records += client.works_by_ids(identifiers.work_ids)
    if identifiers.dois:
        records += client.works_by_dois(identifiers.dois)
    found_ids = {record.id for record in records}
    found_dois = {record.doi for record in records}
    not_found = tuple(
        BadIdentifier(text, "not found in OpenAlex")
        for text, found in [(f"W{number}", number in found_ids) for number in identifiers.work_ids]
        + [(doi, doi in found_dois) for doi in identifiers.dois]
        if not found
    )
    return records, not_found


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "…"
