"""Is this work a data-sharing paper? An explainable check over the metadata we hold.

Each signal that fires carries a weight, the probability we give it of marking a data paper
on its own; independent signals combine as a noisy OR, so

    confidence = 1 - Π (1 - weight)

and the check passes at confidence ≥ 0.5. The weights:

    OpenAlex type `dataset`                                   0.95
    DataCite resourceTypeGeneral `Dataset`                    0.95
    DataCite resourceTypeGeneral `DataPaper`                  0.90
    published in a data journal (exact venue name)            0.90
    a cue word in the title (dataset, database, atlas, …)     0.60
    the abstract introduces one ("we present a new dataset")  0.50
    each further cue word in the abstract (at most three)     0.15

So any one strong signal or a title cue passes alone; cue words scattered through an abstract
do not ("we evaluate on three benchmark datasets" is not a data paper), but they raise the
confidence of a title cue. Errata, retractions, editorials, peer reviews and paratext never pass
whatever they mention: a correction to a data paper shares no data. Every reason names what
matched, so an admin can see why and override.
"""

import re
from dataclasses import dataclass

PASS_AT = 0.5

DATA_JOURNALS = frozenset(
    name.casefold()
    for name in (
        "Scientific Data",
        "Data in Brief",
        "Earth System Science Data",
        "Earth System Science Data Discussions",
        "GigaScience",
        "GigaByte",
        "Database",
        "Database: The Journal of Biological Databases and Curation",
        "Geoscience Data Journal",
        "Biodiversity Data Journal",
        "Journal of Open Psychology Data",
        "Journal of Open Humanities Data",
        "Journal of Open Archaeology Data",
        "Open Health Data",
        "Data",
        "Chemical Data Collections",
        "Genomics Data",
        "Atomic Data and Nuclear Data Tables",
        "Journal of Physical and Chemical Reference Data",
    )
)

# Types whose works are about other works, never a data release themselves.
NEVER_DATA_PAPERS = frozenset({"erratum", "retraction", "editorial", "peer-review", "paratext"})

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
    ("benchmark", r"benchmarks?"),
    ("catalogue", r"catalog(?:ue)?s?"),
    ("inventory", r"inventory|inventories"),
    ("compilation", r"compilations?"),
)
# Whole words, where a hyphen also binds: the Anti-Atlas is a mountain range, not an atlas.
_CUE = re.compile(
    r"(?<![\w-])(?:" + "|".join(f"(?P<c{n}>{pattern})" for n, (_, pattern) in enumerate(CUES)) + r")(?![\w-])", re.I
)
_INTRODUCES_DATA = re.compile(
    r"\b(?:we|this (?:paper|article|study|work)|here we)\s+(?:present|presents|introduce|introduces|release|releases"
    r"|describe|describes|provide|provides|publish|publishes)\s+(?:(?:a|an|the|our|this)\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:data-?sets?|data sets?|databases?|corpus|corpora|atlas|biobank|benchmark|data descriptor)\b",
    re.I,
)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    confidence: float
    reasons: tuple[str, ...]


def check_data_paper(
    *, type: str, venue: str, title: str, abstract: str, datacite_resource_type: str | None = None
) -> Verdict:
    weights: list[float] = []
    reasons: list[str] = []

    def signal(weight: float, reason: str) -> None:
        weights.append(weight)
        reasons.append(reason)

    work_type = (type or "").strip().lower()
    if work_type == "dataset":
        signal(0.95, "OpenAlex type is dataset")
    resource_type = (datacite_resource_type or "").strip().lower()
    if resource_type == "dataset":
        signal(0.95, "DataCite resource type is Dataset")
    elif resource_type == "datapaper":
        signal(0.90, "DataCite resource type is DataPaper")
    if " ".join(venue.split()).casefold() in DATA_JOURNALS:
        signal(0.90, f"published in the data journal {venue.strip()}")
    title_cues = _cues(title)
    if title_cues:
        signal(0.60, f"title mentions {_listed(title_cues)}")
    introduction = _INTRODUCES_DATA.search(abstract or "")
    if introduction:
        signal(0.50, f"abstract introduces data: '{' '.join(introduction.group().split())}'")
    abstract_cues = _cues(abstract)
    if abstract_cues:
        reasons.append(f"abstract mentions {_listed(abstract_cues)}")
        weights.extend([0.15] * min(len(abstract_cues), 3))

    if work_type in NEVER_DATA_PAPERS:
        reasons.append(f"OpenAlex type is {work_type}, which never shares data itself")
        return Verdict(passed=False, confidence=0.0, reasons=tuple(reasons))
    if not reasons:
        return Verdict(
            passed=False, confidence=0.0, reasons=("no data-paper signal in type, venue, title or abstract",)
        )
    doubt = 1.0
    for weight in weights:
        doubt *= 1.0 - weight
    confidence = round(1.0 - doubt, 4)
    return Verdict(passed=confidence >= PASS_AT, confidence=confidence, reasons=tuple(reasons))


def _cues(text: str) -> list[str]:
    """The distinct cues in the text, in order of first appearance."""
    found: dict[str, None] = {}
    for match in _CUE.finditer(text or ""):
        found[CUES[int(match.lastgroup[1:])][0]] = None
    return list(found)


def _listed(cues: list[str]) -> str:
    quoted = [f"'{cue}'" for cue in cues]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
