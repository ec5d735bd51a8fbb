"""The FAIR score of one paper, as pure arithmetic over the facts papers.facts gathered: no
database and no network here, only the plain fact dataclasses of papers.models.

- F, A, I and R each 0 to 100 from metadata checks modelled on F-UJI's metrics
  (https://github.com/pangaea-data-publisher/fuji), each check with its evidence and, when it
  fails, the exact fix. A sub-score is the share of its applicable checks that pass (all checks
  weigh the same; a check that cannot apply, such as file formats without a DataCite record, is
  left out of its principle's denominator, and a principle without any counts 0).
  raw = mean(F, A, I, R).
- A check whose source has not answered yet (DataCite not asked, doi.org down) is "not checked
  yet" — unless what we hold already passes it — and is left out like one that does not apply:
  the score is then *provisional*, and says which checks it still waits for. A provisional score
  is never a "no" in disguise: what is missing only ever waits.
- the calibrated score (scoring/fair/calibration.py, in SQL): the raw score's percentile among
  the current complete evaluations.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from papers.models import Facts, Rights, describe_relations

# v2: DataCite is asked about its own DOIs only, so "other DataCite records link to it" does not
# apply to a Crossref paper.
METHOD_VERSION = "fair-metadata-v2"

# Raw scores are stored and compared rounded, so float noise can never break a tie.
RAW_DECIMALS = 2

Principle = Literal["F", "A", "I", "R"]
PRINCIPLES: tuple[Principle, ...] = ("F", "A", "I", "R")
PRINCIPLE_NAMES = {"F": "Findable", "A": "Accessible", "I": "Interoperable", "R": "Reusable"}


@dataclass(frozen=True)
class Evidence:
    source: str
    field: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "field": self.field, "value": self.value}


# --- The score ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    key: str
    principle: Principle
    metric: str  # the F-UJI metric it is modelled on
    title: str
    passed: bool | None  # None: does not apply to this paper, or (with `pending`) not checked yet
    evidence: tuple[Evidence, ...]
    fix: str = ""
    pending: str = ""  # why it is not checked yet: the sources it waits for

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "principle": self.principle,
            "metric": self.metric,
            "title": self.title,
            "passed": self.passed,
            "pending": self.pending,
            "evidence": [item.as_dict() for item in self.evidence],
            # A check that passed, or that does not apply to this paper, has nothing to fix.
            "fix": self.fix if self.passed is False else "",
        }


@dataclass(frozen=True)
class Evaluation:
    checks: tuple[Check, ...]
    f: float
    a: float
    i: float
    r: float
    raw: float

    @property
    def pending(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.pending)

    @property
    def provisional(self) -> bool:
        return bool(self.pending)


Source = Literal["agency", "datacite", "pointing"]

# What each check reads beyond the OpenAlex record. Every check that reads two sources passes on
# either, so when one has not answered, a pass on what we hold is final and anything else waits.
READS: dict[str, frozenset[Source]] = {
    "persistent_identifier": frozenset(),
    "identifier_registered": frozenset({"agency"}),
    "core_metadata": frozenset({"datacite"}),
    "description": frozenset({"datacite"}),
    "keywords": frozenset({"datacite"}),
    "indexed": frozenset(),
    "open_access": frozenset(),
    "access_conditions": frozenset({"datacite"}),
    "standard_protocol": frozenset({"agency"}),
    "landing_page": frozenset({"datacite"}),
    "structured_metadata": frozenset({"agency"}),
    "controlled_vocabulary": frozenset({"datacite"}),
    "qualified_relations": frozenset({"datacite"}),
    "linked_from": frozenset({"pointing"}),
    "linked_datasets": frozenset({"datacite", "pointing"}),
    "resource_type": frozenset({"datacite"}),
    "file_formats": frozenset({"datacite"}),
    "licence": frozenset({"datacite"}),
    "licence_identifier": frozenset({"datacite"}),
    "creator_identifiers": frozenset({"datacite"}),
    "provenance_dates": frozenset({"datacite"}),
}


def evaluate(facts: Facts) -> Evaluation:
    """Score a paper from the facts gathered; provisional when a source has not answered."""
    answers: tuple[tuple[Source, str], ...] = (
        ("agency", facts.agency_error),
        ("datacite", facts.datacite_error),
        ("pointing", facts.pointing_error),
    )
    waiting = {source: reason for source, reason in answers if reason}
    # A source that has not answered counts as saying nothing, and the checks it could change wait.
    held = replace(
        facts,
        agency="" if "agency" in waiting else facts.agency,
        datacite=None if "datacite" in waiting else facts.datacite,
        pointing=() if "pointing" in waiting else facts.pointing,
        pointing_total=0 if "pointing" in waiting else facts.pointing_total,
    )
    checks = tuple(_settle(check, waiting) for check in _checks(held))
    scores = {principle: sub_score(checks, principle) for principle in PRINCIPLES}
    raw = round(sum(scores.values()) / len(scores), RAW_DECIMALS)
    return Evaluation(checks=checks, f=scores["F"], a=scores["A"], i=scores["I"], r=scores["R"], raw=raw)


# The name a source goes by in the evidence.
EVIDENCE_SOURCE: dict[Source, str] = {"agency": "doi.org/ra", "datacite": "DataCite", "pointing": "DataCite"}


def _settle(check: Check, waiting: dict[Source, str]) -> Check:
    sources = [source for source in sorted(READS[check.key]) if source in waiting]
    if not sources:
        return check
    silent = {EVIDENCE_SOURCE[source] for source in sources}
    evidence = tuple(
        replace(item, value="not checked yet") if item.source in silent else item for item in check.evidence
    )
    if check.passed:
        return replace(check, evidence=evidence)
    return replace(check, passed=None, evidence=evidence, pending="; ".join(dict.fromkeys(waiting[s] for s in sources)))


def sub_score(checks: Iterable[Check], principle: Principle) -> float:
    applicable = [check for check in checks if check.principle == principle and check.passed is not None]
    if not applicable:
        return 0.0
    return round(100.0 * sum(1 for check in applicable if check.passed) / len(applicable), RAW_DECIMALS)


def _checks(facts: Facts) -> Iterable[Check]:
    oa = facts.openalex
    dc = facts.datacite
    doi_evidence = Evidence("OpenAlex", "doi", oa.doi or "(none)")
    agency_evidence = Evidence("doi.org/ra", "RA", facts.agency or ("(unknown DOI)" if oa.doi else "(no DOI)"))
    dc_absent = Evidence("DataCite", "/dois/{doi}", "no DataCite record" if oa.doi else "no DOI to look up")

    # --- F ---
    yield Check(
        "persistent_identifier", "F", "FsF-F1-02D", "Has a persistent identifier (DOI)",
        bool(oa.doi), (doi_evidence,),
        "register a DOI for the paper (through its publisher, Crossref or DataCite) and add it to OpenAlex",
    )  # fmt: skip
    yield Check(
        "identifier_registered", "F", "FsF-F1-02D", "The DOI is registered with a registration agency",
        bool(oa.doi and facts.agency), (doi_evidence, agency_evidence),
        "register the DOI with a registration agency: doi.org does not know it",
    )  # fmt: skip
    creators = len(dc.creators) if dc else 0
    year = (dc.publication_year if dc else None) or oa.publication_year
    publisher = (dc.publisher if dc else "") or oa.venue
    title = (dc.titles[0] if dc and dc.titles else "") or oa.title
    core = {
        "title": bool(title),
        "creators": bool(creators or oa.authors),
        "year": bool(year),
        "publisher": bool(publisher),
    }
    missing = [name for name, present in core.items() if not present]
    yield Check(
        "core_metadata", "F", "FsF-F2-01M", "Core citation metadata (title, creators, year, publisher)",
        not missing,
        (
            Evidence("OpenAlex", "title", _short(oa.title) or "(none)"),
            Evidence("OpenAlex" if oa.authors else "DataCite", "authorships / creators", str(oa.authors or creators)),
            Evidence("OpenAlex", "publication_year", str(year or "(none)")),
            Evidence("DataCite" if dc and dc.publisher else "OpenAlex", "publisher / primary_location.source",
                     publisher or "(none)"),
        ),
        "add the missing " + ", ".join(missing) + " to the DOI's metadata at its registration agency",
    )  # fmt: skip
    abstracts = [text for text, kind in (dc.descriptions if dc else ()) if kind.lower() == "abstract" and text]
    yield Check(
        "description", "F", "FsF-F2-01M", "A description (abstract) of the content",
        bool(oa.abstract or abstracts),
        (
            Evidence("OpenAlex", "abstract_inverted_index",
                     f"{len(oa.abstract.split())} words" if oa.abstract else "(none)"),
            Evidence("DataCite", "descriptions[descriptionType=Abstract]", str(len(abstracts)) if dc else "no record"),
        ),
        "add a `descriptions` entry with `descriptionType: Abstract` to the DOI's metadata",
    )  # fmt: skip
    subjects = [subject for subject, _ in (dc.subjects if dc else ())]
    yield Check(
        "keywords", "F", "FsF-F2-01M", "Subjects or keywords describe the content",
        bool(subjects or oa.topics),
        (
            Evidence("OpenAlex", "topics", ", ".join(oa.topics[:3]) or "(none)"),
            Evidence("DataCite", "subjects", ", ".join(subjects[:3]) or ("(none)" if dc else "no record")),
        ),
        "add `subjects` (keywords, ideally from a scheme such as the OECD Fields of Science) to the DOI's metadata",
    )  # fmt: skip
    yield Check(
        "indexed", "F", "FsF-F4-01M", "Indexed by a search service or held by a repository",
        bool(oa.indexed_in or oa.repository_locations),
        (
            Evidence("OpenAlex", "indexed_in", ", ".join(oa.indexed_in) or "(none)"),
            Evidence("OpenAlex", "locations[source.type=repository]", str(len(oa.repository_locations))),
        ),
        "deposit a copy in a repository (Zenodo, an institutional repository) so that indexers can harvest it",
    )  # fmt: skip

    # --- A ---
    yield Check(
        "open_access", "A", "FsF-A1-01M", "Open access to the content",
        oa.is_oa,
        (
            Evidence("OpenAlex", "open_access.is_oa", str(oa.is_oa).lower()),
            Evidence("OpenAlex", "open_access.oa_status", oa.oa_status or "(none)"),
        ),
        "make a version openly available (green open access: deposit the accepted manuscript in a repository)",
    )  # fmt: skip
    access_rights = [item for item in (dc.rights if dc else ()) if item.rights_uri.lower().startswith("info:eu-repo")]
    licences = _licences(facts)
    yield Check(
        "access_conditions", "A", "FsF-A1-01M", "Access conditions stated in the metadata",
        bool(access_rights or licences),
        (
            Evidence("DataCite", "rightsList[].rightsUri", ", ".join(item.rights_uri for item in access_rights)
                     or ("(none)" if dc else "no record")),
            Evidence("OpenAlex", "primary_location.license", oa.license or "(none)"),
        ),
        "state the access conditions: add a `rightsList` entry (e.g. `info:eu-repo/semantics/openAccess` "
        "or a licence URI) to the DOI's metadata",
    )  # fmt: skip
    yield Check(
        "standard_protocol", "A", "FsF-A1-03D", "Resolvable over HTTPS through doi.org",
        bool(oa.doi and facts.agency), (doi_evidence, agency_evidence),
        "give the paper a registered DOI: https://doi.org/ resolves only registered DOIs",
    )  # fmt: skip
    # Any landing page will do, so that an answer from DataCite can only add one.
    landings = [url for url in (dc.url if dc else "", *(url for _, url in oa.repository_locations)) if url]
    web = [url for url in landings if url.startswith(("https://", "http://"))]
    landing = (web or landings or [""])[0]
    yield Check(
        "landing_page", "A", "FsF-A1-03D", "A landing page over HTTP(S) is known",
        landing.startswith(("https://", "http://")),
        (
            Evidence("DataCite", "url", (dc.url or "(none)") if dc else "no record"),
            Evidence("OpenAlex", "locations[].landing_page_url", landing or "(none)"),
        ),
        "set the DOI's `url` to the landing page (or deposit a copy in a repository)",
    )  # fmt: skip

    # --- I ---
    yield Check(
        "structured_metadata", "I", "FsF-I1-01M", "Machine-readable metadata from the registration agency",
        facts.agency.lower() in {"datacite", "crossref"},
        (agency_evidence,),
        "register the DOI with DataCite or Crossref, whose metadata is served in structured formats",
    )  # fmt: skip
    schemed = [subject for subject, scheme in (dc.subjects if dc else ()) if scheme]
    yield Check(
        "controlled_vocabulary", "I", "FsF-I2-01M", "Subjects from a controlled vocabulary",
        bool(schemed or oa.topics),
        (
            Evidence("OpenAlex", "topics (OpenAlex's topic taxonomy)", str(len(oa.topics))),
            Evidence("DataCite", "subjects[subjectScheme]", str(len(schemed)) if dc else "no record"),
        ),
        "add `subjects` with a `subjectScheme` (e.g. the OECD Fields of Science) to the DOI's metadata",
    )  # fmt: skip
    related = dc.related if dc else ()
    qualified = [item for item in related if item.relation_type and item.identifier_type]
    yield Check(
        "qualified_relations", "I", "FsF-I3-01M", "Related resources named with qualified identifiers",
        bool(qualified),
        (Evidence("DataCite", "relatedIdentifiers[relationType, relatedIdentifierType]",
                  describe_relations(qualified) if qualified else ("(none)" if dc else "no record")),),
        "add `relatedIdentifiers` (with `relationType` and `relatedIdentifierType`, e.g. IsSupplementedBy a "
        "dataset DOI) to the DataCite record" if dc else
        "register related identifiers for the paper (Crossref `relation` or a DataCite record linking it)",
    )  # fmt: skip
    yield Check(
        "linked_from", "I", "FsF-I3-01M", "Other DataCite records link to it",
        facts.pointing_total > 0 if facts.asks_datacite else None,
        (Evidence("DataCite", 'dois?query=relatedIdentifiers.relatedIdentifier:"<doi>"',
                  facts.pointing_summary if facts.pointing_total else
                  ("0 records" if facts.asks_datacite else "not asked: not a DataCite DOI" if oa.doi else "no DOI")),),
        "cite the paper's DOI in the `relatedIdentifiers` of the datasets it describes (e.g. IsDescribedBy)",
    )  # fmt: skip
    dataset_links = [item for item in related if item.resource_type_general.lower() == "dataset"]
    dataset_links_in = [record for record in facts.pointing if record.resource_type_general.lower() == "dataset"]
    yield Check(
        "linked_datasets", "I", "FsF-I3-01M", "Linked to datasets",
        bool(dataset_links or dataset_links_in or oa.datasets),
        (
            Evidence("DataCite", "relatedIdentifiers[resourceTypeGeneral=Dataset]", str(len(dataset_links))),
            Evidence("DataCite", "records pointing at it with resourceTypeGeneral=Dataset", str(len(dataset_links_in))),
            Evidence("OpenAlex", "datasets", ", ".join(oa.datasets) or "(none)"),
        ),
        "link the data: add a `relatedIdentifiers` entry with `resourceTypeGeneral: Dataset` naming the "
        "dataset's DOI",
    )  # fmt: skip

    # --- R ---
    resource_type = dc.resource_type_general if dc else ""
    yield Check(
        "resource_type", "R", "FsF-R1-01MD", "The resource type is declared",
        bool(resource_type or oa.type),
        (
            Evidence("DataCite", "types.resourceTypeGeneral", resource_type or ("(none)" if dc else "no record")),
            Evidence("OpenAlex", "type", oa.type or "(none)"),
        ),
        "set `types.resourceTypeGeneral` in the DOI's metadata",
    )  # fmt: skip
    yield Check(
        "file_formats", "R", "FsF-R1.3-02D", "File formats are given",
        bool(dc.formats) if dc else None,
        (Evidence("DataCite", "formats", ", ".join(dc.formats) or "(none)") if dc else dc_absent,),
        "list the file formats (media types such as `text/csv`) in the DataCite record's `formats`",
    )  # fmt: skip
    yield Check(
        "licence", "R", "FsF-R1.1-01M", "A licence is stated",
        bool(licences),
        (
            Evidence("DataCite", "rightsList[]", ", ".join(_rights_text(item) for item in (dc.rights if dc else ()))
                     or ("(none)" if dc else "no record")),
            Evidence("OpenAlex", "primary_location.license", oa.license or "(none)"),
        ),
        "state a licence: add a `rightsList` entry with a `rightsUri` such as "
        "https://creativecommons.org/licenses/by/4.0/",
    )  # fmt: skip
    identified = [item for item in (dc.rights if dc else ()) if item.rights_identifier]
    yield Check(
        "licence_identifier", "R", "FsF-R1.1-01M", "The licence has a machine-readable identifier",
        bool(identified) if dc else None,
        (Evidence("DataCite", "rightsList[].rightsIdentifier",
                  ", ".join(item.rights_identifier for item in identified) or "(none)") if dc else dc_absent,),
        "add a `rightsIdentifier` (an SPDX id such as `cc-by-4.0`) to the DataCite record",
    )  # fmt: skip
    creators_with_ids = sum(bool(creator.identifiers) for creator in (dc.creators if dc else ()))
    yield Check(
        "creator_identifiers", "R", "FsF-R1.2-01M", "Creators are identified (ORCID)",
        bool(creators_with_ids or oa.authors_with_orcid),
        (
            Evidence("OpenAlex", "authorships[].author.orcid", f"{oa.authors_with_orcid} of {oa.authors}"),
            Evidence("DataCite", "creators[].nameIdentifiers",
                     f"{creators_with_ids} of {len(dc.creators)}" if dc else "no record"),
        ),
        "add the creators' ORCID iDs (`nameIdentifiers` with `nameIdentifierScheme: ORCID`) to the DOI's metadata",
    )  # fmt: skip
    dates = [f"{kind} {date}" for date, kind in (dc.dates if dc else ())]
    yield Check(
        "provenance_dates", "R", "FsF-R1.2-01M", "Provenance: publisher and dates",
        bool(publisher and (year or dates)),
        (
            Evidence("DataCite" if dc and dc.publisher else "OpenAlex", "publisher / primary_location.source",
                     publisher or "(none)"),
            Evidence("DataCite" if dates else "OpenAlex", "dates / publication_year",
                     ", ".join(dates[:3]) or str(year or "(none)")),
        ),
        "add the publisher and the publication date to the DOI's metadata",
    )  # fmt: skip


def _licences(facts: Facts) -> list[str]:
    found = [
        item.rights_identifier or item.rights_uri
        for item in (facts.datacite.rights if facts.datacite else ())
        if item.rights_identifier or (item.rights_uri and not item.rights_uri.lower().startswith("info:eu-repo"))
    ]
    if facts.openalex.license:
        found.append(facts.openalex.license)
    return found


def _rights_text(item: Rights) -> str:
    return item.rights_identifier or item.rights_uri or item.rights or "(empty)"


def _short(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
