"""The search vocabulary: the typo rule, and every way works come in keeping it up to date."""

import json

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from papers.models import Author, Authorship, SearchWord
from papers.openalex.ingest import load_records
from papers.openalex.records import parse_work
from papers.openalex.snapshot import export_held, held_corpus_ids
from papers.search import _deletions, allowed_typos, index_for_search, interpret, rebuild_search_index
from tests.factories import make_work
from tests.papers.openalex.test_snapshot import new_build, over_long_work, write_part


def vocabulary() -> dict[str, int]:
    return dict(SearchWord.objects.values_list("word", "frequency"))


@pytest.mark.parametrize(("word", "typos"), [("data", 0), ("ocean", 1), ("imagenet", 1), ("databases", 2)])
def test_five_to_eight_letters_may_have_one_typo_nine_or_more_two(word, typos):
    assert allowed_typos(word) == typos


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the vocabulary's deletions are PostgreSQL's")
@pytest.mark.django_db
def test_on_postgresql_each_word_of_five_to_nine_letters_holds_the_strings_one_deletion_away():
    make_work(1, title="Ice sheets of Greenland: glaciological observations", corpus=True)

    with connection.cursor() as cursor:
        cursor.execute("SELECT word, deletions FROM papers_searchword")
        held = dict(cursor.fetchall())

    assert set(held["sheets"]) == _deletions("sheets") == {"heets", "seets", "shets", "shees", "sheet"}
    assert set(held["greenland"]) == _deletions("greenland")
    assert held["ice"] == held["glaciological"] == []


def record(number: int, title: str) -> dict:
    return {"id": f"https://openalex.org/W{number}", "title": title, "type": "dataset", "cited_by_count": 1}


@pytest.mark.django_db
def test_the_loader_adds_the_corpus_titles_words_once_however_often_a_work_comes_in():
    records = [parse_work(record(1, "Ocean heat: a DATASET")), parse_work(record(2, "Ocean salinity"))]
    load_records(records, corpus="all", fetched_at=timezone.now())
    load_records(records[:1], corpus="all", fetched_at=timezone.now())

    assert vocabulary() == {"ocean": 2, "heat": 1, "a": 1, "dataset": 1, "salinity": 1}


@pytest.mark.django_db
def test_citers_bring_no_words():
    load_records([parse_work(record(3, "Citing glaciers"))], corpus="none", fetched_at=timezone.now())

    assert vocabulary() == {}


@pytest.mark.django_db
def test_a_rebuild_counts_every_title_again_and_forgets_words_no_title_holds():
    work = make_work(1, title="Ocean heat", corpus=True)
    make_work(2, title="Ocean salinity", corpus=True)
    make_work(3, title="Outside the corpus", corpus=False)
    work.title = "Ocean warmth"
    work.save()

    assert rebuild_search_index() == 3
    assert vocabulary() == {"ocean": 2, "warmth": 1, "salinity": 1}


@pytest.mark.django_db
def test_authors_names_and_venues_bring_their_words_and_a_paper_counts_once_for_a_word():
    work = make_work(1, title="Ocean heat", venue="Ocean Science", corpus=True)
    make_work(2, title="Soil", venue="Earth System Science Data", corpus=True)
    for number, name in [(1, "Li Fei-Fei"), (2, "Fei Ocean")]:
        author = Author.objects.create(id=number, display_name=name)
        Authorship.objects.create(work=work, author=author, position=number)

    assert index_for_search([1]) == 2  # li, fei: the others came with the titles and venues
    assert rebuild_search_index() == 9
    assert vocabulary() == {
        "ocean": 1, "heat": 1, "science": 2, "li": 1, "fei": 1, "soil": 1, "earth": 1, "system": 1, "data": 1,
    }  # fmt: skip


@pytest.mark.django_db
def test_adding_works_outside_the_corpus_adds_nothing():
    make_work(3, title="Outside the corpus", corpus=False)

    assert index_for_search([3]) == 0 and vocabulary() == {}


@pytest.mark.django_db
def test_a_snapshot_publish_rebuilds_the_vocabulary(tmp_path):
    SearchWord.objects.create(word="stale", frequency=9)
    line = {**over_long_work(10, every_key=True), "type": "dataset", "title": "Glacier mass balance"}
    write_part(tmp_path / "works" / "part.jsonl.gz", [json.dumps(line).encode()])
    build = new_build(tmp_path / "works", tmp_path / "work")
    build.extract()
    build.check()
    held = export_held()
    build.references(extra_corpus_ids=held_corpus_ids(held))
    build.citers(held=held)
    with transaction.atomic():
        written = build.publish_corpus(fetched_at=timezone.now())
    build.close()

    # The author "Short" brings its word; the venue and the other names are too long to be words.
    assert vocabulary() == {"glacier": 1, "mass": 1, "balance": 1, "short": 1} and written["search_words"] == 4


@pytest.mark.django_db
def test_the_plan_names_corrections_and_dropped_words():
    make_work(1, title="ImageNet: a large-scale hierarchical image database", corpus=True)

    plan = interpret("Imagnet qzx hierarchcal imag")

    assert plan.corrected == {"imagnet": "imagenet", "hierarchcal": "hierarchical"}
    assert plan.dropped == ("qzx",)
    assert plan.shown_query == "imagenet hierarchical imag"
    assert [word.known for word in plan.words] == [False, False, True]


@pytest.mark.django_db
def test_a_paper_an_admin_forces_into_the_corpus_brings_its_words(admin_client):
    make_work(1, title="Permafrost boreholes", corpus=False)

    admin_client.post(reverse("admin:papers_corpusentry_changelist"), {"action": "force_in", "_selected_action": ["1"]})

    assert vocabulary() == {"permafrost": 1, "boreholes": 1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "where"),
    [
        ("foraminxfexa", "both typos in the second half: the word begins as typed"),
        ("fxrxminifera", "both in the first half: it ends as typed"),
        ("fxraminifexa", "one in each half: it begins one edit from the typed first half"),
        ("fxramniifera", "one in the first half and a transposition across the cut: it ends with that letter"),
        ("foraminiefra", "a transposition and nothing else"),
        ("foraminifer", "a letter short"),
    ],
)
def test_every_way_two_typos_fall_in_a_long_word_finds_it(typed, where):
    # PostgreSQL reads the candidates off the words' starts and ends (papers.search._two_edit_ends).
    make_work(1, title="Benthic foraminifera", corpus=True)
    make_work(2, title="Planktic foraminiferans", corpus=True)

    (word,) = interpret(typed).words
    assert word.corrections[:1] == ("foraminifera",), where


@pytest.mark.django_db
def test_three_typos_in_a_long_word_are_too_many():
    make_work(1, title="Benthic foraminifera", corpus=True)

    (word,) = interpret("fxrxmxnifera").words
    assert word.corrections == ()


@pytest.mark.django_db
@pytest.mark.parametrize("length", [201, 260, 300])
def test_a_word_longer_than_any_the_vocabulary_holds_has_no_corrections(length):
    # The vocabulary holds words of up to 200 letters; PostgreSQL's levenshtein() refuses more than 255.
    make_work(1, title=f"Benthic {'f' * 200}", corpus=True)

    (word,) = interpret("f" * length).words
    assert word.corrections == () and not word.known
