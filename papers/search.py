"""Typo-tolerant search: what a query's words become, which corpus papers hold them, and how the
search index (SearchEntry and the vocabulary, SearchWord) is kept.

`interpret(query)` reads the vocabulary (the words of the corpus papers' titles, authors' names
and venues) once and gives a SearchPlan: each word with the vocabulary words it also matches. A
word of 5 to 8 letters matches the words within Damerau distance 1 (optimal string alignment: a
transposition is one edit), a word of 9 or more within 2; the last word also matches the ten
most frequent words it begins, as you type. On PostgreSQL one-edit corrections are read off a GIN
index of each word's deletions (SymSpell, migration 0021) and two-edit ones off index ranges of
the word's halves (`_two_edit_ends`). A word too short to correct that no paper holds is
dropped, as Meilisearch drops a query's last words, rather than leaving the search empty; the
page says which. Only a query's first MAX_QUERY_WORDS words are searched, as in Meilisearch, so
that no query costs more than ten words do.

Results come in relevance buckets, each in the current scoring run's order (SearchEntry.position):
every word as typed, then with the last as a prefix, then with corrections. `first_matches`
finds the first few hundred of them without ordering every match: on PostgreSQL each band of
positions has its own GIN index (migration 0018), so a common word is looked up among the best
4,096 papers first, then the next 28,672, and so on, eight times as many each time, and the
search stops at the band where it has enough."""

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import BooleanField, Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from rapidfuzz import process
from rapidfuzz.distance import OSA

from papers.models import (
    SEARCH_WORD,
    SEARCH_WORD_MAX_LENGTH,
    UNPLACED_POSITION,
    Authorship,
    SearchEntry,
    SearchWord,
    Work,
)

# The corrections kept for a word, nearest and most frequent first.
MAX_CORRECTIONS = 5
# Meilisearch's limit: later words are ignored, and the page says so.
MAX_QUERY_WORDS = 10
# The words a last word is completed to as you type, the most frequent it begins, as Typesense
# caps a prefix's candidates: matching every word a prefix begins, as to_tsquery's `ben:*` did,
# read the postings of 804 words at 1M titles (80 ms for "disin ben"). A single letter is not
# completed: its words are a 26th of the vocabulary.
MAX_COMPLETIONS = 10
COMPLETED_FROM = 2
# Where each band of positions starts (migration 0018 indexes each, and the unplaced papers' own
# band from UNPLACED_POSITION on): eight times the one before, so that a word's matches in the band
# where the search stops are at most about eight times those it needs.
POSITION_BANDS = (0, 4_096, 32_768, 262_144, 2_097_152, 16_777_216, UNPLACED_POSITION)
# What building a first index's GIN indexes may use (_rebuild_in_sql). A GIN build gathers entries
# in this much memory and writes them out each time it fills: at 10M papers the largest band's
# index is 549 MB, where the default 64 MB would make it write out a dozen times or more.
INDEX_BUILD_MEMORY = "1GB"


def allowed_typos(word: str) -> int:
    """The issue's rule: 5 to 8 letters may have one typo, 9 or more two, shorter words none."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def title_words(title: str) -> list[str]:
    return [word for word in SEARCH_WORD.findall(title.lower()) if len(word) <= SEARCH_WORD_MAX_LENGTH]


@dataclass(frozen=True)
class WordMatch:
    """One query word: as typed (`prefix` for the last one), the vocabulary words within its
    typos and, for the last, the ones it completes. `exact` says whether some paper holds it as
    typed, `known` whether as typed or, for the last, as a prefix."""

    typed: str
    prefix: bool
    known: bool
    corrections: tuple[str, ...] = ()
    exact: bool = False
    # For the last word, the vocabulary words it begins (itself too, if held), most frequent first.
    completions: tuple[str, ...] = ()
    # How many papers hold one of its forms, at most: the sum of their frequencies.
    held: int = 0


@dataclass(frozen=True)
class SearchPlan:
    words: tuple[WordMatch, ...]
    dropped: tuple[str, ...] = field(default=())
    # How many words past MAX_QUERY_WORDS were left out.
    beyond: int = 0

    @property
    def corrected(self) -> dict[str, str]:
        """The words no paper holds as typed, each with the correction the results show."""
        return {w.typed: w.corrections[0] for w in self.words if not w.known and w.corrections}

    @property
    def shown_query(self) -> str:
        """The query the results are for: corrections in place, dropped words left out."""
        corrected = self.corrected
        return " ".join(corrected.get(w.typed, w.typed) for w in self.words)


def interpret(query: str) -> SearchPlan:
    every = SEARCH_WORD.findall(query.lower())
    words = every[:MAX_QUERY_WORDS]
    if not words:
        return SearchPlan(words=())
    vocabulary = _candidates(words)
    matches, dropped = [], []
    for position, typed in enumerate(words):
        prefix = position == len(words) - 1
        exact = typed in vocabulary
        completions = _completions(typed, vocabulary) if prefix else ()
        known = exact or bool(completions)
        corrections = _corrections(typed, vocabulary)
        if not known and not corrections and allowed_typos(typed) == 0:
            dropped.append(typed)
            continue
        matches.append(
            WordMatch(
                typed=typed,
                prefix=prefix,
                known=known,
                corrections=corrections,
                exact=exact,
                completions=completions,
                held=sum(vocabulary.get(form, 0) for form in {typed, *completions, *corrections}),
            )
        )
    return SearchPlan(words=tuple(matches), dropped=tuple(dropped), beyond=len(every) - len(words))


def _completions(typed: str, vocabulary: dict[str, int]) -> tuple[str, ...]:
    """The MAX_COMPLETIONS most frequent words `typed` begins, out of the vocabulary read for it
    (which holds them: _candidates reads them first), none for a single letter."""
    if len(typed) < COMPLETED_FROM:
        return ()
    begun = sorted((-frequency, word) for word, frequency in vocabulary.items() if word.startswith(typed))
    return tuple(word for _, word in begun[:MAX_COMPLETIONS])


def _corrections(typed: str, vocabulary: dict[str, int]) -> tuple[str, ...]:
    typos = allowed_typos(typed)
    if not typos:
        return ()
    # rapidfuzz runs the loop in C; a distance past the cutoff never comes back.
    found = process.extract(typed, vocabulary.keys(), scorer=OSA.distance, score_cutoff=typos, limit=None)
    near = sorted((distance, -vocabulary[word], word) for word, distance, _ in found if word != typed)
    return tuple(word for _, _, word in near[:MAX_CORRECTIONS])


def _candidates(words: Sequence[str]) -> dict[str, int]:
    """The vocabulary words any query word may match, with their frequencies, in one query: the
    words as typed, the most frequent words the last one begins, and each correctable word's
    candidates."""
    table = connection.ops.quote_name(SearchWord._meta.db_table)
    distinct = sorted(set(words))
    postgresql = connection.vendor == "postgresql"
    # In byte order on PostgreSQL, which its index of the words' starts is in (migration 0019).
    in_order = 'word COLLATE "C"' if postgresql else "word"
    probes = set(distinct)
    # The strings whose words' deletions hold a correction of a one-edit word.
    deleted: set[str] = set()
    # (prefix, word) pairs: the ranges a two-edit word's corrections are read from.
    starts: list[tuple[str, str]] = []
    ends: list[tuple[str, str]] = []
    clauses = []
    params: list[str | int | list[str]] = []
    completes = len(words[-1]) >= COMPLETED_FROM
    if completes and not postgresql:
        # Words hold only letters and digits, so the last one is a LIKE pattern as it stands.
        clauses.append(f"word IN (SELECT word FROM {table} WHERE word LIKE %s ORDER BY frequency DESC, word LIMIT %s)")
        params += [f"{words[-1]}%", MAX_COMPLETIONS]
    for word in distinct:
        typos = allowed_typos(word)
        if not typos or len(word) > SEARCH_WORD_MAX_LENGTH:  # levenshtein() takes at most 255 characters
            continue
        if postgresql and typos == 1:
            # SymSpell: a correction shares one of these with the word's deletions (migration
            # 0021), or is one of them. About ten lookups, where probing every string one edit
            # away took some 1,200.
            near = {word, *_deletions(word)}
            probes |= near
            deleted |= near
        elif postgresql:
            word_starts, word_ends = _two_edit_ends(word)
            starts += [(start, word) for start in sorted(word_starts)]
            ends += [(end, word) for end in sorted(word_ends)]
        else:
            clauses.append("(length(word) BETWEEN %s AND %s)")
            params += [len(word) - typos, len(word) + typos]
    if postgresql:
        # One index probe per string, each its own LIMIT 1 lookup, and one range of the start or
        # end indexes per way a word can begin or end: given as one `= ANY(...)` beside the other
        # clauses, PostgreSQL read them through the trigram index or scanned the whole vocabulary
        # comparing every word with each probe (100 ms at 200k).
        def ranges(column: str) -> str:
            # Read off the index alone (migration 0020). Levenshtein counts a transposition as two
            # edits, hence twice the distance: the few words left are measured in Python.
            return f"""SELECT found.word, found.frequency
                       FROM unnest(%s::text[], %s::text[], %s::text[]) AS bounds(low, high, typed)
                       CROSS JOIN LATERAL (
                           SELECT word, frequency FROM {table}
                           WHERE {column} >= bounds.low AND {column} < bounds.high
                             AND length(word) BETWEEN length(bounds.typed) - 2 AND length(bounds.typed) + 2
                             AND levenshtein_less_equal(word, bounds.typed, 4) <= 4) AS found"""

        arms = [
            f"""SELECT found.word, found.frequency FROM unnest(%s::text[]) AS probe(word)
                CROSS JOIN LATERAL (SELECT word, frequency FROM {table}
                                    WHERE {in_order} = probe.word LIMIT 1) AS found"""
        ]
        arm_params: list = [sorted(probes)]
        if deleted:
            arms.append(f"SELECT word, frequency FROM {table} WHERE deletions && %s::text[]")
            arm_params.append(sorted(deleted))
        if completes:
            # Off the start index alone (its range, frequencies included), never inside the
            # last arm's OR, where a subquery became a hashed filter over the whole vocabulary.
            arms.append(
                f"""(SELECT word, frequency FROM {table} WHERE {in_order} >= %s AND {in_order} < %s
                     ORDER BY frequency DESC, word LIMIT {MAX_COMPLETIONS})"""
            )
            arm_params += [words[-1], _past(words[-1])]
        if starts:
            arms += [ranges(in_order), ranges('reverse(word) COLLATE "C"')]
            arm_params += [*_bounds(starts), *_bounds(ends)]
        if clauses:
            arms.append(f"SELECT word, frequency FROM {table} WHERE {' OR '.join(clauses)}")
        sql = " UNION ".join(arms)
        params = [*arm_params, *params]
    else:
        clauses.insert(0, f"word IN ({', '.join(['%s'] * len(distinct))})")
        params = [*distinct, *params]
        sql = f"SELECT word, frequency FROM {table} WHERE {' OR '.join(clauses)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _two_edit_ends(word: str) -> tuple[set[str], set[str]]:
    """How a word within two edits of `word` must begin (`starts`) or end (`ends`, reversed, as
    the index of reversed words reads them). Cut `word` into a first half A and a second half B.
    If no edit touches A, a correction begins with A; if one does, with a string one edit from A
    (a transposition across the cut touches both halves, and to A is the change of its last
    letter). If both edits touch A, B is whole, or changed only by such a transposition: the
    correction ends with B, or with A's last letter and the rest of B. A few hundred short
    ranges of the two indexes, where a trigram piece of the middle read tens of thousands of
    words (150 ms at 1M titles)."""
    half = len(word) - len(word) // 2
    first, second = word[:half], word[half:]
    ends = {second[::-1], (first[-1] + second[1:])[::-1]}
    return _outermost({first, *_one_edit_away(first)}), ends


def _outermost(prefixes: set[str]) -> set[str]:
    """The prefixes no shorter one of the set already begins: their ranges hold the others'."""
    kept: list[str] = []
    for prefix in sorted(prefixes):
        if prefix and not (kept and prefix.startswith(kept[-1])):
            kept.append(prefix)
    return set(kept)


def _bounds(prefixes: list[tuple[str, str]]) -> tuple[list[str], list[str], list[str]]:
    """Each (prefix, word)'s range in byte order, from the prefix to the prefix with its last
    character one higher (words hold letters and digits, never the highest character), and the
    word whose corrections it holds."""
    return (
        [prefix for prefix, _ in prefixes],
        [_past(prefix) for prefix, _ in prefixes],
        [word for _, word in prefixes],
    )


def _past(prefix: str) -> str:
    """The first string in byte order past every word `prefix` begins."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


# The letters a one-edit correction may bring in besides the word's own: ASCII letters and
# digits, and the accented Latin letters titles and names most often hold.
EDIT_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789àáâãäåæçèéêëìíîïñòóôõöøœùúûüýÿßčćđěłńřšşťůźżž")


def _deletions(word: str) -> set[str]:
    """The strings one deletion away from `word`, as search_word_deletions (migration 0021) gives
    them for the vocabulary's words."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit_away(word: str) -> set[str]:
    """The strings within one edit of `word` (optimal string alignment: a deletion, an
    insertion, a substitution or the transposition of two neighbours)."""
    letters = EDIT_LETTERS | set(word)
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    near = {start + end[1:] for start, end in cuts if end}
    near |= {start + end[1] + end[0] + end[2:] for start, end in cuts if len(end) > 1}
    near |= {start + letter + end[1:] for start, end in cuts if end for letter in letters}
    near |= {start + letter + end for start, end in cuts for letter in letters}
    return near


# --- matching ---------------------------------------------------------------------------------

EXACT, PREFIX, CORRECTED = 0, 1, 2


class Match(NamedTuple):
    """One matching paper, its bucket (EXACT, PREFIX or CORRECTED) and what its facets count: a
    named tuple, made straight from the query's rows (a frozen dataclass took 2 ms for 1,001)."""

    bucket: int
    work_id: int
    publication_year: int | None
    type: str
    subfield_id: int | None
    tier: int | None


def buckets(plan: SearchPlan) -> list[int]:
    """The buckets the plan's words can fill: every word as typed needs each held as typed; the
    last as a prefix, every other word held as typed; corrections, a word with some."""
    if not plan.words or any(not word.known and not word.corrections for word in plan.words):
        return []
    found = []
    if all(word.exact for word in plan.words):
        found.append(EXACT)
    if all(word.known and (word.exact or word.prefix) for word in plan.words):
        found.append(PREFIX)
    if any(word.corrections for word in plan.words):
        found.append(CORRECTED)
    return found


def holding(plan: SearchPlan, bucket: int) -> Q | RawSQL:
    """The filter on SearchEntry for the entries holding every word as `bucket` reads them (the
    ones of earlier buckets included)."""
    if connection.vendor == "postgresql":
        # Only word characters reach to_tsquery (SEARCH_WORD cuts the query and the texts the
        # vocabulary holds): its operators (& | ! : * ( ) < > ') never do, and the words travel
        # as parameters, never as SQL.
        query = " & ".join(f"({' | '.join(forms_in(word, bucket))})" for word in plan.words)
        return RawSQL("document @@ to_tsquery('english', %s)", [query], output_field=BooleanField())

    # Elsewhere the words are matched where a word of the entry starts (an approximation of
    # PostgreSQL's stemming: "dataset" finds "datasets"), whole words for EXACT and for the last
    # word, whose completions are the ways it goes on.
    def at_a_start(form: str, *, whole: bool) -> Q:
        return Q(words__contains=f" {form} " if whole else f" {form}")

    held = Q()
    for word in plan.words:
        any_form = Q()
        for form in forms_in(word, bucket):
            any_form |= at_a_start(form, whole=bucket == EXACT or word.prefix)
        held &= any_form
    return held


def forms_in(word: WordMatch, bucket: int) -> tuple[str, ...]:
    """The forms `bucket` matches `word` in: as typed, then its completions, then its
    corrections."""
    forms: tuple[str, ...] = (word.typed,)
    if bucket != EXACT:
        forms += word.completions
    if bucket == CORRECTED:
        forms += word.corrections
    return tuple(dict.fromkeys(forms))


def first_matches(plan: SearchPlan, entries: QuerySet[SearchEntry], *, limit: int, placed: int) -> list[Match]:
    """The first `limit` entries of `entries` that match the plan, in result order: by bucket,
    then by position. `placed` is how many papers the current run placed (its papers scored), so
    that the bands past them, which only the unplaced papers' band follows, are not asked.

    Each bucket is read band by band, best positions first, in one query: a UNION ALL of every
    (bucket, band) in result order under one LIMIT, which the database runs arm after arm and
    stops as soon as it has enough: a common word stops in an early band, a rare one reads every
    band's few matches. A query per band took 14 round trips and ORM compilations for a rare word."""
    bands = [
        (start, end)
        for start, end in zip(POSITION_BANDS, (*POSITION_BANDS[1:], None), strict=True)
        if start < placed or start == UNPLACED_POSITION
    ]
    columns = ("work_id", "publication_year", "type", "subfield_id", "tier", "position")
    arms: list[str] = []
    params: list = []
    earlier: Q | RawSQL | None = None
    for bucket in buckets(plan):
        condition = holding(plan, bucket)
        matching = entries.filter(condition)
        if earlier is not None:
            matching = matching.exclude(earlier)
        # Compiled once per bucket; each band narrows it with constant bounds, which the planner
        # matches to that band's partial GIN index (migration 0018).
        sql, bucket_params = matching.order_by().values_list(*columns).query.sql_with_params()
        for start, end in bands:
            within = "m.position >= %s" + ("" if end is None else " AND m.position < %s")
            arms.append(
                f"SELECT * FROM (SELECT {bucket} AS bucket, m.* FROM ({sql}) AS m WHERE {within} "
                f"ORDER BY m.position LIMIT {int(limit)}) AS a{len(arms)}"
            )
            params += [*bucket_params, start, *([] if end is None else [end])]
        earlier = condition
    if not arms or limit <= 0:
        return []
    # No ORDER BY over the whole: sorting would run every arm to the end. The order is the arms'
    # own (each sorted by position, written in result order), which an Append keeps: PostgreSQL and
    # SQLite run a UNION ALL's arms one after the other (tests/papers/test_search_index.py checks
    # that the later ones never run). No Parallel Append interleaves them: PostgreSQL never gives
    # workers a subquery with a LIMIT, as every arm is ("no guarantee that the row order will be
    # consistent across workers", allpaths.c), so the query needs no setting of its own.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({' UNION ALL '.join(arms)}) AS found LIMIT {int(limit)}", params)
        return [Match._make(row[:-1]) for row in cursor.fetchall()]


def relevance(plan: SearchPlan) -> Case | Value:
    """For a Work queryset: 3 for a paper holding every word as typed, 2 with the last as a
    prefix, 1 through corrections, 0 for a paper that does not match."""
    whens = [
        When(id__in=SearchEntry.objects.filter(holding(plan, bucket)).values("work_id"), then=Value(3 - bucket))
        for bucket in buckets(plan)
    ]
    return Case(*whens, default=Value(0), output_field=IntegerField()) if whens else Value(0)


# --- keeping the index ------------------------------------------------------------------------


def index_for_search(work_ids: Iterable[int]) -> int:
    """Give these works' entries their words (titles, venues, authors' names), year, type and
    subfield as they are now, and keep the vocabulary's frequencies right: a word a changed title
    drops is counted once less, a work that left the corpus loses its entry and its words. Works
    searched for the first time go after every placed paper (UNPLACED_POSITION + id) until the
    next scoring run places them. Returns how many words the vocabulary gained; cheap enough for
    every batch a load or a tracked paper brings."""
    ids = list(work_ids)
    before = {entry.work_id: entry for entry in SearchEntry.objects.filter(work_id__in=ids)}
    works = Work.objects.in_corpus().filter(id__in=ids).order_by("id")
    entries = list(_entries(works, before))
    change: Counter[str] = Counter()
    for entry in entries:
        change.update(set(entry.words.split()))
    for entry in before.values():
        change.subtract(set(entry.words.split()))
    kept = {entry.work_id for entry in entries}
    with transaction.atomic():
        SearchEntry.objects.filter(work_id__in=[key for key in before if key not in kept]).delete()
        SearchEntry.objects.bulk_create(
            entries,
            update_conflicts=True,
            unique_fields=["work"],
            update_fields=["words", "publication_year", "type", "subfield_id"],
            batch_size=2000,
        )
        return _count(change)


def _count(change: Counter[str]) -> int:
    """Apply a change of frequencies to the vocabulary: words no paper holds any more go."""
    by_step: dict[int, list[str]] = {}
    for word, step in change.items():
        if step:
            by_step.setdefault(step, []).append(word)
    held = set(
        SearchWord.objects.filter(word__in=[w for w, step in change.items() if step]).values_list("word", flat=True)
    )
    for step, words in by_step.items():
        SearchWord.objects.filter(word__in=[w for w in words if w in held]).update(frequency=F("frequency") + step)
    new = [SearchWord(word=word, frequency=step) for word, step in change.items() if step > 0 and word not in held]
    SearchWord.objects.bulk_create(new, batch_size=2000)
    SearchWord.objects.filter(word__in=[w for w, step in change.items() if step < 0], frequency__lte=0).delete()
    return len(new)


def rebuild_search_index(scores: QuerySet | None = None) -> int:
    """Every corpus paper's entry written again (positions kept), the entries of papers outside
    the corpus gone, and the vocabulary counted again from the entries; a snapshot build's
    publication calls it. With `scores` (as SearchEntryQuerySet.place takes them), the entries are
    then in that run's order; on PostgreSQL new entries are written in place, where moving every
    entry of a first index took as long as writing it (115 s at 1M papers). In SQL on PostgreSQL,
    where a snapshot's millions of papers would take minutes through Python. Returns the
    vocabulary's size."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _rebuild_in_sql(scores)
        else:
            held = {entry.work_id: entry for entry in SearchEntry.objects.all()}
            SearchEntry.objects.exclude(work__corpus_entry__in_corpus=True).delete()
            works = Work.objects.in_corpus().order_by("id")
            SearchEntry.objects.bulk_create(
                _entries(works.iterator(chunk_size=5000), held),
                update_conflicts=True,
                unique_fields=["work"],
                update_fields=["words", "publication_year", "type", "subfield_id"],
                batch_size=2000,
            )
            counts: Counter[str] = Counter()
            for words in SearchEntry.objects.values_list("words", flat=True).iterator(chunk_size=5000):
                counts.update(set(words.split()))
            SearchWord.objects.all().delete()
            SearchWord.objects.bulk_create(
                [SearchWord(word=w, frequency=n) for w, n in counts.items()], batch_size=2000
            )
        if scores is not None:
            SearchEntry.objects.place(scores)
        return SearchWord.objects.count()


def _entries(works: Iterable[Work], held: dict[int, SearchEntry]) -> Iterator[SearchEntry]:
    """Each work's entry, its words from the title, the venue and its authors' names in
    authorship order; a work already held keeps its position."""
    pending: list[Work] = []
    for work in works:
        pending.append(work)
        if len(pending) == 5000:
            yield from _entries_of(pending, held)
            pending = []
    yield from _entries_of(pending, held)


def _entries_of(works: list[Work], held: dict[int, SearchEntry]) -> Iterator[SearchEntry]:
    names: dict[int, list[str]] = {}
    authorships = Authorship.objects.filter(work_id__in=[work.id for work in works]).order_by(
        "work_id", "position", "id"
    )
    for work_id, name in authorships.values_list("work_id", "author__display_name"):
        names.setdefault(work_id, []).append(name)
    for work in works:
        words = [*title_words(work.title), *title_words(work.venue)]
        for name in names.get(work.id, []):
            words += title_words(name)
        position = held[work.id].position if work.id in held else UNPLACED_POSITION + work.id
        yield SearchEntry(
            work_id=work.id,
            words=f" {' '.join(words)} ",
            position=position,
            publication_year=work.publication_year,
            type=work.type,
            subfield_id=work.subfield_id,
        )


def _rebuild_in_sql(scores: QuerySet | None) -> None:
    # [[:alnum:]] is SEARCH_WORD's class (letters and digits in any script) in PostgreSQL's regex:
    # over-long words go first, then every run of other characters becomes one space.
    def words(text: str) -> str:
        longer = SEARCH_WORD_MAX_LENGTH + 1
        kept = f"regexp_replace(lower({text}), '[[:alnum:]]{{{longer},}}', ' ', 'g')"
        return f"nullif(btrim(regexp_replace({kept}, '[^[:alnum:]]+', ' ', 'g')), '')"

    # Names gathered per work in one pass over the authorships, rather than a query per work.
    names = f"""SELECT a.work_id, string_agg({words("n.display_name")}, ' ' ORDER BY a.position, a.id) AS words
                FROM papers_authorship a JOIN papers_author n ON n.id = a.author_id
                JOIN papers_corpusentry c ON c.work_id = a.work_id AND c.in_corpus GROUP BY a.work_id"""
    entry_words = f"""' ' || concat_ws(' ', {words("w.title")}, {words("w.venue")}, names.words) || ' '"""
    # New entries are written where the run places them, if one is given.
    placed, placed_params = (
        SearchEntry.objects.positions(scores)
        if scores is not None
        else ("SELECT NULL::bigint AS work_id, NULL::smallint AS tier, NULL::bigint AS position WHERE false", ())
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """DELETE FROM papers_searchentry e WHERE NOT EXISTS (
                   SELECT 1 FROM papers_corpusentry c WHERE c.work_id = e.work_id AND c.in_corpus)"""
        )
        # A first index (an empty table) is written without its secondary indexes, which are
        # built after it at once: at 10M papers, growing the band GIN indexes row by row outgrew
        # the buffer cache and took over 45 minutes. Searches wait for the commit, as they would
        # for an index that holds nothing yet; later rebuilds, which change few entries, keep the
        # indexes and never block a search.
        cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM papers_searchentry)")
        with _indexes_built_after(cursor, "papers_searchentry", first=cursor.fetchone()[0]):
            cursor.execute(
                f"""INSERT INTO papers_searchentry (work_id, words, position, tier, publication_year, type, subfield_id)
                    WITH names AS ({names}), placed AS ({placed})
                    SELECT w.id, {entry_words}, coalesce(placed.position, %s + w.id), placed.tier,
                           w.publication_year, w.type, w.subfield_id
                    FROM papers_work w JOIN papers_corpusentry c ON c.work_id = w.id AND c.in_corpus
                    LEFT JOIN names ON names.work_id = w.id LEFT JOIN placed ON placed.work_id = w.id
                    ON CONFLICT (work_id) DO UPDATE SET words = excluded.words,
                        publication_year = excluded.publication_year, type = excluded.type,
                        subfield_id = excluded.subfield_id
                    WHERE (papers_searchentry.words, papers_searchentry.publication_year, papers_searchentry.type,
                           papers_searchentry.subfield_id)
                      IS DISTINCT FROM (excluded.words, excluded.publication_year, excluded.type,
                                        excluded.subfield_id)""",
                (*placed_params, UNPLACED_POSITION),
            )
        # The vocabulary is written whole each time (searches already wait on TRUNCATE's lock).
        cursor.execute("TRUNCATE papers_searchword")
        with _indexes_built_after(cursor, "papers_searchword", first=True):
            cursor.execute(
                """INSERT INTO papers_searchword (word, frequency)
                   SELECT word, count(*) FROM (
                       SELECT DISTINCT e.work_id, word
                       FROM papers_searchentry e, unnest(string_to_array(btrim(e.words), ' ')) AS word
                       WHERE word <> ''
                   ) AS held GROUP BY word"""
            )


@contextmanager
def _indexes_built_after(cursor, table: str, *, first: bool) -> Iterator[None]:
    """For a `first` filling of `table`: its indexes other than its constraints' (the primary
    key, which ON CONFLICT needs) are dropped, and built again once it is filled, each at once."""
    if not first:
        yield
        return
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indrelid = %s::regclass
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
           ORDER BY 1""",
        [table],
    )
    found = cursor.fetchall()
    for name, _ in found:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    # A sorted build in memory rather than many merges on disk, for this transaction only.
    cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
    with _checked_now(cursor, table):
        for _, definition in found:
            cursor.execute(definition)


@contextmanager
def _checked_now(cursor, table: str) -> Iterator[None]:
    """Run `table`'s deferred foreign-key checks now (PostgreSQL builds no index on a table with
    checks pending) and defer them again after, as Django declares them."""
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' AND condeferred", [table]
    )
    names = ", ".join(connection.ops.quote_name(name) for (name,) in cursor.fetchall())
    if names:
        cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
    yield
    if names:
        cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")
