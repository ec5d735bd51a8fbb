"""What we hold of OpenAlex: works, their authors and institutions (and which author ids were
merged into which), the citation links between them (and the ones that left), which works form
the data-sharing corpus, the FAIR signals and facts gathered about them, the refresh runs that
re-fetch them, and visitors' corrections to the corpus and to researchers."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import connection, connections, models, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce, Length
from django.utils import timezone

if TYPE_CHECKING:
    from papers.search import SearchPlan

# The words of a search: letters and digits in any script; everything else separates them.
SEARCH_WORD = re.compile(r"[^\W_]+")
# Longer words stay out of the search vocabulary: no one types them with a typo.
SEARCH_WORD_MAX_LENGTH = 200


class WorkQuerySet[W: "Work"](models.QuerySet[W]):
    def in_corpus(self) -> Self:
        return self.filter(corpus_entry__in_corpus=True)

    def search(self, query: str) -> Self:
        """Corpus papers whose title, authors' names or venue match the query, typos forgiven,
        each annotated with its `relevance` (higher is better); papers.search.interpret says how
        the words were read."""
        from papers.search import interpret

        return self.matching(interpret(query))

    def matching(self, plan: "SearchPlan") -> Self:
        """Corpus papers holding every word of the plan (papers.search.holding), each
        annotated with its `relevance`: 3 when every word is there as typed, 2 with the last
        as a prefix, 1 through a correction. The whole set, for the API's other sorts; the
        search page reads its first matches through papers.search.first_matches instead."""
        from papers.search import relevance

        return self.in_corpus().annotate(relevance=relevance(plan)).filter(relevance__gt=0)

    def capped_citers_of(self, work_id: int, *, cap: int) -> Self:
        """The citers the score looks at, in the engine's order: the `cap` most cited citers
        (ties: lower id first), each with `self_citation` — whether it shares any author with
        the paper, which leaves it out of the network score (DESIGN.md §1). Authorships decide,
        as they do for the score."""
        order = ("-cited_by_count", "id")
        capped = Work.objects.filter(references__cited_id=work_id).order_by(*order).values("id")[:cap]
        own_authors = Authorship.objects.filter(work_id=work_id).values("author_id")
        shares_an_author = Authorship.objects.filter(work_id=OuterRef("id"), author_id__in=own_authors)
        return self.filter(id__in=capped).annotate(self_citation=Exists(shares_an_author)).order_by(*order)


class Work(models.Model):
    """An OpenAlex work: a corpus paper or a citer. The primary key is the number of its W id."""

    id = models.BigIntegerField(primary_key=True)
    doi = models.CharField(max_length=255, blank=True, db_index=True, help_text="Bare and lower-case: 10.…")
    title = models.TextField(blank=True)
    abstract = models.TextField(
        blank=True, help_text="Rebuilt from abstract_inverted_index; empty when OpenAlex has none."
    )
    publication_year = models.PositiveSmallIntegerField(null=True, blank=True)
    venue = models.CharField(max_length=500, blank=True)
    type = models.CharField(max_length=50, blank=True, db_index=True)
    cited_by_count = models.PositiveIntegerField(default=0)
    referenced_works_count = models.PositiveIntegerField(default=0)
    is_oa = models.BooleanField(default=False)
    oa_status = models.CharField(max_length=20, blank=True)
    is_retracted = models.BooleanField(default=False)
    indexed_in = models.JSONField(default=list, blank=True)
    topics = models.JSONField(default=list, blank=True)
    repository_locations = models.JSONField(
        default=list, blank=True, help_text="Locations whose source is a repository: [{source, url}]."
    )
    openalex_updated = models.DateField(null=True, blank=True, help_text="OpenAlex's updated_date for the record.")
    fetched_at = models.DateTimeField(help_text="When we read this record (file load or API call).")
    license = models.CharField(max_length=100, blank=True, help_text="The licence OpenAlex found, e.g. cc-by.")
    datasets = models.JSONField(default=list, blank=True, help_text="OpenAlex ids of the datasets linked to it.")
    primary_topic = models.JSONField(
        null=True,
        blank=True,
        help_text="OpenAlex's primary topic: {topic, subfield, field, domain: {id, name}}; empty when it gives none.",
    )
    unidentified_authors = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Authorships without an OpenAlex author id: they count for nobody."
    )
    # Its own column, indexed: cohorts are the papers of one subfield (DESIGN.md §1).
    subfield_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    # A database default too, so bulk writers that name only the columns they know (the
    # benchmarks' SQL, COPY) still write a valid row.
    source_type = models.CharField(
        max_length=30, blank=True, db_default="", help_text="The primary location's source type: journal, repository, …"
    )
    # The record's fields longer than DataRank keeps (papers.openalex.records.CAPS), each with its
    # length and the characters kept, 0 for a dropped identifier: {"title": {"length": 52428800,
    # "kept": 2000}}. Empty for nearly every work; the paper page shows it.
    truncated = models.JSONField(
        default=dict,
        blank=True,
        db_default={},
        help_text="Fields of the record longer than DataRank keeps: {field: {length, kept}}.",
    )

    objects = WorkQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id__gt=0), name="work_id_positive"),
            models.CheckConstraint(condition=Q(cited_by_count__gte=0), name="work_cited_by_count_non_negative"),
            models.CheckConstraint(
                condition=Q(referenced_works_count__gte=0), name="work_referenced_works_count_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.openalex_id} {self.title[:80]}"

    @property
    def openalex_id(self) -> str:
        return f"W{self.id}"

    @property
    def openalex_url(self) -> str:
        return f"https://openalex.org/{self.openalex_id}"

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""


class Author(models.Model):
    """An OpenAlex author; the primary key is the number of its A id."""

    id = models.BigIntegerField(primary_key=True)
    display_name = models.CharField(max_length=500, blank=True)
    orcid = models.CharField(max_length=100, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"A{self.id} {self.display_name}"


class AuthorshipQuerySet(models.QuerySet["Authorship"]):
    def credited_to(self, author_id: int) -> Self:
        """The authorships that count for `author_id`: its own and those of the ids merged into
        it, less the ones an editor found not theirs (an accepted "isn't theirs" correction on
        it or on an id merged into it)."""
        merged = AuthorMerge.objects.filter(into_id=author_id).values("old_id")
        not_theirs = Correction.objects.filter(
            Q(author_id=author_id) | Q(author_id__in=merged),
            kind=Correction.Kind.NOT_THEIRS,
            status=Correction.Status.ACCEPTED,
            work_id=OuterRef("work_id"),
        )
        return self.filter(Q(author_id=author_id) | Q(author_id__in=merged)).exclude(Exists(not_theirs))


class Authorship(models.Model):
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="authorships")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="authorships")
    position = models.PositiveSmallIntegerField()
    author_position = models.CharField(
        max_length=10, blank=True, db_default="", help_text="OpenAlex's: first, middle or last."
    )
    raw_affiliations = models.JSONField(
        default=list, blank=True, db_default=[], help_text="The affiliation strings as the paper prints them."
    )

    objects = AuthorshipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["work", "author"], name="authorship_unique")]
        ordering = ["work", "position"]

    def __str__(self) -> str:
        return f"A{self.author_id} on W{self.work_id} (#{self.position})"


class Institution(models.Model):
    """An OpenAlex institution; the primary key is the number of its I id."""

    id = models.BigIntegerField(primary_key=True)
    display_name = models.CharField(max_length=500, blank=True)
    country_code = models.CharField(max_length=2, blank=True, db_index=True, help_text="ISO 3166-1 alpha-2.")
    ror = models.CharField(max_length=100, blank=True, help_text="https://ror.org/…")
    type = models.CharField(max_length=50, blank=True, help_text="OpenAlex's: education, facility, company, …")

    def __str__(self) -> str:
        return f"I{self.id} {self.display_name}"

    @property
    def openalex_id(self) -> str:
        return f"I{self.id}"


class Affiliation(models.Model):
    """An institution an authorship lists: where the author was for that work. An authorship
    without an author id has none: it counts for nobody, institutions included."""

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="affiliations")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="affiliations")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="affiliations")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["work", "author", "institution"], name="affiliation_unique"),
        ]
        indexes = [models.Index(fields=["institution", "work"], name="affiliation_institution_idx")]

    def __str__(self) -> str:
        return f"A{self.author_id} at I{self.institution_id} on W{self.work_id}"


# Ids per IN (…) list when reading or re-pointing merges: under SQLite's variable limit.
MERGE_CHUNK = 5_000


class AuthorMergeQuerySet(models.QuerySet["AuthorMerge"]):
    def survivor(self, author_id: int) -> int | None:
        """The id `author_id` was merged into, or None when it was not merged."""
        return self.filter(old_id=author_id).values_list("into_id", flat=True).first()

    def record(
        self, merges: Iterable[tuple[int, int, date | None]], *, correction: "Correction | None" = None
    ) -> list[tuple[int, int]]:
        """Save merges given as (old id, id merged into, merge date), keeping the table flat:
        each old id points at the end of its chain (through these merges and those already
        held), and held merges into an id merged now are re-pointed to its survivor. A survivor
        without an Author row gets the old one's name and ORCID until its own record arrives.
        A merge that would close a loop (B into A while A was merged into B) is left out and
        returned, with the others saved."""
        batch = {old: into for old, into, _ in merges if old != into}
        dates = {old: day for old, _, day in merges}
        held: dict[int, int] = {}
        ids = sorted(set(batch) | set(batch.values()))
        for start in range(0, len(ids), MERGE_CHUNK):
            held.update(self.filter(old_id__in=ids[start : start + MERGE_CHUNK]).values_list("old_id", "into_id"))

        def walk(author: int) -> tuple[int | None, bool]:
            """The end of `author`'s chain (None in a loop), and whether the chain came back to it."""
            seen = set()
            start = author
            while author not in seen:
                seen.add(author)
                following = batch.get(author, held.get(author))
                if following is None:
                    return author, False
                author = following
            return None, author == start

        # The merges on a loop close it and are left out; every other chain ends once they are
        # gone (held merges are flat, so every loop runs through one of these), including one
        # that only ran into the loop.
        looped = [(old, batch[old]) for old in list(batch) if walk(old)[1]]
        for old, _ in looped:
            del batch[old]
        ends = {old: walk(old)[0] for old in batch}
        final = {old: into for old, into in ends.items() if into is not None}
        with transaction.atomic(using=self.db):
            AuthorMerge.objects.using(self.db).bulk_create(
                [
                    AuthorMerge(old_id=old, into_id=into, merge_date=dates[old], correction=correction)
                    for old, into in final.items()
                ],
                update_conflicts=True,
                unique_fields=["old_id"],
                update_fields=["into_id", "merge_date", "correction", "recorded_at"],
                batch_size=MERGE_CHUNK,
            )
            olds = sorted(final)
            for start in range(0, len(olds), MERGE_CHUNK):
                chunk = olds[start : start + MERGE_CHUNK]
                self.filter(into_id__in=chunk).update(
                    into_id=Case(*(When(into_id=old, then=Value(final[old])) for old in chunk))
                )
            _adopt_names(final)
        return looped


class AuthorMerge(models.Model):
    """An author id merged into another — by OpenAlex (its merged_ids lists) or by an editor
    (an accepted "same person" correction): its page redirects to the survivor and its papers
    count for it. Kept flat: `into_id` is always a surviving id, never one merged on itself, so
    one lookup resolves any id. Neither id need be held (OpenAlex's lists cover all of it)."""

    old_id = models.BigIntegerField(primary_key=True, help_text="The number of the merged-away A id.")
    into_id = models.BigIntegerField(db_index=True, help_text="The number of the surviving A id.")
    merge_date = models.DateField(null=True, blank=True)
    correction = models.OneToOneField(
        "Correction", null=True, blank=True, on_delete=models.SET_NULL, related_name="merge",
        help_text="The editor's decision, for merges that were not OpenAlex's.",
    )  # fmt: skip
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = AuthorMergeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(old_id=F("into_id")), name="author_merge_not_itself"),
        ]

    def __str__(self) -> str:
        return f"A{self.old_id} → A{self.into_id}"


def _adopt_names(final: dict[int, int]) -> None:
    """Give each survivor not held an Author row named as the first held id merged into it."""
    olds = sorted(final)
    survivors: dict[int, Author] = {}
    for start in range(0, len(olds), MERGE_CHUNK):
        for author in Author.objects.filter(id__in=olds[start : start + MERGE_CHUNK]).order_by("id"):
            survivors.setdefault(final[author.id], author)
    Author.objects.bulk_create(
        [Author(id=into, display_name=old.display_name, orcid=old.orcid) for into, old in survivors.items()],
        ignore_conflicts=True,
        batch_size=MERGE_CHUNK,
    )


class Citation(models.Model):
    """`citing` cites `cited`. The cited work may not be held yet: the link waits for it,
    which is why it carries no database foreign key constraint."""

    citing = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="references")
    cited = models.ForeignKey(
        Work,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="citations",
        # The unique (cited, citing) index already serves lookups by cited work.
        db_index=False,
    )
    pull_position = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Position of the citer in the cited paper's OpenAlex pull, if it came from one.",
    )
    is_self_citation = models.BooleanField(default=False, help_text="Citer and cited share an OpenAlex author id.")
    first_seen_at = models.DateTimeField(
        null=True,
        blank=True,
        default=timezone.now,
        help_text="When we first held this link (empty: before we kept it).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cited", "citing"], name="citation_unique"),
            models.CheckConstraint(condition=~Q(citing=models.F("cited")), name="citation_not_self_loop"),
        ]

    def __str__(self) -> str:
        return f"W{self.citing_id} → W{self.cited_id}"


class CitationRemoval(models.Model):
    """A link a citer pull dropped because the paper's newest pull no longer lists the citer;
    kept so that a scoring run's diff can name the citers a paper lost."""

    cited_id = models.BigIntegerField()
    citing_id = models.BigIntegerField()
    removed_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"W{self.citing_id} → W{self.cited_id} removed {self.removed_at:%Y-%m-%d}"


class ScoreInputChange(models.Model):
    """A work whose DataRank inputs changed: its own counts, a citation link to it, the counts of
    a work citing it, or the authors on either end (the self-citation test). Written by database
    triggers (migration 0018), so every way data changes — loaders, live refresh, the admin —
    marks what it changed, and none can forget to. The next scoring run recomputes the corpus
    papers named here and takes every other paper's figures from the run before it, then
    deletes the marks it read (scoring.services)."""

    work_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"W{self.work_id} changed (mark {self.pk})"

    @staticmethod
    def skip_in_this_transaction() -> None:
        """Write no marks for the rest of the current transaction: for a snapshot build, which
        publishes a complete run computed from exactly the rows it writes. PostgreSQL only;
        SQLite's triggers cannot read a setting, so there a build leaves its marks, and the next
        run recomputes what it wrote — the same figures, at a small site's cost."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL datarank.skip_score_marks = 'on'")


class CorpusEntry(models.Model):
    """A work considered for the data-sharing corpus, with the data-paper check's verdict.

    `included` is what loading decided (the check's verdict, or everything with
    `--corpus all`); an admin's `override` always wins; `in_corpus` is the outcome."""

    class Override(models.TextChoices):
        NONE = "", "Follow the check"
        INCLUDE = "include", "Force into the corpus"
        EXCLUDE = "exclude", "Keep out of the corpus"

    work = models.OneToOneField(Work, on_delete=models.CASCADE, primary_key=True, related_name="corpus_entry")
    check_passed = models.BooleanField()
    confidence = models.FloatField()
    reasons = models.JSONField(default=list, blank=True)
    included = models.BooleanField()
    override = models.CharField(max_length=10, choices=Override.choices, blank=True, default=Override.NONE)
    in_corpus = models.GeneratedField(
        expression=models.Case(
            models.When(override="include", then=models.Value(True)),
            models.When(override="exclude", then=models.Value(False)),
            default=Coalesce("included", models.Value(False)),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    checked_at = models.DateTimeField()
    added_at = models.DateTimeField(auto_now_add=True)
    tracked_at = models.DateTimeField(null=True, blank=True, help_text="When an admin tracked it from OpenAlex.")
    citers_pulled_at = models.DateTimeField(
        null=True, blank=True, help_text="When its citers were last pulled from OpenAlex."
    )

    class Meta:
        verbose_name_plural = "corpus entries"
        constraints = [
            models.CheckConstraint(condition=Q(confidence__gte=0) & Q(confidence__lte=1), name="corpus_confidence_0_1"),
        ]
        indexes = [models.Index(fields=["in_corpus"], name="corpus_in_corpus_idx")]

    def __str__(self) -> str:
        return f"W{self.work_id} ({'in' if self.in_corpus else 'out'})"


class SearchWord(models.Model):
    """A word of the corpus papers' titles, authors' names and venues, as search cuts them
    (SEARCH_WORD, lower-case), with how many corpus papers hold it in any of them: the vocabulary
    search corrects typos against (papers/search.py). Loads add their papers' words; a snapshot
    build rebuilds it whole."""

    word = models.CharField(max_length=SEARCH_WORD_MAX_LENGTH, primary_key=True)
    frequency = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.word} ({self.frequency})"


# Where search places papers that no scoring run has placed yet: after every run's papers, by id.
UNPLACED_POSITION = 2**40


class SearchEntryQuerySet(models.QuerySet["SearchEntry"]):
    def narrowed(
        self,
        *,
        year_from: int | None = None,
        year_to: int | None = None,
        tier: int | None = None,
        ranked: bool | None = None,
        type: str = "",
        subfield: int | None = None,
    ) -> Self:
        """The entries within the search page's filters and facets (None or "": no filter)."""
        entries = self
        if year_from is not None:
            entries = entries.filter(publication_year__gte=year_from)
        if year_to is not None:
            entries = entries.filter(publication_year__lte=year_to)
        if tier is not None:
            entries = entries.filter(tier=tier)
        if ranked is not None:
            entries = entries.filter(tier__isnull=not ranked)
        if type:
            entries = entries.filter(type=type)
        if subfield is not None:
            entries = entries.filter(subfield_id=subfield)
        return entries

    @staticmethod
    def positions(scores: models.QuerySet) -> tuple[str, tuple]:
        """SQL giving (work_id, tier, position) for each paper of `scores` (work_id, rank and tier
        per paper a run scored): ranked papers by rank, then the ones not ranked, each by id,
        numbered from 0."""
        sql, params = scores.values_list("work_id", "rank", "tier").query.sql_with_params()
        ordered = "row_number() OVER (ORDER BY rank IS NULL, rank, work_id) - 1"
        return f"SELECT work_id, tier, {ordered} AS position FROM ({sql}) AS s", params

    def place(self, scores: models.QuerySet) -> None:
        """Put the entries in a scoring run's order: `scores` gives (work_id, rank, tier) for
        each paper the run scored; ranked papers by rank, then the ones not ranked, each by id,
        are numbered from 0; papers the run did not score go after them (UNPLACED_POSITION + id).
        Only the entries whose place or tier changes are written."""
        connection = connections[self.db]
        table = connection.ops.quote_name(SearchEntry._meta.db_table)
        sql, params = scores.values_list("work_id", "rank", "tier").query.sql_with_params()
        placed, _ = self.positions(scores)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {table} SET position = p.position, tier = p.tier FROM ({placed}) AS p
                    WHERE {table}.work_id = p.work_id
                      AND ({table}.position <> p.position OR {table}.tier IS DISTINCT FROM p.tier)""",
                params,
            )
            cursor.execute(
                f"""UPDATE {table} SET position = %s + work_id, tier = NULL
                    WHERE position < %s AND NOT EXISTS (SELECT 1 FROM ({sql}) AS s
                                                        WHERE s.work_id = {table}.work_id)""",
                [UNPLACED_POSITION, UNPLACED_POSITION, *params],
            )


class SearchEntry(models.Model):
    """What search reads of a corpus paper: the words of its title, venue and authors' names (as
    search cuts them, lower-case, space-separated), the figures its facets count, and its
    `position` in the current scoring run's order (SearchEntryQuerySet.place), which lets search
    find a query's best matches without ordering them all (papers/search.py). On PostgreSQL a
    generated tsvector of the words, `document`, is GIN-indexed once per band of positions
    (migration 0018). A paper leaving the corpus loses its entry."""

    work = models.OneToOneField(Work, on_delete=models.CASCADE, primary_key=True, related_name="search_entry")
    words = models.TextField()
    position = models.BigIntegerField()
    publication_year = models.PositiveSmallIntegerField(null=True, blank=True)
    type = models.CharField(max_length=50, blank=True)
    subfield_id = models.PositiveIntegerField(null=True, blank=True)
    tier = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="In the run that placed it; empty: not ranked."
    )

    objects = SearchEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "search entries"
        indexes = [models.Index(fields=["position"], name="search_entry_position_idx")]

    def __str__(self) -> str:
        return f"W{self.work_id} at {self.position}"


class FairSignal(models.Model):
    """One FAIR checklist item for a work, with the evidence it rests on."""

    class Key(models.TextChoices):
        HAS_DOI = "has_doi", "Has DOI"
        INDEXED = "indexed_in_repositories", "Indexed in repositories"
        OPEN_ACCESS = "open_access", "Open Access"
        DATACITE_RELATIONS = "datacite_relations", "DataCite relations"
        LINKED_DATASETS = "linked_datasets", "Linked datasets"
        DATASET_CLASSIFICATION = "dataset_classification", "Dataset classification"

    class Status(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        NOT_APPLICABLE = "na", "Does not apply"
        UNKNOWN = "unknown", "Not checked yet"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="fair_signals")
    key = models.CharField(max_length=40, choices=Key.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    source = models.CharField(max_length=100, blank=True, help_text="OpenAlex, DataCite, doi.org/ra …")
    field = models.CharField(max_length=200, blank=True)
    evidence = models.TextField(blank=True)
    checked_at = models.DateTimeField()
    # What the item last said when its source answered: a check that could not reach its
    # source shows "could not check" beside this, never a silent "no".
    last_known = models.CharField(max_length=10, choices=Status.choices, blank=True)
    last_known_evidence = models.TextField(blank=True)
    last_known_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["work", "key"], name="fair_signal_unique"),
            models.CheckConstraint(condition=~Q(last_known="unknown"), name="fair_signal_last_known_definite"),
        ]

    def __str__(self) -> str:
        return f"W{self.work_id} {self.key}: {self.status}"


class RefreshRun(models.Model):
    """One pass of re-fetching stale corpus papers and their citers from OpenAlex."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        # The OpenAlex daily budget ran out; the task is rescheduled for `resumes_at`.
        PAUSED = "paused", "Paused until the OpenAlex budget resets"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Admin"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    resumes_at = models.DateTimeField(null=True, blank=True)
    papers_total = models.PositiveIntegerField(default=0)
    papers_done = models.PositiveIntegerField(default=0)
    list_calls = models.PositiveIntegerField(default=0, help_text="OpenAlex list calls spent (they cost budget).")
    errors = models.JSONField(default=list, blank=True, help_text="[{work, error}] for papers that failed.")
    done_work_ids = models.JSONField(
        default=list, blank=True, help_text="Papers finished in this run, so a retried task skips them."
    )
    triggered_by = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    # OpenAlex's last word on the daily list-call budget (its X-RateLimit-* headers), as of the
    # run's latest write; None where it did not say.
    budget_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Daily list calls allowed.")
    budget_remaining = models.PositiveIntegerField(null=True, blank=True, help_text="Daily list calls left.")
    budget_resets_at = models.DateTimeField(null=True, blank=True, help_text="When the daily budget resets.")
    # Apart from `errors`: a skipped record is a citer OpenAlex sent broken, not a paper that failed.
    skipped_records = models.JSONField(
        default=list, blank=True, help_text="[{work, record, reason}] for malformed records skipped in list pages."
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(condition=Q(papers_total__gte=0), name="refresh_papers_total_non_negative"),
            models.CheckConstraint(condition=Q(papers_done__gte=0), name="refresh_papers_done_non_negative"),
            models.CheckConstraint(condition=Q(list_calls__gte=0), name="refresh_list_calls_non_negative"),
            models.CheckConstraint(
                condition=Q(papers_done__lte=F("papers_total")), name="refresh_papers_done_lte_total"
            ),
        ]

    def __str__(self) -> str:
        return f"Refresh #{self.pk} {self.status} {self.papers_done}/{self.papers_total}"


class DoiPrefixAgency(models.Model):
    """doi.org's registration agency for a DOI prefix: every DOI under a prefix has the same
    agency, so one lookup per prefix serves the whole corpus, across tasks and restarts."""

    prefix = models.CharField(max_length=100, primary_key=True)
    agency = models.CharField(max_length=50)
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.prefix}: {self.agency}"


# --- FAIR facts as gathered ----------------------------------------------------------------
# Plain values, not tables: papers.facts gathers them (from the Work row, doi.org/ra and
# DataCite) and turns them into FairSignal rows; the FAIR score (scoring/fair) is computed from
# them. They live beside the models because the import rule lets scoring read papers.models
# and nothing else of papers.

# Registration agencies as doi.org/ra names them.
DATACITE = "DataCite"
CROSSREF = "Crossref"


@dataclass(frozen=True)
class RelatedIdentifier:
    relation_type: str
    identifier: str
    identifier_type: str
    resource_type_general: str


@dataclass(frozen=True)
class Rights:
    rights: str
    rights_uri: str
    rights_identifier: str


@dataclass(frozen=True)
class Creator:
    name: str
    identifiers: tuple[str, ...]


@dataclass(frozen=True)
class DataCiteFacts:
    """What the metrics read from a DataCite record (`data.attributes` of /dois/{doi})."""

    doi: str
    resource_type_general: str = ""
    resource_type: str = ""
    titles: tuple[str, ...] = ()
    creators: tuple[Creator, ...] = ()
    publisher: str = ""
    publication_year: int | None = None
    subjects: tuple[tuple[str, str], ...] = ()  # (subject, subjectScheme)
    dates: tuple[tuple[str, str], ...] = ()  # (date, dateType)
    descriptions: tuple[tuple[str, str], ...] = ()  # (description, descriptionType)
    related: tuple[RelatedIdentifier, ...] = ()
    rights: tuple[Rights, ...] = ()
    formats: tuple[str, ...] = ()
    url: str = ""


@dataclass(frozen=True)
class PointingRecord:
    """A DataCite record whose relatedIdentifiers name our DOI."""

    doi: str
    resource_type_general: str
    relation_types: tuple[str, ...]


@dataclass(frozen=True)
class OpenAlexFacts:
    doi: str
    title: str
    abstract: str
    publication_year: int | None
    venue: str
    type: str
    is_oa: bool
    oa_status: str
    license: str
    indexed_in: tuple[str, ...]
    repository_locations: tuple[tuple[str, str], ...]  # (source, url)
    topics: tuple[str, ...]
    datasets: tuple[str, ...]
    authors: int
    authors_with_orcid: int
    data_paper_check: bool | None  # None: the check has not run


@dataclass(frozen=True)
class Facts:
    """Everything gathered for one paper. An `*_error` says why that source has not answered:
    it could not be reached, or it was not asked (an offline pass asks nobody); its value is
    then meaningless. `datacite` None with no error means DataCite holds no record."""

    openalex: OpenAlexFacts
    agency: str = ""  # the DOI's registration agency; "" when doi.org does not know the DOI, or no DOI
    agency_error: str = ""
    datacite: DataCiteFacts | None = None
    datacite_error: str = ""
    pointing: tuple[PointingRecord, ...] = ()
    pointing_total: int = 0
    pointing_error: str = ""

    @property
    def complete(self) -> bool:
        return not (self.agency_error or self.datacite_error or self.pointing_error)

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(error for error in (self.agency_error, self.datacite_error, self.pointing_error) if error)

    @property
    def asks_datacite(self) -> bool:
        """DataCite holds records of the DOIs it registered, and is asked about those only: for
        any other agency (or no DOI) its silence is a known fact, not a check to make. While the
        agency is not known, DataCite may still apply."""
        return bool(self.openalex.doi) and (self.agency == DATACITE or bool(self.agency_error))

    @property
    def pointing_summary(self) -> str:
        shown = ", ".join(record.doi for record in self.pointing[:5])
        return f"{self.pointing_total} DataCite record(s) point at it: {shown}"


def describe_relations(related: Sequence[RelatedIdentifier]) -> str:
    shown = ", ".join(f"{item.relation_type} {item.identifier}" for item in related[:5])
    more = f" and {len(related) - 5} more" if len(related) > 5 else ""
    return f"{len(related)} related identifier(s): {shown}{more}"


# Appended with the corrections while the top of the module is being edited elsewhere; these
# belong with the imports above.

CORRECTION_REASON_MAX_LENGTH = 2_000


class CorrectionQuerySet(models.QuerySet["Correction"]):
    def pending(self) -> Self:
        return self.filter(status=Correction.Status.PENDING)


class Correction(models.Model):
    """A visitor's word, queued for an editor, that the data-paper check got a work wrong —
    accepting it sets the work's corpus override, and accepted ones are labelled examples for the
    check — or that OpenAlex got a researcher wrong: a paper that is not theirs (accepted, the
    authorship leaves their roll-up) or two profiles of one person (accepted, `other_author` is
    merged into `author`). Researcher corrections take effect at the next scoring run."""

    class Kind(models.TextChoices):
        EXCLUDE = "exclude", "Not a data-sharing paper"
        INCLUDE = "include", "Is a data-sharing paper"
        NOT_THEIRS = "not_theirs", "This paper isn't theirs"
        SAME_PERSON = "same_person", "These profiles are the same person"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    work = models.ForeignKey(Work, null=True, blank=True, on_delete=models.CASCADE, related_name="corrections")
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.CASCADE, related_name="corrections",
        help_text="The researcher a researcher correction is about.",
    )  # fmt: skip
    other_author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Same person: the profile to merge into `author`.",
    )  # fmt: skip
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.TextField(max_length=CORRECTION_REASON_MAX_LENGTH)
    email = models.EmailField(blank=True)
    client = models.CharField(
        max_length=64,
        blank=True,
        help_text="A keyed hash of the sender's address (an IPv6 one as its /64): tells one sender's "
        "submissions apart from another's without keeping the address.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="The editor's note on the decision.")

    objects = CorrectionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["exclude", "include", "not_theirs", "same_person"]), name="correction_kind_valid"
            ),
            # What each kind is about, and nothing more.
            models.CheckConstraint(
                condition=Q(
                    kind__in=["exclude", "include"], work__isnull=False, author__isnull=True, other_author__isnull=True
                )
                | Q(kind="not_theirs", work__isnull=False, author__isnull=False, other_author__isnull=True)
                | (
                    Q(kind="same_person", work__isnull=True, author__isnull=False, other_author__isnull=False)
                    & ~Q(author=F("other_author"))
                ),
                name="correction_subject_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "rejected"]), name="correction_status_valid"
            ),
            models.CheckConstraint(
                condition=models.lookups.LessThanOrEqual(Length("reason"), CORRECTION_REASON_MAX_LENGTH),
                name="correction_reason_max_length",
            ),
            # A decision has a time; a pending correction has none.
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="correction_decided_at_with_decision",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="correction_queue_idx")]

    def __str__(self) -> str:
        subject = " ".join(
            f"{letter}{pk}"
            for letter, pk in (("W", self.work_id), ("A", self.author_id), ("A", self.other_author_id))
            if pk is not None
        )
        return f"{subject}: {self.get_kind_display().lower()} ({self.status})"
