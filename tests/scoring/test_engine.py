"""The bulk engine against the reference definition: over random corpora every paper's figures
equal scoring.datarank.score_paper's to 1e-9 and its ranks are rank_scores', both on plain
arrays and through the database; and two runs over the same data print the same CSV."""

import io
import math

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.models import Author, Authorship, Citation, CorpusEntry, Work
from scoring.datarank import Citer, cohort_ranks, rank_scores, score_paper
from scoring.engine import OWN_FIGURES, CorpusInputs, CorpusScores, KnownFigures, score_corpus
from scoring.models import SCORE_FIELDS, ScoringRun
from scoring.services import rescore_corpus

# Few distinct counts and authors, so ties in cited_by_count and shared authors are common.
COUNTS = st.sampled_from([0, 0, 1, 2, 2, 7, 50])


@st.composite
def corpora(draw, *, self_loops: bool):
    """Works 1..n, some in the corpus, with counts, authors and citation links among them:
    papers citing each other, citers that are corpus papers, zero counts and references."""
    n = draw(st.integers(2, 14))
    ids = list(range(1, n + 1))
    works = {
        i: {
            "cited_by_count": draw(COUNTS),
            "referenced_works_count": draw(st.integers(0, 3)),
            "authors": draw(st.frozensets(st.integers(1, 6), max_size=2)),
            "subfield": draw(st.sampled_from([None, 11, 11, 12])),
            "year": draw(st.sampled_from([None, 2019, 2020, 2021, 2022])),
        }
        for i in ids
    }
    corpus = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    pairs = st.tuples(st.sampled_from(ids), st.sampled_from(corpus))
    links = draw(st.lists(pairs, unique=True, max_size=40))
    if not self_loops:
        links = [(citing, cited) for citing, cited in links if citing != cited]
    return works, sorted(corpus), links, draw(st.integers(1, 4)), draw(st.sampled_from([0.85, 0.5, 0.0, 1.0]))


def reference(works, corpus, links, *, damping, cap):
    return {
        p: score_paper(
            paper_id=p,
            cited_by_count=works[p]["cited_by_count"],
            author_ids=works[p]["authors"],
            citers=[
                Citer(q, works[q]["cited_by_count"], works[q]["referenced_works_count"], works[q]["authors"])
                for q, cited in links
                if cited == p
            ],
            damping=damping,
            cap=cap,
        )
        for p in corpus
    }


def assert_matches(got: dict, breakdowns: dict, works: dict | None = None) -> None:
    """got: paper id → the engine's figures by name."""
    assert set(got) == set(breakdowns)
    for p, want in breakdowns.items():
        figures = got[p]
        for name in ("base_contribution", "network_contribution", "datarank"):
            assert math.isclose(figures[name], getattr(want, name), rel_tol=1e-9, abs_tol=1e-12), (p, name)
        for name in ("citing_works", "citers_with_signal", "self_citations_excluded", "cap_bound"):
            assert figures[name] == getattr(want, name), (p, name)
    ranks = rank_scores({p: figures["datarank"] for p, figures in got.items()})
    reference_ranks = rank_scores({p: b.datarank for p, b in breakdowns.items()})
    assert ranks.keys() == reference_ranks.keys()
    for p, rank in ranks.items():
        assert (got[p]["rank"], got[p]["top_percent"], got[p]["tier"]) == (rank.rank, rank.top_percent, rank.tier)
        # The engine adds in cap order, the reference with fsum: only scores within rounding of
        # each other may tie in one and not the other.
        assert reference_ranks[p].rank == rank.rank or _near_tie(got, p)
    for p in got.keys() - ranks.keys():
        # Not ranked: the engine marks it 0 (and NaN), the database stores nothing.
        assert got[p]["rank"] in (0, None) and got[p]["tier"] in (0, None), p
        assert got[p]["top_percent"] is None or math.isnan(got[p]["top_percent"]), p
        assert got[p]["cohort_size"] in (0, None), p
    if works is not None:
        cohorts = cohort_ranks({p: (got[p]["datarank"], works[p]["subfield"], works[p]["year"]) for p in got})
        for p in got:
            size = cohorts[p].size if p in cohorts else None
            assert (got[p]["cohort_size"] or None) == size, p


def _near_tie(got: dict, p: int) -> bool:
    return any(q != p and math.isclose(f["datarank"], got[p]["datarank"], rel_tol=1e-9) for q, f in got.items())


def engine_figures(works, corpus, links, *, damping, cap) -> dict:
    citing = np.array([q for q, _ in links], dtype=np.int64)
    cited = np.array([p for _, p in links], dtype=np.int64)
    inputs = CorpusInputs(
        paper_ids=np.array(corpus[::-1], dtype=np.int64),
        paper_cited_by_count=np.array([works[p]["cited_by_count"] for p in corpus[::-1]], dtype=np.int64),
        link_cited=cited,
        link_citing=citing,
        link_cited_by_count=np.array([works[q]["cited_by_count"] for q, _ in links], dtype=np.int64),
        link_referenced_works_count=np.array([works[q]["referenced_works_count"] for q, _ in links], dtype=np.int64),
        link_self_citation=np.array([bool(works[q]["authors"] & works[p]["authors"]) for q, p in links], dtype=bool),
        paper_subfield=np.array([works[p].get("subfield") or 0 for p in corpus[::-1]], dtype=np.int64),
        paper_year=np.array([works[p].get("year") or 0 for p in corpus[::-1]], dtype=np.int64),
    )
    scores = score_corpus(inputs, damping=damping, cap=cap)
    names = [name for name in scores.__slots__ if name != "paper_ids"]
    return {
        paper_id: {name: getattr(scores, name)[i].item() for name in names}
        for i, paper_id in enumerate(scores.paper_ids.tolist())
    }


@settings(max_examples=300, deadline=None)
@given(corpora(self_loops=True))
def test_the_engine_on_plain_arrays_agrees_with_the_reference(corpus):
    works, papers, links, cap, damping = corpus
    expected = reference(works, papers, links, damping=damping, cap=cap)
    assert_matches(engine_figures(works, papers, links, damping=damping, cap=cap), expected, works)


def engine_inputs(works, corpus, links) -> CorpusInputs:
    return CorpusInputs(
        paper_ids=np.array(corpus, dtype=np.int64),
        paper_cited_by_count=np.array([works[p]["cited_by_count"] for p in corpus], dtype=np.int64),
        link_cited=np.array([p for _, p in links], dtype=np.int64),
        link_citing=np.array([q for q, _ in links], dtype=np.int64),
        link_cited_by_count=np.array([works[q]["cited_by_count"] for q, _ in links], dtype=np.int64),
        link_referenced_works_count=np.array([works[q]["referenced_works_count"] for q, _ in links], dtype=np.int64),
        link_self_citation=np.array([bool(works[q]["authors"] & works[p]["authors"]) for q, p in links], dtype=bool),
        paper_subfield=np.array([works[p].get("subfield") or 0 for p in corpus], dtype=np.int64),
        paper_year=np.array([works[p].get("year") or 0 for p in corpus], dtype=np.int64),
    )


def known_from(scores, ids) -> KnownFigures:
    at = np.searchsorted(scores.paper_ids, np.array(sorted(ids), dtype=np.int64))
    return KnownFigures(scores.paper_ids[at], *(getattr(scores, name)[at] for name in OWN_FIGURES))


@settings(max_examples=200, deadline=None)
@given(corpora(self_loops=True), st.data())
def test_known_figures_with_their_links_left_out_give_the_full_scores_bit_for_bit(corpus, data):
    works, papers, links, cap, damping = corpus
    full = score_corpus(engine_inputs(works, papers, links), damping=damping, cap=cap)
    unchanged = set(data.draw(st.lists(st.sampled_from(papers), unique=True)))

    partial = score_corpus(
        engine_inputs(works, papers, [(q, p) for q, p in links if p not in unchanged]),
        damping=damping,
        cap=cap,
        known=known_from(full, unchanged),
    )

    for name in CorpusScores.__slots__:
        assert np.array_equal(getattr(partial, name), getattr(full, name), equal_nan=True), name


def test_known_figures_are_taken_as_given_and_ranked_with_the_rest():
    works = {i: {"cited_by_count": 1, "referenced_works_count": 1, "authors": frozenset()} for i in (1, 2, 3)}
    inputs = engine_inputs(works, [1, 2, 3], [(3, 1)])
    full = score_corpus(inputs, damping=0.85, cap=5)
    # Paper 2, held to have scored 9 with 4 citers, goes to the top although it has no link here.
    told = {"base_contribution": 1.0, "network_contribution": 8.0, "datarank": 9.0, "citing_works": 4,
            "citers_with_signal": 3, "self_citations_excluded": 2, "cap_bound": True}  # fmt: skip
    known = KnownFigures(np.array([2]), *(np.array([told[name]]) for name in OWN_FIGURES))

    scores = score_corpus(inputs, damping=0.85, cap=5, known=known)

    assert {name: getattr(scores, name)[1].item() for name in OWN_FIGURES} == told
    assert scores.rank.tolist() == [2, 1, 3] and scores.tier.tolist() == [4, 2, 5]
    assert scores.datarank[0] == full.datarank[0] and scores.datarank[2] == full.datarank[2]


@pytest.mark.parametrize("stranger", [0, 2, 9])  # before, between and after the papers' ids
def test_known_figures_of_a_paper_not_scored_are_refused(stranger):
    works = {i: {"cited_by_count": 1, "referenced_works_count": 1, "authors": frozenset()} for i in (1, 3, 4)}
    known = KnownFigures(np.array([3, stranger]), *(np.zeros(2) for _ in OWN_FIGURES))
    with pytest.raises(ValueError) as refused:
        score_corpus(engine_inputs(works, [1, 3, 4], []), damping=0.85, cap=5, known=known)
    assert str(refused.value) == "every paper with known figures must be among the papers scored"


def test_the_engine_ignores_links_to_works_outside_the_corpus_and_handles_an_empty_one():
    works = {i: {"cited_by_count": i, "referenced_works_count": 1, "authors": frozenset()} for i in (1, 2, 3)}
    got = engine_figures(works, [1], [(2, 1), (3, 2)], damping=0.85, cap=5)
    assert got[1]["citing_works"] == 1 and list(got) == [1]
    assert engine_figures(works, [], [(2, 1)], damping=0.85, cap=5) == {}


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpora(self_loops=False))
def test_rescore_corpus_through_the_database_agrees_with_the_reference(corpus):
    works, papers, links, cap, damping = corpus
    with transaction.atomic():
        store(works, papers, links)
        run = rescore_corpus(damping=damping, cap=cap)
        got = {s["work_id"]: s for s in run.scores.values("work_id", *SCORE_FIELDS)}
        transaction.set_rollback(True)
    assert_matches(got, reference(works, papers, links, damping=damping, cap=cap), works)


def store(works, corpus, links) -> None:
    now = timezone.now()
    Work.objects.bulk_create(
        Work(
            id=i,
            cited_by_count=w["cited_by_count"],
            referenced_works_count=w["referenced_works_count"],
            subfield_id=w["subfield"],
            publication_year=w["year"],
            fetched_at=now,
        )
        for i, w in works.items()
    )
    Author.objects.bulk_create(Author(id=a) for a in sorted(set().union(*(w["authors"] for w in works.values()))))
    Authorship.objects.bulk_create(
        Authorship(work_id=i, author_id=a, position=n)
        for i, w in works.items()
        for n, a in enumerate(sorted(w["authors"]))
    )
    CorpusEntry.objects.bulk_create(
        CorpusEntry(work_id=p, check_passed=True, confidence=1, included=True, checked_at=now) for p in corpus
    )
    Citation.objects.bulk_create(Citation(citing_id=q, cited_id=p) for q, p in links)


@pytest.mark.django_db
def test_two_runs_over_a_generated_corpus_print_byte_identical_csv(tmp_path):
    path = tmp_path / "corpus.jsonl.gz"
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("generate_corpus", "--papers", "60", "--citers", "8", "--pool", "200", "--seed", "5", path, **quiet)
    call_command("load_openalex", path, "--corpus", "data", **quiet)

    outputs = []
    for _ in range(2):
        call_command("rescore", "--cap", "5", stdout=io.StringIO())
        out = io.StringIO()
        call_command("scores", "--format", "csv", stdout=out)
        outputs.append(out.getvalue())

    assert ScoringRun.objects.filter(status="succeeded").count() == 2
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 61


def test_the_engine_gives_cohort_percentiles_from_20_papers_as_the_reference_does():
    # Subfield 7: 25 papers in 2019-2021 around 2020; subfield 8: 19 papers in 2020.
    works = {
        i: {
            "cited_by_count": i % 9,
            "referenced_works_count": 1,
            "authors": frozenset(),
            "subfield": 7,
            "year": 2019 + i % 3,
        }
        for i in range(1, 26)
    } | {
        i: {
            "cited_by_count": 1 + i % 4,
            "referenced_works_count": 1,
            "authors": frozenset(),
            "subfield": 8,
            "year": 2020,
        }
        for i in range(26, 45)
    }
    corpus = sorted(works)
    got = engine_figures(works, corpus, [], damping=0.85, cap=5)

    cohorts = cohort_ranks({p: (got[p]["datarank"], works[p]["subfield"], works[p]["year"]) for p in corpus})
    for p in corpus:
        if p not in cohorts:
            assert got[p]["cohort_size"] == 0
            continue
        assert got[p]["cohort_size"] == cohorts[p].size
        want = cohorts[p].top_percent
        assert math.isnan(got[p]["cohort_top_percent"]) if want is None else got[p]["cohort_top_percent"] == want, p
    assert {got[p]["cohort_size"] for p in range(26, 45)} == {19}
    assert any(cohorts[p].top_percent is not None for p in range(1, 26) if p in cohorts)


def plain_inputs(**changes) -> CorpusInputs:
    """Papers 1, 2 and 3 (subfield 7, 2020), paper 1 cited by 2 and by the outside work 9."""
    fields = {
        "paper_ids": np.array([3, 1, 2], dtype=np.int64),
        "paper_cited_by_count": np.array([0, 4, 1], dtype=np.int64),
        "link_cited": np.array([1, 1], dtype=np.int64),
        "link_citing": np.array([2, 9], dtype=np.int64),
        "link_cited_by_count": np.array([1, 30], dtype=np.int64),
        "link_referenced_works_count": np.array([2, 0], dtype=np.int64),
        "link_self_citation": np.array([False, False]),
        "paper_subfield": np.array([7, 7, 7], dtype=np.int64),
        "paper_year": np.array([2020, 2020, 2020], dtype=np.int64),
    }
    return CorpusInputs(**(fields | changes))


@pytest.mark.parametrize(("damping", "cap"), [(1.01, 5), (-0.01, 5), (2, 5), (0.85, 0)])
def test_the_engine_rejects_a_damping_outside_0_to_1_or_a_cap_under_1(damping, cap):
    with pytest.raises(ValueError) as error:
        score_corpus(plain_inputs(), damping=damping, cap=cap)
    assert str(error.value) in (
        f"damping must lie between 0 and 1, got {damping}",
        f"cap must be at least 1, got {cap}",
    )
    assert ("damping" if cap else "cap") in str(error.value)


@pytest.mark.parametrize(
    "missing", [{"paper_subfield": None}, {"paper_year": None}, {"paper_subfield": None, "paper_year": None}]
)
def test_without_subfields_or_years_no_paper_has_a_cohort(missing):
    scores = score_corpus(plain_inputs(**missing), damping=0.85, cap=5)
    assert scores.cohort_size.tolist() == [0, 0, 0]
    assert np.isnan(scores.cohort_top_percent).all()
    assert scores.rank.tolist() == [1, 2, 0]


def test_the_engine_takes_the_database_int32_arrays_and_returns_ids_and_counts_as_integers():
    wide = plain_inputs()
    narrow = {
        name: getattr(wide, name).astype(np.int32)
        for name in CorpusInputs.__slots__
        if getattr(wide, name).dtype == np.int64
    }
    scores = score_corpus(plain_inputs(**narrow), damping=0.85, cap=5)
    assert scores.paper_ids.dtype == np.int64 and scores.paper_ids.tolist() == [1, 2, 3]
    assert scores.base_contribution.tolist() == pytest.approx([0.15 * math.log(5), 0.15 * math.log(2), 0.0])
    assert scores.network_contribution.tolist() == pytest.approx([0.85 * (math.log(2) / 2 + math.log(31)), 0, 0])
    assert scores.citing_works.tolist() == [2, 0, 0]
    assert scores.cohort_size.tolist() == [2, 2, 0]
    for name in ("rank", "tier", "citing_works", "citers_with_signal", "self_citations_excluded", "cohort_size"):
        assert getattr(scores, name).dtype.kind == "i", name
    assert scores.cap_bound.dtype == bool


def test_a_cohort_of_exactly_20_has_a_percentile_and_any_id_above_0_is_a_subfield_or_year():
    # 0 means unknown; subfield 1 and year 1 are as good as any other.
    count = 20
    inputs = CorpusInputs(
        paper_ids=np.arange(1, count + 1, dtype=np.int64),
        paper_cited_by_count=np.arange(1, count + 1, dtype=np.int64),
        link_cited=np.array([], dtype=np.int64),
        link_citing=np.array([], dtype=np.int64),
        link_cited_by_count=np.array([], dtype=np.int64),
        link_referenced_works_count=np.array([], dtype=np.int64),
        link_self_citation=np.array([], dtype=bool),
        paper_subfield=np.ones(count, dtype=np.int64),
        paper_year=np.ones(count, dtype=np.int64),
    )
    scores = score_corpus(inputs, damping=0.85, cap=5)
    assert scores.cohort_size.tolist() == [count] * count
    # Paper 20 is the most cited: 1 of 20 scores at least as high.
    assert scores.cohort_top_percent.tolist() == [100 * (count - i) / count for i in range(count)]
