"""FAIR facts for the papers we hold: gather them (the OpenAlex fields we hold, doi.org/ra,
DataCite) and keep the checklist they answer as FairSignal rows, each with its evidence.

The checklist is context only, never in DataRank: six yes/no items. A source that cannot be
reached never turns into a "no": the items it feeds say "could not check" (status "unknown")
and keep their last known value, and the facts say they are incomplete, so that no FAIR score
(scoring/fair) is computed from them.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Count, Q
from django.utils import timezone

from papers.datacite import DataCiteClient, DataCiteError, PermanentError
from papers.models import DoiPrefixAgency, Facts, FairSignal, OpenAlexFacts, Work, describe_relations

logger = logging.getLogger(__name__)

DATASET_TYPES = frozenset({"dataset", "datapaper"})


def gather_facts(*, work_ids: Sequence[int], client: DataCiteClient | None = None) -> Iterator[tuple[Work, Facts]]:
    """Each work with the facts gathered for it, in id order. Once a source fails it is not
    asked again in this pass (the rest of the works get its error at once), so an offline
    pass ends quickly."""
    client = client or DataCiteClient()
    works = (
        Work.objects.filter(id__in=work_ids)
        .select_related("corpus_entry")
        .annotate(
            author_count=Count("authorships", distinct=True),
            orcid_count=Count("authorships", filter=~Q(authorships__author__orcid=""), distinct=True),
        )
        .order_by("id")
    )
    down: dict[str, str] = {}
    for work in works:
        yield work, _gather(work=work, client=client, down=down)


def _gather(*, work: Work, client: DataCiteClient, down: dict[str, str]) -> Facts:
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
        authors=work.author_count,
        authors_with_orcid=work.orcid_count,
        data_paper_check=entry.check_passed if entry else None,
    )
    if not work.doi:
        return Facts(openalex=openalex)
    agency, agency_error = _agency(doi=work.doi, client=client, down=down)
    record, datacite_error = None, ""
    # Only DataCite DOIs have a DataCite record: a known other agency saves the call.
    if agency_error or agency in ("", "DataCite"):
        record, datacite_error = _ask(lambda: client.get_doi(work.doi), source="datacite", down=down)
    pointing, pointing_error = _ask(lambda: client.records_pointing_at(work.doi), source="datacite", down=down)
    return Facts(
        openalex=openalex,
        agency=agency,
        agency_error=agency_error,
        datacite=record,
        datacite_error=datacite_error,
        pointing=pointing.records if pointing else (),
        pointing_total=pointing.total if pointing else 0,
        pointing_error=pointing_error,
    )


def _agency(*, doi: str, client: DataCiteClient, down: dict[str, str]) -> tuple[str, str]:
    prefix = doi.split("/", 1)[0]
    cached = DoiPrefixAgency.objects.filter(prefix=prefix).values_list("agency", flat=True).first()
    if cached:
        return cached, ""
    agency, error = _ask(lambda: client.registration_agency(doi), source="ra", down=down)
    if agency:
        DoiPrefixAgency.objects.update_or_create(
            prefix=prefix, defaults={"agency": agency, "checked_at": timezone.now()}
        )
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


def save_signals(*, work: Work, facts: Facts, now: datetime) -> None:
    """The checklist the facts answer, as the work's FairSignal rows."""
    held = {signal.key: signal for signal in FairSignal.objects.filter(work=work)}
    for signal in checklist(facts):
        row = held.get(signal.key) or FairSignal(work=work, key=signal.key)
        row.status, row.source, row.field, row.evidence, row.checked_at = (
            signal.status,
            signal.source,
            signal.field,
            signal.evidence,
            now,
        )
        if signal.status != FairSignal.Status.UNKNOWN:
            row.last_known, row.last_known_evidence, row.last_known_at = signal.status, signal.evidence, now
        row.save()


# --- The checklist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    key: str
    status: Literal["yes", "no", "unknown"]
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
    if not facts.openalex.doi:
        return Signal("datacite_relations", "no", source, field_, "no DOI to look up")
    own = facts.datacite.related if facts.datacite else ()
    if own:
        return Signal("datacite_relations", "yes", source, field_, describe_relations(own))
    if facts.pointing_total and not facts.pointing_error:
        return Signal("datacite_relations", "yes", source, field_, facts.pointing_summary)
    if facts.datacite_error or facts.pointing_error:
        return Signal("datacite_relations", "unknown", source, field_, "could not check: " + "; ".join(facts.errors))
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
    if facts.openalex.doi and (facts.datacite_error or facts.pointing_error):
        return Signal("linked_datasets", "unknown", source, field_, "could not check: " + "; ".join(facts.errors))
    return Signal("linked_datasets", "no", source, field_, "no related identifier of type Dataset in either direction")


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
    if oa.doi and facts.datacite_error:
        return Signal("dataset_classification", "unknown", source, field_, "could not check: " + facts.datacite_error)
    resource = facts.datacite.resource_type_general if facts.datacite else "no DataCite record"
    return Signal(
        "dataset_classification",
        "no",
        source,
        field_,
        f"OpenAlex type is {oa.type or 'unknown'}; DataCite: {resource or 'no resourceTypeGeneral'}; "
        f"data-paper check {'not run' if oa.data_paper_check is None else 'not passed'}",
    )
