import pytest

from papers.datapaper import PASS_AT, check_data_paper


def check(*, type="article", venue="", title="", abstract="", datacite_resource_type=None):
    return check_data_paper(
        type=type, venue=venue, title=title, abstract=abstract, datacite_resource_type=datacite_resource_type
    )


def test_it_passes_an_openalex_dataset():
    verdict = check(type="dataset", title="Palynology of IODP Hole 302-M0004A")
    assert verdict.passed
    assert verdict.confidence == pytest.approx(0.95)
    assert verdict.reasons == ("OpenAlex type is dataset",)


def test_it_passes_a_datacite_dataset():
    verdict = check(datacite_resource_type="Dataset")
    assert verdict.passed
    assert "DataCite resource type is Dataset" in verdict.reasons


def test_it_passes_a_paper_in_a_data_journal():
    verdict = check(venue="Scientific Data", title="Global river discharge records")
    assert verdict.passed
    assert verdict.reasons == ("published in the data journal Scientific Data",)


def test_it_matches_a_data_journal_by_its_whole_name_only():
    assert check(venue="database").passed
    assert not check(venue="Journal of Database Management").passed
    assert not check(venue="Scientific Data Analysis Letters").passed


def test_it_passes_imagenet_on_its_title():
    verdict = check(venue="2009 IEEE CVPR", title="ImageNet: A large-scale hierarchical image database")
    assert verdict.passed
    assert verdict.reasons == ("title mentions 'database'",)


@pytest.mark.parametrize(
    ("title", "cue"),
    [
        ("Two new datasets of river chemistry", "dataset"),
        ("A data set of glacier outlines", "data set"),
        ("The UK Biobank resource", "biobank"),
        ("Parallel corpora for machine translation", "corpus"),
        ("An atlas of human brain cells", "atlas"),
        ("The Framingham cohort at 70", "cohort"),
        ("A benchmark for graph learning", "benchmark"),
        ("An earthquake catalogue of Borneo", "catalogue"),
    ],
)
def test_it_finds_cue_words_in_the_title_plural_too(title, cue):
    verdict = check(title=title)
    assert verdict.passed
    assert f"title mentions '{cue}'" in verdict.reasons


@pytest.mark.parametrize(
    "title", ["Databased reasoning", "Metadata sets the scene", "Iron oxide deposits of the Anti-Atlas, Morocco"]
)
def test_it_matches_cue_words_as_whole_words_only(title):
    assert not check(title=title).passed


def test_scattered_cue_words_in_an_abstract_do_not_pass_alone():
    verdict = check(abstract="We evaluate on three benchmark datasets and a public database.")
    assert not verdict.passed
    assert 0 < verdict.confidence < PASS_AT
    assert verdict.reasons == ("abstract mentions 'benchmark', 'dataset' and 'database'",)


def test_an_abstract_introducing_a_dataset_passes():
    verdict = check(abstract="Here we present a new dataset of soil cores from Sabah.")
    assert verdict.passed
    assert verdict.reasons[0] == "abstract introduces data: 'Here we present a new dataset'"


def test_signals_add_up_to_a_higher_confidence():
    title_only = check(title="A dataset of soil cores")
    both = check(title="A dataset of soil cores", venue="Data in Brief")
    assert both.confidence > title_only.confidence
    assert both.reasons == ("published in the data journal Data in Brief", "title mentions 'dataset'")


def test_an_erratum_never_passes():
    verdict = check(type="erratum", title="Correction to: A database of river chemistry", venue="Scientific Data")
    assert not verdict.passed
    assert verdict.confidence == 0
    assert verdict.reasons[-1] == "OpenAlex type is erratum, which never shares data itself"


def test_it_says_so_when_nothing_matched():
    verdict = check(title="Localization of intraplate deformation", venue="Tectonophysics")
    assert not verdict.passed
    assert verdict.confidence == 0
    assert verdict.reasons == ("no data-paper signal in type, venue, title or abstract",)


def test_confidence_stays_between_zero_and_one():
    verdict = check(
        type="dataset",
        datacite_resource_type="Dataset",
        venue="Earth System Science Data",
        title="A dataset and atlas",
        abstract="We present a database, a corpus, a cohort and a benchmark.",
    )
    assert 0.99 < verdict.confidence <= 1
