"""The FAIR metrics as plain arithmetic over the facts gathered: each check in each state it can
reach (passed, failed, does not apply, not checked yet) with its evidence and its fix, what each
check reads beyond OpenAlex, and the sub-scores and raw score worked out by hand.

Facts are built small: `make()` is a DataCite DOI whose agency is known, with an empty DataCite
record, no record pointing at it and an OpenAlex record holding nothing but the DOI; each test
adds what it needs."""

import json
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

import pytest

from papers.datacite import parse_record
from papers.models import (
    Creator,
    DataCiteFacts,
    Facts,
    OpenAlexFacts,
    PointingRecord,
    RelatedIdentifier,
    Rights,
)
from scoring.fair import metrics as fair
from tests.fake_datacite.app import FIXTURES

DOI = "10.5281/zenodo.1"
NOTHING = OpenAlexFacts(
    doi="", title="", abstract="", publication_year=None, venue="", type="", is_oa=False, oa_status="", license="",
    indexed_in=(), repository_locations=(), topics=(), datasets=(), authors=0, authors_with_orcid=0,
    data_paper_check=None,
)  # fmt: skip
NO_FIELDS: Mapping = MappingProxyType({})

# Why a source has not answered.
AGENCY_DOWN = "doi.org did not answer"
DATACITE_DOWN = "DataCite answered 503"
POINTING_DOWN = "DataCite's search timed out"

DATASET = RelatedIdentifier("IsSupplementedBy", "10.1594/pangaea.1", "DOI", "Dataset")
POINTING_DATASET = PointingRecord("10.1594/pangaea.2", "Dataset", ("References",))
POINTING_SOFTWARE = PointingRecord("10.5281/zenodo.9", "Software", ())
EU_OPEN = Rights("Open Access", "info:eu-repo/semantics/openAccess", "")
CC_BY_URI = Rights("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/", "")
CC_BY_ID = Rights("", "", "cc-by-4.0")
RESERVED = Rights("All rights reserved", "", "")


def make(*, oa: Mapping = NO_FIELDS, dc: Mapping | None = NO_FIELDS, **fields) -> Facts:
    """Facts of a DataCite DOI: `oa` overrides OpenAlex fields, `dc` DataCite record fields (None:
    DataCite holds no record), the rest are Facts fields (agency, the errors, pointing…)."""
    openalex = replace(NOTHING, **{"doi": DOI, **oa})
    datacite = None if dc is None else DataCiteFacts(doi=DOI, **dc)
    return Facts(**{"openalex": openalex, "agency": "DataCite", "datacite": datacite, **fields})


def crossref(**oa) -> Facts:
    """A Crossref DOI: DataCite is not asked and holds no record."""
    return make(oa={"doi": "10.1145/1", **oa}, agency="Crossref", dc=None)


def no_doi(**oa) -> Facts:
    return make(oa={"doi": "", **oa}, agency="", dc=None)


def by_key(evaluation: fair.Evaluation) -> dict[str, fair.Check]:
    return {check.key: check for check in evaluation.checks}


def check(key: str, facts: Facts) -> fair.Check:
    return by_key(fair.evaluate(facts))[key]


def values(found: fair.Check) -> tuple[str, ...]:
    return tuple(item.value for item in found.evidence)


# --- What the checks are ---------------------------------------------------------------------

# key: (principle, F-UJI metric, title, the (source, field) of each evidence item)
CHECKS = {
    "persistent_identifier": ("F", "FsF-F1-02D", "Has a persistent identifier (DOI)", [("OpenAlex", "doi")]),
    "identifier_registered": (
        "F", "FsF-F1-02D", "The DOI is registered with a registration agency",
        [("OpenAlex", "doi"), ("doi.org/ra", "RA")],
    ),
    "core_metadata": (
        "F", "FsF-F2-01M", "Core citation metadata (title, creators, year, publisher)",
        [("OpenAlex", "title"), ("DataCite", "authorships / creators"), ("OpenAlex", "publication_year"),
         ("OpenAlex", "publisher / primary_location.source")],
    ),
    "description": (
        "F", "FsF-F2-01M", "A description (abstract) of the content",
        [("OpenAlex", "abstract_inverted_index"), ("DataCite", "descriptions[descriptionType=Abstract]")],
    ),
    "keywords": (
        "F", "FsF-F2-01M", "Subjects or keywords describe the content",
        [("OpenAlex", "topics"), ("DataCite", "subjects")],
    ),
    "indexed": (
        "F", "FsF-F4-01M", "Indexed by a search service or held by a repository",
        [("OpenAlex", "indexed_in"), ("OpenAlex", "locations[source.type=repository]")],
    ),
    "open_access": (
        "A", "FsF-A1-01M", "Open access to the content",
        [("OpenAlex", "open_access.is_oa"), ("OpenAlex", "open_access.oa_status")],
    ),
    "access_conditions": (
        "A", "FsF-A1-01M", "Access conditions stated in the metadata",
        [("DataCite", "rightsList[].rightsUri"), ("OpenAlex", "primary_location.license")],
    ),
    "standard_protocol": (
        "A", "FsF-A1-03D", "Resolvable over HTTPS through doi.org", [("OpenAlex", "doi"), ("doi.org/ra", "RA")],
    ),
    "landing_page": (
        "A", "FsF-A1-03D", "A landing page over HTTP(S) is known",
        [("DataCite", "url"), ("OpenAlex", "locations[].landing_page_url")],
    ),
    "structured_metadata": (
        "I", "FsF-I1-01M", "Machine-readable metadata from the registration agency", [("doi.org/ra", "RA")],
    ),
    "controlled_vocabulary": (
        "I", "FsF-I2-01M", "Subjects from a controlled vocabulary",
        [("OpenAlex", "topics (OpenAlex's topic taxonomy)"), ("DataCite", "subjects[subjectScheme]")],
    ),
    "qualified_relations": (
        "I", "FsF-I3-01M", "Related resources named with qualified identifiers",
        [("DataCite", "relatedIdentifiers[relationType, relatedIdentifierType]")],
    ),
    "linked_from": (
        "I", "FsF-I3-01M", "Other DataCite records link to it",
        [("DataCite", 'dois?query=relatedIdentifiers.relatedIdentifier:"<doi>"')],
    ),
    "linked_datasets": (
        "I", "FsF-I3-01M", "Linked to datasets",
        [("DataCite", "relatedIdentifiers[resourceTypeGeneral=Dataset]"),
         ("DataCite", "records pointing at it with resourceTypeGeneral=Dataset"), ("OpenAlex", "datasets")],
    ),
    "resource_type": (
        "R", "FsF-R1-01MD", "The resource type is declared",
        [("DataCite", "types.resourceTypeGeneral"), ("OpenAlex", "type")],
    ),
    "file_formats": ("R", "FsF-R1.3-02D", "File formats are given", [("DataCite", "formats")]),
    "licence": (
        "R", "FsF-R1.1-01M", "A licence is stated",
        [("DataCite", "rightsList[]"), ("OpenAlex", "primary_location.license")],
    ),
    "licence_identifier": (
        "R", "FsF-R1.1-01M", "The licence has a machine-readable identifier",
        [("DataCite", "rightsList[].rightsIdentifier")],
    ),
    "creator_identifiers": (
        "R", "FsF-R1.2-01M", "Creators are identified (ORCID)",
        [("OpenAlex", "authorships[].author.orcid"), ("DataCite", "creators[].nameIdentifiers")],
    ),
    "provenance_dates": (
        "R", "FsF-R1.2-01M", "Provenance: publisher and dates",
        [("OpenAlex", "publisher / primary_location.source"), ("OpenAlex", "dates / publication_year")],
    ),
}  # fmt: skip

# The fix each check gives when it fails (core_metadata's names what is missing, qualified_relations'
# depends on whether there is a DataCite record: both pinned in their own tests).
FIXES = {
    "persistent_identifier": (
        "register a DOI for the paper (through its publisher, Crossref or DataCite) and add it to OpenAlex"
    ),
    "identifier_registered": "register the DOI with a registration agency: doi.org does not know it",
    "description": "add a `descriptions` entry with `descriptionType: Abstract` to the DOI's metadata",
    "keywords": (
        "add `subjects` (keywords, ideally from a scheme such as the OECD Fields of Science) to the DOI's metadata"
    ),
    "indexed": "deposit a copy in a repository (Zenodo, an institutional repository) so that indexers can harvest it",
    "open_access": (
        "make a version openly available (green open access: deposit the accepted manuscript in a repository)"
    ),
    "access_conditions": (
        "state the access conditions: add a `rightsList` entry (e.g. `info:eu-repo/semantics/openAccess` "
        "or a licence URI) to the DOI's metadata"
    ),
    "standard_protocol": "give the paper a registered DOI: https://doi.org/ resolves only registered DOIs",
    "landing_page": "set the DOI's `url` to the landing page (or deposit a copy in a repository)",
    "structured_metadata": "register the DOI with DataCite or Crossref, whose metadata is served in structured formats",
    "controlled_vocabulary": (
        "add `subjects` with a `subjectScheme` (e.g. the OECD Fields of Science) to the DOI's metadata"
    ),
    "linked_from": "cite the paper's DOI in the `relatedIdentifiers` of the datasets it describes (e.g. IsDescribedBy)",
    "linked_datasets": (
        "link the data: add a `relatedIdentifiers` entry with `resourceTypeGeneral: Dataset` naming the dataset's DOI"
    ),
    "resource_type": "set `types.resourceTypeGeneral` in the DOI's metadata",
    "file_formats": "list the file formats (media types such as `text/csv`) in the DataCite record's `formats`",
    "licence": (
        "state a licence: add a `rightsList` entry with a `rightsUri` such as "
        "https://creativecommons.org/licenses/by/4.0/"
    ),
    "licence_identifier": "add a `rightsIdentifier` (an SPDX id such as `cc-by-4.0`) to the DataCite record",
    "creator_identifiers": (
        "add the creators' ORCID iDs (`nameIdentifiers` with `nameIdentifierScheme: ORCID`) to the DOI's metadata"
    ),
    "provenance_dates": "add the publisher and the publication date to the DOI's metadata",
}
QUALIFIED_FIX_WITH_RECORD = (
    "add `relatedIdentifiers` (with `relationType` and `relatedIdentifierType`, e.g. IsSupplementedBy a "
    "dataset DOI) to the DataCite record"
)
QUALIFIED_FIX_WITHOUT_RECORD = (
    "register related identifiers for the paper (Crossref `relation` or a DataCite record linking it)"
)


def test_the_checks_are_these_in_this_order_each_with_its_principle_metric_title_and_evidence_fields():
    found = [
        (c.key, (c.principle, c.metric, c.title, [(e.source, e.field) for e in c.evidence]))
        for c in fair.evaluate(make()).checks
    ]
    assert found == list(CHECKS.items())


def test_the_method_has_a_version_and_names_its_principles():
    assert fair.METHOD_VERSION == "fair-metadata-v2"
    assert fair.PRINCIPLES == ("F", "A", "I", "R")
    assert fair.PRINCIPLE_NAMES == {"F": "Findable", "A": "Accessible", "I": "Interoperable", "R": "Reusable"}


# --- Each check in each state ---------------------------------------------------------------

P, F, NA = True, False, None  # passed; failed; does not apply (and with `pending`: not checked yet)

# (key, facts, passed, pending, the value of each evidence item)
# fmt: off
STATES = [
    # F
    pytest.param("persistent_identifier", make(), P, "", (DOI,), id="doi-passes"),
    pytest.param("persistent_identifier", no_doi(), F, "", ("(none)",), id="doi-fails-without-one"),
    pytest.param(
        "persistent_identifier", make(agency_error=AGENCY_DOWN, datacite_error=DATACITE_DOWN,
                                      pointing_error=POINTING_DOWN),
        P, "", (DOI,), id="doi-waits-for-no-one",
    ),
    pytest.param("identifier_registered", make(), P, "", (DOI, "DataCite"), id="registered-passes"),
    pytest.param(
        "identifier_registered", make(agency="", dc=None), F, "", (DOI, "(unknown DOI)"),
        id="registered-fails-when-doi.org-does-not-know-the-doi",
    ),
    pytest.param("identifier_registered", no_doi(), F, "", ("(none)", "(no DOI)"), id="registered-fails-without-doi"),
    pytest.param(
        "identifier_registered", make(oa={"doi": ""}, agency="Crossref", dc=None), F, "", ("(none)", "Crossref"),
        id="registered-fails-with-an-agency-but-no-doi",
    ),
    pytest.param(
        "identifier_registered", make(agency_error=AGENCY_DOWN), NA, AGENCY_DOWN, (DOI, "not checked yet"),
        id="registered-waits-for-doi.org",
    ),
    pytest.param(
        "core_metadata", make(oa={"title": "T", "authors": 2, "publication_year": 2020, "venue": "Zenodo"}),
        P, "", ("T", "2", "2020", "Zenodo"), id="core-passes-on-openalex-alone",
    ),
    pytest.param(
        "core_metadata", make(dc={"titles": ("T",), "creators": (Creator("A", ()),), "publication_year": 2019,
                                  "publisher": "PANGAEA"}),
        P, "", ("(none)", "1", "2019", "PANGAEA"), id="core-passes-on-datacite-alone",
    ),
    pytest.param(
        "core_metadata", make(), F, "", ("(none)", "0", "(none)", "(none)"), id="core-fails-with-nothing",
    ),
    pytest.param(
        "core_metadata", crossref(), F, "", ("(none)", "0", "(none)", "(none)"),
        id="core-fails-without-record-or-openalex-authors",
    ),
    pytest.param(
        "core_metadata", make(datacite_error=DATACITE_DOWN, oa={"title": "T"}), NA, DATACITE_DOWN,
        ("T", "not checked yet", "(none)", "(none)"), id="core-waits-for-datacite",
    ),
    pytest.param("description", make(oa={"abstract": "three short words"}), P, "", ("3 words", "0"), id="abstract-oa"),
    pytest.param(
        "description", make(dc={"descriptions": (("An abstract.", "Abstract"),)}), P, "", ("(none)", "1"),
        id="abstract-datacite",
    ),
    pytest.param(
        "description", make(dc={"descriptions": (("How it was made.", "Methods"), ("", "Abstract"))}), F, "",
        ("(none)", "0"), id="abstract-fails-on-other-or-empty-descriptions",
    ),
    pytest.param("description", crossref(), F, "", ("(none)", "no record"), id="abstract-fails-without-record"),
    pytest.param(
        "description", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("(none)", "not checked yet"),
        id="abstract-waits",
    ),
    pytest.param(
        "keywords", make(oa={"topics": ("a", "b", "c", "d")}), P, "", ("a, b, c", "(none)"), id="keywords-oa",
    ),
    pytest.param(
        "keywords", make(dc={"subjects": (("x", ""), ("y", "OECD"), ("z", ""), ("w", ""))}), P, "",
        ("(none)", "x, y, z"), id="keywords-datacite",
    ),
    pytest.param("keywords", make(), F, "", ("(none)", "(none)"), id="keywords-fail"),
    pytest.param("keywords", crossref(), F, "", ("(none)", "no record"), id="keywords-fail-without-record"),
    pytest.param(
        "keywords", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("(none)", "not checked yet"),
        id="keywords-wait",
    ),
    pytest.param(
        "indexed", make(oa={"indexed_in": ("datacite", "doaj")}), P, "", ("datacite, doaj", "0"), id="indexed-in",
    ),
    pytest.param(
        "indexed", make(oa={"repository_locations": (("Zenodo", "https://zenodo.org/records/1"),)}), P, "",
        ("(none)", "1"), id="indexed-held-by-repository",
    ),
    pytest.param("indexed", make(), F, "", ("(none)", "0"), id="indexed-fails"),
    # A
    pytest.param("open_access", make(oa={"is_oa": True, "oa_status": "gold"}), P, "", ("true", "gold"), id="oa"),
    pytest.param("open_access", make(), F, "", ("false", "(none)"), id="oa-fails"),
    pytest.param(
        "access_conditions", make(dc={"rights": (EU_OPEN,)}), P, "", ("info:eu-repo/semantics/openAccess", "(none)"),
        id="access-eu-repo",
    ),
    pytest.param(
        "access_conditions", make(dc={"rights": (Rights("", "INFO:EU-REPO/semantics/closedAccess", ""),)}), P, "",
        ("INFO:EU-REPO/semantics/closedAccess", "(none)"), id="access-eu-repo-in-capitals",
    ),
    pytest.param(
        "access_conditions", make(oa={"license": "cc-by"}), P, "", ("(none)", "cc-by"), id="access-oa-licence",
    ),
    pytest.param(
        "access_conditions", make(dc={"rights": (CC_BY_URI,)}), P, "", ("(none)", "(none)"),
        id="access-datacite-licence",
    ),
    pytest.param(
        "access_conditions", make(dc={"rights": (RESERVED,)}), F, "", ("(none)", "(none)"),
        id="access-fails-on-words-alone",
    ),
    pytest.param(
        "access_conditions", make(dc={"rights": (EU_OPEN, Rights("", "info:eu-repo/semantics/embargoedAccess", ""))}),
        P, "", ("info:eu-repo/semantics/openAccess, info:eu-repo/semantics/embargoedAccess", "(none)"),
        id="access-eu-repo-each-named",
    ),
    pytest.param("access_conditions", crossref(), F, "", ("no record", "(none)"), id="access-fails-without-record"),
    pytest.param(
        "access_conditions", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("not checked yet", "(none)"),
        id="access-waits",
    ),
    pytest.param("standard_protocol", make(), P, "", (DOI, "DataCite"), id="protocol-passes"),
    pytest.param(
        "standard_protocol", make(agency="", dc=None), F, "", (DOI, "(unknown DOI)"), id="protocol-unregistered",
    ),
    pytest.param(
        "standard_protocol", make(oa={"doi": ""}, agency="Crossref", dc=None), F, "", ("(none)", "Crossref"),
        id="protocol-no-doi",
    ),
    pytest.param(
        "standard_protocol", make(agency_error=AGENCY_DOWN), NA, AGENCY_DOWN, (DOI, "not checked yet"),
        id="protocol-waits",
    ),
    pytest.param(
        "landing_page", make(dc={"url": "https://zenodo.org/records/1"}), P, "",
        ("https://zenodo.org/records/1", "https://zenodo.org/records/1"), id="landing-datacite",
    ),
    pytest.param(
        "landing_page", make(dc={"url": "http://example.org/1"}), P, "",
        ("http://example.org/1", "http://example.org/1"), id="landing-plain-http",
    ),
    pytest.param(
        "landing_page", crossref(repository_locations=(("", "https://repo.example.org/1"),)), P, "",
        ("no record", "https://repo.example.org/1"), id="landing-repository-copy",
    ),
    pytest.param(
        "landing_page", make(dc={"url": "ftp://example.org/1"},
                             oa={"repository_locations": (("R", "https://repo.example.org/1"),)}),
        P, "", ("ftp://example.org/1", "https://repo.example.org/1"), id="landing-prefers-a-web-page",
    ),
    pytest.param(
        "landing_page", make(dc={"url": "ftp://example.org/1"},
                             oa={"repository_locations": (("R", "http://repo.example.org/1"),)}),
        P, "", ("ftp://example.org/1", "http://repo.example.org/1"), id="landing-prefers-a-plain-http-page",
    ),
    pytest.param(
        "landing_page", make(dc={"url": "ftp://example.org/1"}), F, "", ("ftp://example.org/1", "ftp://example.org/1"),
        id="landing-fails-not-over-http",
    ),
    pytest.param("landing_page", make(), F, "", ("(none)", "(none)"), id="landing-fails-with-none"),
    pytest.param("landing_page", crossref(), F, "", ("no record", "(none)"), id="landing-fails-without-record"),
    pytest.param(
        "landing_page", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("not checked yet", "(none)"),
        id="landing-waits",
    ),
    # I
    pytest.param("structured_metadata", make(), P, "", ("DataCite",), id="structured-datacite"),
    pytest.param("structured_metadata", crossref(), P, "", ("Crossref",), id="structured-crossref"),
    pytest.param(
        "structured_metadata", make(agency="mEDRA", dc=None), F, "", ("mEDRA",), id="structured-fails-other-agency",
    ),
    pytest.param(
        "structured_metadata", make(agency="", dc=None), F, "", ("(unknown DOI)",), id="structured-fails-unknown",
    ),
    pytest.param(
        "structured_metadata", make(agency_error=AGENCY_DOWN), NA, AGENCY_DOWN, ("not checked yet",),
        id="structured-waits",
    ),
    pytest.param("controlled_vocabulary", make(oa={"topics": ("a", "b")}), P, "", ("2", "0"), id="vocabulary-oa"),
    pytest.param(
        "controlled_vocabulary", make(dc={"subjects": (("Geology", "OECD"), ("rocks", ""))}), P, "", ("0", "1"),
        id="vocabulary-datacite-scheme",
    ),
    pytest.param(
        "controlled_vocabulary", make(dc={"subjects": (("Geology", ""),)}), F, "", ("0", "0"),
        id="vocabulary-fails-without-scheme",
    ),
    pytest.param("controlled_vocabulary", crossref(), F, "", ("0", "no record"), id="vocabulary-fails-no-record"),
    pytest.param(
        "controlled_vocabulary", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("0", "not checked yet"),
        id="vocabulary-waits",
    ),
    pytest.param(
        "qualified_relations", make(dc={"related": (DATASET,)}), P, "",
        ("1 related identifier(s): IsSupplementedBy 10.1594/pangaea.1",), id="qualified-passes",
    ),
    pytest.param(
        "qualified_relations",
        make(dc={"related": (RelatedIdentifier("", "10.1/a", "DOI", ""), RelatedIdentifier("References", "10.1/b",
                                                                                          "", ""))}),
        F, "", ("(none)",), id="qualified-fails-without-type-or-relation",
    ),
    pytest.param("qualified_relations", crossref(), F, "", ("no record",), id="qualified-fails-without-record"),
    pytest.param(
        "qualified_relations", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("not checked yet",),
        id="qualified-waits",
    ),
    pytest.param(
        "linked_from", make(pointing=(POINTING_DATASET,), pointing_total=7), P, "",
        ("7 DataCite record(s) point at it: 10.1594/pangaea.2",), id="linked-from-passes",
    ),
    pytest.param("linked_from", make(), F, "", ("0 records",), id="linked-from-fails"),
    pytest.param(
        "linked_from", crossref(), NA, "", ("not asked: not a DataCite DOI",), id="linked-from-not-for-crossref",
    ),
    pytest.param(
        "linked_from", make(agency="", dc=None), NA, "", ("not asked: not a DataCite DOI",),
        id="linked-from-not-for-an-unknown-doi",
    ),
    pytest.param("linked_from", no_doi(), NA, "", ("no DOI",), id="linked-from-not-without-doi"),
    pytest.param(
        "linked_from", make(pointing=(POINTING_DATASET,), pointing_total=1, pointing_error=POINTING_DOWN), NA,
        POINTING_DOWN, ("not checked yet",), id="linked-from-waits-and-ignores-what-a-failed-search-left",
    ),
    pytest.param(
        "linked_from", make(agency="", agency_error=AGENCY_DOWN, pointing_error=POINTING_DOWN), NA, POINTING_DOWN,
        ("not checked yet",), id="linked-from-waits-while-the-agency-is-unknown",
    ),
    pytest.param(
        "linked_datasets", make(dc={"related": (DATASET,)}), P, "", ("1", "0", "(none)"), id="datasets-related",
    ),
    pytest.param(
        "linked_datasets", make(pointing=(POINTING_DATASET,), pointing_total=1), P, "", ("0", "1", "(none)"),
        id="datasets-pointing",
    ),
    pytest.param(
        "linked_datasets", make(oa={"datasets": ("W1", "W2")}), P, "", ("0", "0", "W1, W2"), id="datasets-openalex",
    ),
    pytest.param(
        "linked_datasets",
        make(dc={"related": (RelatedIdentifier("References", "10.1/x", "DOI", "JournalArticle"),)},
             pointing=(POINTING_SOFTWARE,), pointing_total=1),
        F, "", ("0", "0", "(none)"), id="datasets-fail-on-other-kinds",
    ),
    pytest.param(
        "linked_datasets", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN,
        ("not checked yet", "not checked yet", "(none)"), id="datasets-wait-for-datacite",
    ),
    pytest.param(
        "linked_datasets", make(pointing_error=POINTING_DOWN, pointing=(POINTING_DATASET,), pointing_total=1), NA,
        POINTING_DOWN, ("not checked yet", "not checked yet", "(none)"), id="datasets-wait-for-the-search",
    ),
    pytest.param(
        "linked_datasets", make(datacite_error=DATACITE_DOWN, pointing_error=POINTING_DOWN), NA,
        f"{DATACITE_DOWN}; {POINTING_DOWN}", ("not checked yet", "not checked yet", "(none)"),
        id="datasets-wait-for-both-each-reason",
    ),
    pytest.param(
        "linked_datasets", make(datacite_error=DATACITE_DOWN, pointing_error=DATACITE_DOWN), NA, DATACITE_DOWN,
        ("not checked yet", "not checked yet", "(none)"), id="datasets-wait-for-both-one-reason-once",
    ),
    pytest.param(
        "linked_datasets", make(pointing_error=POINTING_DOWN, dc={"related": (DATASET,)}), P, "",
        ("not checked yet", "not checked yet", "(none)"), id="datasets-pass-on-datacite-while-the-search-waits",
    ),
    pytest.param(
        "linked_datasets", make(datacite_error=DATACITE_DOWN, pointing=(POINTING_DATASET,), pointing_total=1), P, "",
        ("not checked yet", "not checked yet", "(none)"), id="datasets-pass-on-pointing-while-the-record-waits",
    ),
    # R
    pytest.param(
        "resource_type", make(dc={"resource_type_general": "Dataset"}), P, "", ("Dataset", "(none)"), id="type-dc",
    ),
    pytest.param("resource_type", make(oa={"type": "article"}), P, "", ("(none)", "article"), id="type-oa"),
    pytest.param("resource_type", make(), F, "", ("(none)", "(none)"), id="type-fails"),
    pytest.param("resource_type", crossref(), F, "", ("no record", "(none)"), id="type-fails-without-record"),
    pytest.param(
        "resource_type", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("not checked yet", "(none)"),
        id="type-waits",
    ),
    pytest.param(
        "file_formats", make(dc={"formats": ("text/csv", "application/zip")}), P, "", ("text/csv, application/zip",),
        id="formats-pass",
    ),
    pytest.param("file_formats", make(), F, "", ("(none)",), id="formats-fail"),
    pytest.param("file_formats", crossref(), NA, "", ("no DataCite record",), id="formats-not-without-record"),
    pytest.param("file_formats", no_doi(), NA, "", ("no DOI to look up",), id="formats-not-without-doi"),
    pytest.param(
        "file_formats", make(datacite_error=DATACITE_DOWN, dc={"formats": ("text/csv",)}), NA, DATACITE_DOWN,
        ("not checked yet",), id="formats-wait-and-ignore-what-a-failed-request-left",
    ),
    pytest.param("licence", make(oa={"license": "cc-by"}), P, "", ("(none)", "cc-by"), id="licence-oa"),
    pytest.param("licence", make(dc={"rights": (CC_BY_ID,)}), P, "", ("cc-by-4.0", "(none)"), id="licence-identifier"),
    pytest.param(
        "licence", make(dc={"rights": (CC_BY_URI,)}), P, "", ("https://creativecommons.org/licenses/by/4.0/", "(none)"),
        id="licence-uri",
    ),
    pytest.param(
        "licence", make(dc={"rights": (Rights("", "info:eu-repo/semantics/openAccess", "cc-by-4.0"),)}), P, "",
        ("cc-by-4.0", "(none)"), id="licence-identifier-beside-an-access-right",
    ),
    pytest.param(
        "licence", make(dc={"rights": (EU_OPEN,)}), F, "", ("info:eu-repo/semantics/openAccess", "(none)"),
        id="licence-fails-on-an-access-right",
    ),
    pytest.param(
        "licence", make(dc={"rights": (Rights("", "Info:EU-Repo/semantics/openAccess", ""),)}), F, "",
        ("Info:EU-Repo/semantics/openAccess", "(none)"), id="licence-fails-on-an-access-right-in-capitals",
    ),
    pytest.param(
        "licence", make(dc={"rights": (RESERVED, Rights("", "", ""))}), F, "",
        ("All rights reserved, (empty)", "(none)"),
        id="licence-fails-on-words-alone",
    ),
    pytest.param("licence", make(), F, "", ("(none)", "(none)"), id="licence-fails-on-no-rights"),
    pytest.param("licence", crossref(), F, "", ("no record", "(none)"), id="licence-fails-without-record"),
    pytest.param(
        "licence", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("not checked yet", "(none)"),
        id="licence-waits",
    ),
    pytest.param(
        "licence_identifier", make(dc={"rights": (CC_BY_ID, CC_BY_URI, Rights("", "", "mit"))}), P, "",
        ("cc-by-4.0, mit",), id="licence-id-passes",
    ),
    pytest.param("licence_identifier", make(dc={"rights": (CC_BY_URI,)}), F, "", ("(none)",), id="licence-id-fails"),
    pytest.param("licence_identifier", crossref(), NA, "", ("no DataCite record",), id="licence-id-not-no-record"),
    pytest.param("licence_identifier", no_doi(), NA, "", ("no DOI to look up",), id="licence-id-not-without-doi"),
    pytest.param(
        "licence_identifier", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("not checked yet",),
        id="licence-id-waits",
    ),
    pytest.param(
        "creator_identifiers", make(oa={"authors": 3, "authors_with_orcid": 1}), P, "", ("1 of 3", "0 of 0"),
        id="orcid-oa",
    ),
    pytest.param(
        "creator_identifiers",
        make(dc={"creators": (Creator("A", ("https://orcid.org/0000-0001-5458-8645",)), Creator("B", ()))}), P, "",
        ("0 of 0", "1 of 2"), id="orcid-datacite",
    ),
    pytest.param(
        "creator_identifiers", make(oa={"authors": 2}, dc={"creators": (Creator("A", ()),)}), F, "",
        ("0 of 2", "0 of 1"), id="orcid-fails",
    ),
    pytest.param("creator_identifiers", crossref(), F, "", ("0 of 0", "no record"), id="orcid-fails-without-record"),
    pytest.param(
        "creator_identifiers", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("0 of 0", "not checked yet"),
        id="orcid-waits",
    ),
    pytest.param(
        "provenance_dates", make(oa={"venue": "Zenodo", "publication_year": 2020}), P, "", ("Zenodo", "2020"),
        id="provenance-oa",
    ),
    pytest.param(
        "provenance_dates",
        make(dc={"publisher": "PANGAEA", "dates": (("2020-01-01", "Issued"), ("2020-02-01", "Updated"),
                                                   ("2020-03-01", "Available"), ("2021", "Collected"))}),
        P, "", ("PANGAEA", "Issued 2020-01-01, Updated 2020-02-01, Available 2020-03-01"),
        id="provenance-datacite-dates",
    ),
    pytest.param(
        "provenance_dates", make(dc={"publisher": "PANGAEA", "publication_year": 2019}), P, "", ("PANGAEA", "2019"),
        id="provenance-datacite-year",
    ),
    pytest.param(
        "provenance_dates", make(oa={"venue": "Zenodo"}), F, "", ("Zenodo", "(none)"), id="provenance-fails-no-date",
    ),
    pytest.param(
        "provenance_dates", make(oa={"publication_year": 2020}, dc={"dates": (("2020", "Issued"),)}), F, "",
        ("(none)", "Issued 2020"), id="provenance-fails-no-publisher",
    ),
    pytest.param(
        "provenance_dates", make(datacite_error=DATACITE_DOWN), NA, DATACITE_DOWN, ("(none)", "(none)"),
        id="provenance-waits",
    ),
]
# fmt: on


@pytest.mark.parametrize(("key", "facts", "passed", "pending", "evidence"), STATES)
def test_each_check_in_each_state_with_its_evidence(key, facts, passed, pending, evidence):
    found = check(key, facts)
    assert (found.passed, found.pending, values(found)) == (passed, pending, evidence)


@pytest.mark.parametrize(("key", "facts", "passed", "pending", "evidence"), STATES)
def test_a_check_gives_its_fix_only_when_it_failed(key, facts, passed, pending, evidence):
    shown = check(key, facts).as_dict()["fix"]
    if passed is not False:
        assert shown == ""
    elif key in FIXES:
        assert shown == FIXES[key]
    else:
        assert shown  # core_metadata and qualified_relations: pinned below


def test_every_check_is_pinned_in_each_state_it_can_reach():
    reached = {}
    for case in STATES:
        key, _, passed, pending, _ = case.values
        reached.setdefault(key, set()).add("pending" if pending else {True: "pass", False: "fail", None: "na"}[passed])
    assert reached.keys() == CHECKS.keys()
    # Only three checks can not apply: linked_from (not a DataCite DOI), and the two that need a
    # DataCite record. The three that read nothing beyond OpenAlex never wait.
    assert {key for key, states in reached.items() if "na" in states} == {
        "linked_from",
        "file_formats",
        "licence_identifier",
    }
    assert {key for key, states in reached.items() if "pending" not in states} == {
        "persistent_identifier",
        "indexed",
        "open_access",
    }
    assert all({"pass", "fail"} <= states for states in reached.values())


@pytest.mark.parametrize(
    ("missing", "oa"),
    [
        ("title", {"authors": 1, "publication_year": 2020, "venue": "Zenodo"}),
        ("creators", {"title": "T", "publication_year": 2020, "venue": "Zenodo"}),
        ("year", {"title": "T", "authors": 1, "venue": "Zenodo"}),
        ("publisher", {"title": "T", "authors": 1, "publication_year": 2020}),
        ("title, creators, year, publisher", {}),
    ],
)
def test_core_metadata_fails_on_any_missing_field_and_names_it_in_the_fix(missing, oa):
    found = check("core_metadata", make(oa=oa))
    assert found.passed is False
    assert found.fix == f"add the missing {missing} to the DOI's metadata at its registration agency"


def test_core_metadata_names_where_the_creators_and_publisher_came_from():
    from_datacite = check("core_metadata", make(dc={"creators": (Creator("A", ()),), "publisher": "PANGAEA"}))
    from_openalex = check("core_metadata", make(oa={"authors": 2, "venue": "Zenodo"}, dc={"publisher": ""}))
    assert [item.source for item in from_datacite.evidence] == ["OpenAlex", "DataCite", "OpenAlex", "DataCite"]
    assert [item.source for item in from_openalex.evidence] == ["OpenAlex", "OpenAlex", "OpenAlex", "OpenAlex"]


def test_core_metadata_shortens_a_long_title_in_its_evidence():
    assert values(check("core_metadata", make(oa={"title": "x" * 80})))[0] == "x" * 80
    assert values(check("core_metadata", make(oa={"title": "x" * 81})))[0] == "x" * 79 + "…"


def test_provenance_names_where_the_publisher_and_dates_came_from():
    datacite = check("provenance_dates", make(dc={"publisher": "PANGAEA", "dates": (("2020", "Issued"),)}))
    openalex = check("provenance_dates", make(oa={"venue": "Zenodo", "publication_year": 2020}))
    assert [item.source for item in datacite.evidence] == ["DataCite", "DataCite"]
    assert [item.source for item in openalex.evidence] == ["OpenAlex", "OpenAlex"]


def test_qualified_relations_fix_depends_on_whether_there_is_a_datacite_record():
    assert check("qualified_relations", make()).fix == QUALIFIED_FIX_WITH_RECORD
    assert check("qualified_relations", crossref()).fix == QUALIFIED_FIX_WITHOUT_RECORD


def test_an_openalex_licence_passes_both_licence_and_access_conditions_alone():
    found = by_key(fair.evaluate(crossref(license="cc-by")))
    assert (found["licence"].passed, found["access_conditions"].passed) == (True, True)


def test_an_access_right_states_access_conditions_but_is_no_licence():
    found = by_key(fair.evaluate(make(dc={"rights": (EU_OPEN,)})))
    assert (found["access_conditions"].passed, found["licence"].passed) == (True, False)


# --- What each check reads, and what waits ---------------------------------------------------

SOURCES = ("agency", "datacite", "pointing")
EXPECTED_READS = {
    "persistent_identifier": set(),
    "identifier_registered": {"agency"},
    "core_metadata": {"datacite"},
    "description": {"datacite"},
    "keywords": {"datacite"},
    "indexed": set(),
    "open_access": set(),
    "access_conditions": {"datacite"},
    "standard_protocol": {"agency"},
    "landing_page": {"datacite"},
    "structured_metadata": {"agency"},
    "controlled_vocabulary": {"datacite"},
    "qualified_relations": {"datacite"},
    "linked_from": {"pointing"},
    "linked_datasets": {"datacite", "pointing"},
    "resource_type": {"datacite"},
    "file_formats": {"datacite"},
    "licence": {"datacite"},
    "licence_identifier": {"datacite"},
    "creator_identifiers": {"datacite"},
    "provenance_dates": {"datacite"},
}
FULL_RECORD = {
    "titles": ("A data set",),
    "creators": (Creator("A", ("https://orcid.org/0000-0001-5458-8645",)),),
    "publisher": "PANGAEA",
    "publication_year": 2020,
    "subjects": (("Geology", "OECD"),),
    "descriptions": (("What it holds.", "Abstract"),),
    "related": (DATASET,),
    "rights": (CC_BY_ID, EU_OPEN),
    "formats": ("text/csv",),
    "url": "https://doi.pangaea.de/1",
    "resource_type_general": "Dataset",
}
# For each source, facts in which every check that reads it passes on that source alone.
ONLY = {
    "agency": make(),
    "datacite": make(dc=FULL_RECORD),
    "pointing": make(pointing=(POINTING_DATASET,), pointing_total=1),
}


def test_reads_is_as_specified():
    assert {key: set(sources) for key, sources in fair.READS.items()} == EXPECTED_READS


@pytest.mark.parametrize("source", SOURCES)
def test_a_source_that_has_not_answered_holds_up_exactly_the_checks_that_read_it(source):
    answered = by_key(fair.evaluate(ONLY[source]))
    waiting = by_key(fair.evaluate(replace(ONLY[source], **{f"{source}_error": "waiting"})))
    reading = {key for key, sources in EXPECTED_READS.items() if source in sources}
    # What passed on that source alone now waits for it; nothing else changes.
    assert {key for key in answered if answered[key].passed} >= reading
    assert {key: check.pending for key, check in waiting.items() if check.pending} == dict.fromkeys(reading, "waiting")
    assert all(waiting[key].passed is None for key in reading)
    assert {key: answered[key].passed for key in answered.keys() - reading} == {
        key: waiting[key].passed for key in answered.keys() - reading
    }


@pytest.mark.parametrize("source", SOURCES)
def test_a_source_that_has_not_answered_leaves_every_other_check_as_it_was(source):
    """The other way round: facts where nothing passes, and one source waits."""
    answered = by_key(fair.evaluate(make()))
    waiting = by_key(fair.evaluate(make(**{f"{source}_error": "waiting"})))
    for key in answered:
        if source in EXPECTED_READS[key]:
            assert (waiting[key].passed, waiting[key].pending) == (None, "waiting"), key
        else:
            assert waiting[key] == answered[key], key


RICH_OPENALEX = {
    "title": "Rocks",
    "abstract": "All about rocks.",
    "publication_year": 2021,
    "venue": "Journal of Rocks",
    "type": "article",
    "is_oa": True,
    "oa_status": "gold",
    "license": "cc-by",
    "indexed_in": ("datacite",),
    "repository_locations": (("Zenodo", "https://zenodo.org/records/1"),),
    "topics": ("Geology",),
    "datasets": ("W1",),
    "authors": 2,
    "authors_with_orcid": 1,
}


def test_what_openalex_alone_passes_stands_while_every_other_source_waits():
    evaluation = fair.evaluate(
        make(oa=RICH_OPENALEX, agency_error=AGENCY_DOWN, datacite_error=DATACITE_DOWN, pointing_error=POINTING_DOWN)
    )
    found = by_key(evaluation)
    assert {key for key, c in found.items() if c.passed} == {
        "persistent_identifier", "core_metadata", "description", "keywords", "indexed", "open_access",
        "access_conditions", "landing_page", "controlled_vocabulary", "linked_datasets", "resource_type", "licence",
        "creator_identifiers", "provenance_dates",
    }  # fmt: skip
    assert {key: c.pending for key, c in found.items() if c.pending} == {
        "identifier_registered": AGENCY_DOWN,
        "standard_protocol": AGENCY_DOWN,
        "structured_metadata": AGENCY_DOWN,
        "qualified_relations": DATACITE_DOWN,
        "linked_from": POINTING_DOWN,
        "file_formats": DATACITE_DOWN,
        "licence_identifier": DATACITE_DOWN,
    }
    # A passing check still says which of its sources it did not hear from.
    assert values(found["landing_page"]) == ("not checked yet", "https://zenodo.org/records/1")
    assert values(found["linked_datasets"]) == ("not checked yet", "not checked yet", "W1")
    assert values(found["identifier_registered"]) == (DOI, "not checked yet")


def test_what_a_source_that_has_not_answered_left_behind_is_not_read():
    evaluation = fair.evaluate(
        make(
            agency_error=AGENCY_DOWN,
            dc=FULL_RECORD,
            datacite_error=DATACITE_DOWN,
            pointing=(POINTING_DATASET,),
            pointing_total=1,
            pointing_error=POINTING_DOWN,
        )
    )
    assert [c.key for c in evaluation.checks if c.passed] == ["persistent_identifier"]


# --- Sub-scores and the raw score ------------------------------------------------------------


def scores(evaluation: fair.Evaluation) -> tuple[float, ...]:
    return (evaluation.f, evaluation.a, evaluation.i, evaluation.r, evaluation.raw)


def test_a_crossref_paper_rich_in_openalex_scores_without_the_checks_that_do_not_apply():
    evaluation = fair.evaluate(crossref(**RICH_OPENALEX))
    # F: 6 of 6 → 100; A: 4 of 4 → 100
    # I: structured, vocabulary, datasets pass, qualified_relations fails, linked_from n/a → 3 of 4 → 75
    # R: type, licence, ORCID, provenance pass; file formats and licence identifier n/a → 4 of 4 → 100
    # raw: (100 + 100 + 75 + 100) / 4 = 93.75
    assert scores(evaluation) == (100.0, 100.0, 75.0, 100.0, 93.75)
    assert evaluation.provisional is False and evaluation.pending == ()


def test_a_mixed_datacite_paper_scores_by_hand():
    facts = make(
        oa={"title": "Rocks", "authors": 2, "publication_year": 2020, "type": "dataset"},
        dc={"publisher": "Zenodo", "rights": (EU_OPEN,), "creators": (Creator("A", ()),), "url": "https://z.org/1"},
    )
    evaluation = fair.evaluate(facts)
    # F: DOI, registered, core metadata pass; description, keywords, indexed fail → 3 of 6 → 50
    # A: access conditions, protocol, landing page pass; open access fails → 3 of 4 → 75
    # I: structured metadata passes; vocabulary, qualified, linked from, datasets fail → 1 of 5 → 20
    # R: type, provenance pass; formats, licence, licence id, ORCID fail → 2 of 6 → 33.33
    # raw: (50 + 75 + 20 + 33.33) / 4 = 44.5825 → 44.58
    assert scores(evaluation) == (50.0, 75.0, 20.0, 33.33, 44.58)
    assert evaluation.provisional is False


def test_a_provisional_score_counts_only_the_checks_made():
    facts = make(
        oa={"title": "Rocks", "authors": 1, "publication_year": 2021, "venue": "J", "is_oa": True,
            "topics": ("Geology",), "type": "article"},
        datacite_error="DataCite has not been asked yet", pointing_error="DataCite has not been asked yet",
    )  # fmt: skip
    evaluation = fair.evaluate(facts)
    # F: DOI, registered, core, keywords pass; indexed fails; description waits → 4 of 5 → 80
    # A: open access, protocol pass; access conditions, landing page wait → 2 of 2 → 100
    # I: structured, vocabulary pass; qualified, linked from, datasets wait → 2 of 2 → 100
    # R: type, provenance pass; formats, licence, licence id, ORCID wait → 2 of 2 → 100
    # raw: (80 + 100 + 100 + 100) / 4 = 95
    assert scores(evaluation) == (80.0, 100.0, 100.0, 100.0, 95.0)
    assert evaluation.provisional is True
    assert [c.key for c in evaluation.pending] == [
        "description", "access_conditions", "landing_page", "qualified_relations", "linked_from", "linked_datasets",
        "file_formats", "licence", "licence_identifier", "creator_identifiers",
    ]  # fmt: skip
    assert {c.pending for c in evaluation.pending} == {"DataCite has not been asked yet"}


def test_a_principle_without_a_check_made_scores_zero():
    evaluation = fair.evaluate(
        make(agency_error=AGENCY_DOWN, datacite_error=DATACITE_DOWN, pointing_error=POINTING_DOWN)
    )
    # F: DOI passes, indexed fails, the rest wait → 1 of 2 → 50; A: open access fails → 0 of 1 → 0
    # I and R: every check waits → none made → 0
    # raw: (50 + 0 + 0 + 0) / 4 = 12.5
    assert scores(evaluation) == (50.0, 0.0, 0.0, 0.0, 12.5)
    assert evaluation.provisional is True


def test_a_paper_without_a_doi_scores_on_what_little_applies():
    evaluation = fair.evaluate(no_doi(title="Notes", type="article"))
    # F: only the title, so everything fails → 0 of 6 → 0; A: 0 of 4 → 0
    # I: linked_from n/a, the other four fail → 0 of 4 → 0
    # R: the type passes, file formats and licence identifier n/a → 1 of 4 → 25
    # raw: 25 / 4 = 6.25
    assert scores(evaluation) == (0.0, 0.0, 0.0, 25.0, 6.25)
    assert [c.key for c in evaluation.checks if c.passed is None] == [
        "linked_from",
        "file_formats",
        "licence_identifier",
    ]
    assert evaluation.provisional is False


def test_the_raw_score_is_rounded_to_two_decimals():
    evaluation = fair.evaluate(make(oa={"title": "T", "authors": 1, "publication_year": 2020, "venue": "V"}))
    # F: DOI, registered, core → 3 of 6 → 50; A: protocol → 1 of 4 → 25
    # I: structured → 1 of 5 → 20; R: provenance → 1 of 6 → 16.67
    # raw: (50 + 25 + 20 + 16.67) / 4 = 27.9175 → 27.92
    assert scores(evaluation) == (50.0, 25.0, 20.0, 16.67, 27.92)


def make_check(principle: fair.Principle, passed: bool | None, pending: str = "") -> fair.Check:
    return fair.Check("k", principle, "M", "t", passed, (), "fix", pending)


def test_a_sub_score_is_the_rounded_share_of_its_principles_checks_made_that_pass():
    checks = [
        make_check("F", True),
        make_check("F", True),
        make_check("F", False),
        make_check("F", None),
        make_check("F", None, pending="waiting"),
        make_check("A", False),
        make_check("I", True),
        make_check("I", False),
        make_check("I", False),
        make_check("R", None),
    ]
    assert fair.sub_score(checks, "F") == 66.67  # 2 of 3
    assert fair.sub_score(checks, "A") == 0.0
    assert fair.sub_score(checks, "I") == 33.33  # 1 of 3
    assert fair.sub_score(checks, "R") == 0.0  # none made
    assert fair.sub_score([], "F") == 0.0


# --- What is stored ---------------------------------------------------------------------------


def test_a_check_as_stored_has_these_keys_and_its_evidence():
    stored = check("file_formats", make()).as_dict()
    assert stored == {
        "key": "file_formats",
        "principle": "R",
        "metric": "FsF-R1.3-02D",
        "title": "File formats are given",
        "passed": False,
        "pending": "",
        "evidence": [{"source": "DataCite", "field": "formats", "value": "(none)"}],
        "fix": FIXES["file_formats"],
    }


def test_a_check_not_checked_yet_is_stored_with_why_and_no_fix():
    found = check("file_formats", make(datacite_error=DATACITE_DOWN))
    assert found.fix  # the check has a fix …
    stored = found.as_dict()
    assert (stored["passed"], stored["pending"], stored["fix"]) == (None, DATACITE_DOWN, "")  # … not shown
    assert stored["evidence"] == [{"source": "DataCite", "field": "/dois/{doi}", "value": "not checked yet"}]


def test_a_check_that_passed_or_does_not_apply_stores_no_fix():
    assert check("file_formats", make(dc={"formats": ("text/csv",)})).as_dict()["fix"] == ""
    does_not_apply = check("file_formats", crossref()).as_dict()
    assert (does_not_apply["passed"], does_not_apply["pending"], does_not_apply["fix"]) == (None, "", "")
    assert does_not_apply["evidence"] == [{"source": "DataCite", "field": "/dois/{doi}", "value": "no DataCite record"}]


def test_a_complete_evaluation_is_not_provisional_and_waits_for_nothing():
    evaluation = fair.evaluate(make())
    assert evaluation.pending == () and evaluation.provisional is False


def test_an_evaluation_waits_for_its_pending_checks_in_order():
    evaluation = fair.evaluate(make(agency_error=AGENCY_DOWN))
    assert evaluation.provisional is True
    assert evaluation.pending == tuple(c for c in evaluation.checks if c.pending)
    assert [c.key for c in evaluation.pending] == ["identifier_registered", "standard_protocol", "structured_metadata"]


# --- Recorded DataCite records ----------------------------------------------------------------

ZENODO = parse_record(json.loads((FIXTURES / "zenodo-dataset.json").read_text())["data"], doi="")
ARXIV = parse_record(json.loads((FIXTURES / "arxiv-minimal.json").read_text())["data"], doi="")
PANGAEA_POINTING = PointingRecord("10.1594/pangaea.912345", "Dataset", ("References",))
ZENODO_OPENALEX = replace(
    NOTHING, doi="10.5281/zenodo.7504123", title="Altmetrics and open access citation trends: data set",
    abstract="Citation and altmetric counts of 3,000 papers.", publication_year=2020, venue="Zenodo", type="dataset",
    is_oa=True, oa_status="green", license="cc-by", indexed_in=("datacite",),
    repository_locations=(("Zenodo", "https://zenodo.org/records/7504123"),), topics=("Scientific communication",),
    authors=2, authors_with_orcid=1, data_paper_check=True,
)  # fmt: skip


def test_the_datacite_record_is_read_from_its_json_api_shape():
    assert ZENODO.doi == "10.5281/zenodo.7504123"
    assert ZENODO.resource_type_general == "Dataset"
    assert ZENODO.related[0] == RelatedIdentifier("IsSupplementTo", "10.1145/3383583.3398584", "DOI", "ConferencePaper")
    assert [item.rights_identifier for item in ZENODO.rights] == ["cc-by-4.0", ""]
    assert ZENODO.formats == ("text/csv", "application/zip")
    assert ZENODO.creators[0].identifiers == ("https://orcid.org/0000-0001-5458-8645",)
    assert ZENODO.publisher == "Zenodo" and ZENODO.publication_year == 2020
    assert ARXIV.related == () and ARXIV.formats == ()


def test_a_publisher_object_is_read_by_its_name():
    record = parse_record({"attributes": {"doi": "10.1/x", "publisher": {"name": "PANGAEA"}}}, doi="10.1/x")
    assert record.publisher == "PANGAEA"


def test_a_recorded_zenodo_dataset_passes_every_check():
    facts = Facts(
        openalex=ZENODO_OPENALEX, agency="DataCite", datacite=ZENODO, pointing=(PANGAEA_POINTING,), pointing_total=1
    )
    evaluation = fair.evaluate(facts)
    assert [check.key for check in evaluation.checks if check.passed is not True] == []
    assert scores(evaluation) == (100, 100, 100, 100, 100)


def test_the_recorded_arxiv_record_fails_what_it_lacks():
    found = by_key(fair.evaluate(Facts(openalex=replace(NOTHING, doi=ARXIV.doi or DOI), agency="DataCite",
                                       datacite=ARXIV)))  # fmt: skip
    assert (found["file_formats"].passed, found["qualified_relations"].passed) == (False, False)
