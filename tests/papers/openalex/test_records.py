import copy
import gzip
import json
from datetime import date

import pytest

from papers.models import Author as AuthorRow
from papers.models import Authorship, Work
from papers.models import Institution as InstitutionRow
from papers.openalex import records
from papers.openalex.records import (
    CAPS,
    IDENTIFIER_CAPS,
    Author,
    PrimaryTopic,
    RecordError,
    Truncation,
    clean_text,
    normalize_doi,
    openalex_number,
    parse_work,
)
from tests.conftest import API_DIR, SNAPSHOT

REFERENCES_PAGE = API_DIR / "snowball_references_cited_by_W3046863325_or_W3045921891.json"


def raw_works():
    for path in sorted(API_DIR.glob("*.json")):
        for work in json.loads(path.read_text())["results"]:
            yield path.name, work
    with gzip.open(SNAPSHOT, "rt") as lines:
        for number, line in enumerate(lines, start=1):
            yield f"snapshot:{number}", json.loads(line)


@pytest.fixture(scope="module")
def real():
    return {work["id"].rsplit("/", 1)[-1]: work for _, work in raw_works()}


def minimal(**fields):
    return {"id": "https://openalex.org/W1", "cited_by_count": 0, "referenced_works_count": 0, **fields}


def test_it_parses_every_real_record():
    parsed = [parse_work(work) for _, work in raw_works()]
    assert len(parsed) == 3_684 + 220


def test_it_reads_the_fields_of_a_full_record(real):
    raw = real["W3045921891"]
    work = parse_work(raw)
    assert work.id == 3045921891
    assert work.openalex_id == "W3045921891"
    assert work.doi == normalize_doi(raw["doi"])
    assert work.title == raw["title"]
    assert work.cited_by_count == raw["cited_by_count"]
    assert work.referenced_works_count == raw["referenced_works_count"]
    assert work.venue == raw["primary_location"]["source"]["display_name"]
    assert work.is_oa == raw["open_access"]["is_oa"]
    assert work.oa_status == raw["open_access"]["oa_status"]
    assert work.topics == [topic["display_name"] for topic in raw["topics"]]
    assert work.indexed_in == raw["indexed_in"]
    assert work.openalex_updated == date.fromisoformat(raw["updated_date"][:10])
    assert [author.id for author in work.authors] == [
        openalex_number(a["author"]["id"]) for a in raw["authorships"] if a["author"]["id"]
    ]


def test_it_keeps_the_empty_title_of_bert(real):
    raw = real["W2963341956"]
    assert raw["title"] == "" and raw["display_name"] == ""
    work = parse_work(raw)
    assert work.title == ""
    assert work.doi == "10.18653/v1/n19-1423"


def test_it_falls_back_to_the_display_name_when_the_title_is_null():
    assert parse_work(minimal(title=None, display_name="Shown name")).title == "Shown name"


def test_it_keeps_markup_in_titles_raw(real):
    titled = [work for work in real.values() if "<sub>" in (work["title"] or "")]
    assert titled
    assert parse_work(titled[0]).title == titled[0]["title"].strip()


def test_it_decodes_html_entities_in_titles_even_when_encoded_twice():
    raw = minimal(title="R&amp;D of CO&amp;lt;sub&amp;gt;2&amp;lt;/sub&amp;gt; storage\u00a0")
    assert parse_work(raw).title == "R&D of CO<sub>2</sub> storage"


def test_it_cleans_entities_and_typed_in_escapes_out_of_a_real_abstract(real):
    abstract = parse_work(real["W1500530942"]).abstract
    assert "scientific investigations. It therefore seeks" in abstract
    assert "&#13;" not in abstract
    assert "\\n" not in abstract


def test_it_rebuilds_the_abstract_by_sorting_positions():
    raw = minimal(abstract_inverted_index={"world": [1], "Hello": [0], "again": [3], "hello": [2]})
    assert parse_work(raw).abstract == "Hello world hello again"


def test_it_reads_a_null_abstract_as_empty(real):
    raw = next(work for work in real.values() if work["abstract_inverted_index"] is None)
    assert parse_work(raw).abstract == ""


def test_it_survives_a_null_primary_location_or_source():
    assert parse_work(minimal(primary_location=None)).venue == ""
    assert parse_work(minimal(primary_location={"source": None})).venue == ""


def test_it_reads_the_venue_of_an_older_schema_record():
    assert parse_work(minimal(host_venue={"display_name": "Nature"})).venue == "Nature"


def test_it_keeps_a_referenced_works_count_of_zero(real):
    raw = next(work for work in real.values() if work["referenced_works_count"] == 0)
    assert parse_work(raw).referenced_works_count == 0


def test_it_takes_r_q_from_the_count_not_the_list():
    raw = minimal(referenced_works=["https://openalex.org/W2"], referenced_works_count=40)
    assert parse_work(raw).referenced_works_count == 40


def test_it_counts_the_list_when_an_older_record_has_no_count():
    raw = {"id": "W1", "cited_by_count": 3, "referenced_works": ["W2", "W3"]}
    assert parse_work(raw).referenced_works_count == 2


def test_it_drops_duplicate_and_self_references(real):
    raw = minimal(referenced_works=["https://openalex.org/W5", "W1", "w5", "https://openalex.org/W3"])
    assert parse_work(raw).referenced_ids == (5, 3)
    self_citing = real["W1980631102"]
    assert self_citing["id"] in self_citing["referenced_works"]
    assert 1980631102 not in parse_work(self_citing).referenced_ids


def test_it_skips_authors_without_an_id_and_repeated_authors():
    authorships = [
        {"author": {"id": "https://openalex.org/A7", "display_name": "Ada", "orcid": "https://orcid.org/0000-0001"}},
        {"author": {"id": None, "display_name": "Nobody", "orcid": "https://orcid.org/0000-0002"}},
        {"author": {"id": "https://openalex.org/A9", "display_name": "Bea", "orcid": None}},
        {"author": {"id": "https://openalex.org/A7", "display_name": "Ada again", "orcid": None}},
    ]
    work = parse_work(minimal(authorships=authorships))
    assert [(author.id, author.display_name, author.orcid) for author in work.authors] == [
        (7, "Ada", "https://orcid.org/0000-0001"),
        (9, "Bea", ""),
    ]
    assert work.authors[0] == Author(id=7, display_name="Ada", orcid="https://orcid.org/0000-0001")
    assert work.unidentified_authors == 1


def test_it_notes_a_truncated_author_list():
    assert parse_work(minimal(is_authors_truncated=True)).authors_truncated


def test_it_lists_repository_locations_only():
    locations = [
        {"landing_page_url": "https://doi.org/10.1/x", "source": {"display_name": "J", "type": "journal"}},
        {
            "landing_page_url": None,
            "pdf_url": "https://repo.org/x.pdf",
            "source": {"display_name": "R", "type": "repository"},
        },
        {"landing_page_url": None, "pdf_url": None, "source": None},
    ]
    assert parse_work(minimal(locations=locations)).repository_locations == [
        {"source": "R", "url": "https://repo.org/x.pdf"}
    ]


def test_a_record_is_frozen():
    work = parse_work(minimal())
    with pytest.raises(AttributeError):
        work.title = "changed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "not an OpenAlex work id"),
        ({"id": "https://openalex.org/A5"}, "not an OpenAlex work id"),
        ({"id": "W0"}, "not an OpenAlex work id"),
        ({"cited_by_count": -1}, "negative"),
        ({"cited_by_count": 2.5}, "whole number"),
        ({"cited_by_count": True}, "whole number"),
        ({"cited_by_count": None}, "missing"),
        ({"referenced_works_count": "12"}, "whole number"),
        ({"referenced_works": ["not an id"]}, "referenced_works"),
        ({"referenced_works": "W2"}, "must be a list"),
        ({"title": 5}, "title must be a string"),
        ({"doi": "https://doi.org/garbage"}, "doi"),
        ({"authorships": [{"author": {"id": "https://openalex.org/W3"}}]}, "author id"),
        ({"abstract_inverted_index": {"word": "0"}}, "abstract_inverted_index"),
        ({"publication_year": "2020"}, "publication_year"),
        ({"updated_date": "yesterday"}, "updated_date"),
        ({"is_retracted": "no"}, "is_retracted"),
    ],
)
def test_it_rejects_a_malformed_record_with_a_clear_message(change, message):
    with pytest.raises(RecordError, match=message):
        parse_work({**minimal(), **change})


def test_it_rejects_what_is_not_an_object():
    with pytest.raises(RecordError, match="JSON object"):
        parse_work(["W1"])


def test_it_does_not_change_the_raw_record(real):
    raw = real["W3046863325"]
    before = copy.deepcopy(raw)
    parse_work(raw)
    assert raw == before


@pytest.mark.parametrize(
    "text",
    [
        "10.1109/CVPR.2009.5206848",
        "doi:10.1109/cvpr.2009.5206848",
        "DOI: 10.1109/cvpr.2009.5206848",
        "https://doi.org/10.1109/CVPR.2009.5206848",
        "http://dx.doi.org/10.1109/cvpr.2009.5206848",
        "  https://www.doi.org/10.1109/cvpr.2009.5206848 ",
    ],
)
def test_it_normalizes_every_form_of_a_doi(text):
    assert normalize_doi(text) == "10.1109/cvpr.2009.5206848"


def test_it_decodes_a_doi_copied_from_an_address_bar():
    assert normalize_doi("https://doi.org/10.1002/%28SICI%291097") == "10.1002/(sici)1097"


@pytest.mark.parametrize("text", ["", "cvpr.2009", "https://example.org/10.1/x", "10.1/x", "10.1109/", "11.1109/x"])
def test_it_refuses_what_is_not_a_doi(text):
    with pytest.raises(ValueError, match="not a DOI"):
        normalize_doi(text)


@pytest.mark.parametrize(
    ("key", "number"),
    [("W2108598243", 2108598243), ("w2108598243", 2108598243), ("https://openalex.org/W2108598243", 2108598243)],
)
def test_it_reads_the_number_of_an_openalex_id(key, number):
    assert openalex_number(key) == number


def test_it_checks_the_kind_of_an_openalex_id_when_asked():
    assert openalex_number("https://openalex.org/A5", kind="A") == 5
    with pytest.raises(ValueError, match="not an OpenAlex W id"):
        openalex_number("A5", kind="W")


def test_it_reads_the_primary_topic_down_to_the_domain(real):
    topic = parse_work(real["W3045921891"]).primary_topic
    raw = real["W3045921891"]["primary_topic"]

    assert topic.subfield == (int(raw["subfield"]["id"].rsplit("/", 1)[-1]), raw["subfield"]["display_name"])
    assert topic.topic[0] == int(raw["id"].rsplit("T", 1)[-1])
    assert topic.domain[1] == raw["domain"]["display_name"]


def test_a_missing_or_partial_primary_topic_is_none_never_half_a_topic():
    assert parse_work(minimal()).primary_topic is None
    assert parse_work(minimal(primary_topic=None)).primary_topic is None
    partial = {"id": "https://openalex.org/T1", "display_name": "T", "subfield": None, "field": None, "domain": None}
    assert parse_work(minimal(primary_topic=partial)).primary_topic is None
    with pytest.raises(RecordError, match="primary_topic"):
        parse_work(minimal(primary_topic="Geophysics"))


def test_it_reads_the_source_type_of_the_primary_location():
    repository = {"source": {"display_name": "Zenodo", "type": "repository"}}

    assert parse_work(minimal(primary_location=repository)).source_type == "repository"
    assert parse_work(minimal(primary_location={"source": None})).source_type == ""


# Over-long fields


def test_every_cap_fits_the_column_that_holds_the_field():
    columns = {
        "venue": Work._meta.get_field("venue"),
        "type": Work._meta.get_field("type"),
        "oa_status": Work._meta.get_field("oa_status"),
        "license": Work._meta.get_field("license"),
        "source_type": Work._meta.get_field("source_type"),
        "author_name": AuthorRow._meta.get_field("display_name"),
        "author_position": Authorship._meta.get_field("author_position"),
        "institution_name": InstitutionRow._meta.get_field("display_name"),
        "institution_type": InstitutionRow._meta.get_field("type"),
    }
    identifiers = {
        "doi": Work._meta.get_field("doi"),
        "orcid": AuthorRow._meta.get_field("orcid"),
        "ror": InstitutionRow._meta.get_field("ror"),
        "country_code": InstitutionRow._meta.get_field("country_code"),
    }
    for kind, column in columns.items():
        assert CAPS[kind] <= column.max_length, kind
    for kind, column in identifiers.items():
        assert IDENTIFIER_CAPS[kind] <= column.max_length, kind
    assert (CAPS["title"], CAPS["abstract"]) == (2_000, 100_000)


def test_an_over_long_title_is_cut_to_its_cap_and_noted():
    work = parse_work(minimal(title="x" * 52_428_800))
    assert work.title == "x" * 2_000
    assert work.truncated == (Truncation("title", 52_428_800, 2_000),)
    assert str(work.truncated[0]) == "title cut to 2,000 characters (the record's title had 52,428,800)"


def test_a_title_at_its_cap_is_kept_whole_and_the_cap_counts_characters_not_bytes():
    title = "é" * 1_999 + "\U0001f600"
    work = parse_work(minimal(title=title))
    assert work.title == title
    assert work.truncated == ()


def test_every_text_field_is_kept_to_its_cap_and_an_identifier_past_its_cap_is_dropped():
    long_orcid = "https://orcid.org/" + "0" * 200
    raw = minimal(
        doi="10.1234/" + "d" * 300,
        abstract_inverted_index={"word": list(range(60_000))},
        primary_location={"source": {"display_name": "V" * 600, "type": "journal" * 10}, "license": "L" * 150},
        type="t" * 60,
        open_access={"is_oa": True, "oa_status": "gold" * 10},
        indexed_in=["crossref", "i" * 101],
        topics=[{"display_name": ""}, {"display_name": "T" * 501}],
        locations=[
            {"source": {"type": "journal", "display_name": "J" * 900}},
            {"source": {"type": "repository", "display_name": "R" * 501}, "pdf_url": "https://r.org/" + "p" * 2_000},
        ],
        authorships=[
            {"author": {"id": None, "display_name": "N" * 900}},
            {"author": {"id": "A5", "display_name": "A" * 501, "orcid": long_orcid}},
            {"author": {"id": "A5", "display_name": "B" * 900}},
        ],
    )
    work = parse_work(raw)
    assert {(cut.field, cut.length, cut.cap, cut.dropped) for cut in work.truncated} == {
        ("doi", 308, 255, True),
        ("abstract", 60_000 * 5 - 1, 100_000, False),
        ("venue", 600, 500, False),
        ("type", 60, 50, False),
        ("oa_status", 40, 20, False),
        ("indexed_in[2]", 101, 100, False),
        ("topics[2].display_name", 501, 500, False),
        ("locations[2].source.display_name", 501, 500, False),
        ("locations[2].pdf_url", 2_014, 2_000, True),
        ("authorships[2].author.display_name", 501, 500, False),
        ("authorships[2].author.orcid", len(long_orcid), 100, True),
        ("license", 150, 100, False),
        ("source_type", 70, 30, False),
    }
    assert work.doi == ""
    assert len(work.abstract) == 100_000
    assert (work.venue, work.type, work.oa_status, work.license) == ("V" * 500, "t" * 50, "gold" * 5, "L" * 100)
    assert work.source_type == ("journal" * 10)[:30]
    assert work.indexed_in == ["crossref", "i" * 100]
    assert work.topics == ["T" * 500]
    assert work.repository_locations == [{"source": "R" * 500, "url": ""}]
    assert work.authors == (Author(id=5, display_name="A" * 500, orcid=""),)
    assert str(next(cut for cut in work.truncated if cut.field == "doi")) == (
        "doi dropped: it had 308 characters, more than the 255 kept"
    )


def test_the_names_of_the_primary_topic_are_kept_to_their_cap():
    level = {"id": "https://openalex.org/subfields/2211", "display_name": "S" * 700}
    topic = {"id": "T1", "display_name": "Topic", "subfield": level, "field": level, "domain": level}
    work = parse_work(minimal(primary_topic=topic))
    assert work.primary_topic.subfield == (2211, "S" * 500)
    assert [cut.field for cut in work.truncated] == [
        "primary_topic.subfield.display_name",
        "primary_topic.field.display_name",
        "primary_topic.domain.display_name",
    ]


def test_an_error_message_never_repeats_a_huge_value():
    with pytest.raises(RecordError) as error:
        parse_work(minimal(id="W" + "x" * 10_000_000))
    assert len(str(error.value)) < 200
    assert "10,000,001 characters" in str(error.value)
    with pytest.raises(RecordError, match=r"doi: 'x{10}") as error:
        parse_work(minimal(doi="x" * 1_000))
    assert len(str(error.value)) < 200


# The flags: true only when the record says true


FLAGS = {
    "is_retracted": (lambda value: {"is_retracted": value}, "is_retracted"),
    "is_authors_truncated": (lambda value: {"is_authors_truncated": value}, "authors_truncated"),
    "open_access.is_oa": (lambda value: {"open_access": {"is_oa": value, "oa_status": "closed"}}, "is_oa"),
}


@pytest.mark.parametrize("flag", FLAGS)
def test_it_reads_a_null_flag_as_false(flag):
    fields, attribute = FLAGS[flag]
    assert getattr(parse_work(minimal(**fields(None))), attribute) is False


@pytest.mark.parametrize("flag", FLAGS)
def test_it_reads_a_missing_flag_as_false(flag):
    assert getattr(parse_work(minimal()), FLAGS[flag][1]) is False


@pytest.mark.parametrize("flag", FLAGS)
def test_it_reads_a_false_flag_as_false_and_a_true_one_as_true(flag):
    fields, attribute = FLAGS[flag]
    assert getattr(parse_work(minimal(**fields(False))), attribute) is False
    assert getattr(parse_work(minimal(**fields(True))), attribute) is True


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("value", ["false", 0, 1])
def test_it_rejects_a_flag_that_is_not_true_or_false_naming_it(flag, value):
    fields, _ = FLAGS[flag]
    with pytest.raises(RecordError) as error:
        parse_work(minimal(**fields(value)))
    assert str(error.value) == f"{flag} must be true or false, not {value!r}"


def test_it_reads_a_null_is_retracted_as_false():
    assert parse_work(minimal(is_retracted=None)).is_retracted is False


def test_it_reads_a_null_is_authors_truncated_as_false():
    assert parse_work(minimal(is_authors_truncated=None)).authors_truncated is False


def test_it_reads_a_null_open_access_as_closed():
    work = parse_work(minimal(open_access=None))
    assert (work.is_oa, work.oa_status) == (False, "")


# Every other field, absent or null, and what a malformed one is told


def test_a_minimal_record_reads_as_empty_fields():
    work = parse_work(minimal())
    assert work == records.WorkRecord(
        id=1,
        doi="",
        title="",
        abstract="",
        publication_year=None,
        venue="",
        type="",
        cited_by_count=0,
        referenced_works_count=0,
        is_oa=False,
        oa_status="",
        is_retracted=False,
        indexed_in=[],
        topics=[],
        repository_locations=[],
        openalex_updated=None,
        authors=(),
        authors_truncated=False,
        referenced_ids=(),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "W-1"}, "id 'W-1' is not an OpenAlex work id (W…)"),
        ({"open_access": [True]}, "open_access must be an object, not list"),
        ({"open_access": {"oa_status": 3}}, "open_access.oa_status must be a string, not int"),
        ({"primary_location": "Zenodo"}, "primary_location must be an object, not str"),
        ({"primary_location": {"source": "Zenodo"}}, "primary_location.source must be an object, not str"),
        (
            {"primary_location": {"source": {"display_name": 5}}},
            "primary_location.source.display_name must be a string, not int",
        ),
        ({"primary_location": {"source": {"type": 5}}}, "primary_location.source.type must be a string, not int"),
        ({"host_venue": {"display_name": 4}}, "host_venue.display_name must be a string, not int"),
        ({"authorships": ["A1"]}, "authorships[1] must be an object"),
        ({"authorships": [{"author": "A1"}]}, "authorships[1].author must be an object, not str"),
        (
            {"authorships": [{"author": {"id": "W3"}}]},
            "authorships[1].author.id 'W3' is not an OpenAlex author id (A…)",
        ),
        (
            {"authorships": [{"author": {"id": "A3", "display_name": 3}}]},
            "authorships[1].author.display_name must be a string, not int",
        ),
        (
            {"authorships": [{"author": {"id": "A3", "orcid": 3}}]},
            "authorships[1].author.orcid must be a string, not int",
        ),
        ({"authorships": "A1"}, "authorships must be a list, not str"),
        ({"topics": ["Geology"]}, "topics[1] must be an object"),
        (
            {"topics": [{"display_name": "Geology"}, {"display_name": 4}]},
            "topics[2].display_name must be a string, not int",
        ),
        ({"locations": ["x"]}, "locations[1] must be an object"),
        ({"locations": [{"source": 3}]}, "locations[1].source must be an object, not int"),
        (
            {"locations": [{"source": {"type": "repository"}, "pdf_url": 5}]},
            "locations[1] has a URL that is not a string",
        ),
        (
            {"locations": [{"source": {"type": "repository", "display_name": 5}}]},
            "locations[1].source.display_name must be a string, not int",
        ),
        ({"indexed_in": ["crossref", 3]}, "indexed_in[2] must be a string, not int"),
        ({"indexed_in": "crossref"}, "indexed_in must be a list, not str"),
        ({"datasets": "W2"}, "datasets must be a list, not str"),
        (
            {"abstract_inverted_index": [["word", 0]]},
            "abstract_inverted_index must be an object of {word: [positions]}",
        ),
        ({"abstract_inverted_index": {"w": 0}}, "abstract_inverted_index['w'] must be a list of positions"),
        ({"abstract_inverted_index": {"w": [0, True]}}, "abstract_inverted_index['w'] must be a list of positions"),
        ({"abstract_inverted_index": {"w": [0.0]}}, "abstract_inverted_index['w'] must be a list of positions"),
        ({"publication_year": True}, "publication_year True is not a year"),
        ({"publication_year": -1}, "publication_year -1 is not a year"),
        ({"publication_year": 32768}, "publication_year 32768 is not a year"),
        ({"publication_year": 2020.0}, "publication_year 2020.0 is not a year"),
        ({"updated_date": 20200101}, "updated_date 20200101 is not a date"),
        ({"updated_date": "2020-13-01"}, "updated_date '2020-13-01' is not a date"),
        ({"cited_by_count": -3}, "cited_by_count -3 is negative"),
        ({"cited_by_count": "1"}, "cited_by_count '1' is not a whole number"),
        ({"cited_by_count": None}, "cited_by_count is missing"),
        ({"referenced_works_count": -2}, "referenced_works_count -2 is negative"),
        ({"referenced_works_count": 2.0}, "referenced_works_count 2.0 is not a whole number"),
        ({"referenced_works": [5]}, "referenced_works holds 5, which is not an OpenAlex work id"),
        ({"referenced_works": ["W2", "A3"]}, "referenced_works holds 'A3', which is not an OpenAlex work id"),
        ({"type": 3}, "type must be a string, not int"),
        ({"title": ["x"]}, "title must be a string, not list"),
        ({"title": None, "display_name": 3}, "display_name must be a string, not int"),
        ({"doi": 5}, "doi: 5 is not a DOI"),
        ({"doi": "10.1/x"}, "doi: '10.1/x' is not a DOI (expected 10.<registrant>/<suffix>)"),
        (
            {"primary_topic": {"id": "T1", "display_name": 3, "subfield": {}, "field": {}, "domain": {}}},
            "primary_topic.topic.display_name must be a string, not int",
        ),
        ({"primary_topic": ["T1"]}, "primary_topic must be an object"),
    ],
)
def test_it_says_exactly_which_field_is_malformed_and_how(change, message):
    with pytest.raises(RecordError) as error:
        parse_work({**minimal(), **change})
    assert str(error.value) == message


def test_a_record_without_an_id_says_so():
    with pytest.raises(RecordError) as error:
        parse_work({"cited_by_count": 0})
    assert str(error.value) == "id None is not an OpenAlex work id (W…)"


def test_it_names_the_type_of_what_is_not_an_object():
    with pytest.raises(RecordError) as error:
        parse_work("W1")
    assert str(error.value) == "a work must be a JSON object, not str"


def test_it_reads_a_work_id_in_any_case_and_with_a_trailing_slash():
    assert parse_work(minimal(id="w7")).id == 7
    assert parse_work(minimal(id=" https://openalex.org/W7/ ")).id == 7


def test_the_years_0_and_32767_are_years_and_a_null_year_is_none():
    assert parse_work(minimal(publication_year=0)).publication_year == 0
    assert parse_work(minimal(publication_year=32767)).publication_year == 32767
    assert parse_work(minimal(publication_year=None)).publication_year is None


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("2025-11-14T05:43:12.345678", date(2025, 11, 14)),
        ("2020-01-02", date(2020, 1, 2)),
        ("", None),
        (None, None),
    ],
)
def test_it_reads_the_updated_date_of_a_snapshot_or_an_older_record(value, read):
    assert parse_work(minimal(updated_date=value)).openalex_updated == read


def test_counts_of_zero_are_counts():
    work = parse_work(minimal(cited_by_count=0, referenced_works_count=0, referenced_works=["W2"]))
    assert (work.cited_by_count, work.referenced_works_count) == (0, 0)


def test_a_null_or_empty_doi_reads_as_no_doi():
    assert parse_work(minimal(doi=None)).doi == ""
    assert parse_work(minimal(doi="")).doi == ""
    assert parse_work(minimal(doi="https://doi.org/10.1234/ABC")).doi == "10.1234/abc"


def test_it_decodes_entities_twice_and_no_more():
    assert clean_text("AT&amp;amp;T") == "AT&T"
    assert clean_text("AT&amp;amp;amp;T") == "AT&amp;T"


def test_it_turns_typed_in_escapes_and_runs_of_whitespace_into_one_space():
    assert clean_text("  one\\ntwo\\rthree\\tfour \n five\\x ") == "one two three four five\\x"


def test_it_decodes_the_entities_of_an_abstract_and_keeps_its_empty_words_out():
    raw = minimal(abstract_inverted_index={"R&amp;D": [0], "": [1], "works": [2]})
    assert parse_work(raw).abstract == "R&D works"
    assert parse_work(minimal(abstract_inverted_index={})).abstract == ""


def test_a_primary_location_beats_an_older_host_venue():
    raw = minimal(primary_location={"source": {"display_name": "Geology"}}, host_venue={"display_name": "Old"})
    assert parse_work(raw).venue == "Geology"
    assert parse_work(minimal(primary_location=None, host_venue={"display_name": "Old"})).venue == ""
    assert parse_work(minimal(host_venue=None)).venue == ""
    assert parse_work(minimal(host_venue="Old")).venue == ""


def test_the_licence_comes_from_the_primary_location_then_the_best_open_copy():
    primary = {"license": "cc-by"}
    best = {"license": "cc0"}
    assert parse_work(minimal(primary_location=primary, best_oa_location=best)).license == "cc-by"
    assert parse_work(minimal(primary_location={"license": ""}, best_oa_location=best)).license == "cc0"
    assert parse_work(minimal(primary_location={"license": None}, best_oa_location=best)).license == "cc0"
    assert parse_work(minimal(primary_location=None, best_oa_location=best)).license == "cc0"
    assert parse_work(minimal(primary_location={"license": 5}, best_oa_location=None)).license == ""
    assert parse_work(minimal()).license == ""


def test_it_keeps_the_work_ids_of_the_linked_datasets_and_drops_odd_entries():
    raw = minimal(datasets=["https://openalex.org/W5", "w6", "A7", None, 8, "W0", "https://openalex.org/W9"])
    assert parse_work(raw).datasets == ("W5", "W6", "W9")
    assert parse_work(minimal(datasets=None)).datasets == ()


def test_it_skips_topics_without_a_name():
    raw = minimal(topics=[{"display_name": None}, {"display_name": ""}, {"display_name": "Geology"}, {}])
    assert parse_work(raw).topics == ["Geology"]


def test_a_repository_location_takes_its_landing_page_before_its_pdf():
    def location(**fields):
        return {"source": {"display_name": "PANGAEA", "type": "repository"}, **fields}

    locations = [
        location(landing_page_url="https://pangaea.de/1", pdf_url="https://pangaea.de/1.pdf"),
        location(landing_page_url="", pdf_url="https://pangaea.de/2.pdf"),
        location(landing_page_url=None, pdf_url=None),
        {"source": {"display_name": "J", "type": "journal"}, "landing_page_url": "https://j.org/3"},
        {"landing_page_url": "https://nowhere.org/4"},
    ]
    assert parse_work(minimal(locations=locations)).repository_locations == [
        {"source": "PANGAEA", "url": "https://pangaea.de/1"},
        {"source": "PANGAEA", "url": "https://pangaea.de/2.pdf"},
        {"source": "PANGAEA", "url": ""},
    ]


def test_an_over_long_landing_page_url_is_dropped_under_its_own_name():
    locations = [{"source": {"type": "repository"}, "landing_page_url": "https://r.org/" + "p" * 2_000}]
    work = parse_work(minimal(locations=locations))
    assert work.repository_locations == [{"source": "", "url": ""}]
    assert work.truncated == (Truncation("locations[1].landing_page_url", 2_014, 2_000, dropped=True),)


def test_an_author_keeps_the_name_and_orcid_of_its_first_listing():
    authorships = [
        {"author": {"id": "A2", "display_name": None, "orcid": None}},
        {"author": {"id": "A2", "display_name": "Later", "orcid": "https://orcid.org/1"}},
        {"author": None},
        {},
    ]
    assert parse_work(minimal(authorships=authorships)).authors == (Author(id=2, display_name="", orcid=""),)


def test_an_identifier_at_its_cap_is_kept():
    doi = "10.1234/" + "d" * (255 - 8)
    work = parse_work(minimal(doi=doi))
    assert (work.doi, work.truncated) == (doi, ())


def test_the_whole_primary_topic_is_read_from_each_level():
    def level(kind, number, name):
        return {"id": f"https://openalex.org/{kind}/{number}", "display_name": name}

    topic = {
        "id": "https://openalex.org/T10399",
        "display_name": "Seismology",
        "subfield": level("subfields", 1908, "Geophysics"),
        "field": level("fields", 19, "Earth and Planetary Sciences"),
        "domain": level("domains", 3, "Physical Sciences"),
    }
    assert parse_work(minimal(primary_topic=topic)).primary_topic == PrimaryTopic(
        (10399, "Seismology"), (1908, "Geophysics"), (19, "Earth and Planetary Sciences"), (3, "Physical Sciences")
    )
    for broken in (
        {"subfield": {**topic["subfield"], "id": None}},
        {"subfield": {**topic["subfield"], "id": 1908}},
        {"field": {**topic["field"], "id": "https://openalex.org/fields/"}},
        {"domain": {**topic["domain"], "display_name": ""}},
        {"domain": {**topic["domain"], "display_name": None}},
        {"domain": "Physical Sciences"},
        {"id": "https://openalex.org/T"},
    ):
        assert parse_work(minimal(primary_topic={**topic, **broken})).primary_topic is None, broken


def test_a_truncation_says_what_was_cut():
    assert str(Truncation("abstract", 123_456, 100_000)) == (
        "abstract cut to 100,000 characters (the record's abstract had 123,456)"
    )
    assert str(Truncation("doi", 1_300, 255, dropped=True)) == (
        "doi dropped: it had 1,300 characters, more than the 255 kept"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("x" * 78, repr("x" * 78)),
        ("x" * 79, repr("x" * 79)[:79] + "… (a string of 79 characters)"),
        (list(range(40)), repr(list(range(40)))[:79] + "… (150 characters)"),
    ],
)
def test_an_error_message_shows_a_value_of_up_to_80_characters_whole(value, shown):
    assert records._shown(value) == shown


def test_an_over_long_malformed_doi_is_named_by_its_start():
    with pytest.raises(RecordError) as error:
        parse_work(minimal(doi="x" * 78))
    assert str(error.value) == f"doi: {'x' * 78!r} is not a DOI (expected 10.<registrant>/<suffix>)"
    with pytest.raises(RecordError) as error:
        parse_work(minimal(doi="x" * 79))
    assert str(error.value) == f"doi: {records._shown('x' * 79)} is not a DOI"


@pytest.mark.parametrize("key", ["W0", "W", "", "W12x", "12", None, 12])
def test_what_is_not_an_openalex_id_is_refused(key):
    with pytest.raises(ValueError) as error:
        openalex_number(key)
    assert str(error.value) == f"{key!r} is not an OpenAlex id"


def test_the_kind_of_an_openalex_id_is_checked_ignoring_case():
    assert openalex_number("w5", kind="W") == 5
    assert openalex_number("W5", kind="w") == 5
    with pytest.raises(ValueError) as error:
        openalex_number("A5", kind="W")
    assert str(error.value) == "'A5' is not an OpenAlex W id"


@pytest.mark.parametrize(
    ("text", "doi"),
    [
        ("doi.org/10.1002/%28SICI%29", "10.1002/(sici)"),
        ("dx.doi.org/10.1002/%28SICI%29", "10.1002/(sici)"),
        ("www.doi.org/10.1002/%28SICI%29", "10.1002/(sici)"),
        ("http://doi.org/10.1002/%28SICI%29", "10.1002/(sici)"),
        ("doi:10.1002/%28SICI%29", "10.1002/%28sici%29"),
        ("10.1002/%28SICI%29", "10.1002/%28sici%29"),
        ("10.1234.5/x", "10.1234.5/x"),
    ],
)
def test_only_a_doi_copied_from_an_address_is_percent_decoded(text, doi):
    assert normalize_doi(text) == doi


@pytest.mark.parametrize("text", [None, 10.1, "10.123/x"])
def test_a_doi_must_be_a_string_with_a_registrant_of_four_digits(text):
    with pytest.raises(ValueError) as error:
        normalize_doi(text)
    assert str(error.value).startswith(f"{text!r} is not a DOI")
