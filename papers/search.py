"""Typo-tolerant search: what a query's words become before titles, authors and venues are matched.

`interpret(query)` reads the vocabulary (SearchWord, the words of the corpus papers' titles,
authors' names and venues) once and gives a SearchPlan: each word with the vocabulary words it
also matches. A word of 5 to 8 letters matches the words within Damerau distance 1 (optimal
string alignment: a transposition is one edit), a word of 9 or more within 2; the last word
also matches as a prefix, as you type. A word too short to correct that no paper holds is
dropped, as Meilisearch drops a query's last words, rather than leaving the search empty; the
page says which. WorkQuerySet.search matches the plan on either database, exact matches
ranking above corrected ones.

Candidates are read in one query however long the query: each correctable word adds a length
window (PostgreSQL narrows it with fuzzystrmatch's levenshtein_less_equal, at twice the
distance since Levenshtein counts a transposition as two), and rapidfuzz's OSA distance decides."""

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from rapidfuzz import process
from rapidfuzz.distance import OSA

from papers.models import SEARCH_WORD, SEARCH_WORD_MAX_LENGTH, Authorship, SearchWord, Work

# The corrections kept for a word, nearest and most frequent first.
MAX_CORRECTIONS = 5


def allowed_typos(word: str) -> int:
    """The issue's rule: 5 to 8 letters may have one typo, 9 or more two, shorter words none."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def title_words(title: str) -> set[str]:
    return {word for word in SEARCH_WORD.findall(title.lower()) if len(word) <= SEARCH_WORD_MAX_LENGTH}


@dataclass(frozen=True)
class WordMatch:
    """One query word: as typed (`prefix` for the last one) and the vocabulary words within its
    typos. `known` says whether some paper holds it as typed (or, for the last, as a prefix)."""

    typed: str
    prefix: bool
    known: bool
    corrections: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.typed, *self.corrections)


@dataclass(frozen=True)
class SearchPlan:
    words: tuple[WordMatch, ...]
    dropped: tuple[str, ...] = field(default=())

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
    words = SEARCH_WORD.findall(query.lower())
    if not words:
        return SearchPlan(words=())
    vocabulary = _candidates(words)
    matches, dropped = [], []
    for position, typed in enumerate(words):
        prefix = position == len(words) - 1
        known = typed in vocabulary or (prefix and any(word.startswith(typed) for word in vocabulary))
        corrections = _corrections(typed, vocabulary)
        if not known and not corrections and allowed_typos(typed) == 0:
            dropped.append(typed)
            continue
        matches.append(WordMatch(typed=typed, prefix=prefix, known=known, corrections=corrections))
    return SearchPlan(words=tuple(matches), dropped=tuple(dropped))


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
    words as typed, the first word the last one begins, and each correctable word's window."""
    table = connection.ops.quote_name(SearchWord._meta.db_table)
    distinct = sorted(set(words))
    clauses = [f"word IN ({', '.join(['%s'] * len(distinct))})"]
    params: list[str | int] = [*distinct]
    # Words hold only letters and digits, so the last one is a LIKE pattern as it stands.
    clauses.append(f"word = (SELECT word FROM {table} WHERE word LIKE %s ORDER BY word LIMIT 1)")
    params.append(f"{words[-1]}%")
    postgresql = connection.vendor == "postgresql"
    for word in distinct:
        typos = allowed_typos(word)
        if not typos or len(word) > SEARCH_WORD_MAX_LENGTH:  # levenshtein() takes at most 255 characters
            continue
        window = "length(word) BETWEEN %s AND %s"
        params += [len(word) - typos, len(word) + typos]
        if postgresql:
            window += " AND levenshtein_less_equal(word, %s, %s) <= %s"
            params += [word, 2 * typos, 2 * typos]
        clauses.append(f"({window})")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT word, frequency FROM {table} WHERE {' OR '.join(clauses)}", params)
        return dict(cursor.fetchall())


# --- keeping the vocabulary -------------------------------------------------------------------


def add_to_vocabulary(work_ids: Iterable[int]) -> int:
    """Add the words of these works (those in the corpus: titles, venues, authors' names) that
    the vocabulary lacks; the words it holds keep their frequency, so loading a work again
    counts it once. Returns how many words were new. Cheap enough for every batch a load or a
    tracked paper brings."""
    ids = list(work_ids)
    works = Work.objects.in_corpus().filter(id__in=ids).order_by("id").values_list("id", "title", "venue")
    names = (
        Authorship.objects.filter(work_id__in=works.values("id"))
        .order_by("work_id")
        .values_list("work_id", "author__display_name")
    )
    counts = _paper_words(works, names)
    if not counts:
        return 0
    held = set(SearchWord.objects.filter(word__in=list(counts)).values_list("word", flat=True))
    new = [SearchWord(word=word, frequency=count) for word, count in counts.items() if word not in held]
    SearchWord.objects.bulk_create(new, ignore_conflicts=True, batch_size=2000)
    return len(new)


def rebuild_vocabulary() -> int:
    """Count every corpus paper's words again, dropping the words no paper holds any more;
    a snapshot build's publication calls it. Returns the vocabulary's size."""
    works = Work.objects.in_corpus().order_by("id").values_list("id", "title", "venue")
    names = (
        Authorship.objects.filter(work__corpus_entry__in_corpus=True)
        .order_by("work_id")
        .values_list("work_id", "author__display_name")
    )
    counts = _paper_words(works.iterator(chunk_size=5000), names.iterator(chunk_size=5000))
    with transaction.atomic():
        SearchWord.objects.all().delete()
        SearchWord.objects.bulk_create(
            [SearchWord(word=word, frequency=count) for word, count in counts.items()], batch_size=2000
        )
    return len(counts)


def _paper_words(works: Iterable[tuple[int, str, str]], names: Iterable[tuple[int, str]]) -> Counter[str]:
    """How many papers hold each word in their title, venue or an author's name: both streams
    in work order, merged so that a paper counts once for a word however often it has it. The
    words are cut in Python, as the query is (SEARCH_WORD), so SQL cannot do it on SQLite."""
    counts: Counter[str] = Counter()
    by_work = itertools.groupby(names, key=lambda row: row[0])
    pending = next(by_work, None)
    for work_id, title, venue in works:
        words = title_words(title) | title_words(venue)
        while pending is not None and pending[0] <= work_id:
            if pending[0] == work_id:
                words.update(word for _, name in pending[1] for word in title_words(name))
            pending = next(by_work, None)
        counts.update(words)
    return counts
