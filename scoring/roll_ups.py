"""A run's researcher and institution scores: who gets credit for which corpus paper, read in
two queries, rolled up by scoring.researchers, written with the run's paper scores.

Credit, decided by the database in the same queries for every author at once:
- an authorship counts for its author's surviving id (papers.AuthorMerge is kept flat, so one
  join resolves it); an authorship without an author id is never held, so counts for nobody;
- an accepted "isn't theirs" correction takes that paper from that person (the correction's
  author resolved the same way, so it holds after a later merge);
- an institution is credited with each paper an authorship lists it on, once, whoever is
  found to be the author: a wrong author does not make a wrong affiliation.
"""

from dataclasses import dataclass

import numpy as np
from django.db import connection

from papers.models import Affiliation, AuthorMerge, Authorship, CorpusEntry, Correction
from scoring.bulk import insert_rows
from scoring.engine import CorpusInputs, CorpusScores
from scoring.inputs import fetch_columns
from scoring.models import InstitutionScore, ResearcherScore, ScoringRun
from scoring.researchers import RollUps, roll_up

ROLL_UP_COLUMNS = ("papers", "ranked_papers", "researcher_score", "sum_score", "h_index", "rank", "top_percent")


@dataclass(frozen=True)
class SavedRollUps:
    """What save_roll_ups wrote: the run's researcher and institution scores."""

    researchers: RollUps
    institutions: RollUps

    def run_fields(self) -> dict[str, int]:
        """The run's researcher and institution counts, for its ScoringRun fields."""
        return {
            "researchers_scored": len(self.researchers),
            "researchers_ranked": int(np.count_nonzero(self.researchers.rank)),
            "institutions_scored": len(self.institutions),
            "institutions_ranked": int(np.count_nonzero(self.institutions.rank)),
        }


def save_roll_ups(*, run: ScoringRun, inputs: CorpusInputs, scores: CorpusScores) -> SavedRollUps:
    """Roll the run's paper scores up to its researchers and institutions and write their rows,
    inside the caller's transaction (the one that publishes the run)."""
    # The engine's inputs per paper, in the ascending id order of its scores.
    order = np.argsort(inputs.paper_ids, kind="stable")
    subfield = np.zeros(len(order), np.int64) if inputs.paper_subfield is None else inputs.paper_subfield[order]
    papers = {
        "datarank": scores.datarank,
        "cited_by_count": inputs.paper_cited_by_count[order],
        "ranked": scores.rank > 0,
        "subfield": subfield,
    }
    work, author = fetch_columns(_credited_sql(), [], dtypes=(np.int64, np.int64))
    researchers = roll_up(member_group=author, member_paper=_index(scores, work), **papers)
    work, institution, author = fetch_columns(_affiliations_sql(), [], dtypes=(np.int64, np.int64, np.int64))
    institutions = roll_up(member_group=institution, member_paper=_index(scores, work), **papers)
    # Distinct authors per institution: np.unique over the pairs, then a count per institution.
    pairs = np.unique(np.stack([institution, author], axis=1).reshape(-1, 2), axis=0)
    people = np.bincount(np.searchsorted(institutions.ids, pairs[:, 0]), minlength=len(institutions))

    _write(ResearcherScore, run, "author_id", researchers, extra={"subfield_id": _or_none(researchers.subfield)})
    _write(InstitutionScore, run, "institution_id", institutions, extra={"researchers": people.tolist()})
    return SavedRollUps(researchers=researchers, institutions=institutions)


def _index(scores: CorpusScores, work: np.ndarray) -> np.ndarray:
    """Each work as an index into the run's papers (scores.paper_ids is sorted); every credited
    work is a corpus paper, which the run scored."""
    return np.searchsorted(scores.paper_ids, work)


def _names() -> dict[str, str]:
    quote = connection.ops.quote_name
    models = {"authorship": Authorship, "entry": CorpusEntry, "merge": AuthorMerge, "correction": Correction,
              "affiliation": Affiliation}  # fmt: skip
    return {name: quote(model._meta.db_table) for name, model in models.items()}


def _credited_sql() -> str:
    """(corpus paper, surviving author id) for every authorship that counts."""
    t = _names()
    return f"""
        SELECT a.work_id, coalesce(m.into_id, a.author_id) AS author
        FROM {t["authorship"]} a
        JOIN {t["entry"]} e ON e.work_id = a.work_id AND e.in_corpus
        LEFT JOIN {t["merge"]} m ON m.old_id = a.author_id
        WHERE NOT EXISTS (
            SELECT 1 FROM {t["correction"]} c
            LEFT JOIN {t["merge"]} cm ON cm.old_id = c.author_id
            WHERE c.kind = '{Correction.Kind.NOT_THEIRS.value}' AND c.status = '{Correction.Status.ACCEPTED.value}'
              AND c.work_id = a.work_id AND coalesce(cm.into_id, c.author_id) = coalesce(m.into_id, a.author_id)
        )
    """


def _affiliations_sql() -> str:
    """(corpus paper, institution, surviving author id) for every affiliation on a corpus paper."""
    t = _names()
    return f"""
        SELECT f.work_id, f.institution_id, coalesce(m.into_id, f.author_id)
        FROM {t["affiliation"]} f
        JOIN {t["entry"]} e ON e.work_id = f.work_id AND e.in_corpus
        LEFT JOIN {t["merge"]} m ON m.old_id = f.author_id
    """


def _write(model, run: ScoringRun, key: str, rolled: RollUps, *, extra: dict[str, list]) -> None:
    columns = [rolled.ids.tolist(), *(_column(rolled, name) for name in ROLL_UP_COLUMNS), *extra.values()]
    fields = ["run_id", key, *ROLL_UP_COLUMNS, *extra]
    insert_rows(model._meta.db_table, fields, ((run.pk, *row) for row in zip(*columns, strict=True)))


def _column(rolled: RollUps, name: str) -> list:
    values = getattr(rolled, name)
    if name == "rank":
        return _or_none(values)
    if name == "top_percent":
        return [None if np.isnan(value) else value for value in values.tolist()]
    return values.tolist()


def _or_none(values: np.ndarray) -> list:
    """0 is the engine's "none"; stored as an empty field."""
    return [value or None for value in values.tolist()]
