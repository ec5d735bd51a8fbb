"""Every answer of the API as a typed schema: the OpenAPI document is generated from these, and
a field that is not here cannot be sent (extra fields are forbidden, and no field has a default,
so each is always present, null when it is not known — with a reason in `null_reasons`).

The score fields are named as the columns of `scores --format csv`, so the CSV, the dumps and
the API read alike."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

MAX_BATCH = 100


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class NullReason(Strict):
    field: str = Field(description="The null field, as a dotted path from this object: `rank`, `run.data_as_of`.")
    reason: str


NullReasons = Annotated[
    list[NullReason],
    Field(description="Why each null field of this object (and of its nested objects without their own) is null."),
]


class Error(Strict):
    error: Literal["bad_request", "not_found", "method_not_allowed", "rate_limited", "server_error", "unavailable"] = (
        Field(description="What went wrong, for programs.")
    )
    detail: str = Field(description="What went wrong, for people.")


class Run(Strict):
    """A scoring run: the figures of a paper are those of one run, over the whole corpus."""

    id: int
    algorithm: str
    status: Literal["running", "succeeded", "failed"]
    current: bool = Field(description="Whether this is the run the site shows (the latest that succeeded).")
    damping: float = Field(description="d in DataRank = (1 - d)·B + d·N.")
    citer_cap: int = Field(description="Citers kept per paper, the most cited first.")
    started_at: datetime
    finished_at: datetime | None
    data_as_of: datetime | None = Field(description="When the newest record the run read was fetched.")
    papers_scored: int
    papers_ranked: int = Field(description="N: the scored papers with a DataRank above zero.")
    papers_not_ranked: int
    null_reasons: NullReasons


class Cohort(Strict):
    """The ranked papers of the paper's subfield published within a year of it."""

    subfield_id: int
    subfield: str
    year_from: int
    year_to: int


class Display(Strict):
    """The figures as the pages show them (scoring.datarank's formatting)."""

    datarank: str
    base_contribution: str
    network_contribution: str
    top_percent: str | None = Field(description='"top 0.7%": rounded up, so it never flatters.')
    tier: str | None = Field(description='"S1" (top 20%) to "S5".')
    cohort_top_percent: str | None


class Coverage(Strict):
    """How much of the paper's citation network we hold, as held now."""

    cited_by_count: int = Field(description="OpenAlex's count of the works citing it.")
    citers_held: int = Field(description="The works we hold that cite it.")
    citer_cap: int
    cap_reached: bool = Field(description="We hold more citers than the cap: only the cap's most cited count.")
    self_citations_excluded: int | None = Field(description="Citers within the cap left out as self-citations.")
    citers_complete: bool = Field(description="We hold at least min(cited_by_count, citer_cap) citers.")


class Fair(Strict):
    """The paper's latest FAIR evaluation."""

    method_version: str
    current_method: bool = Field(description="Evaluated under the method in use; calibrated only then.")
    evaluated_at: datetime
    raw: float = Field(description="0 to 100: the checks passed, weighted.")
    calibrated: float | None = Field(description="The raw score's percentile among the complete evaluations.")
    calibrated_among: int = Field(description="How many complete evaluations the percentile is taken among.")
    provisional: bool = Field(description="Some checks wait for a source that has not answered.")
    f: float
    a: float
    i: float
    r: float


class PaperSummary(Strict):
    """A corpus paper in a list: its figures from the run the list gives."""

    openalex_id: str
    doi: str | None
    title: str
    publication_year: int | None
    url: str = Field(description="The paper's page on the site.")
    cited_by_count: int
    datarank: float | None
    base_contribution: float | None
    network_contribution: float | None
    citing_works: int | None = Field(description="Citers kept after the cap and the self-citation filter.")
    citers_with_signal: int | None = Field(description="Kept citers with at least one citation.")
    self_citations_excluded: int | None
    rank: int | None = Field(description="1 = best; ties share the best rank. Null: not ranked.")
    top_percent: float | None = Field(description="100·k/N, k the ranked papers scoring at least as high.")
    tier: int | None = Field(description="1 (S1, top 20%) to 5 (S5).")
    cohort_size: int | None
    cohort_top_percent: float | None = Field(description="Given from 20 cohort papers on.")
    null_reasons: NullReasons


class Paper(PaperSummary):
    """A corpus paper with everything the API knows of its score."""

    run: Run | None = Field(description="The run the figures come from.")
    cohort: Cohort | None
    display: Display | None
    coverage: Coverage
    fair: Fair | None


class BatchRequest(Strict):
    ids: Annotated[list[str], Field(min_length=1, max_length=MAX_BATCH)] = Field(
        description=f"Up to {MAX_BATCH} OpenAlex work ids or DOIs, any spelling."
    )

    @field_validator("ids", mode="before")
    @classmethod
    def at_most_a_batch(cls, value: object) -> object:
        # Said before pydantic's own length check, in the API's words.
        if isinstance(value, list) and len(value) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} ids; this one has {len(value)}")
        return value


class BatchItem(Strict):
    id: str = Field(description="The id as it was asked for.")
    paper: Paper | None
    error: Error | None = Field(description="Why there is no paper: an unknown id is reported, never dropped.")
    null_reasons: NullReasons


class Batch(Strict):
    results: list[BatchItem] = Field(description="One per id asked for, in the order asked.")


class Citer(Strict):
    """A kept citer, in cap order (the order the score adds them up in)."""

    position: int
    openalex_id: str
    doi: str | None
    title: str
    publication_year: int | None
    venue: str | None
    cited_by_count: int
    referenced_works_count: int
    term: float = Field(description="ln(1 + C_q) / max(R_q, 1).")
    contribution: float = Field(description="d·term: what it adds to the paper's DataRank.")
    datarank: float = Field(description="Its own DataRank, or its base-only value (see datarank_is_base_only).")
    datarank_is_base_only: bool
    in_corpus: bool
    null_reasons: NullReasons


class CitersPage(Strict):
    openalex_id: str
    run: Run | None
    citer_cap: int
    citing_works: int = Field(description="All kept citers (every page).")
    self_citations_excluded: int
    network_contribution: float = Field(description="d·Σ term over all kept citers.")
    results: list[Citer]
    next_cursor: str | None
    null_reasons: NullReasons


class PapersPage(Strict):
    run: Run | None
    results: list[PaperSummary]
    next_cursor: str | None
    null_reasons: NullReasons
