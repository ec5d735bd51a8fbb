import copy
import gzip
import json
from datetime import date

import pytest

from papers.models import Author as AuthorRow
from papers.models import Work
from papers.openalex.records import (
    CAPS,
    IDENTIFIER_CAPS,
    Author,
    RecordError,
    Truncation,
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
    assert work.authors == ((7, "Ada", "https://orcid.org/0000-0001"), (9, "Bea", ""))
    assert work.authors[0] == Author(id=7, display_name="Ada", orcid="https://orcid.org/0000-0001")


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
    }
    identifiers = {"doi": Work._meta.get_field("doi"), "orcid": AuthorRow._meta.get_field("orcid")}
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
