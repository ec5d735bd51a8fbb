"""Institutions, affiliations and the authorship's own fields (OpenAlex's author_position and
raw affiliation strings), as parse_work reads them from real records and as every way in —
files and the live API alike — stores them: institutions upserted, newest record winning;
an authorship's affiliations replaced as the authorships are; the authorships without an author
id counted on the work."""

import gzip
import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers.models import Affiliation, Authorship, Institution, Work
from papers.openalex.client import OpenAlexClient
from papers.openalex.ingest import load_records
from papers.openalex.records import Author, RecordError, Truncation, parse_work
from papers.openalex.records import Institution as InstitutionRecord
from papers.openalex.tracking import track_papers
from tests.conftest import API_DIR, GEOSCIENCE_ARABIA, SNAPSHOT

SHARED = (SNAPSHOT, GEOSCIENCE_ARABIA)
SEEDS = API_DIR / "snowball_seeds_W3045921891_W3046863325.json"
CITERS = API_DIR / "snowball_citers_cites_W3046863325_or_W3045921891.json"
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def raw_records(*paths: Path) -> list[dict]:
    return [json.loads(line) for path in paths for line in gzip.open(path)]


@pytest.fixture(scope="module")
def shared() -> dict[str, dict]:
    return {raw["id"].rsplit("/", 1)[-1]: raw for raw in raw_records(*SHARED)}


def minimal(**fields) -> dict:
    return {"id": "https://openalex.org/W1", "cited_by_count": 0, "referenced_works_count": 0, **fields}


def institution(number: int | None, **fields) -> dict:
    return {
        "id": number and f"https://openalex.org/I{number}",
        "display_name": f"Institution {number}",
        "ror": f"https://ror.org/0{number}",
        "country_code": "SA",
        "type": "education",
        "lineage": [f"https://openalex.org/I{number}"],
        **fields,
    }


def authorship(author: int | None, *institutions: dict, position="middle", raw=("Somewhere",)) -> dict:
    return {
        "author_position": position,
        "author": {"id": author and f"https://openalex.org/A{author}", "display_name": f"Author {author}"},
        "institutions": list(institutions),
        "raw_affiliation_strings": list(raw),
    }


def work(number: int, *authorships: dict, **fields) -> dict:
    return minimal(id=f"https://openalex.org/W{number}", authorships=list(authorships), **fields)


def load(*raws: dict) -> None:
    load_records([parse_work(raw) for raw in raws], corpus="none", fetched_at=NOW)


def affiliations() -> set[tuple[int, int, int]]:
    return set(Affiliation.objects.values_list("work_id", "author_id", "institution_id"))


# --- what a record says --------------------------------------------------------------------


def test_it_reads_each_authors_position_strings_and_institutions_from_a_real_record(shared):
    raw = shared["W2739240634"]
    parsed = parse_work(raw)
    assert [author.author_position for author in parsed.authors] == [a["author_position"] for a in raw["authorships"]]
    fourth = parsed.authors[3]
    assert fourth.raw_affiliations == (
        "Instituto Dom Luiz, Faculty of Sciences Lisbon University Lisbon Portugal",
        "Instituto Dom Luiz, Faculty of Sciences, Lisbon University, Lisbon, Portugal",
    )
    # OpenAlex gives the first no ROR and no type, the second no country.
    assert fourth.institutions == (
        InstitutionRecord(4210100009, "Iscte \N{EN DASH} Instituto Universitário de Lisboa", "PT", "", ""),
        InstitutionRecord(4387153538, "Instituto Dom Luiz", "", "https://ror.org/046ggxs83", "facility"),
    )


def test_it_counts_every_authorship_of_the_shared_files_once(shared):
    authorships = sum(len(raw["authorships"]) for raw in shared.values())
    parsed = [parse_work(raw) for raw in shared.values()]
    unidentified = sum(record.unidentified_authors for record in parsed)
    listed_twice = sum(
        len([a for a in raw["authorships"] if a["author"]["id"]])
        - len({a["author"]["id"] for a in raw["authorships"] if a["author"]["id"]})
        for raw in shared.values()
    )
    assert (authorships, unidentified, listed_twice) == (26_339, 75, 23)
    assert sum(len(record.authors) for record in parsed) == authorships - unidentified - listed_twice


def test_an_institution_openalex_could_not_identify_is_left_out(shared):
    raw = shared["W4242927272"]
    assert raw["authorships"][0]["institutions"] == [
        {"id": None, "display_name": None, "ror": None, "country_code": None, "type": None, "lineage": []}
    ]
    first = parse_work(raw).authors[0]
    assert first.institutions == ()
    assert first.raw_affiliations == (
        "Qatar Environment & Energy Research Institute (QEERI), Tel: +974 44547367, PO Box: 5825 Doha Qatar",
    )


def test_an_author_listed_twice_keeps_the_first_position_and_the_institutions_of_both(shared):
    raw = shared["W4406099889"]
    listings = [a for a in raw["authorships"] if a["author"]["id"] == "https://openalex.org/A5002974432"]
    assert [[i["display_name"] for i in a["institutions"]] for a in listings] == [
        ["Colorado School of Mines"],
        ["King Fahd University of Petroleum and Minerals"],
    ]
    [author] = [author for author in parse_work(raw).authors if author.id == 5002974432]
    assert author.author_position == listings[0]["author_position"]
    assert [i.display_name for i in author.institutions] == [
        "Colorado School of Mines",
        "King Fahd University of Petroleum and Minerals",
    ]


def test_an_institution_or_string_listed_again_is_kept_once_where_first_met():
    raw = work(
        1,
        authorship(7, institution(3), institution(4), raw=["Lab", "Dept &amp; Lab", " "], position="first"),
        authorship(7, institution(4, display_name="Renamed"), institution(5), raw=["Dept & Lab", "Other"]),
    )
    [author] = parse_work(raw).authors
    assert author.author_position == "first"
    assert [(i.id, i.display_name) for i in author.institutions] == [
        (3, "Institution 3"),
        (4, "Institution 4"),
        (5, "Institution 5"),
    ]
    # Cleaned as titles are (entities, runs of spaces), then each kept once; an empty one is none.
    assert author.raw_affiliations == ("Lab", "Dept & Lab", "Other")


def test_empty_or_null_fields_of_an_authorship_read_as_nothing():
    bare = {"author": {"id": "A7"}, "author_position": None, "institutions": None, "raw_affiliation_strings": None}
    record = parse_work(minimal(authorships=[bare, {"author": {"id": None}}, {}]))
    assert record.authors == (Author(7, "", ""),)
    assert record.unidentified_authors == 2


@pytest.mark.parametrize(
    ("authorships", "message"),
    [
        (
            [authorship(7), {**authorship(8), "author_position": 1}],
            "authorships[2].author_position must be a string, not int",
        ),
        (
            [{**authorship(7), "raw_affiliation_strings": "Lab"}],
            "authorships[1].raw_affiliation_strings must be a list, not str",
        ),
        (
            [authorship(7, raw=["Lab", None])],
            "authorships[1].raw_affiliation_strings[2] must be a string, not NoneType",
        ),
        ([{**authorship(7), "institutions": {"id": "I1"}}], "authorships[1].institutions must be a list, not dict"),
        ([authorship(7, institution(1), "I2")], "authorships[1].institutions[2] must be an object"),
        (
            [authorship(7), authorship(8), authorship(9, institution(1), institution(2, id="https://openalex.org/A2"))],
            "authorships[3].institutions[2].id 'https://openalex.org/A2' is not an OpenAlex institution id (I…)",
        ),
        (
            [authorship(7, institution(1, id=5))],
            "authorships[1].institutions[1].id 5 is not an OpenAlex institution id (I…)",
        ),
        (
            [authorship(7, institution(1, display_name=5))],
            "authorships[1].institutions[1].display_name must be a string, not int",
        ),
        (
            [authorship(7, institution(1, country_code=["SA"]))],
            "authorships[1].institutions[1].country_code must be a string, not list",
        ),
        ([authorship(7, institution(1, ror=True))], "authorships[1].institutions[1].ror must be a string, not bool"),
        ([authorship(7, institution(1, type={}))], "authorships[1].institutions[1].type must be a string, not dict"),
        # The second listing of an author is read as closely as the first.
        (
            [authorship(7), authorship(7, institution(1, id="I0"))],
            "authorships[2].institutions[1].id 'I0' is not an OpenAlex institution id (I…)",
        ),
    ],
)
def test_it_names_the_malformed_field_of_an_authorship_by_its_place(authorships, message):
    with pytest.raises(RecordError) as error:
        parse_work(minimal(authorships=authorships))
    assert str(error.value) == message


def test_what_an_authorship_without_an_author_id_holds_is_never_read():
    nobody = {"author": {"id": None}, "author_position": 5, "institutions": [None], "raw_affiliation_strings": [3]}
    record = parse_work(minimal(authorships=[nobody]))
    assert (record.authors, record.unidentified_authors) == ((), 1)


def test_over_long_fields_of_an_authorship_are_cut_or_dropped_and_named_by_their_place():
    long = institution(1, display_name="I" * 501, ror="https://ror.org/" + "r" * 90, country_code="SAU", type="t" * 51)
    raw = minimal(authorships=[authorship(7), authorship(8, long, position="p" * 11, raw=["Lab", "x" * 2_001])])
    record = parse_work(raw)
    assert record.truncated == (
        Truncation("authorships[2].author_position", 11, 10),
        Truncation("authorships[2].raw_affiliation_strings[2]", 2_001, 2_000),
        Truncation("authorships[2].institutions[1].display_name", 501, 500),
        Truncation("authorships[2].institutions[1].country_code", 3, 2, dropped=True),
        Truncation("authorships[2].institutions[1].ror", 106, 100, dropped=True),
        Truncation("authorships[2].institutions[1].type", 51, 50),
    )
    author = record.authors[1]
    assert (author.author_position, author.raw_affiliations) == ("p" * 10, ("Lab", "x" * 2_000))
    assert author.institutions == (InstitutionRecord(1, "I" * 500, "", "", "t" * 50),)


# --- what loading keeps --------------------------------------------------------------------


@pytest.mark.django_db
def test_loading_the_shared_files_keeps_every_institution_affiliation_and_authorship_field(shared):
    call_command("load_openalex", *map(str, SHARED), stdout=StringIO(), stderr=StringIO())
    parsed = [parse_work(raw) for raw in shared.values()]
    assert set(Affiliation.objects.values_list("work_id", "author_id", "institution_id")) == {
        (record.id, author.id, held.id)
        for record in parsed
        for author in record.authors
        for held in author.institutions
    }
    assert Affiliation.objects.count() == 23_052
    assert Institution.objects.count() == len(
        {held.id for record in parsed for author in record.authors for held in author.institutions}
    )
    assert set(Authorship.objects.values_list("work_id", "author_id", "position", "author_position")) == {
        (record.id, author.id, position, author.author_position)
        for record in parsed
        for position, author in enumerate(record.authors, start=1)
    }
    held = Authorship.objects.get(work_id=2739240634, author_id=parse_work(shared["W2739240634"]).authors[3].id)
    assert held.raw_affiliations == list(parse_work(shared["W2739240634"]).authors[3].raw_affiliations)
    assert dict(Work.objects.values_list("id", "unidentified_authors")) == {
        record.id: record.unidentified_authors for record in parsed
    }
    assert sum(Work.objects.values_list("unidentified_authors", flat=True)) == 75
    kfupm = Institution.objects.get(id=134085113)
    assert (kfupm.display_name, kfupm.country_code, kfupm.ror, kfupm.type) == (
        "King Fahd University of Petroleum and Minerals",
        "SA",
        "https://ror.org/03yez3163",
        "education",
    )


@pytest.mark.django_db
def test_a_reloaded_work_replaces_its_affiliations_and_keeps_the_rows_it_still_lists():
    load(work(1, authorship(7, institution(3), institution(4)), authorship(8, institution(4))))
    kept = Affiliation.objects.get(work_id=1, author_id=7, institution_id=4).pk
    load(work(1, authorship(7, institution(4), institution(5), raw=["Elsewhere"], position="last")))
    assert affiliations() == {(1, 7, 4), (1, 7, 5)}
    assert Affiliation.objects.get(work_id=1, author_id=7, institution_id=4).pk == kept
    assert list(Authorship.objects.values_list("author_id", "author_position", "raw_affiliations")) == [
        (7, "last", ["Elsewhere"])
    ]
    # An institution no work lists any more is still an institution.
    assert Institution.objects.count() == 3


@pytest.mark.django_db
def test_a_truncated_author_list_keeps_what_it_cut_and_replaces_what_it_lists():
    load(work(1, authorship(7, institution(3)), authorship(8, institution(4))))
    load(work(1, authorship(7, institution(5)), is_authors_truncated=True))
    assert affiliations() == {(1, 7, 5), (1, 8, 4)}


@pytest.mark.django_db
def test_the_newest_record_naming_an_institution_wins_and_an_older_one_changes_nothing():
    load(work(1, authorship(7, institution(3, display_name="Old name")), updated_date="2026-01-01"))
    load(work(2, authorship(8, institution(3, display_name="New name", type="facility")), updated_date="2026-01-02"))
    assert Institution.objects.values_list("display_name", "type").get() == ("New name", "facility")
    stale = work(2, authorship(9, institution(6)), updated_date="2025-01-01")
    load(stale)
    assert affiliations() == {(1, 7, 3), (2, 8, 3)}
    assert not Institution.objects.filter(id=6).exists()


@pytest.mark.django_db
def test_the_authorships_without_an_author_id_are_counted_on_the_work_and_reloads_recount_them():
    load(work(1, authorship(None, institution(3)), authorship(7), authorship(None)))
    assert Work.objects.get(id=1).unidentified_authors == 2
    assert affiliations() == set()
    load(work(1, authorship(7)))
    assert Work.objects.get(id=1).unidentified_authors == 0


@pytest.mark.django_db
def test_loading_takes_as_many_statements_for_twenty_works_as_for_one():
    def statements(raws: list[dict]) -> int:
        with CaptureQueriesContext(connection) as queries:
            load(*raws)
        return len(queries)

    def works(numbers: range, *institutions: int) -> list[dict]:
        return [
            work(n, *(authorship(n * 10 + a, *map(institution, institutions)) for a in range(5 - len(institutions))))
            for n in numbers
        ]

    assert statements(works(range(1, 2), 3, 4)) == statements(works(range(2, 22), 3, 4))
    # Reloaded with other institutions, other authors: rows to update, to add and to delete.
    assert statements(works(range(1, 2), 5)) == statements(works(range(2, 22), 5))
    assert Affiliation.objects.count() == 21 * 4


# --- the live API ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tracked_paper_and_its_pulled_citers_keep_their_institutions(fake_openalex):
    seeds, citers = (json.loads(path.read_text())["results"] for path in (SEEDS, CITERS))
    fake_openalex.add_works([*seeds, *citers])
    client = OpenAlexClient(sleep=lambda seconds: None, timeout=(2, 2), max_retries=2)
    track_papers(identifiers=["W3046863325"], force=True, client=client)
    pulled = [raw for raw in citers if "https://openalex.org/W3046863325" in raw["referenced_works"]]
    expected = [parse_work(raw) for raw in [seeds[0], *pulled]]
    assert seeds[0]["id"] == "https://openalex.org/W3046863325" and pulled
    assert affiliations() == {
        (record.id, author.id, held.id)
        for record in expected
        for author in record.authors
        for held in author.institutions
    }
    assert len(affiliations()) > len(pulled)
    assert sorted(
        Authorship.objects.values_list("work_id", "author_id", "author_position", "raw_affiliations")
    ) == sorted(
        (record.id, author.id, author.author_position, list(author.raw_affiliations))
        for record in expected
        for author in record.authors
    )
