"""The search index (issue 16): entries kept right as papers change or leave, the SQL rebuild,
the run's order, and the first matches found band by band. The same cases on both databases."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from papers.models import UNPLACED_POSITION, CorpusEntry, SearchEntry, SearchWord, Work
from papers.search import (
    CORRECTED,
    EXACT,
    MAX_QUERY_WORDS,
    PREFIX,
    first_matches,
    index_for_search,
    interpret,
    rebuild_search_index,
)
from scoring.models import PaperScore
from tests.factories import make_run, make_score, make_work, write

pytestmark = pytest.mark.django_db


def vocabulary() -> dict[str, int]:
    return dict(SearchWord.objects.values_list("word", "frequency"))


def test_a_changed_title_counts_its_old_words_once_less_and_forgets_the_ones_no_paper_holds():
    make_work(1, title="Glacier mass balance", corpus=True)
    make_work(2, title="Glacier velocity", corpus=True)

    Work.objects.filter(id=1).update(title="Glacier thickness")
    index_for_search([1])

    assert vocabulary() == {"glacier": 2, "thickness": 1, "velocity": 1}
    assert SearchEntry.objects.get(work_id=1).words == " glacier thickness "


def test_a_paper_leaving_the_corpus_loses_its_entry_and_its_words():
    make_work(1, title="Glacier mass balance", corpus=True)
    make_work(2, title="Glacier velocity", corpus=True)

    CorpusEntry.objects.filter(work_id=1).update(override=CorpusEntry.Override.EXCLUDE)
    index_for_search([1])

    assert vocabulary() == {"glacier": 1, "velocity": 1}
    assert list(SearchEntry.objects.values_list("work_id", flat=True)) == [2]


def test_indexing_a_paper_again_keeps_its_place_and_its_counts():
    run = make_run(papers_scored=1)
    make_score(run, make_work(1, title="Ocean heat", corpus=True), rank=1, datarank=1.0)

    index_for_search([1])
    index_for_search([1])

    assert vocabulary() == {"ocean": 1, "heat": 1}
    assert SearchEntry.objects.get(work_id=1).position == 0


def test_the_rebuild_gives_what_indexing_each_paper_gave_and_forgets_the_rest():
    ocean = make_work(1, title="Ocean heat: a DATASET", venue="Earth System Science Data", corpus=True)
    write(ocean, 100)  # "Author 100"
    make_work(2, title="Données océaniques 数据集", corpus=True, publication_year=2020, type="dataset")
    make_work(3, title="Citing work", corpus=None)
    SearchWord.objects.create(word="stale", frequency=9)
    index_for_search([1])
    incremental = sorted(SearchEntry.objects.values_list("work_id", "words", "publication_year", "type"))
    SearchEntry.objects.create(work_id=3, words=" citing work ", position=UNPLACED_POSITION + 3)

    assert rebuild_search_index() == 13
    assert sorted(SearchEntry.objects.values_list("work_id", "words", "publication_year", "type")) == incremental
    assert vocabulary()["ocean"] == 1 and vocabulary()["océaniques"] == 1 and "stale" not in vocabulary()
    assert set(vocabulary()) == {
        *("ocean", "heat", "a", "dataset", "earth", "system", "science", "data", "author", "100"),
        *("données", "océaniques", "数据集"),
    }


def test_a_run_places_ranked_papers_by_rank_then_the_others_by_id_and_unscored_ones_last():
    run = make_run(papers_scored=3, papers_ranked=2)
    works = [make_work(number, title=f"Ocean {number}", corpus=True) for number in (1, 2, 3, 4)]
    make_score(run, works[2], rank=1, datarank=5.0)
    make_score(run, works[0], rank=2, datarank=1.0)
    make_score(run, works[1], rank=None, datarank=0.0)

    placed = dict(SearchEntry.objects.values_list("work_id", "position"))

    assert placed == {3: 0, 1: 1, 2: 2, 4: UNPLACED_POSITION + 4}
    assert dict(SearchEntry.objects.values_list("work_id", "tier")) == {3: 1, 1: 1, 2: None, 4: None}


def test_first_matches_come_by_bucket_then_position_across_bands():
    for number, title in [(1, "Ocean heat"), (2, "Ocean heatwaves"), (3, "Ocean heat budget"), (4, "Sea ice")]:
        make_work(number, title=title, corpus=True)
    # Positions in three bands (0-4095, 4096-32767, 262144 on); the best is no match.
    for number, position in [(1, 300_000), (2, 10), (3, 5_000), (4, 1)]:
        SearchEntry.objects.filter(work_id=number).update(position=position)

    found = first_matches(interpret("ocean heat"), SearchEntry.objects.all(), limit=10, placed=400_000)

    assert [(match.work_id, match.bucket) for match in found] == [(3, EXACT), (1, EXACT), (2, PREFIX)]


def test_a_common_word_stops_at_the_band_that_has_enough():
    for number in range(1, 6):
        make_work(number, title=f"Ocean {number}", corpus=True)
        SearchEntry.objects.filter(work_id=number).update(position=number)
    plan = interpret("ocean")

    # Six bands (the run placed papers into the fifth) and two buckets, all in one query...
    with CaptureQueriesContext(connection) as captured:
        found = first_matches(plan, SearchEntry.objects.all(), limit=3, placed=5_000_000)

    matches = [query["sql"] for query in captured.captured_queries if "UNION ALL" in query["sql"]]
    assert len(matches) == 1 and len(captured.captured_queries) == 1
    assert [match.work_id for match in found] == [1, 2, 3]
    if connection.vendor == "postgresql":
        # ...which stops where EXACT fills the limit, in the first band: no other arm runs.
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {matches[0]}")
            plan_text = "\n".join(row[0] for row in cursor.fetchall())
        # One Limit over the whole, one on each of the 12 arms.
        limits = [line for line in plan_text.splitlines() if "Limit" in line]
        assert len(limits) == 13
        assert sum("never executed" in line for line in limits) == 11


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite plans no parallel workers")
def test_the_first_matches_are_never_planned_with_workers_which_would_interleave_the_arms():
    for number in range(1, 6):
        make_work(number, title=f"Ocean {number}", corpus=True)
    plan = interpret("ocean")
    with CaptureQueriesContext(connection) as captured:
        first_matches(plan, SearchEntry.objects.all(), limit=3, placed=5_000_000)
    with connection.cursor() as cursor:
        # Every query that may have workers is planned with them (named so from PostgreSQL 16 on).
        forced = "debug_parallel_query" if connection.pg_version >= 160000 else "force_parallel_mode"
        cursor.execute(f"SET LOCAL {forced} = on")
        cursor.execute(f"EXPLAIN {captured.captured_queries[0]['sql']}")
        serial = "\n".join(row[0] for row in cursor.fetchall())
        # One arm alone, without its LIMIT, would have them.
        cursor.execute("EXPLAIN SELECT work_id FROM papers_searchentry WHERE position >= 0")
        parallel = "\n".join(row[0] for row in cursor.fetchall())

    assert "Gather" not in serial and "Append" in serial
    assert "Gather" in parallel


def test_filters_narrow_the_matches():
    make_work(1, title="Ocean heat", corpus=True, publication_year=2001, type="article")
    make_work(2, title="Ocean salt", corpus=True, publication_year=2021, type="dataset")

    def ids(**filters) -> list[int]:
        entries = SearchEntry.objects.narrowed(**filters)
        return [m.work_id for m in first_matches(interpret("ocean"), entries, limit=10, placed=0)]

    assert ids(year_from=2010) == [2] and ids(year_to=2010) == [1] and ids(type="article") == [1]
    assert ids(ranked=True) == [] and ids(ranked=False) == [1, 2]


def test_a_correction_is_its_own_bucket_after_the_words_as_typed():
    make_work(1, title="Glacier of Norway", corpus=True)
    make_work(2, title="Glaciar of Chile", corpus=True)  # one edit from "glacier"
    SearchEntry.objects.filter(work_id=2).update(position=0)  # the better place

    found = first_matches(interpret("glacier"), SearchEntry.objects.all(), limit=10, placed=1)

    assert [(match.work_id, match.bucket) for match in found] == [(1, EXACT), (2, CORRECTED)]


def test_only_the_first_ten_words_are_searched_and_the_plan_says_how_many_were_left_out():
    make_work(1, title="Ocean heat", corpus=True)

    plan = interpret(" ".join(["a"] * 200))
    typos = interpret(" ".join(f"oceqn{i}x" for i in range(50)))

    assert len(plan.words) + len(plan.dropped) == MAX_QUERY_WORDS and plan.beyond == 190
    assert len(typos.words) + len(typos.dropped) == MAX_QUERY_WORDS and typos.beyond == 40


def test_work_search_annotates_relevance_by_bucket():
    make_work(1, title="Ocean heat", corpus=True)
    make_work(2, title="Ocean heatwaves", corpus=True)

    found = Work.objects.search("ocean heat").order_by(F("relevance").desc(), "id")

    assert [(work.id, work.relevance) for work in found] == [(1, 3), (2, 2)]


def placed_run():
    run = make_run(papers_scored=3, papers_ranked=2)
    for number, rank in ((1, 2), (2, 1), (3, None)):
        work = make_work(number, title=f"Ocean {number}", corpus=True)
        make_score(run, work, rank=rank, datarank=3.0 - (rank or 3), tier=rank)
    SearchEntry.objects.all().delete()
    return PaperScore.objects.filter(run=run)


def test_a_rebuild_given_a_runs_scores_leaves_the_entries_in_its_order():
    rebuild_search_index(placed_run())

    assert list(SearchEntry.objects.order_by("position").values_list("work_id", "position", "tier")) == [
        (2, 0, 1),
        (1, 1, 2),
        (3, 2, None),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's rebuild places the entries afterwards")
def test_on_postgresql_a_rebuild_writes_new_entries_where_the_run_places_them(monkeypatch):
    scores = placed_run()
    # Nothing is left to move afterwards: placing them again changes no row.
    monkeypatch.setattr(SearchEntry.objects.__class__, "place", lambda self, scores: None)
    rebuild_search_index(scores)

    assert list(SearchEntry.objects.order_by("position").values_list("work_id", "position", "tier")) == [
        (2, 0, 1),
        (1, 1, 2),
        (3, 2, None),
    ]


def secondary_indexes(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s ORDER BY 1",
            [table, f"{table}_pkey"],
        )
        return [row[0] for row in cursor.fetchall()]


def dropped_from(table: str, captured: CaptureQueriesContext) -> list[int]:
    names = {definition.split()[2] for definition in secondary_indexes(table)}
    return [
        i
        for i, query in enumerate(captured.captured_queries)
        if query["sql"].startswith("DROP INDEX") and query["sql"].split()[2].strip('"') in names
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the band indexes are PostgreSQL's")
def test_on_postgresql_a_first_index_is_written_before_its_indexes_and_they_come_back_the_same():
    scores = placed_run()
    entries, words = secondary_indexes("papers_searchentry"), secondary_indexes("papers_searchword")

    with CaptureQueriesContext(connection) as captured:
        rebuild_search_index(scores)

    statements = [query["sql"].lstrip() for query in captured.captured_queries]
    inserted = next(i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO papers_searchentry"))
    dropped = dropped_from("papers_searchentry", captured)
    assert len(dropped) == len(entries) > 7  # the position index and a GIN index per band
    assert max(dropped) < inserted
    assert secondary_indexes("papers_searchentry") == entries
    assert secondary_indexes("papers_searchword") == words
    assert [m.work_id for m in first_matches(interpret("ocean"), SearchEntry.objects.all(), limit=10, placed=3)] == [
        2,
        1,
        3,
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the band indexes are PostgreSQL's")
def test_on_postgresql_a_rebuild_of_a_held_index_keeps_its_indexes_so_searches_never_wait():
    scores = placed_run()
    rebuild_search_index(scores)

    with CaptureQueriesContext(connection) as captured:
        rebuild_search_index(scores)

    assert dropped_from("papers_searchentry", captured) == []
    # The vocabulary, written whole each time, is indexed after it each time.
    assert len(dropped_from("papers_searchword", captured)) == len(secondary_indexes("papers_searchword")) >= 3
