"""One raw OpenAlex work (API result or snapshot line) turned into a typed, checked record.

Django-free on purpose: the loader, the API client and the tests all read records through
`parse_work`, and everything that real OpenAlex data gets wrong is dealt with here, once:

- ids arrive as `https://openalex.org/W1`, `W1` or `w1`; DOIs as `https://doi.org/10.…` or null;
- `title` and `display_name` can both be empty (BERT, W2963341956), and titles carry raw markup
  (`<i>`, `<sub>`), which is kept for the pages to render safely, and HTML entities (`R&amp;D`,
  double-encoded `CO&amp;lt;sub&amp;gt;2`), which are decoded;
- abstracts carry entities and escape sequences typed in as text (`investigations.&#13;\\nIt`);
- `abstract_inverted_index` can be null, have gaps in its positions, or hold an empty word;
- `primary_location` or its `source` can be null; pre-2023 records have `host_venue` instead;
- `referenced_works_count` can be 0, and older records lack it (then the list is all we know);
- `referenced_works` can repeat an id or hold the work itself (20 of the sample's records do);
- an authorship's author id can be null (the name and even the ORCID are there, the id is not),
  and the same author can be listed twice on one work (23 times in the sample, 3 of them with an
  institution the first listing lacks);
- an authorship's `institutions` can be empty, and an institution's `ror`, `country_code` and
  `type` null; one institution in the sample is all nulls, its id included; raw affiliation
  strings carry entities (`Science &amp; IT`) as titles do;
- list results may cut `authorships` short and say so with `is_authors_truncated`;
- nothing bounds a field's length: one record held a 50 MB title. Every text field is kept to
  the size CAPS states (no more than its column holds); a longer one is cut, or, for an
  identifier, dropped, and the record says so in `truncated`.
"""

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple
from urllib.parse import unquote


class RecordError(ValueError):
    """A work record that cannot be loaded; the message says which field and why."""


# The most characters of each text field a record keeps, by kind of field; each is no larger than
# the column that holds it (papers.models; tests/papers/openalex/test_records.py compares them).
# The snapshot build (papers.openalex.snapshot) reads these too, so both ways in cut alike.
CAPS: dict[str, int] = {
    "title": 2_000,
    "abstract": 100_000,
    "venue": 500,  # Work.venue
    "type": 50,  # Work.type
    "oa_status": 20,  # Work.oa_status
    "license": 100,  # Work.license
    "source_type": 30,  # Work.source_type
    "author_name": 500,  # Author.display_name
    "topic_name": 500,  # topics[].display_name and the primary topic's names
    "indexed_in": 100,  # each entry of indexed_in
    "repository_name": 500,  # repository_locations[].source
    "author_position": 10,  # Authorship.author_position
    # Each of Authorship.raw_affiliations, a JSON list: the longest in the sample has 418 characters.
    "raw_affiliation": 2_000,
    "institution_name": 500,  # Institution.display_name
    "institution_type": 50,  # Institution.type
}
# Identifiers are never cut, a cut one would name something else: one longer than this is dropped.
IDENTIFIER_CAPS: dict[str, int] = {
    "doi": 255,  # Work.doi
    "orcid": 100,  # Author.orcid
    "url": 2_000,  # repository_locations[].url
    "ror": 100,  # Institution.ror
    "country_code": 2,  # Institution.country_code
}


class Truncation(NamedTuple):
    """A field of a record longer than DataRank keeps: cut to `cap` characters, or, for an
    identifier, dropped. `field` is its place in the record: `title`, `authorships[3].author.orcid`."""

    field: str
    length: int
    cap: int
    dropped: bool = False

    def __str__(self) -> str:
        if self.dropped:
            return f"{self.field} dropped: it had {self.length:,} characters, more than the {self.cap:,} kept"
        return f"{self.field} cut to {self.cap:,} characters (the record's {self.field} had {self.length:,})"


class Institution(NamedTuple):
    """An institution an authorship lists; `id` is the number of its I id."""

    id: int
    display_name: str
    country_code: str
    ror: str
    type: str


class Author(NamedTuple):
    """An author of the work with the institutions and affiliation strings of their authorship.
    Listed twice, they keep the first listing's name, ORCID and position, and the
    institutions and strings of every listing, each once (the work does name them)."""

    id: int
    display_name: str
    orcid: str
    author_position: str = ""  # OpenAlex's: first, middle or last
    raw_affiliations: tuple[str, ...] = ()
    institutions: tuple[Institution, ...] = ()


class PrimaryTopic(NamedTuple):
    """OpenAlex's primary topic of a work and the subfield, field and domain above it, each as
    (the number of its OpenAlex id, its name): `subfields/2211` is 2211."""

    topic: tuple[int, str]
    subfield: tuple[int, str]
    field: tuple[int, str]
    domain: tuple[int, str]


@dataclass(frozen=True)
class WorkRecord:
    id: int
    doi: str
    title: str
    abstract: str
    publication_year: int | None
    venue: str
    type: str
    cited_by_count: int
    referenced_works_count: int
    is_oa: bool
    oa_status: str
    is_retracted: bool
    indexed_in: list[str]
    topics: list[str]
    repository_locations: list[dict[str, str]]
    openalex_updated: date | None
    authors: tuple[Author, ...]
    # True when OpenAlex cut the author list short: the authors we hold beyond it are still right.
    authors_truncated: bool
    referenced_ids: tuple[int, ...]
    # The licence OpenAlex found (primary location first, then the best open copy), e.g. "cc-by".
    license: str = ""
    # OpenAlex ids (W…) of the datasets OpenAlex links to the work.
    datasets: tuple[str, ...] = ()
    primary_topic: PrimaryTopic | None = None
    # The kind of source of the primary location: journal, repository, conference, … ("" when none).
    source_type: str = ""
    # The fields longer than CAPS or IDENTIFIER_CAPS allow, as parse_work met them.
    truncated: tuple[Truncation, ...] = ()
    # Authorships without an author id: they are in no author's list and count for nobody.
    unidentified_authors: int = 0

    @property
    def openalex_id(self) -> str:
        return f"W{self.id}"


_OPENALEX_ID = re.compile(r"(?:^|/)([A-Za-z])([0-9]+)/?$")


def openalex_number(key: object, *, kind: str | None = None) -> int:
    """`W2108598243`, `w2108598243` or `https://openalex.org/W2108598243` -> 2108598243.

    With `kind` ("W", "A", …) the id must be of that entity."""
    match = _OPENALEX_ID.search(key.strip()) if isinstance(key, str) else None
    if not match or int(match[2]) == 0:
        raise ValueError(f"{key!r} is not an OpenAlex id")
    if kind is not None and match[1].upper() != kind.upper():
        raise ValueError(f"{key!r} is not an OpenAlex {kind} id")
    return int(match[2])


_DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.|www\.)?doi\.org/|(?:dx\.|www\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI = re.compile(r"^10\.\d{4,}(?:\.\d+)*/\S+$")


def normalize_doi(text: str) -> str:
    """`10.…`, `doi:10.…`, `https://doi.org/10.…` or `http://dx.doi.org/10.…` -> bare lower-case `10.…`.

    DOIs are case-insensitive, so lower case is their canonical form here. Raises ValueError
    for anything that is not a DOI."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a DOI")
    doi = text.strip()
    prefix = _DOI_PREFIXES.match(doi)
    if prefix:
        doi = doi[prefix.end() :]
        # A DOI copied from a browser's address bar arrives percent-encoded: 10.1002/%28SICI%29…
        if prefix.group().lower().startswith(("http", "doi.org", "dx.", "www.")):
            doi = unquote(doi)
    doi = doi.strip().lower()
    if not _DOI.match(doi):
        raise ValueError(f"{text!r} is not a DOI (expected 10.<registrant>/<suffix>)")
    return doi


def parse_work(raw: Any) -> WorkRecord:
    """Check and convert one raw OpenAlex work; raises RecordError if it cannot be loaded."""
    if not isinstance(raw, Mapping):
        raise RecordError(f"a work must be a JSON object, not {type(raw).__name__}")
    try:
        work_id = openalex_number(raw.get("id"), kind="W")
    except ValueError:
        raise RecordError(f"id {_shown(raw.get('id'))} is not an OpenAlex work id (W…)") from None

    references = _list(raw, "referenced_works")
    referenced_ids: dict[int, None] = {}
    for key in references:
        try:
            number = openalex_number(key, kind="W")
        except ValueError:
            raise RecordError(f"referenced_works holds {_shown(key)}, which is not an OpenAlex work id") from None
        # A work listing itself is an OpenAlex data error, not a citation.
        if number != work_id:
            referenced_ids[number] = None

    referenced_count = raw.get("referenced_works_count")
    open_access = _object(raw, "open_access")
    authors, authors_cut_short, unidentified = _authors(raw)
    cuts = _Cuts()
    return WorkRecord(
        id=work_id,
        doi=cuts.identifier(_doi(raw.get("doi")), "doi", "doi"),
        title=cuts.text(clean_text(_text(raw, "title") or _text(raw, "display_name")), "title", "title"),
        abstract=cuts.text(clean_text(_abstract(raw.get("abstract_inverted_index"))), "abstract", "abstract"),
        publication_year=_year(raw.get("publication_year")),
        venue=cuts.text(_venue(raw), "venue", "venue"),
        type=cuts.text(_text(raw, "type"), "type", "type"),
        cited_by_count=_count(raw, "cited_by_count"),
        referenced_works_count=len(references) if referenced_count is None else _count(raw, "referenced_works_count"),
        is_oa=_flag(open_access, "is_oa", where="open_access.is_oa"),
        oa_status=cuts.text(_text(open_access, "oa_status", where="open_access.oa_status"), "oa_status", "oa_status"),
        is_retracted=_flag(raw, "is_retracted"),
        indexed_in=[
            cuts.text(_string(item, f"indexed_in[{number}]"), f"indexed_in[{number}]", "indexed_in")
            for number, item in enumerate(_list(raw, "indexed_in"), start=1)
        ],
        topics=[cuts.text(name, f"topics[{number}].display_name", "topic_name") for number, name in _topics(raw)],
        repository_locations=[
            {
                "source": cuts.text(source, f"locations[{number}].source.display_name", "repository_name"),
                "url": cuts.identifier(url, f"locations[{number}].{url_key}", "url"),
            }
            for number, source, url_key, url in _repository_locations(raw)
        ],
        openalex_updated=_updated(raw.get("updated_date")),
        authors=tuple(_cut_author(listed, cuts) for listed in authors),
        authors_truncated=authors_cut_short,
        referenced_ids=tuple(referenced_ids),
        license=cuts.text(_license(raw), "license", "license"),
        datasets=_datasets(raw),
        primary_topic=_cut_topic(_primary_topic(raw), cuts),
        source_type=cuts.text(_source_type(raw), "source_type", "source_type"),
        truncated=tuple(cuts.found),
        unidentified_authors=unidentified,
    )


class _Cuts:
    """Keeps each field to its cap, noting every one it had to cut or drop."""

    def __init__(self) -> None:
        self.found: list[Truncation] = []

    def text(self, value: str, field: str, kind: str) -> str:
        cap = CAPS[kind]
        if len(value) <= cap:
            return value
        self.found.append(Truncation(field, len(value), cap))
        return value[:cap]

    def identifier(self, value: str, field: str, kind: str) -> str:
        cap = IDENTIFIER_CAPS[kind]
        if len(value) <= cap:
            return value
        self.found.append(Truncation(field, len(value), cap, dropped=True))
        return ""


def _cut_author(listed: "_Listed", cuts: _Cuts) -> Author:
    where, author = listed.where, listed.author
    return Author(
        id=author.id,
        display_name=cuts.text(author.display_name, f"{where}.author.display_name", "author_name"),
        orcid=cuts.identifier(author.orcid, f"{where}.author.orcid", "orcid"),
        author_position=cuts.text(author.author_position, f"{where}.author_position", "author_position"),
        raw_affiliations=tuple(
            cuts.text(text, place, "raw_affiliation") for text, place in listed.raw_affiliations.items()
        ),
        institutions=tuple(
            Institution(
                id=institution.id,
                display_name=cuts.text(institution.display_name, f"{place}.display_name", "institution_name"),
                country_code=cuts.identifier(institution.country_code, f"{place}.country_code", "country_code"),
                ror=cuts.identifier(institution.ror, f"{place}.ror", "ror"),
                type=cuts.text(institution.type, f"{place}.type", "institution_type"),
            )
            for place, institution in listed.institutions.values()
        ),
    )


_TOPIC_LEVELS = ("primary_topic", "primary_topic.subfield", "primary_topic.field", "primary_topic.domain")


def _cut_topic(topic: "PrimaryTopic | None", cuts: _Cuts) -> "PrimaryTopic | None":
    if topic is None:
        return None
    return PrimaryTopic(
        *(
            (number, cuts.text(name, f"{level}.display_name", "topic_name"))
            for level, (number, name) in zip(_TOPIC_LEVELS, topic, strict=True)
        )
    )


def _doi(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        return normalize_doi(value)
    except ValueError as error:
        message = str(error) if len(repr(value)) <= _SHOWN else f"{_shown(value)} is not a DOI"
        raise RecordError(f"doi: {message}") from None


# A backslash and a letter typed in as text where a newline, return or tab was meant.
_TYPED_ESCAPE = re.compile(r"\\[nrt]")


def clean_text(text: str) -> str:
    """Decode HTML entities (twice: some records encode them twice) and literal escape
    sequences, and collapse runs of whitespace. Markup stays: the pages render it safely."""
    for _ in range(2):
        text = html.unescape(text)
    return " ".join(_TYPED_ESCAPE.sub(" ", text).split())


def _abstract(index: Any) -> str:
    if index is None:
        return ""
    if not isinstance(index, Mapping):
        raise RecordError("abstract_inverted_index must be an object of {word: [positions]}")
    placed: list[tuple[int, str]] = []
    for word, positions in index.items():
        if not isinstance(positions, list) or not all(type(p) is int for p in positions):
            raise RecordError(f"abstract_inverted_index[{_shown(word)}] must be a list of positions")
        placed.extend((position, word) for position in positions)
    return " ".join(word for _, word in sorted(placed))


def _venue(raw: Mapping) -> str:
    if "primary_location" not in raw and isinstance(raw.get("host_venue"), Mapping):
        return _text(raw["host_venue"], "display_name", where="host_venue.display_name")
    location = _object(raw, "primary_location")
    source = _object(location, "source", where="primary_location.source")
    return _text(source, "display_name", where="primary_location.source.display_name")


def _source_type(raw: Mapping) -> str:
    location = _object(raw, "primary_location")
    source = _object(location, "source", where="primary_location.source")
    return _text(source, "type", where="primary_location.source.type")


# The number at the end of a taxonomy id: `https://openalex.org/subfields/2211`, `…/T10399`.
_TRAILING_NUMBER = re.compile(r"(\d+)/?$")


def _primary_topic(raw: Mapping) -> PrimaryTopic | None:
    """None when OpenAlex gives no primary topic (about 2% of the sample) or a part of it is
    missing: a cohort needs the whole path, and half a topic would mislabel a paper."""
    topic = raw.get("primary_topic")
    if topic is None:
        return None
    if not isinstance(topic, Mapping):
        raise RecordError("primary_topic must be an object")
    parts = [("topic", topic)] + [(level, topic.get(level)) for level in ("subfield", "field", "domain")]
    named = []
    for level, part in parts:
        if not isinstance(part, Mapping):
            return None
        number = _TRAILING_NUMBER.search(part.get("id") or "") if isinstance(part.get("id"), str) else None
        name = _text(part, "display_name", where=f"primary_topic.{level}.display_name")
        if number is None or not name:
            return None
        named.append((int(number[1]), name))
    return PrimaryTopic(*named)


class _Listed(NamedTuple):
    """An author as the record lists them, before any cut: the first listing's place and fields,
    and every listing's affiliation strings (text: place) and institutions (id: (place, it))."""

    where: str
    author: Author
    raw_affiliations: dict[str, str]
    institutions: dict[int, tuple[str, Institution]]


def _authors(raw: Mapping) -> tuple[list[_Listed], bool, int]:
    """The authors with an id, each with its place in the record (`authorships[3]`; the first
    where listed twice); whether the list is cut short; and how many authorships have no id."""
    authors: dict[int, _Listed] = {}
    unidentified = 0
    for number, authorship in enumerate(_list(raw, "authorships"), start=1):
        where = f"authorships[{number}]"
        if not isinstance(authorship, Mapping):
            raise RecordError(f"{where} must be an object")
        author = _object(authorship, "author", where=f"{where}.author")
        if author.get("id") is None:
            # Without an id the author can never match for self-citations, nor count for anyone; keep the rest.
            unidentified += 1
            continue
        try:
            author_id = openalex_number(author["id"], kind="A")
        except ValueError:
            raise RecordError(f"{where}.author.id {_shown(author['id'])} is not an OpenAlex author id (A…)") from None
        listing = Author(
            id=author_id,
            display_name=_text(author, "display_name", where=f"{where}.author.display_name"),
            orcid=_text(author, "orcid", where=f"{where}.author.orcid"),
            author_position=_text(authorship, "author_position", where=f"{where}.author_position"),
        )
        listed = authors.setdefault(author_id, _Listed(where, listing, {}, {}))
        for place, text in _raw_affiliations(authorship, where):
            listed.raw_affiliations.setdefault(text, place)
        for place, institution in _institutions(authorship, where):
            listed.institutions.setdefault(institution.id, (place, institution))
    return list(authors.values()), _flag(raw, "is_authors_truncated"), unidentified


def _raw_affiliations(authorship: Mapping, where: str) -> list[tuple[str, str]]:
    """The authorship's affiliation strings, cleaned as titles are, each with its place; empty ones dropped."""
    found = []
    key = "raw_affiliation_strings"
    for number, value in enumerate(_list(authorship, key, where=f"{where}.{key}"), start=1):
        place = f"{where}.{key}[{number}]"
        text = clean_text(_string(value, place))
        if text:
            found.append((place, text))
    return found


def _institutions(authorship: Mapping, where: str) -> list[tuple[str, Institution]]:
    """The institutions of an authorship with an id, each with its place."""
    found = []
    for number, institution in enumerate(_list(authorship, "institutions", where=f"{where}.institutions"), start=1):
        place = f"{where}.institutions[{number}]"
        if not isinstance(institution, Mapping):
            raise RecordError(f"{place} must be an object")
        if institution.get("id") is None:
            continue  # An affiliation OpenAlex could not match to an institution: every field of it is null.
        try:
            institution_id = openalex_number(institution["id"], kind="I")
        except ValueError:
            shown = _shown(institution["id"])
            raise RecordError(f"{place}.id {shown} is not an OpenAlex institution id (I…)") from None
        found.append(
            (
                place,
                Institution(
                    id=institution_id,
                    display_name=_text(institution, "display_name", where=f"{place}.display_name"),
                    country_code=_text(institution, "country_code", where=f"{place}.country_code"),
                    ror=_text(institution, "ror", where=f"{place}.ror"),
                    type=_text(institution, "type", where=f"{place}.type"),
                ),
            )
        )
    return found


def _topics(raw: Mapping) -> list[tuple[int, str]]:
    """The topics' names, each with its place in `topics`."""
    topics = []
    for number, topic in enumerate(_list(raw, "topics"), start=1):
        if not isinstance(topic, Mapping):
            raise RecordError(f"topics[{number}] must be an object")
        name = _text(topic, "display_name", where=f"topics[{number}].display_name")
        if name:
            topics.append((number, name))
    return topics


def _license(raw: Mapping) -> str:
    for key in ("primary_location", "best_oa_location"):
        location = _object(raw, key)
        license = location.get("license")
        if isinstance(license, str) and license:
            return license
    return ""


def _datasets(raw: Mapping) -> tuple[str, ...]:
    found = []
    for key in _list(raw, "datasets"):
        # Context for the FAIR checklist only: an odd entry is dropped rather than costing the work.
        try:
            found.append(f"W{openalex_number(key, kind='W')}")
        except ValueError:
            continue
    return tuple(found)


def _repository_locations(raw: Mapping) -> list[tuple[int, str, str, str]]:
    """(place in `locations`, source name, the key the URL came from, URL) of the locations whose
    source is a repository."""
    found = []
    for number, location in enumerate(_list(raw, "locations"), start=1):
        if not isinstance(location, Mapping):
            raise RecordError(f"locations[{number}] must be an object")
        source = _object(location, "source", where=f"locations[{number}].source")
        if source.get("type") != "repository":
            continue
        url_key = "landing_page_url" if location.get("landing_page_url") else "pdf_url"
        url = location.get(url_key) or ""
        if not isinstance(url, str):
            raise RecordError(f"locations[{number}] has a URL that is not a string")
        found.append(
            (number, _text(source, "display_name", where=f"locations[{number}].source.display_name"), url_key, url)
        )
    return found


def _updated(value: Any) -> date | None:
    if value is None or value == "":
        return None
    # Snapshots write `2025-11-14T05:43:12.345678`, older records a bare date.
    try:
        return date.fromisoformat(value[:10])
    except (TypeError, ValueError):
        raise RecordError(f"updated_date {_shown(value)} is not a date") from None


def _year(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= 32767:
        raise RecordError(f"publication_year {_shown(value)} is not a year")
    return value


def _count(raw: Mapping, key: str) -> int:
    value = raw.get(key)
    if value is None:
        raise RecordError(f"{key} is missing")
    # bool is an int subclass, and 3.0 is not a count either.
    if type(value) is not int:
        raise RecordError(f"{key} {_shown(value)} is not a whole number")
    if value < 0:
        raise RecordError(f"{key} {value} is negative")
    return value


# The most characters of a value an error message repeats: a record can hold a 50 MB string.
_SHOWN = 80


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) <= _SHOWN:
        return text
    size = f"a string of {len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters"
    return f"{text[: _SHOWN - 1]}… ({size})"


def _text(raw: Mapping, key: str, *, where: str | None = None) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    return _string(value, where or key)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise RecordError(f"{where} must be a string, not {type(value).__name__}")
    return value


def _flag(raw: Mapping, key: str, *, where: str | None = None) -> bool:
    value = raw.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RecordError(f"{where or key} must be true or false, not {_shown(value)}")
    return value


def _list(raw: Mapping, key: str, *, where: str | None = None) -> list:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{where or key} must be a list, not {type(value).__name__}")
    return value


def _object(raw: Mapping, key: str, *, where: str | None = None) -> Mapping:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecordError(f"{where or key} must be an object, not {type(value).__name__}")
    return value
