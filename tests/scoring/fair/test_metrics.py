"""The checklist and the FAIR metrics as plain arithmetic over recorded-shape DataCite records
and OpenAlex fields: each item and each check gives the expected result with its evidence."""

import json
from dataclasses import replace

import pytest

from datarank_site.pages.fair import group_checklist
from papers.datacite import parse_record
from papers.facts import Signal, checklist
from papers.models import Facts, OpenAlexFacts, PointingRecord, RelatedIdentifier
from scoring.fair import metrics as fair
from tests.fake_datacite.app import FIXTURES

ZENODO = parse_record(json.loads((FIXTURES / "zenodo-dataset.json").read_text())["data"], doi="")
ARXIV = parse_record(json.loads((FIXTURES / "arxiv-minimal.json").read_text())["data"], doi="")
PANGAEA_POINTING = PointingRecord("10.1594/pangaea.912345", "Dataset", ("References",))

DATASET_OPENALEX = OpenAlexFacts(
    doi="10.5281/zenodo.7504123",
    title="Altmetrics and open access citation trends: data set",
    abstract="Citation and altmetric counts of 3,000 papers.",
    publication_year=2020,
    venue="Zenodo",
    type="dataset",
    is_oa=True,
    oa_status="green",
    license="cc-by",
    indexed_in=("datacite",),
    repository_locations=(("Zenodo", "https://zenodo.org/records/7504123"),),
    topics=("Scientific communication",),
    datasets=(),
    authors=2,
    authors_with_orcid=1,
    data_paper_check=True,
)
BARE_OPENALEX = OpenAlexFacts(
    doi="", title="Notes", abstract="", publication_year=None, venue="", type="article", is_oa=False,
    oa_status="closed", license="", indexed_in=(), repository_locations=(), topics=(), datasets=(), authors=0,
    authors_with_orcid=0, data_paper_check=False,
)  # fmt: skip
CROSSREF_PAPER = replace(
    DATASET_OPENALEX, doi="10.1145/3383583.3398584", type="article", license="", data_paper_check=False,
    repository_locations=(), indexed_in=("crossref",),
)  # fmt: skip

FULL = Facts(openalex=DATASET_OPENALEX, agency="DataCite", datacite=ZENODO)
BARE = Facts(openalex=BARE_OPENALEX)


def signals(facts: Facts) -> dict[str, Signal]:
    return {signal.key: signal for signal in checklist(facts)}


def checks(facts: Facts) -> dict[str, fair.Check]:
    return {check.key: check for check in fair.evaluate(facts).checks}


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


def test_the_checklist_of_a_full_dataset_says_yes_to_everything_with_its_evidence():
    found = signals(replace(FULL, pointing=(PANGAEA_POINTING,), pointing_total=1))
    assert {key: signal.status for key, signal in found.items()} == dict.fromkeys(found, "yes")
    assert found["has_doi"].evidence == "https://doi.org/10.5281/zenodo.7504123 (registered with DataCite)"
    assert "Zenodo" in found["indexed_in_repositories"].evidence
    assert found["open_access"].evidence == "is_oa = true, oa_status = green"
    assert found["datacite_relations"].evidence.startswith("3 related identifier(s): IsSupplementTo 10.1145/")
    assert "IsDerivedFrom 10.1594/PANGAEA.912345" in found["linked_datasets"].evidence
    assert "10.1594/pangaea.912345 (References)" in found["linked_datasets"].evidence
    assert found["dataset_classification"].evidence == (
        "OpenAlex type is dataset; DataCite resourceTypeGeneral is Dataset; passes the data-paper check"
    )
    assert found["dataset_classification"].source == "OpenAlex, DataCite, data-paper check"


def test_a_crossref_paper_is_linked_by_the_datacite_records_that_point_at_it():
    facts = Facts(openalex=CROSSREF_PAPER, agency="Crossref", pointing=(PANGAEA_POINTING,), pointing_total=1)
    found = signals(facts)
    assert found["datacite_relations"].status == "yes"
    assert found["datacite_relations"].evidence == "1 DataCite record(s) point at it: 10.1594/pangaea.912345"
    assert found["linked_datasets"].status == "yes"
    assert found["dataset_classification"].status == "no"


def test_openalex_datasets_count_as_linked_datasets():
    facts = Facts(openalex=replace(CROSSREF_PAPER, datasets=("W4400000001",)), agency="Crossref")
    assert signals(facts)["linked_datasets"].evidence == "linked to OpenAlex dataset W4400000001"


def test_the_checklist_of_a_paper_without_a_doi_says_no_and_why():
    found = signals(BARE)
    assert {key: signal.status for key, signal in found.items()} == dict.fromkeys(found, "no")
    assert found["has_doi"].evidence == "OpenAlex lists no DOI"
    assert found["datacite_relations"].evidence == "no DOI to look up"


def test_an_unreachable_datacite_makes_its_items_could_not_check_never_no():
    facts = Facts(
        openalex=CROSSREF_PAPER, agency="Crossref", datacite_error="DataCite answered 503",
        pointing_error="DataCite answered 503",
    )  # fmt: skip
    found = signals(facts)
    assert found["datacite_relations"].status == "unknown"
    assert found["datacite_relations"].evidence == "could not check: DataCite answered 503; DataCite answered 503"
    assert found["linked_datasets"].status == "unknown"
    assert found["dataset_classification"].status == "unknown"
    # OpenAlex answered: its items stand.
    assert found["has_doi"].status == "yes" and found["open_access"].status == "yes"


def test_a_yes_from_openalex_stands_even_when_datacite_is_unreachable():
    facts = Facts(openalex=DATASET_OPENALEX, agency_error="doi.org/ra could not be reached",
                       datacite_error="DataCite did not answer in time")  # fmt: skip
    assert signals(facts)["dataset_classification"].status == "yes"


def test_no_score_is_computed_from_partial_facts():
    with pytest.raises(ValueError, match="DataCite did not answer in time"):
        fair.evaluate(Facts(openalex=DATASET_OPENALEX, datacite_error="DataCite did not answer in time"))


def test_a_full_dataset_passes_every_check():
    evaluation = fair.evaluate(replace(FULL, pointing=(PANGAEA_POINTING,), pointing_total=1))
    failed = [check.key for check in evaluation.checks if check.passed is False]
    assert failed == []
    assert (evaluation.f, evaluation.a, evaluation.i, evaluation.r, evaluation.raw) == (100, 100, 100, 100, 100)


def test_each_metric_gives_its_evidence_and_a_failing_one_its_fix():
    found = checks(replace(FULL, datacite=replace(ZENODO, rights=(ZENODO.rights[1],), formats=())))
    assert found["licence_identifier"].passed is False
    assert (
        found["licence_identifier"].fix
        == "add a `rightsIdentifier` (an SPDX id such as `cc-by-4.0`) to the DataCite record"
    )
    assert found["licence_identifier"].evidence == (
        fair.Evidence("DataCite", "rightsList[].rightsIdentifier", "(none)"),
    )
    assert found["file_formats"].passed is False
    assert "`formats`" in found["file_formats"].fix
    # The OpenAlex licence still states one.
    assert found["licence"].passed is True
    assert fair.Evidence("OpenAlex", "primary_location.license", "cc-by") in found["licence"].evidence
    assert found["persistent_identifier"].evidence == (fair.Evidence("OpenAlex", "doi", "10.5281/zenodo.7504123"),)
    assert found["identifier_registered"].evidence[1] == fair.Evidence("doi.org/ra", "RA", "DataCite")
    assert found["open_access"].evidence == (
        fair.Evidence("OpenAlex", "open_access.is_oa", "true"),
        fair.Evidence("OpenAlex", "open_access.oa_status", "green"),
    )
    assert found["qualified_relations"].metric == "FsF-I3-01M"
    assert found["linked_from"].passed is False
    assert found["linked_from"].fix.startswith("cite the paper's DOI in the `relatedIdentifiers`")


def test_checks_that_need_a_datacite_record_do_not_apply_to_a_crossref_paper():
    found = checks(Facts(openalex=CROSSREF_PAPER, agency="Crossref"))
    assert found["file_formats"].passed is None
    assert found["licence_identifier"].passed is None
    assert found["structured_metadata"].passed is True
    assert found["licence"].passed is False


def test_sub_scores_are_the_share_of_applicable_checks_passed_and_raw_their_mean():
    evaluation = fair.evaluate(BARE)
    by_principle = {p: [c for c in evaluation.checks if c.principle == p and c.passed is not None] for p in "FAIR"}
    for principle, score in zip("FAIR", (evaluation.f, evaluation.a, evaluation.i, evaluation.r), strict=True):
        passed = sum(check.passed for check in by_principle[principle])
        assert score == round(100 * passed / len(by_principle[principle]), 2)
    assert evaluation.raw == round((evaluation.f + evaluation.a + evaluation.i + evaluation.r) / 4, 2)
    # Only the title (core metadata misses creators, year and publisher) and the type.
    assert [c.key for c in evaluation.checks if c.passed] == ["resource_type"]
    assert evaluation.raw == 6.25


def test_the_calibrated_score_is_the_share_of_papers_at_or_below():
    raws = [10.0, 20.0, 20.0, 40.0]
    assert fair.percentile(40.0, raws) == 100
    assert fair.percentile(10.0, raws) == 25
    # Ties share a value.
    assert fair.percentile(20.0, raws) == 75
    assert fair.percentile(20.0, [20.0]) == 100


def test_calibrating_against_nothing_is_an_error():
    with pytest.raises(ValueError):
        fair.percentile(50.0, [])


def test_the_checklist_groups_by_principle_with_counts():
    groups = group_checklist(signals(Facts(openalex=CROSSREF_PAPER, agency="Crossref")))
    assert [group.label for group in groups] == [
        "Findable (2/2)",
        "Accessible (1/1)",
        "Interoperable (0/2)",
        "Reusable (0/1)",
    ]
