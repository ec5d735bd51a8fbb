"""FAIR facts for the papers we hold: gather them (the OpenAlex fields we hold, doi.org/ra,
DataCite) and keep the checklist they answer as FairSignal rows, each with its evidence.

Facts come first from what we hold: the OpenAlex record names the DOI's registration agency
(`indexed_in`), and DataCite — asked only about the DOIs it registered — is the one outside
source most papers never need. So a pass without network (`client=None`, run as soon as works
arrive) already settles every item of a Crossref paper, and a DataCite paper's DataCite items
wait for the worker.

The checklist is context only, never in DataRank: six items, each "yes", "no", "does not apply"
or "not checked yet". A source that was not asked or could not be reached never turns into a
"no": the items it feeds say "not checked yet" (status "unknown"), with why, and keep their last
known value, and the facts say they are incomplete, so that the FAIR score (scoring/fair) is
provisional.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Count, Q
from django.utils import timezone

from papers.datacite import DataCiteClient, DataCiteError, PermanentError
from papers.datapaper import check_data_paper
from papers.models import (
    CROSSREF,
    DATACITE,
    CorpusEntry,
    DoiPrefixAgency,
    Facts,
    FairSignal,
    OpenAlexFacts,
    Work,
    describe_relations,
)

logger = logging.getLogger(__name__)

DATASET_TYPES = frozenset({"dataset", "datapaper"})

# OpenAlex's `indexed_in` names the registration agency of the DOI it indexed the work under.
INDEXED_AGENCIES = {"crossref": CROSSREF, "datacite": DATACITE}

# Why a source has not answered in a pass without network.
AGENCY_NOT_ASKED = "the DOI's registration agency is not known yet (OpenAlex's indexed_in does not name it)"
DATACITE_NOT_ASKED = "DataCite has not been asked yet"
DATACITE_WAITS = "DataCite is asked once the DOI's registration agency is known"


def gather_facts(*, work_ids: Sequence[int], client: DataCiteClient | None) -> Iterator[tuple[Work, Facts]]:
    """Each work with the facts gathered for it, in id order. `client` None gathers without
    network: from the Work rows and the agencies doi.org already named per prefix. Once a
    source fails it is not asked again in this pass (the rest of the works get its error at
    once), so an offline pass ends quickly."""
    works = list(
        Work.objects.filter(id__in=work_ids)
        .select_related("corpus_entry")
        .annotate(
            author_count=Count("authorships", distinct=True),
            orcid_count=Count("authorships", filter=~Q(authorships__author__orcid=""), distinct=True),
        )
        .order_by("id")
    )
    prefixes = {work.doi.split("/", 1)[0] for work in works if work.doi}
    known = dict(DoiPrefixAgency.objects.filter(prefix__in=prefixes).values_list("prefix", "agency"))
    down: dict[str, str] = {}
    for work in works:
        yield work, _gather(work=work, client=client, known=known, down=down)


def _gather(*, work: Work, client: DataCiteClient | None, known: dict[str, str], down: dict[str, str]) -> Facts:
    entry = getattr(work, "corpus_entry", None)
    openalex = OpenAlexFacts(
        doi=work.doi,
        title=work.title,
        abstract=work.abstract,
        publication_year=work.publication_year,
        venue=work.venue,
        type=work.type,
        is_oa=work.is_oa,
        oa_status=work.oa_status,
        license=work.license,
        indexed_in=tuple(work.indexed_in or ()),
        repository_locations=tuple(
            (location.get("source", ""), location.get("url", "")) for location in work.repository_locations or ()
        ),
        topics=tuple(work.topics or ()),
        datasets=tuple(work.datasets or ()),
        authors=work.author_count,  # type: ignore[attr-defined]  # annotated by gather_facts's query
        authors_with_orcid=work.orcid_count,  # type: ignore[attr-defined]  # the same
        data_paper_check=entry.check_passed if entry else None,
    )
    if not work.doi:
        return Facts(openalex=openalex)
    agency, agency_error = _agency(doi=work.doi, indexed_in=openalex.indexed_in, client=client, known=known, down=down)
    if agency_error:
        return Facts(
            openalex=openalex, agency_error=agency_error, datacite_error=DATACITE_WAITS, pointing_error=DATACITE_WAITS
        )
    if agency != DATACITE:
        return Facts(openalex=openalex, agency=agency)
    if client is None:
        return Facts(
            openalex=openalex, agency=agency, datacite_error=DATACITE_NOT_ASKED, pointing_error=DATACITE_NOT_ASKED
        )
    record, datacite_error = _ask(lambda: client.get_doi(work.doi), source="datacite", down=down)
    pointing, pointing_error = _ask(lambda: client.records_pointing_at(work.doi), source="datacite", down=down)
    return Facts(
        openalex=openalex,
        agency=agency,
        datacite=record,
        datacite_error=datacite_error,
        pointing=pointing.records if pointing else (),
        pointing_total=pointing.total if pointing else 0,
        pointing_error=pointing_error,
    )


def _agency(
    *, doi: str, indexed_in: Sequence[str], client: DataCiteClient | None, known: dict[str, str], down: dict[str, str]
) -> tuple[str, str]:
    """The DOI's registration agency and "", or "" and why it is not known: from OpenAlex's
    indexed_in when it names one agency, else what doi.org said of the prefix before, else
    doi.org asked now (every DOI under a prefix has the agency of the prefix)."""
    named = {INDEXED_AGENCIES[index] for index in indexed_in if index in INDEXED_AGENCIES}
    if len(named) == 1:
        return named.pop(), ""
    prefix = doi.split("/", 1)[0]
    if known.get(prefix):
        return known[prefix], ""
    if client is None:
        return "", AGENCY_NOT_ASKED
    agency, error = _ask(lambda: client.registration_agency(doi), source="ra", down=down)
    if agency:
        DoiPrefixAgency.objects.update_or_create(
            prefix=prefix, defaults={"agency": agency, "checked_at": timezone.now()}
        )
        known[prefix] = agency
    return agency or "", error


def _ask(call, *, source: str, down: dict[str, str]):
    """(answer, "") or (None, why it could not be had)."""
    if source in down:
        return None, down[source]
    try:
        return call(), ""
    except PermanentError as error:
        logger.warning("FAIR: %s", error)
        return None, str(error)
    except DataCiteError as error:
        down[source] = str(error)
        return None, str(error)


# What a FairSignal row takes from each checklist item, and what it keeps of the last definite one.
SIGNAL_FIELDS = ["status", "source", "field", "evidence", "checked_at"]
LAST_KNOWN_FIELDS = ["last_known", "last_known_evidence", "last_known_at"]


def save_signals(*, gathered: Sequence[tuple[Work, Facts]], now: datetime) -> None:
    """The checklist each work's facts answer, as its FairSignal rows: two statements whatever
    the number of works. An item not checked this time keeps what it last knew."""
    checked, unchecked = [], []
    for work, facts in gathered:
        for signal in checklist(facts):
            row = FairSignal(
                work=work,
                key=signal.key,
                status=signal.status,
                source=signal.source,
                field=signal.field,
                evidence=signal.evidence,
                checked_at=now,
            )
            if signal.status == "unknown":
                unchecked.append(row)
            else:
                row.last_known, row.last_known_evidence, row.last_known_at = signal.status, signal.evidence, now
                checked.append(row)
    for rows, fields in ((checked, SIGNAL_FIELDS + LAST_KNOWN_FIELDS), (unchecked, SIGNAL_FIELDS)):
        FairSignal.objects.bulk_create(rows, update_conflicts=True, unique_fields=["work", "key"], update_fields=fields)


def recheck_data_papers(*, gathered: Sequence[tuple[Work, Facts]], now: datetime) -> int:
    """DataCite's resource type is a data-paper signal no OpenAlex record carries: where the
    DOI's DataCite record names one, the data-paper check runs again with it. As loading does,
    this only ever adds to the corpus. Returns how many checks were run again."""
    entries = []
    for work, facts in gathered:
        entry = getattr(work, "corpus_entry", None)
        if entry is None or facts.datacite is None or not facts.datacite.resource_type_general:
            continue
        verdict = check_data_paper(
            type=work.type,
            venue=work.venue,
            title=work.title,
            abstract=work.abstract,
            source_type=work.source_type,
            datacite_resource_type=facts.datacite.resource_type_general,
        )
        entry.check_passed, entry.confidence, entry.reasons = verdict.passed, verdict.confidence, list(verdict.reasons)
        entry.included = entry.included or verdict.passed
        entry.checked_at = now
        entries.append(entry)
    CorpusEntry.objects.bulk_update(entries, ["check_passed", "confidence", "reasons", "included", "checked_at"])
    return len(entries)


# --- The checklist ---------------------------------------------------------------------------

# How an item whose source has not answered words its evidence: the prefix, then each
# source's reason, joined by "; " (the pages say each reason once, above the list).
UNCHECKED_PREFIX = "not checked yet: "
UNCHECKED_SEPARATOR = "; "


@dataclass(frozen=True)
class Signal:
    key: str
    status: Literal["yes", "no", "na", "unknown"]
    source: str
    field: str
    evidence: str


def checklist(facts: Facts) -> list[Signal]:
    """The six checklist items in display order."""
    oa = facts.openalex
    signals = [
        Signal(
            "has_doi",
            "yes" if oa.doi else "no",
            "OpenAlex",
            "doi",
            f"https://doi.org/{oa.doi}" + (f" (registered with {facts.agency})" if facts.agency else "")
            if oa.doi
            else "OpenAlex lists no DOI",
        ),
        _indexed_signal(oa),
        Signal(
            "open_access",
            "yes" if oa.is_oa else "no",
            "OpenAlex",
            "open_access.is_oa, open_access.oa_status",
            f"is_oa = {str(oa.is_oa).lower()}, oa_status = {oa.oa_status or 'none'}",
        ),
        _relations_signal(facts),
        _datasets_signal(facts),
        _classification_signal(facts),
    ]
    return signals


def _unchecked(*reasons: str) -> str:
    return UNCHECKED_PREFIX + UNCHECKED_SEPARATOR.join(dict.fromkeys(reason for reason in reasons if reason))


def _not_datacite(facts: Facts) -> str:
    """Why DataCite has nothing to say of this paper (asks_datacite is False)."""
    if not facts.openalex.doi:
        return "no DOI to look up"
    if not facts.agency:
        return "doi.org does not know its DOI"
    return f"a {facts.agency} DOI, and DataCite holds records of its own DOIs only"


def _indexed_signal(oa: OpenAlexFacts) -> Signal:
    parts = []
    if oa.indexed_in:
        parts.append("indexed in " + ", ".join(oa.indexed_in))
    if oa.repository_locations:
        parts.append("repository copies at " + ", ".join(source or url for source, url in oa.repository_locations))
    return Signal(
        "indexed_in_repositories",
        "yes" if parts else "no",
        "OpenAlex",
        "indexed_in, locations[source.type=repository]",
        "; ".join(parts) or "no index and no repository location listed",
    )


def _relations_signal(facts: Facts) -> Signal:
    source, field_ = "DataCite", "relatedIdentifiers; records whose relatedIdentifiers name this DOI"
    if not facts.asks_datacite:
        return Signal("datacite_relations", "na", source, field_, "does not apply: " + _not_datacite(facts))
    own = facts.datacite.related if facts.datacite else ()
    if own:
        return Signal("datacite_relations", "yes", source, field_, describe_relations(own))
    if facts.pointing_total and not facts.pointing_error:
        return Signal("datacite_relations", "yes", source, field_, facts.pointing_summary)
    if not facts.complete:
        return Signal("datacite_relations", "unknown", source, field_, _unchecked(*facts.errors))
    held = "its DataCite record lists no relatedIdentifiers" if facts.datacite else "DataCite holds no record of it"
    return Signal("datacite_relations", "no", source, field_, f"{held}, and no DataCite record points at it")


def _datasets_signal(facts: Facts) -> Signal:
    source, field_ = "DataCite, OpenAlex", "relatedIdentifiers[resourceTypeGeneral=Dataset]; datasets"
    found = []
    if facts.datacite:
        found += [
            f"{item.relation_type} {item.identifier}"
            for item in facts.datacite.related
            if item.resource_type_general.lower() == "dataset"
        ]
    found += [
        f"{record.doi} ({', '.join(record.relation_types) or 'related'})"
        for record in facts.pointing
        if record.resource_type_general.lower() == "dataset"
    ]
    found += [f"OpenAlex dataset {key}" for key in facts.openalex.datasets]
    if found:
        return Signal("linked_datasets", "yes", source, field_, "linked to " + ", ".join(found[:6]))
    if facts.asks_datacite and not facts.complete:
        return Signal("linked_datasets", "unknown", source, field_, _unchecked(*facts.errors))
    if facts.asks_datacite:
        evidence = "no related identifier of type Dataset in either direction"
    else:
        evidence = f"OpenAlex links no dataset; DataCite not asked: {_not_datacite(facts)}"
    return Signal("linked_datasets", "no", source, field_, evidence)


def _classification_signal(facts: Facts) -> Signal:
    oa = facts.openalex
    source, field_ = "OpenAlex, DataCite, data-paper check", "type; types.resourceTypeGeneral; data-paper check"
    found = []
    if oa.type == "dataset":
        found.append("OpenAlex type is dataset")
    if facts.datacite and facts.datacite.resource_type_general.lower() in DATASET_TYPES:
        found.append(f"DataCite resourceTypeGeneral is {facts.datacite.resource_type_general}")
    if oa.data_paper_check:
        found.append("passes the data-paper check")
    if found:
        return Signal("dataset_classification", "yes", source, field_, "; ".join(found))
    if facts.asks_datacite and (facts.agency_error or facts.datacite_error):
        return Signal(
            "dataset_classification", "unknown", source, field_, _unchecked(facts.agency_error, facts.datacite_error)
        )
    if facts.datacite:
        resource = facts.datacite.resource_type_general or "no resourceTypeGeneral"
    else:
        resource = "no DataCite record" if facts.asks_datacite else f"not asked ({_not_datacite(facts)})"
    return Signal(
        "dataset_classification",
        "no",
        source,
        field_,
        f"OpenAlex type is {oa.type or 'unknown'}; DataCite: {resource}; "
        f"data-paper check {'not run' if oa.data_paper_check is None else 'not passed'}",
    )
