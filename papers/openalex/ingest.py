"""The one way works get into the database, from files and from the API alike.

Records are written in batches, each batch in one transaction, with set-based statements
(upserts, a COPY of the citation links on PostgreSQL), so a snapshot of millions of works
loads in minutes rather than hours. Loading is idempotent: the same records loaded twice
leave the same rows.
"""

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal

from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q

from papers.datapaper import check_data_paper
from papers.models import Affiliation, Author, Authorship, Citation, CorpusEntry, Institution, Work
from papers.openalex.records import WorkRecord
from papers.search import index_for_search

CorpusMode = Literal["data", "all", "none"]

WORK_FIELDS = [
    "doi", "title", "abstract", "publication_year", "venue", "type", "cited_by_count", "referenced_works_count",
    "is_oa", "oa_status", "is_retracted", "indexed_in", "topics", "repository_locations", "openalex_updated",
    "fetched_at", "license", "datasets", "primary_topic", "subfield_id", "source_type", "truncated",
    "unidentified_authors",
]  # fmt: skip
CHECK_FIELDS = ["check_passed", "confidence", "reasons", "included", "checked_at"]


@dataclass(frozen=True)
class LoadSummary:
    records: int = 0
    works_upserted: int = 0
    new_works: int = 0
    # Records older (by OpenAlex's updated_date) than the version we hold: their links are kept,
    # the fresher metadata is not overwritten.
    stale_skipped: int = 0
    authors: int = 0
    links_added: int = 0
    corpus_added: int = 0

    def __add__(self, other: "LoadSummary") -> "LoadSummary":
        return LoadSummary(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def load_records(
    records: Iterable[WorkRecord], *, corpus: CorpusMode, fetched_at: datetime, batch_size: int = 2000
) -> LoadSummary:
    """Upsert the works, their authors and authorships, the institutions and affiliations of
    those, their citation links and (unless `corpus` is "none") their corpus entries, then
    refresh the self-citation flags of every link touching them.

    corpus="data" lets the data-paper check decide who is included, "all" includes everyone.
    Loading never takes a work out of the corpus and never touches an admin's override."""
    if corpus not in ("data", "all", "none"):
        raise ValueError(f"corpus must be 'data', 'all' or 'none', not {corpus!r}")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    summary = LoadSummary()
    number = 0
    for number, batch in enumerate(_batches(records, batch_size), start=1):
        # A big load samples the tables before the self-citation UPDATE of batches 1, 2, 4, 8…:
        # each time they have doubled, so the plans follow their growth for a handful of samples.
        sample = len(batch) == batch_size and number & (number - 1) == 0
        with transaction.atomic():
            summary += _load_batch(batch, corpus=corpus, fetched_at=fetched_at, sample_statistics=sample)
    if number > 1:
        # Planned from a sample taken when the tables were half their final size or less, a
        # paper page's citer query walked every work in citation order (90 ms instead of 8 at a
        # million links) until autovacuum came round, so sample again now the load is in.
        _sample_statistics()
    return summary


def _sample_statistics() -> None:
    """Let PostgreSQL sample the tables a big load fills. Tables it has never
    sampled get a default guess (200 distinct works) that makes it answer the self-citation
    UPDATE with a sequential scan per link, minutes per batch. Migration 0002 pins the
    per-work fractions, so one sample, at any size, keeps the estimates right as the tables grow."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in (Work, Authorship, Citation))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _batches(records: Iterable[WorkRecord], size: int) -> Iterator[list[WorkRecord]]:
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _load_batch(
    batch: list[WorkRecord], *, corpus: CorpusMode, fetched_at: datetime, sample_statistics: bool
) -> LoadSummary:
    by_id = {record.id: record for record in batch}  # a work seen twice: the later record wins
    held = dict(Work.objects.filter(id__in=by_id).values_list("id", "openalex_updated"))
    fresh = [
        record
        for record in by_id.values()
        if not ((known := held.get(record.id)) and record.openalex_updated and record.openalex_updated < known)
    ]  # fmt: skip

    Work.objects.bulk_create(
        [_work(record, fetched_at) for record in fresh],
        update_conflicts=True, unique_fields=["id"], update_fields=WORK_FIELDS,
    )  # fmt: skip
    authors = _save_authors(fresh)
    _save_affiliations(fresh)
    links_added = _insert_links(
        [(record.id, cited) for record in by_id.values() for cited in record.referenced_ids], seen_at=fetched_at
    )
    corpus_added = _save_corpus_entries(fresh, corpus=corpus, checked_at=fetched_at) if corpus != "none" else 0
    if corpus != "none":
        index_for_search(record.id for record in fresh)
    if sample_statistics:
        _sample_statistics()
    _refresh_self_citations(list(by_id))
    return LoadSummary(
        records=len(batch),
        works_upserted=len(fresh),
        new_works=sum(record.id not in held for record in fresh),
        stale_skipped=len(by_id) - len(fresh),
        authors=authors,
        links_added=links_added,
        corpus_added=corpus_added,
    )


def _work(record: WorkRecord, fetched_at: datetime) -> Work:
    return Work(
        id=record.id,
        doi=record.doi,
        title=record.title,
        abstract=record.abstract,
        publication_year=record.publication_year,
        venue=_fit(record.venue, Work, "venue"),
        type=_fit(record.type, Work, "type"),
        cited_by_count=record.cited_by_count,
        referenced_works_count=record.referenced_works_count,
        is_oa=record.is_oa,
        oa_status=_fit(record.oa_status, Work, "oa_status"),
        is_retracted=record.is_retracted,
        indexed_in=record.indexed_in,
        topics=record.topics,
        repository_locations=record.repository_locations,
        openalex_updated=record.openalex_updated,
        fetched_at=fetched_at,
        license=_fit(record.license, Work, "license"),
        datasets=list(record.datasets),
        primary_topic=_topic_data(record),
        subfield_id=record.primary_topic.subfield[0] if record.primary_topic else None,
        source_type=_fit(record.source_type, Work, "source_type"),
        truncated=truncated_data(record),
        unidentified_authors=record.unidentified_authors,
    )


def truncated_data(record: WorkRecord) -> dict[str, dict[str, int]]:
    """Work.truncated: each over-long field, its length and how much of it was kept (0: dropped)."""
    return {cut.field: {"length": cut.length, "kept": 0 if cut.dropped else cut.cap} for cut in record.truncated}


def _topic_data(record: WorkRecord) -> dict | None:
    if record.primary_topic is None:
        return None
    return {level: {"id": number, "name": name} for level, (number, name) in record.primary_topic._asdict().items()}


def _fit(value: str, model: type[models.Model], field: str) -> str:
    """Cut free text to its column: one over-long venue name must not fail a whole batch. A parsed
    record is within its columns already (records.CAPS); this guards records made by hand."""
    column = model._meta.get_field(field)
    if not isinstance(column, models.CharField):
        raise TypeError(f"{model.__name__}.{field} is not a text column")
    return value[: column.max_length]


def _save_authors(records: list[WorkRecord]) -> int:
    authors = {
        author.id: Author(
            id=author.id,
            display_name=_fit(author.display_name, Author, "display_name"),
            orcid=_fit(author.orcid, Author, "orcid"),
        )
        for record in records
        for author in record.authors
    }
    Author.objects.bulk_create(
        list(authors.values()), update_conflicts=True, unique_fields=["id"], update_fields=["display_name", "orcid"]
    )
    wanted = {
        (record.id, author.id): Authorship(
            work_id=record.id,
            author_id=author.id,
            position=position,
            author_position=_fit(author.author_position, Authorship, "author_position"),
            raw_affiliations=list(author.raw_affiliations),
        )
        for record in records
        for position, author in enumerate(record.authors, start=1)
    }
    Authorship.objects.bulk_create(
        list(wanted.values()),
        update_conflicts=True, unique_fields=["work", "author"],
        update_fields=["position", "author_position", "raw_affiliations"],
    )  # fmt: skip
    # Updating in place rather than deleting and re-inserting keeps the rows (and their ids)
    # identical across reloads. A truncated author list says nothing about the authors it cut.
    complete = [record.id for record in records if not record.authors_truncated]
    gone = [
        pk
        for pk, work, author in Authorship.objects.filter(work_id__in=complete).values_list(
            "pk", "work_id", "author_id"
        )
        if (work, author) not in wanted
    ]
    Authorship.objects.filter(pk__in=gone).delete()
    return len(authors)


def _save_affiliations(records: list[WorkRecord]) -> None:
    """The institutions the authorships list, and which author was at which on each work: the
    authorships' own institutions replace the ones held for them, as authorships replace theirs."""
    institutions = {
        institution.id: Institution(
            id=institution.id,
            display_name=_fit(institution.display_name, Institution, "display_name"),
            country_code=_fit(institution.country_code, Institution, "country_code"),
            ror=_fit(institution.ror, Institution, "ror"),
            type=_fit(institution.type, Institution, "type"),
        )
        for record in records
        for author in record.authors
        for institution in author.institutions
    }
    Institution.objects.bulk_create(
        list(institutions.values()),
        update_conflicts=True, unique_fields=["id"], update_fields=["display_name", "country_code", "ror", "type"],
    )  # fmt: skip
    wanted = dict.fromkeys(
        (record.id, author.id, institution.id)
        for record in records
        for author in record.authors
        for institution in author.institutions
    )
    Affiliation.objects.bulk_create(
        [Affiliation(work_id=work, author_id=author, institution_id=at) for work, author, at in wanted],
        ignore_conflicts=True,
    )
    # A listed author's institutions are all there even when the list of authors is cut short.
    listed = {(record.id, author.id) for record in records for author in record.authors}
    complete = {record.id for record in records if not record.authors_truncated}
    gone = [
        pk
        for pk, work, author, institution in Affiliation.objects.filter(
            work_id__in=[r.id for r in records]
        ).values_list("pk", "work_id", "author_id", "institution_id")
        if (work in complete or (work, author) in listed) and (work, author, institution) not in wanted
    ]
    Affiliation.objects.filter(pk__in=gone).delete()


def _insert_links(pairs: list[tuple[int, int]], *, seen_at: datetime) -> int:
    """Insert (citing, cited) links that are not there yet, first seen at `seen_at`; returns how
    many were new. The cited work need not be held: the link completes when it arrives."""
    if not pairs:
        return 0
    quote = connection.ops.quote_name
    meta = Citation._meta
    columns = {field.name: field.column for field in meta.concrete_fields if field.column}
    citing, cited, flag, seen = (
        quote(columns[name]) for name in ("citing", "cited", "is_self_citation", "first_seen_at")
    )
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY into a temporary table, then one INSERT … SELECT: the fastest way PostgreSQL
            # offers to add many rows while skipping those already there. The table is private to
            # the connection; emptying it in the same transaction keeps it empty whatever happens.
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS datarank_incoming_links "
                "(citing_id bigint NOT NULL, cited_id bigint NOT NULL)"
            )
            with cursor.cursor.copy("COPY datarank_incoming_links (citing_id, cited_id) FROM STDIN") as copy:
                for pair in pairs:
                    copy.write_row(pair)
            cursor.execute(
                f"INSERT INTO {table} ({citing}, {cited}, {flag}, {seen}) "
                "SELECT citing_id, cited_id, false, %s FROM datarank_incoming_links "
                f"ON CONFLICT ({cited}, {citing}) DO NOTHING",
                [seen_at],
            )
            added = cursor.rowcount
            cursor.execute("TRUNCATE datarank_incoming_links")
            return added
        # One prepared statement run over every pair: the ORM's bulk_create spends most of its
        # time building model instances and SQL text we do not need here.
        cursor.executemany(
            f"INSERT INTO {table} ({citing}, {cited}, {flag}, {seen}) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT ({cited}, {citing}) DO NOTHING",
            [(citing_id, cited_id, False, seen_at) for citing_id, cited_id in pairs],
        )
        return cursor.rowcount


def _save_corpus_entries(records: list[WorkRecord], *, corpus: CorpusMode, checked_at: datetime) -> int:
    held = {
        work: (included, override)
        for work, included, override in CorpusEntry.objects.filter(work_id__in=[r.id for r in records]).values_list(
            "work_id", "included", "override"
        )
    }
    entries = []
    added = 0
    for record in records:
        verdict = check_data_paper(
            type=record.type,
            venue=record.venue,
            title=record.title,
            abstract=record.abstract,
            source_type=record.source_type,
        )
        was_included, override = held.get(record.id, (False, CorpusEntry.Override.NONE))
        # Loading only ever adds to the corpus; taking a paper out is an admin's decision.
        included = was_included or verdict.passed or corpus == "all"
        added += _in_corpus(included, override) and not (record.id in held and _in_corpus(was_included, override))
        entries.append(
            CorpusEntry(
                work_id=record.id,
                check_passed=verdict.passed,
                confidence=verdict.confidence,
                reasons=list(verdict.reasons),
                included=included,
                checked_at=checked_at,
            )
        )
    CorpusEntry.objects.bulk_create(entries, update_conflicts=True, unique_fields=["work"], update_fields=CHECK_FIELDS)
    return added


def _in_corpus(included: bool, override: str) -> bool:
    """CorpusEntry.in_corpus, computed before the row is written."""
    if override == CorpusEntry.Override.INCLUDE:
        return True
    if override == CorpusEntry.Override.EXCLUDE:
        return False
    return included


def _refresh_self_citations(work_ids: list[int]) -> None:
    """Flag every link touching these works whose two ends share an author, in one UPDATE.
    Both ends count: a new work's authors can turn an older link into a self-citation."""
    shares_author = Exists(
        Authorship.objects.filter(
            work_id=OuterRef("citing_id"),
            author_id__in=Authorship.objects.filter(work_id=OuterRef(OuterRef("cited_id"))).values("author_id"),
        )
    )
    touching = Citation.objects.filter(Q(citing_id__in=work_ids) | Q(cited_id__in=work_ids))
    touching.exclude(is_self_citation=shares_author).update(is_self_citation=shares_author)
