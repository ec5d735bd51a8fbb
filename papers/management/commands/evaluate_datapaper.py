"""python manage.py evaluate_datapaper LABELS.jsonl FILE… [--held HELD.jsonl] [--min-f1 F --part tune|held|cv]

How well the data-paper check (papers/datapaper.py) agrees with hand labels. LABELS.jsonl is
the part of the labels the check is tuned on: one JSON object a line, `{"id": "W…", "label": 0|1,
…}` (`confidence` and `reason` are shown when present). FILE… hold the works' OpenAlex records,
in any shape `load_openalex` reads. The command reads the records of the labelled works, runs
the check on each and prints precision, recall, F1 and the counts, and every disagreement on
the tuning part with the verdict's signals and weights. `--held` names a part kept back for
measuring: its figures are printed, its disagreements never, so that nobody tunes on it.

Then the figures from 5-fold cross-validation of the tuning part, stratified by label and
seeded (fit on four folds, score the fifth), for two checks: the check as it stands, whose
weights are set by hand, so nothing is fitted and every fold is scored by the same check; and
logistic weights learned over the same signals, the alternative the hand-set weights must beat
to stay. `--min-f1 F --part held` (or tune, or cv: the check's cross-validated figure) makes
the exit status 1 when F1 there falls below F, for CI.

Nothing is written anywhere, the site's database least of all: records are read from the
files, never loaded.
"""

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from papers.datapaper import NEVER_DATA_PAPERS, WEIGHTS, Verdict, check_data_paper
from papers.openalex.files import BadRecord, WorkFile
from papers.openalex.records import WorkRecord, openalex_number

FOLDS = 5
CV_SEED = 20260201
SHOWN_ERRORS = 10


@dataclass(frozen=True)
class Label:
    id: str  # W…
    label: int
    confidence: str
    reason: str
    line: int


@dataclass
class Figures:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, *, predicted: bool, actual: int) -> None:
        if predicted:
            if actual:
                self.tp += 1
            else:
                self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def works(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


@dataclass
class Part:
    name: str
    path: Path
    labels: list[Label]
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    @property
    def positives(self) -> int:
        return sum(label.label for label in self.labels)


class Command(BaseCommand):
    # The model checks ask the database about generated columns; this command never opens it.
    requires_system_checks: list[str] = []
    help = (
        "Measure the data-paper check against hand labels: precision, recall and F1 on the tuning "
        "part (with its disagreements) and on a held part (figures only), and 5-fold "
        "cross-validation of the tuning part. Reads records from files; writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("labels", type=Path, metavar="LABELS.jsonl", help="the labels tuned on")
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="OpenAlex records of the works")
        parser.add_argument(
            "--held", type=Path, metavar="HELD.jsonl", help="labels kept back: figures only, no disagreements"
        )
        parser.add_argument(
            "--min-f1", type=float, metavar="F", help="exit with status 1 when F1 on --part falls below F"
        )
        parser.add_argument(
            "--part",
            action="append",
            choices=["tune", "held", "cv"],
            help="the part(s) --min-f1 applies to (default: held when given, else tune); may be repeated",
        )

    def handle(self, *args, labels: Path, files: list[Path], held: Path | None, min_f1, part, **options) -> None:
        if min_f1 is not None and not 0 <= min_f1 <= 1:
            raise CommandError(f"--min-f1 must be between 0 and 1, not {min_f1}")
        gated = part or (["held"] if held else ["tune"])
        if "held" in gated and held is None:
            raise CommandError("--part held needs --held HELD.jsonl")
        missing = [str(path) for path in (labels, held, *files) if path is not None and not path.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")

        parts = [Part("tuning", labels, read_labels(labels))]
        if held is not None:
            parts.append(Part("held", held, read_labels(held)))
            both = {label.id for label in parts[0].labels} & {label.id for label in parts[1].labels}
            if both:
                raise CommandError(
                    f"{len(both)} work(s) are labelled in both {labels} and {held}, e.g. {sorted(both)[0]}: "
                    "a held part must not overlap the part tuned on"
                )
        wanted = {label.id for p in parts for label in p.labels}
        records, read, bad = self.read_records(files, wanted)
        absent = sorted(wanted - records.keys(), key=lambda key: (len(key), key))
        if absent:
            shown = ", ".join(absent[:SHOWN_ERRORS]) + (" …" if len(absent) > SHOWN_ERRORS else "")
            raise CommandError(f"{len(absent)} labelled work(s) found in no file given: {shown}")

        for p in parts:
            p.verdicts = {label.id: check(records[label.id]) for label in p.labels}
        out = self.stdout
        for p in parts:
            out.write(f"{p.name} part: {p.path} — {len(p.labels)} works, {p.positives} data papers")
        out.write(f"Records read: {read} from {len(files)} file(s)" + (f", {bad} malformed skipped" if bad else ""))

        tuning = parts[0]
        self.show_disagreements(tuning, records)
        if held is not None:
            out.write("Disagreements on the held part are not shown: it is kept for measuring, never for tuning.")

        figures = {p.name: score(p) for p in parts}
        out.write("")
        out.write(table([(f"{name} part", figs) for name, figs in figures.items()]))
        hand_cv = self.show_cross_validation(tuning, records)

        if min_f1 is not None:
            if "cv" in gated and hand_cv is None:
                raise CommandError(f"--part cv needs at least {FOLDS} works of each label in the tuning part")
            measured = {
                "tune": figures["tuning"].f1,
                "held": figures.get("held", Figures()).f1,
                "cv": hand_cv.f1 if hand_cv else 0.0,
            }
            below = [f"{name} F1 {measured[name]:.3f}" for name in dict.fromkeys(gated) if measured[name] < min_f1]
            if below:
                raise CommandError(f"below --min-f1 {min_f1:.3f}: {', '.join(below)}")
            out.write(f"F1 at or above {min_f1:.3f} on: {', '.join(dict.fromkeys(gated))}.")

    def show_cross_validation(self, tuning: Part, records: dict[str, WorkRecord]) -> Figures | None:
        """Print the cross-validated figures; return the check's, or None when there are too few labels."""
        out = self.stdout
        out.write("")
        if min(tuning.positives, len(tuning.labels) - tuning.positives) < FOLDS:
            out.write(f"Too few labels for {FOLDS}-fold cross-validation: each label needs {FOLDS} works at least.")
            return None
        hand_cv, learned_cv, learned_weights = cross_validate(tuning, records)
        out.write(f"{FOLDS}-fold cross-validation of the tuning part (stratified by label, seed {CV_SEED}):")
        out.write(
            table(
                [
                    ("the check (hand-set weights: nothing fitted)", hand_cv),
                    ("logistic weights learned over its signals", learned_cv),
                ]
            )
        )
        if hand_cv.f1 >= learned_cv.f1:
            out.write(
                "The hand-set weights do as well or better in cross-validation: the check keeps its hand-set ones."
            )
        else:
            out.write(
                "The learned weights do better in cross-validation; consider committing them "
                "(fitted on the whole tuning part):"
            )
            out.write("  " + ", ".join(f"{name} {weight:+.2f}" for name, weight in learned_weights.items()))
        return hand_cv

    def read_records(self, files: list[Path], wanted: set[str]) -> tuple[dict[str, WorkRecord], int, int]:
        records: dict[str, WorkRecord] = {}
        read = bad = 0
        for path in files:
            for item in WorkFile(path):
                if isinstance(item, BadRecord):
                    bad += 1
                    self.stderr.write(str(item))
                    continue
                read += 1
                if item.openalex_id in wanted:
                    # The first file to hold a work wins, as in loading.
                    records.setdefault(item.openalex_id, item)
        return records, read, bad

    def show_disagreements(self, part: Part, records: dict[str, WorkRecord]) -> None:
        wrong = [label for label in part.labels if part.verdicts[label.id].passed != bool(label.label)]
        self.stdout.write("")
        self.stdout.write(f"Disagreements on the {part.name} part: {len(wrong)}")
        for label in wrong:
            verdict, record = part.verdicts[label.id], records[label.id]
            kind = "false positive" if verdict.passed else "false negative"
            self.stdout.write(
                f"- {label.id} {kind}, confidence {verdict.confidence:.3f}: {record.title[:140]!r} "
                f"[{record.type or 'no type'}; {record.venue or 'no venue'}"
                + (f", a {record.source_type}" if record.source_type else "")
                + "]"
            )
            label_says = f"labelled {label.label}" + (f" ({label.confidence})" if label.confidence else "")
            self.stdout.write(f"    {label_says}: {label.reason}" if label.reason else f"    {label_says}")
            signals = {signal.reason: str(signal) for signal in verdict.signals}
            for reason in verdict.reasons:
                self.stdout.write(f"    · {signals.get(reason, reason)}")


def check(record: WorkRecord) -> Verdict:
    return check_data_paper(
        type=record.type,
        venue=record.venue,
        title=record.title,
        abstract=record.abstract,
        source_type=record.source_type,
    )


def read_labels(path: Path) -> list[Label]:
    labels: list[Label] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise CommandError(f"{path}: not UTF-8 text ({error})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            label = _label(line, number)
        except ValueError as error:
            errors.append(f"{path}:{number}: {error}")
            continue
        if label.id in seen:
            errors.append(f"{path}:{number}: {label.id} is labelled twice (first on line {seen[label.id]})")
            continue
        seen[label.id] = number
        labels.append(label)
    if errors:
        shown = "\n".join(errors[:SHOWN_ERRORS]) + (
            f"\n… and {len(errors) - SHOWN_ERRORS} more" if len(errors) > SHOWN_ERRORS else ""
        )
        raise CommandError(f"bad labels file, {len(errors)} bad line(s):\n{shown}")
    if not labels:
        raise CommandError(f"{path}: no labels in it")
    return labels


def _label(line: str, number: int) -> Label:
    try:
        value = json.loads(line)
    except ValueError as error:
        raise ValueError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(f"each line must be a JSON object, not {type(value).__name__}")
    key = value.get("id")
    try:
        if not isinstance(key, str):
            raise ValueError(key)
        work = openalex_number(key, kind="W")
    except ValueError:
        raise ValueError(f'"id" must be an OpenAlex work id (W…), not {key!r}') from None
    label = value.get("label")
    if type(label) is not int or label not in (0, 1):
        raise ValueError(f'"label" must be 0 or 1, not {label!r}')
    confidence, reason = value.get("confidence") or "", value.get("reason") or ""
    if not isinstance(confidence, str) or not isinstance(reason, str):
        raise ValueError('"confidence" and "reason" must be text when given')
    return Label(id=f"W{work}", label=label, confidence=confidence, reason=reason, line=number)


def score(part: Part) -> Figures:
    figures = Figures()
    for label in part.labels:
        figures.add(predicted=part.verdicts[label.id].passed, actual=label.label)
    return figures


def table(rows: list[tuple[str, Figures]]) -> str:
    width = max(len(name) for name, _ in rows)
    lines = [f"{'':<{width}}  works   tp   fp   fn    tn  precision  recall     F1"]
    for name, f in rows:
        lines.append(
            f"{name:<{width}}  {f.works:>5} {f.tp:>4} {f.fp:>4} {f.fn:>4} {f.tn:>5}"
            f"  {f.precision:>9.3f}  {f.recall:>6.3f}  {f.f1:>5.3f}"
        )
    return "\n".join(lines)


# Cross-validation


def stratified_folds(labels: list[Label], folds: int = FOLDS, seed: int = CV_SEED) -> dict[str, int]:
    """Each work's fold: within each label, works in id order are shuffled by one seeded
    random.Random and dealt out in turn, so every fold holds its share of data papers."""
    rng = random.Random(seed)
    fold_of: dict[str, int] = {}
    for value in (0, 1):
        ids = sorted((label.id for label in labels if label.label == value), key=lambda key: (len(key), key))
        rng.shuffle(ids)
        for index, work in enumerate(ids):
            fold_of[work] = index % folds
    return fold_of


SIGNAL_NAMES = list(WEIGHTS)


def features(verdict: Verdict) -> list[float]:
    """The signals that fired, one column each (the abstract's cue words: how many counted)."""
    row = [0.0] * len(SIGNAL_NAMES)
    for signal in verdict.signals:
        row[SIGNAL_NAMES.index(signal.name)] = float(signal.times)
    return row


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-3, steps: int = 5000) -> np.ndarray:
    """Weights (one per signal, then an intercept) by gradient descent on the L2-penalised log loss."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros(xb.shape[1])
    for _ in range(steps):
        predicted = 1.0 / (1.0 + np.exp(-(xb @ weights)))
        gradient = xb.T @ (predicted - y) / len(y) + l2 * np.r_[weights[:-1], 0.0]
        weights -= 0.5 * gradient
    return weights


def cross_validate(part: Part, records: dict[str, WorkRecord]) -> tuple[Figures, Figures, dict[str, float]]:
    fold_of = stratified_folds(part.labels)
    x = np.array([features(part.verdicts[label.id]) for label in part.labels])
    y = np.array([label.label for label in part.labels], dtype=float)
    never = np.array([records[label.id].type.strip().lower() in NEVER_DATA_PAPERS for label in part.labels])
    folds = np.array([fold_of[label.id] for label in part.labels])
    hand, learned = Figures(), Figures()
    for fold in range(FOLDS):
        train, test = folds != fold, folds == fold
        weights = fit_logistic(x[train], y[train])
        scores = np.hstack([x, np.ones((len(x), 1))]) @ weights
        for index in np.flatnonzero(test):
            label = part.labels[index]
            # The hand-set check has nothing to fit: each fold is scored by the check as it stands.
            hand.add(predicted=part.verdicts[label.id].passed, actual=label.label)
            learned.add(predicted=bool(scores[index] > 0) and not never[index], actual=label.label)
    final = fit_logistic(x, y)
    return hand, learned, dict(zip([*SIGNAL_NAMES, "intercept"], final.tolist(), strict=True))
