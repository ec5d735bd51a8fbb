"""The API's answers, built from the pages' own reads: find_paper and the ScoredWork querysets
for the figures, scoring.fair.calibration for the FAIR score, scoring.datarank for display.

A paper answer costs a fixed number of queries whatever its citers, and a batch a fixed number
for all its papers plus one calibration per distinct raw FAIR score. Every null is explained in
`null_reasons` (explain_nulls refuses to build an answer with a null it has no reason for)."""

import re
from collections.abc import Iterable

from django.db.models import Count, F
from django.http import HttpRequest
from django.urls import reverse
from ninja.errors import HttpError

from datarank_site.pages.paper import MAX_WORK_ID, not_in_corpus_message, subfield_name
from datarank_site.pages.templatetags.titles import title_text
from papers.models import Citation, CorpusEntry, Work
from papers.openalex.records import normalize_doi, openalex_number
from scoring.datarank import COHORT_MIN_SIZE, COHORT_YEARS, format_score, format_top_percent
from scoring.explain import NOT_RANKED
from scoring.fair.calibration import calibrated
from scoring.fair.metrics import METHOD_VERSION
from scoring.models import SCORE_FIELDS, FairEvaluation, ScoredWork, ScoringRun

# The score columns of `scores --format csv` after openalex_id and doi (cap_bound is not one).
SCORE_COLUMNS = tuple(name for name in SCORE_FIELDS if name != "cap_bound")
RANK_FIELDS = ("rank", "top_percent", "tier", "display.top_percent", "display.tier")
COHORT_FIELDS = ("cohort_size", "cohort_top_percent", "cohort", "display.cohort_top_percent")
UNSCORED_FIELDS = (*SCORE_COLUMNS, *RANK_FIELDS, *COHORT_FIELDS, "display", "coverage.self_citations_excluded")
# A scheme whose `//` a proxy merged: https:/doi.org/10.… is https://doi.org/10.…
MERGED_SCHEME = re.compile(r"^(https?):/+", re.IGNORECASE)
# Reasons that do not depend on the paper.
FIELD_REASONS = {
    "doi": "OpenAlex records no DOI for this work.",
    "publication_year": "OpenAlex records no publication year for this work.",
    "venue": "OpenAlex records no venue for this work.",
    "finished_at": "The run has not finished.",
    "data_as_of": "The run recorded no date for its data (it read no record).",
    "next_cursor": "This is the last page.",
    "run": "Nothing has been scored yet.",
    "paper": "There is no such paper: see error.",
    "error": "The paper was found.",
}


def explain_nulls(data: dict, reasons: dict[str, str], *, prefix: str = "") -> list[dict]:
    """The null_reasons of `data`: each null field (nested objects without their own
    null_reasons included) with its reason from `reasons` (by dotted path) or FIELD_REASONS."""
    found = []
    for name, value in data.items():
        path = f"{prefix}{name}"
        if value is None:
            reason = reasons.get(path) or FIELD_REASONS.get(name)
            if reason is None:
                raise ValueError(f"null {path} has no reason")
            found.append({"field": path, "reason": reason})
        elif isinstance(value, dict) and "null_reasons" not in value:
            found += explain_nulls(value, reasons, prefix=f"{path}.")
    return found


def with_reasons(data: dict, reasons: dict[str, str] | None = None) -> dict:
    return {**data, "null_reasons": explain_nulls(data, reasons or {})}


# --- ids -------------------------------------------------------------------------------------


def parse_key(key: str, *, doi_only: bool = False) -> int | str:
    """The bare DOI, or the work's number, of an OpenAlex work id in any spelling
    (W123, w123, its URL) or a DOI in any spelling (10.…, doi:10.…, https://doi.org/10.…,
    percent-encoded). Raises ValueError, saying why, for anything else."""
    text = MERGED_SCHEME.sub(r"\1://", key.strip())
    # A DOI first: 10.1234/W5 is a DOI whose suffix only looks like an id.
    try:
        return normalize_doi(text)
    except ValueError:
        if doi_only:
            raise ValueError(f"“{key}” is not a DOI: a DOI looks like 10.1234/abc.") from None
    try:
        return openalex_number(text, kind="W")
    except ValueError:
        raise ValueError(f"“{key}” is neither an OpenAlex work id (W…) nor a DOI (10.…).") from None


def numbers_of_dois(dois: Iterable[str]) -> dict[str, int]:
    """The work each DOI names among those we hold (the corpus paper, where a citer shares its
    DOI), in one query."""
    held = Work.objects.filter(doi__in=set(dois)).order_by(F("corpus_entry__in_corpus").desc(nulls_last=True), "id")
    numbers: dict[str, int] = {}
    for doi, number in held.values_list("doi", "id"):
        numbers.setdefault(doi, number)
    return numbers


def work_number(key: str, *, status: int = 404, doi_only: bool = False) -> int:
    """The number of the work `key` names (parse_key). Raises HttpError(`status`) for a key that
    is no id, 404 for a DOI we do not hold."""
    try:
        value = parse_key(key, doi_only=doi_only)
    except ValueError as error:
        raise HttpError(status, str(error)) from None
    if isinstance(value, int):
        return value
    number = numbers_of_dois([value]).get(value)
    if number is None:
        raise HttpError(404, f"We hold no work with the DOI {value}.")
    return number


def missing_paper_detail(number: int, work: Work | None) -> str:
    """Why work `number` has no paper answer, in find_paper's words."""
    if not 0 < number <= MAX_WORK_ID:
        return f"W{number} is not a valid OpenAlex work id."
    if work is None:
        return f"We hold no work W{number}."
    entry: CorpusEntry | None = getattr(work, "corpus_entry", None)
    return not_in_corpus_message(work.openalex_id, entry)


# --- runs ------------------------------------------------------------------------------------


def run_data(run: ScoringRun, *, current_id: int | None) -> dict:
    return with_reasons(
        {
            "id": run.id,
            "algorithm": run.algorithm,
            "status": run.status,
            "current": run.id == current_id,
            "damping": run.damping,
            "citer_cap": run.citer_cap,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "data_as_of": run.data_as_of,
            "papers_scored": run.papers_scored,
            "papers_ranked": run.papers_ranked,
            "papers_not_ranked": run.papers_not_ranked,
        }
    )


def current_run_data(run: ScoringRun | None) -> dict | None:
    return None if run is None else run_data(run, current_id=run.id)


# --- papers ----------------------------------------------------------------------------------


def page_url(request: HttpRequest, work: Work) -> str:
    return request.build_absolute_uri(reverse("paper", kwargs={"key": work.openalex_id}))


def score_reasons(work: ScoredWork, run: ScoringRun | None) -> dict[str, str]:
    """Why the figures the run did not give are missing."""
    if run is None:
        return dict.fromkeys(UNSCORED_FIELDS, "Nothing has been scored yet.")
    if work.datarank is None:
        return dict.fromkeys(
            UNSCORED_FIELDS, f"Scoring run {run.id} did not score this paper: it joined the corpus after the run."
        )
    if work.rank is None:
        reasons = dict.fromkeys(RANK_FIELDS, f"{NOT_RANKED} (its DataRank is 0), so it has no rank.")
        return reasons | dict.fromkeys(COHORT_FIELDS, "Only ranked papers have a cohort.")
    if work.cohort_size is None:
        why = "OpenAlex gives it no subfield" if work.subfield_id is None else "OpenAlex gives it no publication year"
        return dict.fromkeys(COHORT_FIELDS, f"{why}, so it has no cohort.")
    too_few = f"Only {work.cohort_size} ranked papers in its cohort: a cohort percentile needs {COHORT_MIN_SIZE}."
    return {"cohort_top_percent": too_few, "display.cohort_top_percent": too_few}


def summary_data(request: HttpRequest, work: ScoredWork, run: ScoringRun | None) -> dict:
    """A corpus paper with its figures from `run`, as lists give it."""
    data = {
        "openalex_id": work.openalex_id,
        "doi": work.doi or None,
        "title": title_text(work.title),
        "publication_year": work.publication_year,
        "url": page_url(request, work),
        "cited_by_count": work.cited_by_count,
        **{name: getattr(work, name) for name in SCORE_COLUMNS},
    }
    return with_reasons(data, score_reasons(work, run))


def display_data(work: ScoredWork) -> dict | None:
    if work.datarank is None:
        return None
    return {
        "datarank": format_score(work.datarank),
        "base_contribution": format_score(work.base_contribution or 0.0),
        "network_contribution": format_score(work.network_contribution or 0.0),
        "top_percent": None if work.top_percent is None else f"top {format_top_percent(work.top_percent)}",
        "tier": None if work.tier is None else f"S{work.tier}",
        "cohort_top_percent": None
        if work.cohort_top_percent is None
        else f"top {format_top_percent(work.cohort_top_percent)}",
    }


def cohort_data(work: ScoredWork) -> dict | None:
    if not work.cohort_size or work.subfield_id is None or work.publication_year is None:
        return None
    year = work.publication_year
    return {
        "subfield_id": work.subfield_id,
        "subfield": subfield_name(work) or f"Subfield {work.subfield_id}",
        "year_from": year - COHORT_YEARS,
        "year_to": year + COHORT_YEARS,
    }


def papers_data(request: HttpRequest, works: Iterable[ScoredWork], run: ScoringRun | None) -> dict[int, dict]:
    """Each work's paper answer: its figures (already on the works, from `run`) with its FAIR
    evaluation and its coverage, read for all of them at once."""
    works = list(works)
    ids = [work.id for work in works]
    cap = ScoringRun.parameters(run).cap
    held = dict(
        Citation.objects.filter(cited_id__in=ids)
        .values("cited_id")
        .annotate(n=Count("citing_id"))
        .order_by()
        .values_list("cited_id", "n")
    )
    evaluations = {e.work_id: e for e in FairEvaluation.objects.filter(work_id__in=ids, is_latest=True)}
    calibrations = {
        raw: calibrated(raw)
        for raw in sorted({e.raw for e in evaluations.values() if e.method_version == METHOD_VERSION})
    }
    answers = {}
    for work in works:
        citers_held = held.get(work.id, 0)
        fair, fair_reasons = fair_data(evaluations.get(work.id), calibrations)
        data = summary_data(request, work, run)
        data.pop("null_reasons")
        data |= {
            "run": current_run_data(run),
            "cohort": cohort_data(work),
            "display": display_data(work),
            "coverage": {
                "cited_by_count": work.cited_by_count,
                "citers_held": citers_held,
                "citer_cap": cap,
                "cap_reached": citers_held > cap,
                "self_citations_excluded": work.self_citations_excluded,
                "citers_complete": citers_held >= min(work.cited_by_count, cap),
            },
            "fair": fair,
        }
        answers[work.id] = with_reasons(data, score_reasons(work, run) | fair_reasons)
    return answers


def fair_data(
    evaluation: FairEvaluation | None, calibrations: dict[float, tuple[float | None, int]]
) -> tuple[dict | None, dict[str, str]]:
    if evaluation is None:
        return None, {"fair": "This paper has not been evaluated for FAIR yet."}
    current = evaluation.method_version == METHOD_VERSION
    score, among = calibrations.get(evaluation.raw, (None, 0)) if current else (None, 0)
    reasons = {}
    if not current:
        reasons["fair.calibrated"] = (
            f"Evaluated under method {evaluation.method_version}, not the current {METHOD_VERSION}: "
            "it is calibrated once re-evaluated."
        )
    elif score is None:
        reasons["fair.calibrated"] = "No complete FAIR evaluation to calibrate against yet."
    data = {
        "method_version": evaluation.method_version,
        "current_method": current,
        "evaluated_at": evaluation.evaluated_at,
        "raw": evaluation.raw,
        "calibrated": score,
        "calibrated_among": among,
        "provisional": evaluation.provisional,
        "f": evaluation.f,
        "a": evaluation.a,
        "i": evaluation.i,
        "r": evaluation.r,
    }
    return data, reasons
