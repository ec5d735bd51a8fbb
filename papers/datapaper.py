"""Is this work a data-sharing paper? An explainable check over the metadata we hold.

Each signal that fires carries a weight, the probability we give it of marking a data paper
on its own; independent signals combine as a noisy OR, so

    confidence = 1 - Π (1 - weight)

and the check passes at confidence ≥ 0.5 (`PASS_AT`). The weights (`WEIGHTS`), set by hand:

    OpenAlex type `dataset`                                                    0.95
    DataCite resourceTypeGeneral `Dataset`                                     0.95
    DataCite resourceTypeGeneral `DataPaper`                                   0.90
    published in a data journal (the whole name, matched ignoring case,
      punctuation, "&"/"and", a leading "The", a "Discussions" suffix)         0.90
    held in a repository of data only (PANGAEA, Dryad, Mendeley Data, DANS,
      a Dataverse, the CCDC's Cambridge Structural Database, …, or one with
      the word "data" in its name: "GFZ Data Services")                        0.75
    held in a general-purpose repository (Zenodo, Figshare), which holds
      software, posters and papers as well as data                             0.30
    the title announces data ("Data for:", "Dataset:", 'Data - "…"',
      "Supplemental datafiles for the manuscript", "(Table S1) …", "…: data set")  0.60
    the title announces supplementary material ("Supplementary material
      from …", "Appendix B: …"): data, or only figures and text                0.45
    a cue word in the title (dataset, database, atlas, catalogue, …) naming
      what the work offers                                                     0.60
    a cue word in the title only as something the work uses: after "using",
      "with", "on", "from", "in", "through", "analysis", "deep learning", …
      in the same clause ("… using a small dataset", "… in an online
      database")                                                               0.25
    the abstract introduces data ("we present a new dataset"), or opens as a
      deposit describes itself ("This dataset contains …")                     0.50
    each further cue word in the abstract (at most three)                      0.15

Only a source of type "repository" counts as a repository, and only by name: institutional
repositories have that type too but hold theses and preprints. Not cues: "Atlas" after a place
qualifier ("High Atlas", "Anti-Atlas", "Saharan Atlas") or before a landform ("Atlas
Mountains") is a mountain range; the ATLAS detector is an experiment; "benchmark" alone is a
computational benchmark (a "benchmark dataset" still matches on "dataset"). The title's misses
are noted among the reasons, without a weight.

So any one strong signal, or a title cue naming what the work offers, passes alone; a general
repository, a title cue for data only used, supplementary material and cue words scattered
through an abstract do not ("we evaluate on three benchmark datasets" is not a data paper), but
together they can: a Figshare deposit titled "Supplementary material from …" passes (0.615), a
paper on Figshare does not. Errata, retractions, editorials, peer reviews and paratext never
pass whatever they mention: a correction to a data paper shares no data. Every reason names
what matched and `Verdict.signals` pairs each with its weight, so an admin can see why and
override.

Measured on hand labels by `python manage.py evaluate_datapaper` (data/labels/README.md).
Learned logistic weights over the same signals did worse in 5-fold cross-validation of the
tuning labels (F1 0.82 against 0.96), so the weights stay hand-set.
"""

import re
from dataclasses import dataclass
from typing import NamedTuple

PASS_AT = 0.5

WEIGHTS = {
    "dataset type": 0.95,
    "DataCite Dataset": 0.95,
    "DataCite DataPaper": 0.90,
    "data journal": 0.90,
    "data repository": 0.75,
    "general repository": 0.30,
    "title announces data": 0.60,
    "title announces supplementary material": 0.45,
    "title cue": 0.60,
    "title cue used": 0.25,
    "abstract introduces data": 0.50,
    "abstract cue": 0.15,
}
ABSTRACT_CUES_COUNTED = 3

# Types whose works are about other works, never a data release themselves.
NEVER_DATA_PAPERS = frozenset({"erratum", "retraction", "editorial", "peer-review", "paratext"})


def _venue_key(name: str) -> str:
    """A venue name as data journals are matched: case, punctuation, "&" for "and", a leading
    "The", an aside in parentheses and a "Discussions" suffix do not count, so "EARTH SYSTEM
    SCIENCE DATA DISCUSSIONS", "Data in brief." and "Data (Basel)" meet their journals. The whole
    name must match: "Journal of Database Management" is not "Database". Abbreviations
    ("Earth Syst. Sci. Data") are not expanded."""
    key = name.casefold().replace("&", " and ")
    key = re.sub(r"\([^)]*\)", " ", key)  # "Scientific Data (Nature)"
    key = " ".join(re.sub(r"[^\w]+", " ", key).split())
    key = re.sub(r"^the ", "", key)
    return re.sub(r" discussions?$", "", key)


DATA_JOURNALS = frozenset(
    _venue_key(name)
    for name in (
        "Scientific Data",
        "Data in Brief",
        "Earth System Science Data",  # and its Discussions
        "GigaScience",
        "GigaByte",
        "Database",
        "Database: The Journal of Biological Databases and Curation",
        "Geoscience Data Journal",
        "Biodiversity Data Journal",
        "Journal of Open Psychology Data",
        "Journal of Open Humanities Data",
        "Journal of Open Archaeology Data",
        "Research Data Journal for the Humanities and Social Sciences",
        "Open Health Data",
        "Data",
        "Chemical Data Collections",
        "Genomics Data",
        "Atomic Data and Nuclear Data Tables",
        "Journal of Physical and Chemical Reference Data",
        "Journal of Global Change Data & Discovery",
        "China Scientific Data",
        "Microbiology Resource Announcements",
        "Genome Announcements",
    )
)

# Repositories that hold data and nothing else, by a part of their OpenAlex display name, plus any
# repository whose name has the word "data" in it ("GFZ Data Services", "4TU.ResearchData").
DATA_REPOSITORIES = (
    "pangaea",
    "dryad",
    "mendeley data",
    "data archiving and networked services",
    "dans",
    "dataverse",
    "cambridge structural database",
    "ccdc",
    "icpsr",
    "digital rocks portal",
    "earthchem",
    "gbif",
    "national centers for environmental information",
    "inter-university consortium for political and social research",
)
_DATA_REPOSITORY = re.compile(
    r"\b(?:" + "|".join(re.escape(name) for name in DATA_REPOSITORIES) + r")\b"
    r"|\bdata\b|researchdata|datashare|databank|\bdata ?services\b",
    re.I,
)
# General-purpose repositories: data among software, posters, slides and papers.
_GENERAL_REPOSITORY = re.compile(r"\b(?:zenodo|figshare)\b", re.I)

# (the cue as reasons name it, its pattern: whole words, plural too)
CUES = (
    ("dataset", r"data-?sets?"),
    ("data set", r"data sets?"),
    ("database", r"databases?"),
    ("data descriptor", r"data descriptors?"),
    ("data paper", r"data papers?"),
    ("data note", r"data notes?"),
    ("data resource", r"data resources?"),
    ("corpus", r"corpus|corpora|corpuses"),
    ("atlas", r"atlas(?:es)?"),
    ("cohort", r"cohorts?"),
    ("biobank", r"biobanks?"),
    ("catalogue", r"catalog(?:ue)?s?"),
    ("inventory", r"inventory|inventories"),
    ("compilation", r"compilations?"),
)
# Whole words, where a hyphen (ASCII or Unicode's U+2010, U+2011) also binds: "metadata-set" is no
# data set, and the Anti-Atlas is a mountain range, not an atlas.
_HYPHEN = r"\u2010\u2011-"
_CUE = re.compile(
    rf"(?<![\w{_HYPHEN}])(?:"
    + "|".join(f"(?P<c{n}>{pattern})" for n, (_, pattern) in enumerate(CUES))
    + rf")(?![\w{_HYPHEN}])",
    re.I,
)
_ATLAS_PLACE_BEFORE = re.compile(
    r"(?:\b(?:anti|high|middle|saharan|tell|tellian|moroccan|tunisian|algerian|libyan|maritime|pre|sub|haut|moyen|central"
    r"|western|eastern|southern|northern|south|north|east|west)[\s\u2010\u2011-]*)$",
    re.I,
)
_ATLAS_PLACE_AFTER = re.compile(
    r"^[\s-]*(?:mountains?|belts?|ranges?|system|domains?|basins?|rift|orogens?|orogeny|fold|foreland|region"
    r"|chains?|blocks?|margins?|troughs?|platform|massif|ridge)\b",
    re.I,
)
_ATLAS_EXPERIMENT_AFTER = re.compile(r"^\s*(?:detector|experiment|collaboration)\b", re.I)
_BENCHMARK = re.compile(r"(?<![\w-])benchmark(?:s|ing|ed)?(?![\w-])", re.I)

# A title cue preceded, in its clause, by one of these is data the work uses, not data it offers.
_USES = re.compile(
    r"(?<![\w\u2010\u2011-])(?:using|use of|uses|used|with|on|from|through|via|in|within|across|based on|trained on"
    r"|training on|applied to|applying"
    r"|employing|utili[sz]ing|leveraging|exploiting|examination|examining|analysis|analy[sz]ing"
    r"|evaluation|evaluating|interpretation|interpreting|processing|mining|deep learning|machine learning"
    r"|neural networks?|cnns?|transfer learning|classification|prediction|segmentation)\b",
    re.I,
)
# En and em dashes, and the opening quotes a deposit's title puts around its paper's title.
_DASHES = r"\u2013\u2014"
_QUOTES = r"\"'\u201c\u2018\u00ab"
# Where a clause of a title begins: its start, a colon, a dash between words, a question mark.
_CLAUSE_BREAK = re.compile(rf"[:;?!]|\s[-{_DASHES}]\s|[{_DASHES}]")

_DATA_WORD = r"(?:data(?:\s?sets?|\s?files?)?|datasets?)"
_DATA_QUALIFIER = r"(?:(?:supplementa(?:ry|l)|additional|source|raw|processed|replication|underlying|supporting)\s+)"
_TITLE_ANNOUNCES = (
    # "Data for: …", "Dataset: …", 'Data - "A paper"', "Replication Data for: …", "Supplemental
    # Datafiles for the manuscript "…"", "Source data for Figure 2"
    (
        "title announces data",
        re.compile(
            rf"^{_DATA_QUALIFIER}?{_DATA_WORD}\s*(?:\b(?:for|from|of|to|supporting|accompanying|underlying|behind)\b\s*)?"
            rf"(?::|[-{_DASHES}]+\s|[{_QUOTES}]|\b(?:the\s+)?(?:paper|article|manuscript|publication|figures?|fig\.|tables?)\b)",
            re.I,
        ),
    ),
    # PANGAEA's tables: "(Table S1) Palynology of IODP Hole 302-M0004A"
    ("title announces data", re.compile(r"^\(\s*(?:supplementa(?:ry|l)\s+)?(?:table|data)\b[^)]*\)", re.I)),
    # "Altmetrics and open access citation trends: data set"
    (
        "title announces data",
        re.compile(rf"(?:[:(]|\s[-{_DASHES}]\s)\s*(?:an?\s+|the\s+)?{_DATA_WORD}\s*\)?\s*\.?$", re.I),
    ),
    (
        "title announces supplementary material",
        re.compile(
            r"^(?:supplementa(?:ry|l)|supporting|additional)\s+(?:materials?|information|files?|text|appendix"
            rf"|appendices)\b|^appendi(?:x|ces)\b\s*\w*\s*[:.{_DASHES}-]",
            re.I,
        ),
    ),
)

_INTRODUCES_DATA = re.compile(
    r"\b(?:we|this (?:paper|article|study|work)|here we)\s+(?:present|presents|introduce|introduces|release|releases"
    r"|describe|describes|provide|provides|publish|publishes)\s+(?:(?:a|an|the|our|this)\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:data-?sets?|data sets?|databases?|corpus|corpora|atlas|biobank|data descriptor|catalog(?:ue)?s?"
    r"|inventory|inventories|compilations?)\b",
    re.I,
)
# How a deposit describes itself, at the opening of its description.
_DESCRIBES_ITSELF = re.compile(
    r"\bth(?:is|ese)\s+(?:data-?sets?|data sets?|data collections?|databases?|data files?|files?|repository|deposit"
    r"|archive)\s+(?:contains?|includes?|comprises?|consists?\s+of|provides?|holds?|accompan(?:y|ies)|supplements?)\b",
    re.I,
)
DESCRIPTION_OPENING = 300
_MARKUP = re.compile(r"<[^>]+>")


class Signal(NamedTuple):
    """One signal that fired: its name (a key of WEIGHTS), the reason as the verdict gives it,
    its weight, and how many times it counts (the abstract's cue words count once each)."""

    name: str
    reason: str
    weight: float
    times: int = 1

    def __str__(self) -> str:
        weight = f"{self.weight:.2f}" if self.times == 1 else f"{self.times} x {self.weight:.2f}"
        return f"{self.reason} ({weight})"


@dataclass(frozen=True)
class Verdict:
    """The check's answer: passed is confidence ≥ PASS_AT (never for the types in
    NEVER_DATA_PAPERS); reasons say, in words, every signal that fired and every cue-like word
    that did not count; signals pair the weighted ones with their weights."""

    passed: bool
    confidence: float
    reasons: tuple[str, ...]
    # The weighted signals among the reasons, in the same order.
    signals: tuple[Signal, ...] = ()


def check_data_paper(
    *,
    type: str,
    venue: str,
    title: str,
    abstract: str,
    source_type: str = "",
    datacite_resource_type: str | None = None,
) -> Verdict:
    signals: list[Signal] = []
    reasons: list[str] = []

    def signal(name: str, reason: str, times: int = 1) -> None:
        signals.append(Signal(name, reason, WEIGHTS[name], times))
        reasons.append(reason)

    work_type = (type or "").strip().lower()
    if work_type == "dataset":
        signal("dataset type", "OpenAlex type is dataset")
    resource_type = (datacite_resource_type or "").strip().lower()
    if resource_type == "dataset":
        signal("DataCite Dataset", "DataCite resource type is Dataset")
    elif resource_type == "datapaper":
        signal("DataCite DataPaper", "DataCite resource type is DataPaper")
    venue_name = " ".join((venue or "").split())
    if _venue_key(venue_name) in DATA_JOURNALS:
        signal("data journal", f"published in the data journal {venue_name}")
    if (source_type or "").strip().lower() == "repository":
        if _DATA_REPOSITORY.search(venue_name):
            signal("data repository", f"held in {venue_name}, a repository of data only")
        elif _GENERAL_REPOSITORY.search(venue_name):
            signal("general repository", f"held in {venue_name}, a general-purpose repository")

    plain_title = " ".join(_MARKUP.sub("", title or "").split())
    rest_of_title = plain_title
    for name, pattern in _TITLE_ANNOUNCES:
        announced = pattern.search(plain_title)
        if announced:
            signal(name, f"{name}: '{announced.group().strip()}'")
            # The announcing words are not counted again as a cue.
            rest_of_title = plain_title[: announced.start()] + " " + plain_title[announced.end() :]
            break
    offered, used, notes = _title_cues(rest_of_title)
    if offered:
        signal("title cue", f"title mentions {_listed(offered)}")
    elif used:
        cues, phrase = used
        signal("title cue used", f"title mentions {_listed(cues)} only as data it uses: '{phrase}'")
    reasons.extend(notes)

    plain_abstract = " ".join(_MARKUP.sub(" ", abstract or "").split())
    introduction = _INTRODUCES_DATA.search(plain_abstract)
    self_description = _DESCRIBES_ITSELF.search(plain_abstract[:DESCRIPTION_OPENING])
    if introduction:
        signal("abstract introduces data", f"abstract introduces data: '{' '.join(introduction.group().split())}'")
    elif self_description:
        signal("abstract introduces data", f"abstract describes a deposit: '{self_description.group()}'")
    abstract_cues = _cues(plain_abstract)
    if abstract_cues:
        counted = min(len(abstract_cues), ABSTRACT_CUES_COUNTED)
        signal("abstract cue", f"abstract mentions {_listed(abstract_cues)}", counted)

    if work_type in NEVER_DATA_PAPERS:
        reasons.append(f"OpenAlex type is {work_type}, which never shares data itself")
        return Verdict(passed=False, confidence=0.0, reasons=tuple(reasons), signals=tuple(signals))
    if not signals:
        return Verdict(
            passed=False,
            confidence=0.0,
            reasons=("no data-paper signal in type, venue, title or abstract", *notes),
        )
    confidence = combine(signals)
    return Verdict(passed=confidence >= PASS_AT, confidence=confidence, reasons=tuple(reasons), signals=tuple(signals))


def combine(signals: list[Signal] | tuple[Signal, ...]) -> float:
    """The noisy OR of the signals' weights."""
    doubt = 1.0
    for item in signals:
        doubt *= (1.0 - item.weight) ** item.times
    return round(1.0 - doubt, 4)


def _cues(text: str) -> list[str]:
    """The distinct cues in the text, in order of first appearance (place names left out)."""
    found: dict[str, None] = {}
    for match in _CUE.finditer(text):
        cue = _cue_of(match)
        if _not_a_cue(cue, match, text) is None:
            found[cue] = None
    return list(found)


def _cue_of(match: re.Match[str]) -> str:
    """The cue a match of _CUE found. Every alternative of _CUE is a named group `c<n>`, so a
    match always has a last group."""
    group = match.lastgroup
    if group is None:
        raise ValueError(f"{match.group()!r} is not a match of _CUE")
    return CUES[int(group[1:])][0]


def _not_a_cue(cue: str, match: re.Match, text: str) -> str | None:
    """Why a matched cue word is no cue here (an "Atlas" that is a mountain range or the CERN
    experiment), or None."""
    if cue != "atlas":
        return None
    before, after = text[: match.start()], text[match.end() :]
    place = _ATLAS_PLACE_BEFORE.search(before)
    if place:
        return f"'{place.group()}{match.group()}' is a place name, not an atlas"
    landform = _ATLAS_PLACE_AFTER.match(after)
    if landform:
        return f"'{match.group()}{landform.group()}' is a place name, not an atlas"
    if match.group() == "ATLAS" and _ATLAS_EXPERIMENT_AFTER.match(after):
        return "'ATLAS' is the experiment at CERN, not an atlas"
    return None


def _title_cues(title: str) -> tuple[list[str], tuple[list[str], str] | None, list[str]]:
    """The title's cues that name what the work offers; those it only uses, with the phrase
    that says so; and notes on cue-like words that are no cue."""
    offered: dict[str, None] = {}
    used: dict[str, None] = {}
    phrase = ""
    notes: list[str] = []
    for match in _CUE.finditer(title):
        cue = _cue_of(match)
        why = _not_a_cue(cue, match, title)
        if why:
            notes.append(why)
            continue
        clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(title, 0, match.start())), default=0)
        use = _USES.search(title, clause_start, match.start())
        if use:
            used[cue] = None
            phrase = phrase or " ".join(title[use.start() : match.end()].split())
        else:
            offered[cue] = None
    if _BENCHMARK.search(title) and not offered:
        notes.append("'benchmark' alone is a computational benchmark, not a dataset")
    return list(offered), ((list(used), phrase) if used and not offered else None), notes


def _listed(cues: list[str]) -> str:
    quoted = [f"'{cue}'" for cue in cues]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
