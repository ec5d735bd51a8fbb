"""A snapshot build publishes the researchers' side of its works — authors, authorships with
OpenAlex's position and affiliation strings, institutions, affiliations, the authorships without
an author id — exactly as load_openalex of the same records leaves them: on an empty site, and
on a second pass over a site that holds older versions, with cut author lists, authors who left
and a record the site holds fresher."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from papers.models import Affiliation, Author, Institution, Work
from papers.openalex.snapshot import SnapshotBuild, export_held, held_corpus_ids
from tests.conftest import SAMPLE_SNAPSHOT
from tests.papers.openalex.test_snapshot import clear_researchers, new_build, researcher_rows, write_part

pytestmark = pytest.mark.django_db


def publish(build: SnapshotBuild) -> None:
    """The build's stages after extraction, and its publishing, as build_index runs them."""
    build.check()
    held = export_held()
    build.references(extra_corpus_ids=held_corpus_ids(held))
    build.citers(held=held)
    with transaction.atomic():
        build.publish_corpus(fetched_at=timezone.now())


def rows() -> dict[str, list[tuple]]:
    return {
        "authors": list(Author.objects.order_by("id").values_list()),
        "unidentified_authors": list(Work.objects.order_by("id").values_list("id", "unidentified_authors")),
        **researcher_rows(),
    }


def load(path: Path) -> None:
    call_command("load_openalex", str(path), stdout=StringIO(), stderr=StringIO())


def test_a_build_of_the_shared_files_leaves_the_rows_load_openalex_of_them_leaves(tmp_path):
    parts = [part.path for part in new_build(SAMPLE_SNAPSHOT, tmp_path / "probe").snapshot.parts]
    call_command("load_openalex", *map(str, parts), corpus="all", stdout=StringIO(), stderr=StringIO())
    loaded = rows()
    assert len(loaded["authorships"]) == 26_241 and len(loaded["affiliations"]) == 23_052
    assert sum(count for _, count in loaded["unidentified_authors"]) == 75

    # Every work held in the corpus, none of its researchers' rows: the build publishes them all.
    Author.objects.all().delete()
    Institution.objects.all().delete()
    Work.objects.update(unidentified_authors=0)
    build = new_build(SAMPLE_SNAPSHOT, tmp_path / "work")
    build.extract()
    publish(build)
    build.close()
    assert Work.objects.count() == 1_851 + 3_684
    assert rows() == loaded


def institution(number: int, name: str = "") -> dict:
    return {
        "id": f"https://openalex.org/I{number}",
        "display_name": name or f"Institution {number}",
        "ror": f"https://ror.org/0{number}",
        "country_code": "NO",
        "type": "education",
        "lineage": [],
    }


def authorship(author: int | None, *institutions: dict, position: str = "middle", raw: tuple = ()) -> dict:
    return {
        "author_position": position,
        "author": {
            "id": author and f"https://openalex.org/A{author}",
            "display_name": f"Author {author}",
            "orcid": None,
        },
        "institutions": list(institutions),
        "raw_affiliation_strings": list(raw) or [f"Place of {author}"],
    }


def dataset(number: int, *authorships: dict, updated: str, **fields) -> dict:
    return {
        "id": f"https://openalex.org/W{number}",
        "type": "dataset",
        "title": f"Observations {number}",
        "cited_by_count": 1,
        "referenced_works_count": 0,
        "updated_date": updated,
        "authorships": list(authorships),
        **fields,
    }


OLD = [
    dataset(1, authorship(7, institution(3), institution(4)), authorship(8, institution(4)), updated="2026-01-01"),
    dataset(2, authorship(7, institution(3)), authorship(9, institution(5)), updated="2026-01-01"),
    dataset(3, authorship(9, institution(5, "Fresher name")), updated="2026-06-01"),
]
NEW = [
    # Author 8 left, author 7 moved: their old affiliations go.
    dataset(1, authorship(7, institution(4), institution(6), position="first", raw=("Oslo",)), updated="2026-02-01"),
    # Cut short: author 9, whom it does not list, keeps what the site holds of them.
    dataset(2, authorship(7, institution(6)), authorship(None, institution(3)), updated="2026-02-01",
            is_authors_truncated=True),
    # Older than the version held: none of it is written.
    dataset(3, authorship(10, institution(5, "Stale name")), updated="2026-02-01"),
    dataset(4, authorship(7, institution(6, "University of Oslo")), authorship(7, institution(3)),
            authorship(None), updated="2026-02-01"),
]  # fmt: skip


def test_a_second_pass_over_held_records_leaves_the_rows_load_openalex_leaves(tmp_path):
    old = write_part(tmp_path / "old.jsonl.gz", [json.dumps(raw).encode() for raw in OLD])
    new = write_part(tmp_path / "works" / "part_000.jsonl.gz", [json.dumps(raw).encode() for raw in NEW])
    load(old)
    build = new_build(new.parent, tmp_path / "work")
    build.extract()
    publish(build)
    build.close()
    built = rows()
    assert set(Affiliation.objects.values_list("work_id", "author_id", "institution_id")) == {
        (1, 7, 4), (1, 7, 6), (2, 7, 6), (2, 9, 5), (3, 9, 5), (4, 7, 6), (4, 7, 3),
    }  # fmt: skip
    assert Institution.objects.get(id=5).display_name == "Fresher name"
    assert Institution.objects.get(id=6).display_name == "University of Oslo"
    assert dict(Work.objects.values_list("id", "unidentified_authors")) == {1: 0, 2: 1, 3: 0, 4: 1}

    clear_researchers()
    load(old)
    load(new)
    assert rows() == built
