import copy
import gzip
import json
from datetime import date

import pytest

from papers.openalex.records import Author, RecordError, normalize_doi, openalex_number, parse_work
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
