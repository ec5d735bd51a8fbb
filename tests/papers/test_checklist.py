"""The FAIR checklist (papers.facts.checklist) as plain facts in, six items out: each item in each
state it can reach — yes, no, does not apply ("na"), not checked yet ("unknown") — with its
evidence, and the checklist grouped by principle for the pages ("Findable (1/2)").

`make()` is a DataCite DOI whose agency is known, with an empty DataCite record, nothing pointing
at it and an OpenAlex record holding nothing but the DOI; each case adds what it needs."""

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType, SimpleNamespace

import pytest

from datarank_site.pages.fair import group_checklist
from papers.facts import DATACITE_WAITS, Signal, checklist
from papers.models import DataCiteFacts, Facts, OpenAlexFacts, PointingRecord, RelatedIdentifier

DOI = "10.5281/zenodo.1"
NOTHING = OpenAlexFacts(
    doi="", title="", abstract="", publication_year=None, venue="", type="", is_oa=False, oa_status="", license="",
    indexed_in=(), repository_locations=(), topics=(), datasets=(), authors=0, authors_with_orcid=0,
    data_paper_check=None,
)  # fmt: skip
NO_FIELDS: Mapping = MappingProxyType({})

AGENCY_DOWN = "doi.org did not answer"
DATACITE_DOWN = "DataCite answered 503"
POINTING_DOWN = "DataCite's search timed out"

DATASET = RelatedIdentifier("IsSupplementedBy", "10.1594/pangaea.1", "DOI", "Dataset")
ARTICLE = RelatedIdentifier("References", "10.1145/1", "DOI", "JournalArticle")
POINTING_DATASET = PointingRecord("10.1594/pangaea.2", "Dataset", ("References", "IsDerivedFrom"))
POINTING_SOFTWARE = PointingRecord("10.5281/zenodo.9", "Software", ("References",))
NOT_DATACITES = "a Crossref DOI, and DataCite holds records of its own DOIs only"


def make(*, oa: Mapping = NO_FIELDS, dc: Mapping | None = NO_FIELDS, **fields) -> Facts:
    openalex = replace(NOTHING, **{"doi": DOI, **oa})
    datacite = None if dc is None else DataCiteFacts(doi=DOI, **dc)
    return Facts(**{"openalex": openalex, "agency": "DataCite", "datacite": datacite, **fields})


def crossref(**fields) -> Facts:
    return make(oa={"doi": "10.1145/1", **fields.pop("oa", {})}, agency="Crossref", dc=None, **fields)


def no_doi(**oa) -> Facts:
    return make(oa={"doi": "", **oa}, agency="", dc=None)


def item(facts: Facts, key: str) -> Signal:
    return {signal.key: signal for signal in checklist(facts)}[key]


def test_the_checklist_is_six_items_in_display_order_each_naming_its_source_and_field():
    assert [(s.key, s.source, s.field) for s in checklist(make())] == [
        ("has_doi", "OpenAlex", "doi"),
        ("indexed_in_repositories", "OpenAlex", "indexed_in, locations[source.type=repository]"),
        ("open_access", "OpenAlex", "open_access.is_oa, open_access.oa_status"),
        ("datacite_relations", "DataCite", "relatedIdentifiers; records whose relatedIdentifiers name this DOI"),
        ("linked_datasets", "DataCite, OpenAlex", "relatedIdentifiers[resourceTypeGeneral=Dataset]; datasets"),
        (
            "dataset_classification",
            "OpenAlex, DataCite, data-paper check",
            "type; types.resourceTypeGeneral; data-paper check",
        ),
    ]


# (facts, key, status, evidence)
# fmt: off
ITEMS = [
    # Has DOI
    pytest.param(make(), "has_doi", "yes", f"https://doi.org/{DOI} (registered with DataCite)", id="doi-registered"),
    pytest.param(make(agency="", dc=None), "has_doi", "yes", f"https://doi.org/{DOI}", id="doi-agency-unknown"),
    pytest.param(no_doi(), "has_doi", "no", "OpenAlex lists no DOI", id="doi-none"),
    # Indexed in repositories
    pytest.param(
        make(oa={"indexed_in": ("crossref", "doaj")}), "indexed_in_repositories", "yes", "indexed in crossref, doaj",
        id="indexed-in",
    ),
    pytest.param(
        make(oa={"repository_locations": (("Zenodo", "https://zenodo.org/records/1"), ("", "https://r.org/1"))}),
        "indexed_in_repositories", "yes", "repository copies at Zenodo, https://r.org/1", id="indexed-repository",
    ),
    pytest.param(
        make(oa={"indexed_in": ("crossref",), "repository_locations": (("Zenodo", "https://zenodo.org/1"),)}),
        "indexed_in_repositories", "yes", "indexed in crossref; repository copies at Zenodo", id="indexed-both",
    ),
    pytest.param(
        make(), "indexed_in_repositories", "no", "no index and no repository location listed", id="indexed-none",
    ),
    # Open Access
    pytest.param(
        make(oa={"is_oa": True, "oa_status": "gold"}), "open_access", "yes", "is_oa = true, oa_status = gold",
        id="oa-yes",
    ),
    pytest.param(make(), "open_access", "no", "is_oa = false, oa_status = none", id="oa-no"),
    # DataCite relations
    pytest.param(crossref(), "datacite_relations", "na", f"does not apply: {NOT_DATACITES}", id="relations-crossref"),
    pytest.param(
        crossref(datacite_error=DATACITE_DOWN, pointing_error=DATACITE_DOWN), "datacite_relations", "na",
        f"does not apply: {NOT_DATACITES}", id="relations-crossref-whatever-datacite-says",
    ),
    pytest.param(no_doi(), "datacite_relations", "na", "does not apply: no DOI to look up", id="relations-no-doi"),
    pytest.param(
        make(agency="", dc=None), "datacite_relations", "na", "does not apply: doi.org does not know its DOI",
        id="relations-unregistered-doi",
    ),
    pytest.param(
        make(dc={"related": (DATASET, ARTICLE)}), "datacite_relations", "yes",
        "2 related identifier(s): IsSupplementedBy 10.1594/pangaea.1, References 10.1145/1", id="relations-own",
    ),
    pytest.param(
        make(dc={"related": (ARTICLE,)}, pointing_error=POINTING_DOWN), "datacite_relations", "yes",
        "1 related identifier(s): References 10.1145/1", id="relations-own-while-the-search-waits",
    ),
    pytest.param(
        make(pointing=(POINTING_DATASET, POINTING_SOFTWARE), pointing_total=2), "datacite_relations", "yes",
        "2 DataCite record(s) point at it: 10.1594/pangaea.2, 10.5281/zenodo.9", id="relations-pointing",
    ),
    pytest.param(
        make(pointing=(POINTING_DATASET,), pointing_total=1, pointing_error=POINTING_DOWN), "datacite_relations",
        "unknown", f"not checked yet: {POINTING_DOWN}", id="relations-search-waits",
    ),
    pytest.param(
        make(dc=None, datacite_error=DATACITE_DOWN, pointing_error=DATACITE_DOWN), "datacite_relations", "unknown",
        f"not checked yet: {DATACITE_DOWN}", id="relations-wait-one-reason-once",
    ),
    pytest.param(
        make(agency="", dc=None, agency_error=AGENCY_DOWN, datacite_error=DATACITE_WAITS,
             pointing_error=DATACITE_WAITS),
        "datacite_relations", "unknown", f"not checked yet: {AGENCY_DOWN}; {DATACITE_WAITS}",
        id="relations-wait-for-the-agency",
    ),
    pytest.param(
        make(), "datacite_relations", "no",
        "its DataCite record lists no relatedIdentifiers, and no DataCite record points at it", id="relations-no",
    ),
    pytest.param(
        make(dc=None), "datacite_relations", "no",
        "DataCite holds no record of it, and no DataCite record points at it", id="relations-no-record",
    ),
    # Linked datasets
    pytest.param(
        make(dc={"related": (DATASET, ARTICLE)}), "linked_datasets", "yes",
        "linked to IsSupplementedBy 10.1594/pangaea.1", id="datasets-related",
    ),
    pytest.param(
        make(pointing=(POINTING_DATASET, POINTING_SOFTWARE), pointing_total=2), "linked_datasets", "yes",
        "linked to 10.1594/pangaea.2 (References, IsDerivedFrom)", id="datasets-pointing",
    ),
    pytest.param(
        make(pointing=(PointingRecord("10.1/d", "dataset", ()),), pointing_total=1), "linked_datasets", "yes",
        "linked to 10.1/d (related)", id="datasets-pointing-without-relation-type",
    ),
    pytest.param(
        crossref(oa={"datasets": ("W1",)}), "linked_datasets", "yes", "linked to OpenAlex dataset W1",
        id="datasets-openalex",
    ),
    pytest.param(
        make(oa={"datasets": ("W1", "W2", "W3", "W4", "W5")}, dc={"related": (DATASET,)},
             pointing=(POINTING_DATASET,), pointing_total=1),
        "linked_datasets", "yes",
        "linked to IsSupplementedBy 10.1594/pangaea.1, 10.1594/pangaea.2 (References, IsDerivedFrom), "
        "OpenAlex dataset W1, OpenAlex dataset W2, OpenAlex dataset W3, OpenAlex dataset W4",
        id="datasets-six-at-most",
    ),
    pytest.param(
        make(oa={"datasets": ("W1",)}, datacite_error=DATACITE_DOWN, pointing_error=DATACITE_DOWN), "linked_datasets",
        "yes", "linked to OpenAlex dataset W1", id="datasets-openalex-while-datacite-waits",
    ),
    pytest.param(
        make(dc={"related": (ARTICLE,)}, pointing=(POINTING_SOFTWARE,), pointing_total=1), "linked_datasets", "no",
        "no related identifier of type Dataset in either direction", id="datasets-no",
    ),
    pytest.param(
        crossref(), "linked_datasets", "no", f"OpenAlex links no dataset; DataCite not asked: {NOT_DATACITES}",
        id="datasets-no-crossref",
    ),
    pytest.param(
        crossref(datacite_error=DATACITE_DOWN, pointing_error=DATACITE_DOWN), "linked_datasets", "no",
        f"OpenAlex links no dataset; DataCite not asked: {NOT_DATACITES}",
        id="datasets-no-crossref-whatever-datacite-says",
    ),
    pytest.param(
        no_doi(), "linked_datasets", "no", "OpenAlex links no dataset; DataCite not asked: no DOI to look up",
        id="datasets-no-doi",
    ),
    pytest.param(
        make(dc=None, datacite_error=DATACITE_DOWN, pointing_error=POINTING_DOWN), "linked_datasets", "unknown",
        f"not checked yet: {DATACITE_DOWN}; {POINTING_DOWN}", id="datasets-wait-for-both",
    ),
    pytest.param(
        make(pointing_error=POINTING_DOWN), "linked_datasets", "unknown", f"not checked yet: {POINTING_DOWN}",
        id="datasets-wait-for-the-search",
    ),
    # Dataset classification
    pytest.param(
        crossref(oa={"type": "dataset"}), "dataset_classification", "yes", "OpenAlex type is dataset",
        id="class-openalex-type",
    ),
    pytest.param(
        make(dc={"resource_type_general": "Dataset"}), "dataset_classification", "yes",
        "DataCite resourceTypeGeneral is Dataset", id="class-datacite-dataset",
    ),
    pytest.param(
        make(dc={"resource_type_general": "DataPaper"}), "dataset_classification", "yes",
        "DataCite resourceTypeGeneral is DataPaper", id="class-datacite-datapaper",
    ),
    pytest.param(
        crossref(oa={"data_paper_check": True}), "dataset_classification", "yes", "passes the data-paper check",
        id="class-data-paper-check",
    ),
    pytest.param(
        make(oa={"type": "dataset", "data_paper_check": True}, dc={"resource_type_general": "Dataset"}),
        "dataset_classification", "yes",
        "OpenAlex type is dataset; DataCite resourceTypeGeneral is Dataset; passes the data-paper check",
        id="class-all-three",
    ),
    pytest.param(
        make(oa={"type": "dataset"}, dc=None, agency_error=AGENCY_DOWN, datacite_error=DATACITE_DOWN),
        "dataset_classification", "yes", "OpenAlex type is dataset", id="class-openalex-while-datacite-waits",
    ),
    pytest.param(
        make(dc=None, datacite_error=DATACITE_DOWN), "dataset_classification", "unknown",
        f"not checked yet: {DATACITE_DOWN}", id="class-waits-for-datacite",
    ),
    pytest.param(
        make(agency="", dc=None, agency_error=AGENCY_DOWN, datacite_error=DATACITE_WAITS,
             pointing_error=DATACITE_WAITS),
        "dataset_classification", "unknown", f"not checked yet: {AGENCY_DOWN}; {DATACITE_WAITS}",
        id="class-waits-for-the-agency",
    ),
    pytest.param(
        make(agency="", dc=None, agency_error=AGENCY_DOWN), "dataset_classification", "unknown",
        f"not checked yet: {AGENCY_DOWN}", id="class-waits-for-the-agency-alone",
    ),
    pytest.param(
        make(dc={"resource_type_general": "Text"}, oa={"type": "article", "data_paper_check": False},
             pointing_error=POINTING_DOWN),
        "dataset_classification", "no", "OpenAlex type is article; DataCite: Text; data-paper check not passed",
        id="class-no-the-search-does-not-matter",
    ),
    pytest.param(
        make(), "dataset_classification", "no",
        "OpenAlex type is unknown; DataCite: no resourceTypeGeneral; data-paper check not run", id="class-no-type",
    ),
    pytest.param(
        make(dc=None), "dataset_classification", "no",
        "OpenAlex type is unknown; DataCite: no DataCite record; data-paper check not run", id="class-no-record",
    ),
    pytest.param(
        crossref(oa={"type": "article", "data_paper_check": False}, datacite_error=DATACITE_DOWN),
        "dataset_classification", "no",
        f"OpenAlex type is article; DataCite: not asked ({NOT_DATACITES}); data-paper check not passed",
        id="class-no-crossref-whatever-datacite-says",
    ),
    pytest.param(
        no_doi(type="article"), "dataset_classification", "no",
        "OpenAlex type is article; DataCite: not asked (no DOI to look up); data-paper check not run",
        id="class-no-doi",
    ),
]
# fmt: on


@pytest.mark.parametrize(("facts", "key", "status", "evidence"), ITEMS)
def test_each_item_in_each_state_with_its_evidence(facts, key, status, evidence):
    found = item(facts, key)
    assert (found.status, found.evidence) == (status, evidence)


def test_every_item_is_pinned_in_each_state_it_can_reach():
    reached: dict[str, set[str]] = {}
    for case in ITEMS:
        _, key, status, _ = case.values
        reached.setdefault(key, set()).add(status)
    assert reached == {
        "has_doi": {"yes", "no"},
        "indexed_in_repositories": {"yes", "no"},
        "open_access": {"yes", "no"},
        "datacite_relations": {"yes", "no", "na", "unknown"},
        "linked_datasets": {"yes", "no", "unknown"},
        "dataset_classification": {"yes", "no", "unknown"},
    }


def test_a_source_that_has_not_answered_never_turns_an_item_into_a_no():
    facts = make(dc=None, agency_error=AGENCY_DOWN, datacite_error=DATACITE_WAITS, pointing_error=DATACITE_WAITS)
    assert {s.key: s.status for s in checklist(facts)} == {
        "has_doi": "yes",
        "indexed_in_repositories": "no",
        "open_access": "no",
        "datacite_relations": "unknown",
        "linked_datasets": "unknown",
        "dataset_classification": "unknown",
    }


def test_a_crossref_paper_offline_has_a_complete_checklist():
    facts = crossref(oa={"indexed_in": ("crossref",), "is_oa": True, "oa_status": "gold", "type": "article"})
    assert [s.status for s in checklist(facts)] == ["yes", "yes", "yes", "na", "no", "no"]


# --- Grouped by principle -------------------------------------------------------------------


def labels(facts: Facts) -> list[str]:
    return [group.label for group in group_checklist({s.key: s for s in checklist(facts)})]


def test_the_groups_count_what_passes_of_what_applies():
    facts = crossref(oa={"indexed_in": ("crossref",), "is_oa": True})
    assert labels(facts) == ["Findable (2/2)", "Accessible (1/1)", "Interoperable (0/1)", "Reusable (0/1)"]


def test_a_group_whose_items_all_pass_counts_them_all():
    facts = make(
        oa={"indexed_in": ("datacite",), "is_oa": True, "type": "dataset"},
        dc={"related": (DATASET,)},
    )
    assert labels(facts) == ["Findable (2/2)", "Accessible (1/1)", "Interoperable (2/2)", "Reusable (1/1)"]


def test_items_not_checked_yet_are_said_apart_never_counted_as_failed():
    facts = make(dc=None, datacite_error=DATACITE_DOWN, pointing_error=DATACITE_DOWN)
    assert labels(facts) == [
        "Findable (1/2)",
        "Accessible (0/1)",
        "Interoperable (2 not checked yet)",
        "Reusable (1 not checked yet)",
    ]


def test_a_group_with_decided_items_and_items_not_checked_yet_counts_the_decided_and_says_the_rest():
    items = {"datacite_relations": SimpleNamespace(status="unknown"), "linked_datasets": SimpleNamespace(status="yes")}
    interoperable = group_checklist(items)[2]
    assert interoperable.label == "Interoperable (1/1, 1 not checked yet)"
    assert (interoperable.passed, interoperable.decided) == (1, 1)


def test_a_group_whose_items_do_not_apply_says_so():
    items = {
        "datacite_relations": SimpleNamespace(status="na"),
        "linked_datasets": SimpleNamespace(status="na"),
        "open_access": SimpleNamespace(status="yes"),
        "dataset_classification": SimpleNamespace(status="no"),
    }
    groups = group_checklist(items)
    assert [group.label for group in groups] == [
        "Findable (does not apply)",
        "Accessible (1/1)",
        "Interoperable (does not apply)",
        "Reusable (0/1)",
    ]
    assert [(group.principle, group.name, group.passed, group.decided) for group in groups] == [
        ("F", "Findable", 0, 0),
        ("A", "Accessible", 1, 1),
        ("I", "Interoperable", 0, 0),
        ("R", "Reusable", 0, 1),
    ]


def test_the_groups_hold_their_items_in_display_order_and_leave_out_missing_keys():
    items = {signal.key: signal for signal in checklist(make())}
    del items["indexed_in_repositories"]
    groups = group_checklist(items)
    assert [[signal.key for signal in group.items] for group in groups] == [
        ["has_doi"],
        ["open_access"],
        ["datacite_relations", "linked_datasets"],
        ["dataset_classification"],
    ]
