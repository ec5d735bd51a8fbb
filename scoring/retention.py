"""Score history that grows by what changed, not by the corpus size per run.

The newest DATARANK_SCORE_RUNS_KEPT succeeded runs keep every row: pages, the API and a run's
diff read them whole. Once a run is older, it is folded: a paper's row goes where it repeats the
figures of that paper's previous kept row (DataRank, rank, top percent, tier, citing works), and
a researcher's or institution's where it repeats every figure of theirs. What stays is each
change, so a paper's history still shows every run where one of its figures moved, and a
million-paper corpus rescored daily adds the rows of the papers that changed.

Folding runs oldest first, each run in its own transaction, and after the run that pushed it out
has committed; it is safe to repeat (a folded run is marked, and a second fold finds nothing to
drop)."""

import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from scoring.models import InstitutionScore, PaperScore, ResearcherScore, ScoringRun
from scoring.roll_ups import ROLL_UP_COLUMNS

logger = logging.getLogger(__name__)

# What a row must repeat to be folded: the figures the score history shows.
FOLDED_ON = {
    PaperScore: ("work_id", ("datarank", "rank", "top_percent", "tier", "citing_works")),
    ResearcherScore: ("author_id", (*ROLL_UP_COLUMNS, "subfield_id")),
    InstitutionScore: ("institution_id", (*ROLL_UP_COLUMNS, "researchers")),
}


def fold_old_runs() -> int:
    """Fold every succeeded run older than the newest DATARANK_SCORE_RUNS_KEPT not folded yet;
    returns how many rows went."""
    newest = ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED).order_by("-pk")
    kept = list(newest.values_list("pk", flat=True)[: settings.DATARANK_SCORE_RUNS_KEPT])
    if len(kept) < settings.DATARANK_SCORE_RUNS_KEPT:
        return 0
    removed = 0
    for run_id in newest.filter(pk__lt=kept[-1], folded_at__isnull=True).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            dropped = {model.__name__: _fold(model, run_id) for model in FOLDED_ON}
            ScoringRun.objects.filter(pk=run_id).update(folded_at=timezone.now())
        logger.info("Folded scoring run %s: dropped %s", run_id, dropped)
        removed += sum(dropped.values())
    return removed


def _fold(model, run_id: int) -> int:
    """Drop the run's rows that repeat their subject's previous kept row, in one statement."""
    key, figures = FOLDED_ON[model]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    same = " AND ".join(f"p.{quote(name)} IS NOT DISTINCT FROM {table}.{quote(name)}" for name in figures)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {table} WHERE run_id = %s AND EXISTS (
                SELECT 1 FROM {table} p
                WHERE p.{key} = {table}.{key} AND {same}
                  AND p.run_id = (SELECT max(q.run_id) FROM {table} q WHERE q.{key} = {table}.{key} AND q.run_id < %s)
            )
            """,
            [run_id, run_id],
        )
        return cursor.rowcount
