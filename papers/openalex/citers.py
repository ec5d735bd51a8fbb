"""A corpus paper's citers from the live OpenAlex API (`filter=cites:W…`): the `cap` most cited,
pulled whole, replacing the paper's previous pulled citer set in one transaction.

Every OpenAlex call happens before the transaction opens, so a fault (a 500 after the retries,
a spent budget) leaves the database as it was and a retry starts clean. Rescoring is the
caller's job: ranks compare the whole corpus, so one run follows a whole batch.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from papers.models import Authorship, Citation, CitationRemoval, CorpusEntry
from papers.openalex.client import OpenAlexClient
from papers.openalex.ingest import load_records


@dataclass(frozen=True)
class PullResult:
    work_id: int
    citers: int  # citers in the pull, which is now the paper's pulled citer set
    added: int  # citers not in the previous pull
    removed: int  # citers of the previous pull that are gone
    self_citations: int
    list_calls: int


def pull_citers(*, work_id: int, client: OpenAlexClient | None = None, cap: int | None = None) -> PullResult:
    """Fetch the `cap` most cited citers of a paper (settings.DATARANK_CITER_CAP by default)
    and make them its pulled citer set, whole, in one transaction.

    A link carries its 0-based position in the pull (most cited first). Links of the previous
    pull that this one lacks are deleted, whatever else once said so: the newest pull is the
    truth about the paper's top citers. Links with no position, known only from the
    `referenced_works` of works we hold, are kept. The citers are stored as works but do not
    join the corpus by citing it."""
    client = client or OpenAlexClient()
    cap = settings.DATARANK_CITER_CAP if cap is None else cap
    calls_before = client.list_calls
    # Every page is fetched before the transaction opens: a fault on page 2 changes nothing.
    records = client.citers(work_id, limit=cap)
    positions: dict[int, int] = {}
    for record in records:
        if record.id != work_id:  # a work listing itself is an OpenAlex data error, not a citer
            positions.setdefault(record.id, len(positions))

    now = timezone.now()
    with transaction.atomic():
        load_records(records, corpus="none", fetched_at=now)
        pulled_before = Citation.objects.filter(cited_id=work_id, pull_position__isnull=False)
        previous = set(pulled_before.values_list("citing_id", flat=True))
        gone = previous - positions.keys()
        pulled_before.filter(citing_id__in=gone).delete()
        CitationRemoval.objects.bulk_create(
            CitationRemoval(cited_id=work_id, citing_id=citing_id, removed_at=now) for citing_id in sorted(gone)
        )
        own_authors = Authorship.objects.filter(work_id=work_id).values("author_id")
        self_citing = set(
            Authorship.objects.filter(work_id__in=list(positions), author_id__in=own_authors).values_list(
                "work_id", flat=True
            )
        )
        Citation.objects.bulk_create(
            [
                Citation(
                    citing_id=citer,
                    cited_id=work_id,
                    pull_position=position,
                    is_self_citation=citer in self_citing,
                    first_seen_at=now,
                )
                for citer, position in positions.items()
            ],
            update_conflicts=True,
            unique_fields=["cited", "citing"],
            update_fields=["pull_position", "is_self_citation"],
        )
        CorpusEntry.objects.filter(work_id=work_id).update(citers_pulled_at=now)
    return PullResult(
        work_id=work_id,
        citers=len(positions),
        added=len(positions.keys() - previous),
        removed=len(gone),
        self_citations=len(self_citing),
        list_calls=client.list_calls - calls_before,
    )
