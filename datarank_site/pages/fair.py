"""What the pages show of FAIR: the checklist grouped by principle, the latest evaluation with
its calibrated score, and the FAIR page's checks, chart and history."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from papers.models import Work
from scoring.fair import metrics
from scoring.fair.calibration import calibrated
from scoring.fair.metrics import PRINCIPLE_NAMES, Principle
from scoring.models import FairEvaluation

CHECKLIST_GROUPS: tuple[tuple[Principle, tuple[str, ...]], ...] = (
    ("F", ("has_doi", "indexed_in_repositories")),
    ("A", ("open_access",)),
    ("I", ("datacite_relations", "linked_datasets")),
    ("R", ("dataset_classification",)),
)


@dataclass
class Group:
    """A checklist principle with its items, for display: "Findable (1/2)"."""

    principle: Principle
    name: str
    items: list = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(getattr(item, "status", None) == "yes" for item in self.items)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.passed}/{len(self.items)})"


def group_checklist(items_by_key: dict[str, object]) -> list[Group]:
    """The checklist items (anything with a `status`) grouped by principle, in display order;
    keys without an item are left out."""
    groups = []
    for principle, keys in CHECKLIST_GROUPS:
        group = Group(principle, PRINCIPLE_NAMES[principle], [items_by_key[key] for key in keys if key in items_by_key])
        groups.append(group)
    return groups


# How papers.facts words a checklist item whose source could not be reached: the prefix, then
# each source's error, joined by "; ".
UNCHECKED_PREFIX = "could not check: "
UNCHECKED_SEPARATOR = "; "


def unchecked_reasons(signals: Iterable[object]) -> list[str]:
    """Why the items that could not be checked were not, each reason once, in checklist order.
    A source that is down fails every item it feeds with the same words: the page says them
    once, above the list, and each such item just "could not check". Every signal gets
    `shown_evidence`, its evidence less the reasons said above."""
    reasons: list[str] = []
    for signal in signals:
        evidence = getattr(signal, "evidence", "")
        signal.shown_evidence = evidence
        if getattr(signal, "status", None) != "unknown" or not evidence.startswith(UNCHECKED_PREFIX):
            continue
        signal.shown_evidence = ""
        for reason in evidence.removeprefix(UNCHECKED_PREFIX).split(UNCHECKED_SEPARATOR):
            if reason.strip() and reason.strip() not in reasons:
                reasons.append(reason.strip())
    return reasons


def fair_for_page(work: Work) -> dict:
    """The context the paper page's FAIR sections need, in three queries whatever the paper:
    the checklist grouped by principle, the latest evaluation and its calibrated score."""
    signals = {signal.key: signal for signal in work.fair_signals.all()}
    evaluation = FairEvaluation.objects.filter(work=work, is_latest=True).first()
    score, evaluated_papers = (None, 0)
    if evaluation is not None and evaluation.method_version == metrics.METHOD_VERSION:
        score, evaluated_papers = calibrated(evaluation.raw)
    if evaluation is not None:
        # Read-time, never stored: templates ask the evaluation for it.
        evaluation.calibrated = score
    groups = group_checklist(signals)
    return {
        "fair_groups": groups,
        "fair_checked": bool(signals),
        "fair_unchecked": sum(getattr(item, "status", None) == "unknown" for group in groups for item in group.items),
        "fair_unchecked_reasons": unchecked_reasons(item for group in groups for item in group.items),
        "fair_evaluation": evaluation,
        "fair_calibrated": score,
        "fair_evaluated_papers": evaluated_papers,
    }


def fair_page(*, work: Work) -> dict:
    """What /papers/W…/fair/ shows: fair_for_page's context plus the checks grouped by principle,
    the chart's data and the history of evaluations (one more query)."""
    context = fair_for_page(work)
    evaluation = context["fair_evaluation"]
    checks = evaluation.checks if evaluation else []
    context["fair_history"] = list(FairEvaluation.objects.filter(work=work))
    context["fair_principles"] = [
        {
            "code": principle,
            "name": metrics.PRINCIPLE_NAMES[principle],
            "score": getattr(evaluation, principle.lower()) if evaluation else None,
            "checks": [check for check in checks if check["principle"] == principle],
        }
        for principle in metrics.PRINCIPLES
    ]
    context["fair_chart"] = (
        {
            "principles": [metrics.PRINCIPLE_NAMES[principle] for principle in metrics.PRINCIPLES],
            "scores": [getattr(evaluation, principle.lower()) for principle in metrics.PRINCIPLES],
        }
        if evaluation
        else None
    )
    context["fair_method_version"] = metrics.METHOD_VERSION
    return context
