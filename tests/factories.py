"""The shared test world: works, runs, scores and citations made with the ORM, and the FAIR
papers (real sample records and two made-up ones) with their fixtures."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from papers.models import Author, Authorship, Citation, CorpusEntry, SearchEntry, Work
from papers.openalex.ingest import load_records
from papers.openalex.records import parse_work
from papers.search import index_for_search
from scoring.models import PaperScore, ScoringRun
from scoring.summary import recount
from tests.fake_openalex.fixtures import recorded_works

NOW = timezone.now()
IMAGENET = 2108598243


def make_work(number: int, *, title: str = "", corpus: bool | None = False, **fields) -> Work:
    """A work; `corpus` True/False gives it a corpus entry in or out, None gives it none (a citer)."""
    work = Work.objects.create(id=number, title=title or f"Work {number}", fetched_at=NOW, **fields)
    if corpus is not None:
        CorpusEntry.objects.create(
            work=work, check_passed=corpus, confidence=0.9 if corpus else 0.1, included=corpus, checked_at=NOW
        )
        index_for_search([work.id])  # as every way works come in does
    return work


def make_run(*, finished_minutes_ago: int = 0, status=ScoringRun.Status.SUCCEEDED, **fields) -> ScoringRun:
    """A run; without `papers_ranked`, every paper it scored is ranked."""
    fields = {"algorithm": "datarank-1hop-v1", "damping": 0.85, "citer_cap": 200, **fields}
    fields.setdefault("papers_ranked", fields.get("papers_scored", 0))
    return ScoringRun.objects.create(status=status, finished_at=NOW - timedelta(minutes=finished_minutes_ago), **fields)


def make_score(run: ScoringRun, work: Work, *, rank: int | None, datarank: float, **fields) -> PaperScore:
    """A score; `rank=None` is a paper the run scored but did not rank (its DataRank is 0), so
    it gets no top_percent or tier either."""
    ranked = rank is not None
    figures = {
        "base_contribution": datarank / 4,
        "network_contribution": datarank * 3 / 4,
        "citing_works": 0,
        "citers_with_signal": 0,
        "self_citations_excluded": 0,
        "cap_bound": False,
        "top_percent": 100.0 * rank / max(run.papers_ranked, 1) if ranked else None,
        "tier": 1 if ranked else None,
        **fields,
    }
    score = PaperScore.objects.create(run=run, work=work, rank=rank, datarank=datarank, **figures)
    if ScoringRun.objects.current() == run:
        SearchEntry.objects.place(PaperScore.objects.filter(run=run))  # as a run's publication does
    count_run(run)
    return score


def count_run(run: ScoringRun) -> None:
    """What pages read about the run as a whole, as publishing it computes them."""
    ScoringRun.objects.filter(pk=run.pk).update(figures=recount(run))
    run.refresh_from_db(fields=["figures"])


def cite(citing: Work, cited: Work) -> None:
    Citation.objects.create(citing=citing, cited=cited)


def write(work: Work, author_id: int) -> None:
    author, _ = Author.objects.get_or_create(id=author_id, defaults={"display_name": f"Author {author_id}"})
    Authorship.objects.create(work=work, author=author, position=work.authorships.count())


def text(response) -> str:
    """The page's visible text with whitespace collapsed, for reading sentences across tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode())).strip()


# --- FAIR ---------------------------------------------------------------------------------

FAIR_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# Two real sample papers: an ACM paper with a Crossref DOI that DataCite datasets point at, and an
# arXiv preprint whose DOI is DataCite's.
ACM_PAPER = 3046863325
ARXIV_PAPER = 3045921891
# A Zenodo dataset with full metadata and a paper with almost none, made for these tests.
ZENODO_DATASET = 9100000000001
BARE_PAPER = 9100000000002


def load_sample(*numbers: int) -> None:
    wanted = {f"https://openalex.org/W{number}" for number in numbers}
    load_records(
        [parse_work(raw) for raw in recorded_works() if raw["id"] in wanted], corpus="all", fetched_at=FAIR_NOW
    )


def make_corpus_paper(number: int, *, check_passed: bool = True, **fields) -> Work:
    """A corpus paper; one that fails the data-paper check is in the corpus by an admin's override."""
    work = Work.objects.create(id=number, fetched_at=FAIR_NOW, **fields)
    CorpusEntry.objects.create(
        work=work,
        check_passed=check_passed,
        confidence=0.95 if check_passed else 0.0,
        included=check_passed,
        override="" if check_passed else CorpusEntry.Override.INCLUDE,
        checked_at=FAIR_NOW,
    )
    return work


@pytest.fixture
def sample_papers(db) -> None:
    load_sample(ACM_PAPER, ARXIV_PAPER)


@pytest.fixture
def zenodo_dataset(db) -> Work:
    return make_corpus_paper(
        ZENODO_DATASET,
        doi="10.5281/zenodo.7504123",
        title="Altmetrics and open access citation trends: data set",
        abstract="Citation and altmetric counts of 3,000 papers.",
        publication_year=2020,
        venue="Zenodo (CERN European Organization for Nuclear Research)",
        type="dataset",
        is_oa=True,
        oa_status="green",
        license="cc-by",
        indexed_in=["datacite"],
        topics=["Scientific communication"],
        repository_locations=[{"source": "Zenodo", "url": "https://zenodo.org/records/7504123"}],
    )


@pytest.fixture
def bare_paper(db) -> Work:
    return make_corpus_paper(BARE_PAPER, check_passed=False, title="Notes", type="article")


# --- Researchers and institutions ----------------------------------------------------------

# Appended with the researcher pages; these belong with the imports above.
from papers.models import Affiliation, Institution  # noqa: E402
from scoring.models import InstitutionScore, ResearcherScore  # noqa: E402


def make_author(number: int, *, name: str = "", orcid: str = "") -> Author:
    return Author.objects.create(id=number, display_name=name or f"Author {number}", orcid=orcid)


def make_institution(number: int, *, name: str = "", country_code: str = "", **fields) -> Institution:
    return Institution.objects.create(
        id=number, display_name=name or f"Institution {number}", country_code=country_code, **fields
    )


def affiliate(work: Work, author_id: int, *institutions: Institution) -> None:
    """An authorship of `author_id` on `work` (as `write` makes it) listing `institutions`."""
    write(work, author_id)
    for institution in institutions:
        Affiliation.objects.create(work=work, author_id=author_id, institution=institution)


def _roll_up_figures(run: ScoringRun, ranked: int, *, rank: int | None, researcher_score: float, **fields) -> dict:
    """A roll-up row's figures, `ranked` being the run's count; `rank=None` is one the run scored
    0 and did not rank."""
    score = 0.0 if rank is None else researcher_score
    return {
        "papers": 1,
        "ranked_papers": 0 if rank is None else 1,
        "sum_score": score * 10,
        "h_index": 0,
        "top_percent": None if rank is None else 100.0 * rank / max(ranked, 1),
        **fields,
        "run": run,
        "rank": rank,
        "researcher_score": score,
    }


def make_researcher_score(
    run: ScoringRun, author: Author | int, *, rank: int | None, researcher_score: float = 1.0, **fields
) -> ResearcherScore:
    author_id = author if isinstance(author, int) else author.id
    figures = _roll_up_figures(run, run.researchers_ranked, rank=rank, researcher_score=researcher_score, **fields)
    score = ResearcherScore.objects.create(author_id=author_id, **figures)
    count_run(run)
    return score


def make_institution_score(
    run: ScoringRun, institution: Institution, *, rank: int | None, researcher_score: float = 1.0, **fields
) -> InstitutionScore:
    fields.setdefault("researchers", 1)
    figures = _roll_up_figures(run, run.institutions_ranked, rank=rank, researcher_score=researcher_score, **fields)
    score = InstitutionScore.objects.create(institution=institution, **figures)
    count_run(run)
    return score
