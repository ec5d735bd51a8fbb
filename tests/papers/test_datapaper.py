import re

import pytest

import papers.datapaper
from papers.datapaper import NEVER_DATA_PAPERS, PASS_AT, WEIGHTS, check_data_paper, combine


def check(*, type="article", venue="", title="", abstract="", source_type="", datacite_resource_type=None):
    return check_data_paper(
        type=type,
        venue=venue,
        title=title,
        abstract=abstract,
        source_type=source_type,
        datacite_resource_type=datacite_resource_type,
    )


def fired(verdict) -> set[str]:
    return {signal.name for signal in verdict.signals}


ZENODO = "Zenodo (CERN European Organization for Nuclear Research)"


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
    assert not check(venue="Journal of Big Data").passed


@pytest.mark.parametrize(
    "venue",
    [
        "EARTH SYSTEM SCIENCE DATA",
        "Earth System Science Data Discussions",
        "Earth system science data.",
        "Earth  System Science\u00a0Data",
        "Data in brief",
        "The Scientific Data",
        "Data (Basel)",
        "Journal of Global Change Data and Discovery",
        "Journal of Global Change Data & Discovery",
        "Database: the journal of biological databases & curation",
        "GigaScience.",
    ],
)
def test_a_data_journal_matches_despite_punctuation(venue):
    verdict = check(venue=venue, title="Soil moisture of the Sahel")
    assert verdict.passed
    assert fired(verdict) == {"data journal"}
    assert verdict.confidence == pytest.approx(WEIGHTS["data journal"])


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
        ("A benchmark dataset for graph learning", "dataset"),
        ("An earthquake catalogue of Borneo", "catalogue"),
        ("A global inventory of rock glaciers", "inventory"),
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


# Atlas, benchmark: words that look like cues and are not


@pytest.mark.parametrize(
    ("title", "place"),
    [
        ("Iron oxide deposits of the Anti-Atlas, Morocco", None),
        ("Gold mineralization in the Bou Azzer District, Anti\u2010Atlas, Morocco", None),
        ("Jurassic rifting in the High Atlas", "High Atlas"),
        ("Folding of the Middle Atlas", "Middle Atlas"),
        ("Basin inversion in the Saharan Atlas, Algeria", "Saharan Atlas"),
        ("Thrust tectonics of the Tell Atlas", "Tell Atlas"),
        ("Exhumation history of the Moroccan Atlas", "Moroccan Atlas"),
        ("Uplift of the Atlas Mountains", "Atlas Mountains"),
    ],
)
def test_a_place_called_anti_atlas_is_not_an_atlas(title, place):
    verdict = check(title=title, abstract=f"We map faults across the {place or 'Anti-Atlas'}.")
    assert not verdict.passed
    assert verdict.confidence == 0
    if place:
        assert f"'{place}' is a place name, not an atlas" in verdict.reasons


def test_an_atlas_of_the_high_atlas_is_an_atlas():
    verdict = check(title="A geochemical atlas of the High Atlas")
    assert verdict.passed
    assert "title mentions 'atlas'" in verdict.reasons
    assert "'High Atlas' is a place name, not an atlas" in verdict.reasons


def test_the_atlas_detector_is_not_an_atlas():
    verdict = check(title="Search for dark photons with the ATLAS detector")
    assert not verdict.passed
    assert "'ATLAS' is the experiment at CERN, not an atlas" in verdict.reasons


@pytest.mark.parametrize(
    "title",
    ["Scalar relativistic effects with multiwavelets: implementation and benchmark", "Benchmarking seismic solvers"],
)
def test_a_benchmark_alone_is_not_a_dataset(title):
    verdict = check(title=title, abstract="This work provides a benchmark for multilevel algorithms.")
    assert not verdict.passed
    assert verdict.confidence == 0
    assert "'benchmark' alone is a computational benchmark, not a dataset" in verdict.reasons


def test_a_benchmark_dataset_is_a_dataset():
    verdict = check(title="SeisBench: a benchmark dataset of earthquake waveforms")
    assert verdict.passed
    assert "title mentions 'dataset'" in verdict.reasons


# Titles that use a dataset without offering one


@pytest.mark.parametrize(
    ("title", "phrase"),
    [
        (
            "Multi-labelled taxonomic prediction using a small benthic foraminifera dataset",
            "prediction using a small benthic foraminifera dataset",
        ),
        ("Groundwater risk assessment through multiple datasets", "through multiple datasets"),
        ("Automating the search of benthic foraminifera in an online database", "in an online database"),
        ("Examination of a real seismic data set", "Examination of a real seismic data set"),
        ("Deep learning classification of the LANDSAT dataset", "Deep learning classification of the LANDSAT dataset"),
        ("Fault slip rates from a global compilation", "from a global compilation"),
    ],
)
def test_a_title_that_only_uses_a_dataset_is_weaker(title, phrase):
    verdict = check(title=title)
    assert not verdict.passed
    assert verdict.confidence == pytest.approx(WEIGHTS["title cue used"])
    assert fired(verdict) == {"title cue used"}
    assert verdict.reasons[0].endswith(f"only as data it uses: '{phrase}'")


def test_a_used_dataset_still_adds_to_other_signals():
    verdict = check(
        title="Machine learning on a new dataset of foraminifera images",
        abstract="Here we present a new dataset of 2,000 SEM images, freely available.",
    )
    assert verdict.passed
    assert fired(verdict) == {"title cue used", "abstract introduces data", "abstract cue"}


@pytest.mark.parametrize(
    "title",
    [
        "Landslides in Nepal: a new inventory from satellite images",
        "Deep learning for crack detection: a benchmark dataset",
        "ESTABLISHING A FORAMINIFERA DATABASE USING A SPECIES DISTRIBUTION MODEL",
    ],
)
def test_a_dataset_the_title_offers_is_not_weakened_by_other_clauses(title):
    verdict = check(title=title)
    assert verdict.passed
    assert fired(verdict) == {"title cue"}


# Deposits in repositories


def test_a_zenodo_deposit_typed_article_passes():
    verdict = check(
        type="article",
        venue=ZENODO,
        source_type="repository",
        title="Data for: Cold sintering of waste concrete powder",
    )
    assert verdict.passed
    assert verdict.reasons == (
        f"held in {ZENODO}, a general-purpose repository",
        "title announces data: 'Data for:'",
    )
    assert verdict.confidence == pytest.approx(1 - 0.7 * 0.4)


def test_a_zenodo_deposit_typed_other_titled_data_dash_passes():
    title = 'Data - "Cold Sintering of Waste Concrete Powder " paper'
    verdict = check(type="other", venue=ZENODO, source_type="repository", title=title)
    assert verdict.passed
    assert "title announces data: 'Data -'" in verdict.reasons


def test_supplementary_material_on_figshare_passes_and_figures_do_not():
    material = check(
        venue="Figshare",
        source_type="repository",
        title='Supplementary material from "Towards implementing porous frameworks in solar cells"',
    )
    figures = check(
        venue="Figshare", source_type="repository", title="Figures S1 - S5 from Towards implementing porous frameworks"
    )
    assert material.passed
    assert fired(material) == {"general repository", "title announces supplementary material"}
    assert not figures.passed


@pytest.mark.parametrize(
    ("type", "title"),
    [
        ("other", "GeoSIRR: Geological Section Interpretation, Reconstruction & Refinement"),
        ("other", "Test FraCSPy"),
        ("article", "Effect of plasticizer additives on the mechanical properties of cement composite"),
    ],
)
def test_software_and_papers_on_zenodo_do_not_pass_on_the_repository_alone(type, title):
    verdict = check(type=type, venue=ZENODO, source_type="repository", title=title)
    assert not verdict.passed
    assert verdict.confidence == pytest.approx(WEIGHTS["general repository"])


@pytest.mark.parametrize(
    "venue",
    [
        "Data Archiving and Networked Services (DANS)",
        "Mendeley Data",
        "PANGAEA",
        "Dryad",
        "Harvard Dataverse",
        "The Cambridge Structural Database",
        "GFZ Data Services",
        "Digital Rocks Portal",
        "4TU.ResearchData",
    ],
)
def test_a_work_held_in_a_data_only_repository_passes(venue):
    verdict = check(type="article", venue=venue, source_type="repository", title="Guelph Dolomite characterization")
    assert verdict.passed
    assert verdict.reasons == (f"held in {venue}, a repository of data only",)


@pytest.mark.parametrize(
    "venue",
    [
        "King Abdullah University of Science and Technology Repository (King Abdullah University of Science and "
        "Technology)",
        "arXiv (Cornell University)",
        "SSRN Electronic Journal",
        "KTH Publication Database DiVA (KTH Royal Institute of Technology)",
        "Research Square (Research Square)",
    ],
)
def test_an_institutional_or_preprint_repository_is_no_data_signal(venue):
    verdict = check(type="article", venue=venue, source_type="repository", title="Seismic wave propagation")
    assert not verdict.passed
    assert verdict.signals == ()


@pytest.mark.parametrize("source_type", ["journal", "", "conference"])
def test_a_repository_name_counts_only_for_a_repository_source(source_type):
    assert check(venue="Mendeley Data", source_type=source_type).signals == ()


@pytest.mark.parametrize(
    ("title", "announced"),
    [
        ("Data for: Role played by clay content in reservoir quality", "Data for:"),
        ("Data from: Seed dispersal by birds", "Data from:"),
        ("Dataset: Borehole temperatures of Sabah", "Dataset:"),
        ("Replication Data for: Trade and growth", "Replication Data for:"),
        ("Supplementary data for the paper on Sabah tomography", "Supplementary data for the paper"),
        ('Supplemental Datafiles for the manuscript "Crustal structure of northern Borneo"', None),
        ("(Table S1) Palynology of IODP Hole 302-M0004A", "(Table S1)"),
        ("Altmetrics and open access citation trends: data set", ": data set"),
    ],
)
def test_a_title_announcing_data_passes_alone(title, announced):
    verdict = check(title=title)
    assert verdict.passed
    assert fired(verdict) == {"title announces data"}
    assert verdict.confidence == pytest.approx(WEIGHTS["title announces data"])
    if announced:
        assert verdict.reasons == (f"title announces data: '{announced}'",)


@pytest.mark.parametrize(
    "title", ["Data-driven modelling of reservoir pressure", "Data from the Apollo missions constrain the lunar core"]
)
def test_data_at_the_start_of_a_title_is_not_always_an_announcement(title):
    assert check(title=title).signals == ()


def test_an_abstract_in_which_a_deposit_describes_itself():
    verdict = check(abstract="<strong>This dataset includes:</strong> sampling locations of Arabian sands.")
    assert "abstract describes a deposit: 'This dataset includes'" in verdict.reasons
    assert "abstract introduces data" in fired(verdict)


# The abstract


def test_scattered_cue_words_in_an_abstract_do_not_pass_alone():
    verdict = check(abstract="We evaluate on three benchmark datasets and a public database.")
    assert not verdict.passed
    assert 0 < verdict.confidence < PASS_AT
    assert verdict.reasons == ("abstract mentions 'dataset' and 'database'",)


def test_an_abstract_introducing_a_dataset_passes():
    verdict = check(abstract="Here we present a new dataset of soil cores from Sabah.")
    assert verdict.passed
    assert verdict.reasons[0] == "abstract introduces data: 'Here we present a new dataset'"


def test_at_most_three_abstract_cue_words_count():
    verdict = check(abstract="A database, a corpus, a cohort, an inventory and a compilation.")
    (signal,) = verdict.signals
    assert (signal.name, signal.times) == ("abstract cue", 3)
    assert verdict.confidence == pytest.approx(1 - 0.85**3, abs=1e-4)


# How signals combine


def test_the_threshold_is_half():
    assert PASS_AT == 0.5
    at_half = check(abstract="This file contains the borehole logs of the KAUST wells.")
    below = check(title='Supplementary material from "Sabah tomography"')
    assert at_half.confidence == pytest.approx(0.5)
    assert at_half.passed
    assert below.confidence == pytest.approx(0.45)
    assert not below.passed


def test_signals_add_up_to_a_higher_confidence():
    title_only = check(title="A dataset of soil cores")
    both = check(title="A dataset of soil cores", venue="Data in Brief")
    assert both.confidence > title_only.confidence
    assert both.reasons == ("published in the data journal Data in Brief", "title mentions 'dataset'")


def test_every_weighted_signal_is_a_reason_and_the_confidence_is_their_noisy_or():
    verdict = check(
        type="dataset",
        venue="Figshare",
        source_type="repository",
        title="(Table S1) A dataset of stable isotopes",
        abstract="This data set contains isotope ratios; the database and catalogue are online.",
    )
    assert [signal.reason for signal in verdict.signals] == [
        reason for reason in verdict.reasons if any(s.reason == reason for s in verdict.signals)
    ]
    assert all(signal.weight == WEIGHTS[signal.name] for signal in verdict.signals)
    assert verdict.confidence == combine(verdict.signals)
    assert str(verdict.signals[0]) == "OpenAlex type is dataset (0.95)"
    assert str(verdict.signals[-1]).endswith("(3 x 0.15)")


def test_the_docstring_tables_every_weight():
    """The module docstring's weight table lists every weight in WEIGHTS, and no other."""
    tabled = re.findall(r"\s(0\.\d\d)$", papers.datapaper.__doc__, re.M)
    assert sorted(map(float, tabled)) == sorted(WEIGHTS.values())


@pytest.mark.parametrize("never", sorted(NEVER_DATA_PAPERS))
def test_every_never_data_type_fails(never):
    verdict = check(
        type=never,
        venue="Scientific Data",
        source_type="journal",
        title="Data for: A database of river chemistry",
        abstract="Here we present a new dataset of river chemistry.",
        datacite_resource_type="Dataset",
    )
    assert not verdict.passed
    assert verdict.confidence == 0
    assert verdict.reasons[-1] == f"OpenAlex type is {never}, which never shares data itself"


def test_the_five_never_data_types():
    assert {"erratum", "retraction", "editorial", "peer-review", "paratext"} == NEVER_DATA_PAPERS


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
        source_type="repository",
        title="A dataset and atlas",
        abstract="We present a database, a corpus, a cohort and a benchmark.",
    )
    assert 0.99 < verdict.confidence <= 1


# DataCite's resource type


def test_it_passes_a_datacite_data_paper():
    verdict = check(datacite_resource_type="DataPaper", title="Soil moisture of the Sahel")
    assert verdict.passed
    assert verdict.confidence == pytest.approx(WEIGHTS["DataCite DataPaper"])
    assert verdict.reasons == ("DataCite resource type is DataPaper",)
    assert fired(verdict) == {"DataCite DataPaper"}


@pytest.mark.parametrize(("given", "name"), [(" dataset ", "DataCite Dataset"), ("DATAPAPER", "DataCite DataPaper")])
def test_the_datacite_resource_type_is_read_ignoring_case_and_spaces(given, name):
    assert fired(check(datacite_resource_type=given)) == {name}


@pytest.mark.parametrize("resource_type", ["Text", "JournalArticle", "Software", "", None])
def test_other_datacite_resource_types_are_no_signal(resource_type):
    verdict = check(datacite_resource_type=resource_type, title="Soil moisture of the Sahel")
    assert verdict.signals == ()
    assert not verdict.passed


def test_the_openalex_type_is_read_ignoring_case_and_spaces():
    assert fired(check(type=" Dataset ")) == {"dataset type"}
    assert not check(type=" Erratum ", datacite_resource_type="Dataset").passed


# Every cue word, in the title and in the abstract


CUE_WORDS = [
    ("dataset", ["dataset", "datasets", "data-set", "data-sets"]),
    ("data set", ["data set", "data sets"]),
    ("database", ["database", "databases"]),
    ("data descriptor", ["data descriptor", "data descriptors"]),
    ("data paper", ["data paper", "data papers"]),
    ("data note", ["data note", "data notes"]),
    ("data resource", ["data resource", "data resources"]),
    ("corpus", ["corpus", "corpora", "corpuses"]),
    ("atlas", ["atlas", "atlases"]),
    ("cohort", ["cohort", "cohorts"]),
    ("biobank", ["biobank", "biobanks"]),
    ("catalogue", ["catalogue", "catalogues", "catalog", "catalogs"]),
    ("inventory", ["inventory", "inventories"]),
    ("compilation", ["compilation", "compilations"]),
]
CUE_FORMS = [(cue, word) for cue, words in CUE_WORDS for word in words]


def test_the_cue_words_tested_are_every_cue():
    assert [cue for cue, _ in CUE_WORDS] == [cue for cue, _ in papers.datapaper.CUES]


@pytest.mark.parametrize(("cue", "word"), CUE_FORMS)
def test_every_cue_word_in_a_title_passes_it(cue, word):
    verdict = check(title=f"Glaciers of Svalbard: the {word} of 2020")
    assert verdict.passed
    assert verdict.reasons == (f"title mentions '{cue}'",)
    assert verdict.confidence == pytest.approx(WEIGHTS["title cue"])


@pytest.mark.parametrize(("cue", "word"), CUE_FORMS)
def test_every_cue_word_in_an_abstract_counts_as_an_abstract_cue(cue, word):
    verdict = check(abstract=f"Glaciers of Svalbard, and the {word.upper()} of 2020.")
    assert verdict.reasons == (f"abstract mentions '{cue}'",)
    assert verdict.confidence == pytest.approx(WEIGHTS["abstract cue"])
    assert not verdict.passed


def test_a_cue_used_and_a_cue_offered_in_one_title_count_as_offered():
    verdict = check(title="A new database of glaciers built from a satellite dataset")
    assert fired(verdict) == {"title cue"}
    assert verdict.reasons == ("title mentions 'database'",)


def test_several_title_cues_are_listed_in_order_in_one_reason():
    verdict = check(title="An atlas, a catalogue and a database of lakes")
    assert verdict.reasons == ("title mentions 'atlas', 'catalogue' and 'database'",)
    (signal,) = verdict.signals
    assert (signal.name, signal.times) == ("title cue", 1)


def test_a_cue_after_a_clause_break_is_offered_even_if_an_earlier_clause_uses_data():
    verdict = check(title="Mapping with satellites: a new inventory of landslides")
    assert fired(verdict) == {"title cue"}
    used = check(title="Mapping landslides with a new inventory")
    assert fired(used) == {"title cue used"}
    assert used.reasons == ("title mentions 'inventory' only as data it uses: 'with a new inventory'",)


def test_the_title_announcement_is_not_counted_again_as_a_cue():
    verdict = check(title="Dataset: A database of glaciers")
    assert fired(verdict) == {"title announces data", "title cue"}
    assert verdict.reasons == ("title announces data: 'Dataset:'", "title mentions 'database'")
    alone = check(title="Dataset: Glaciers of Svalbard")
    assert alone.reasons == ("title announces data: 'Dataset:'",)


def test_markup_in_a_title_is_no_part_of_its_words():
    verdict = check(title="A <i>data</i>base of <b>glaciers</b>")
    assert verdict.reasons == ("title mentions 'database'",)


def test_markup_in_an_abstract_separates_words():
    verdict = check(abstract="Glaciers<br/>dataset<p>of 2020</p>")
    assert verdict.reasons == ("abstract mentions 'dataset'",)


def test_an_abstract_introducing_data_and_mentioning_cues_gets_both_signals():
    verdict = check(abstract="We  present\n a new atlas of glaciers, with a catalogue and a cohort and a corpus.")
    assert verdict.reasons == (
        "abstract introduces data: 'We present a new atlas'",
        "abstract mentions 'atlas', 'catalogue', 'cohort' and 'corpus'",
    )
    assert verdict.confidence == pytest.approx(1 - 0.5 * 0.85**3, abs=1e-4)
    assert verdict.passed


def test_a_deposit_describes_itself_only_at_the_opening_of_its_description():
    opening = "This data set contains glacier outlines."
    assert fired(check(abstract=opening)) == {"abstract introduces data", "abstract cue"}
    late = "x " * 150 + opening
    assert "abstract introduces data" not in fired(check(abstract=late))


def test_the_words_at_the_edge_of_the_opening_still_count():
    # DESCRIPTION_OPENING characters are searched: a self-description ending at the last one counts.
    phrase = "This deposit contains"
    edge = "x" * (papers.datapaper.DESCRIPTION_OPENING - len(phrase) - 1) + " " + phrase
    assert len(edge) == papers.datapaper.DESCRIPTION_OPENING
    assert check(abstract=edge).reasons == ("abstract describes a deposit: 'This deposit contains'",)
    # Past the opening, the verb is not seen.
    assert check(abstract="x" * len(" contains") + edge).signals == ()


def test_a_general_repository_needs_a_repository_source_too():
    assert check(venue="Zenodo", source_type="journal").signals == ()
    assert fired(check(venue="Zenodo", source_type=" Repository ")) == {"general repository"}


def test_a_data_repository_named_like_a_general_one_counts_as_a_data_repository():
    verdict = check(venue="Zenodo Data Services", source_type="repository")
    assert fired(verdict) == {"data repository"}


def test_a_venue_name_is_shown_with_its_whitespace_collapsed():
    verdict = check(venue="  Scientific \n Data ")
    assert verdict.reasons == ("published in the data journal Scientific Data",)


def test_a_signal_says_how_often_it_counts_only_when_more_than_once():
    once = papers.datapaper.Signal("title cue", "title mentions 'atlas'", 0.6)
    twice = papers.datapaper.Signal("abstract cue", "abstract mentions 'atlas' and 'corpus'", 0.15, 2)
    assert str(once) == "title mentions 'atlas' (0.60)"
    assert str(twice) == "abstract mentions 'atlas' and 'corpus' (2 x 0.15)"


def test_signals_combine_as_a_noisy_or_rounded_to_four_places():
    signal = papers.datapaper.Signal
    assert combine([]) == 0
    assert combine([signal("a", "a", 0.5), signal("b", "b", 0.5)]) == 0.75
    assert combine([signal("a", "a", 0.15, 3)]) == round(1 - 0.85**3, 4) == 0.3859
    assert combine([signal("a", "a", 1 / 3)]) == 0.3333


# The threshold edge


def test_just_under_half_fails_and_half_passes():
    # 1 - (1 - 0.45)(1 - 0.15) = 0.5325 passes; 0.45 alone does not; 0.5 exactly does.
    assert check(title='Supplementary material from "Sabah tomography"').passed is False
    assert check(title='Supplementary material from "Sabah tomography"', abstract="A dataset.").passed is True
    assert check(abstract="This file contains the borehole logs.").confidence == PASS_AT
    assert check(abstract="This file contains the borehole logs.").passed is True


@pytest.mark.parametrize("never", sorted(NEVER_DATA_PAPERS))
def test_a_never_data_type_keeps_the_reasons_it_would_have_had(never):
    verdict = check(type=never, title="A database of river chemistry")
    assert verdict.reasons == ("title mentions 'database'", f"OpenAlex type is {never}, which never shares data itself")
    assert fired(verdict) == {"title cue"}


def test_a_failed_check_says_passed_is_false_not_merely_falsy():
    assert check(title="Localization of intraplate deformation").passed is False
    assert check(type="retraction", title="A database of river chemistry").passed is False


def test_the_words_after_a_title_announcement_keep_their_own_cues():
    verdict = check(title='Data "Atlas of Svalbard glaciers"')
    assert verdict.reasons == ("title announces data: 'Data \"'", "title mentions 'atlas'")


def test_a_place_called_atlas_does_not_hide_the_cues_after_it():
    verdict = check(title="The High Atlas fault database")
    assert fired(verdict) == {"title cue"}
    assert verdict.reasons == ("title mentions 'database'", "'High Atlas' is a place name, not an atlas")


def test_only_the_clause_breaks_before_a_cue_decide_its_clause():
    verdict = check(title="Mapping landslides with a new inventory: methods and results")
    assert fired(verdict) == {"title cue used"}
    assert verdict.reasons == ("title mentions 'inventory' only as data it uses: 'with a new inventory'",)
