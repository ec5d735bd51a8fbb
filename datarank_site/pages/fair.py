"""What the pages show of FAIR: the checklist grouped by principle, the latest evaluation with
its calibrated score, and the FAIR page's checks, chart and history."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from papers.facts import UNCHECKED_PREFIX, UNCHECKED_SEPARATOR
from papers.models import FairSignal, Work
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
    def decided(self) -> int:
        return sum(getattr(item, "status", None) in ("yes", "no") for item in self.items)

    @property
    def label(self) -> str:
        """Items that do not apply count for nothing ("Interoperable (1/1)" beside one that does
        not), and those not checked yet are said apart, never counted as failed."""
        unchecked = sum(getattr(item, "status", None) == "unknown" for item in self.items)
        waiting = f"{unchecked} not checked yet" if unchecked else ""
        if not self.decided:
            return f"{self.name} ({waiting or 'does not apply'})"
        return f"{self.name} ({self.passed}/{self.decided}{', ' + waiting if waiting else ''})"


def group_checklist(items_by_key: Mapping[str, object]) -> list[Group]:
    """The checklist items (anything with a `status`) grouped by principle, in display order;
    keys without an item are left out."""
    groups = []
    for principle, keys in CHECKLIST_GROUPS:
        group = Group(principle, PRINCIPLE_NAMES[principle], [items_by_key[key] for key in keys if key in items_by_key])
        groups.append(group)
    return groups


NEVER_CHECKED = UNCHECKED_PREFIX + "this paper has not been evaluated yet"


def unchecked_reasons(signals: Iterable[object]) -> list[str]:
    """Why the items not checked yet are not, each reason once, in checklist order. A source
    that has not answered holds up every item it feeds with the same words: the page says them
    once, above the list, and each such item just "not checked yet". Every signal gets
    `shown_evidence`, its evidence less the reasons said above."""
    reasons: list[str] = []
    for signal in signals:
        evidence = getattr(signal, "evidence", "")
        # A display attribute the template reads, set on whatever item it is given.
        setattr(signal, "shown_evidence", evidence)  # noqa: B010
        if getattr(signal, "status", None) != "unknown" or not evidence.startswith(UNCHECKED_PREFIX):
            continue
        setattr(signal, "shown_evidence", "")  # noqa: B010
        for reason in evidence.removeprefix(UNCHECKED_PREFIX).split(UNCHECKED_SEPARATOR):
            if reason.strip() and reason.strip() not in reasons:
                reasons.append(reason.strip())
    return reasons


def fair_for_page(work: Work) -> dict:
    """The context the paper page's FAIR sections need, in three queries whatever the paper:
    the checklist grouped by principle, the latest evaluation and its calibrated score."""
    held = {signal.key: signal for signal in work.fair_signals.all()}
    # Every item is always shown: one the paper was never checked for says so.
    signals = {
        key: held.get(key) or FairSignal(key=key, status=FairSignal.Status.UNKNOWN, evidence=NEVER_CHECKED)
        for key in FairSignal.Key.values
    }
    evaluation = FairEvaluation.objects.filter(work=work, is_latest=True).first()
    score, evaluated_papers = (None, 0)
    if evaluation is not None and evaluation.method_version == metrics.METHOD_VERSION:
        score, evaluated_papers = calibrated(evaluation.raw)
    groups = group_checklist(signals)
    reasons = unchecked_reasons(item for group in groups for item in group.items)
    pending = [check for check in evaluation.checks if check.get("pending")] if evaluation else []
    return {
        "fair_groups": groups,
        "fair_checked": bool(held),
        "fair_unchecked": sum(getattr(item, "status", None) == "unknown" for group in groups for item in group.items),
        "fair_unchecked_reasons": reasons,
        "fair_evaluation": evaluation,
        # A provisional score's checks still to make, and why — each reason said once on a page,
        # so those the checklist gives already are not repeated.
        "fair_pending": pending,
        "fair_pending_reasons": [
            reason for reason in dict.fromkeys(check["pending"] for check in pending) if reason not in reasons
        ],
        "fair_method_version": metrics.METHOD_VERSION,
        "fair_calibrated": score,
        "fair_evaluated_papers": evaluated_papers,
    }


def fair_page(*, work: Work) -> dict:
    """What /papers/W…/fair/ shows: fair_for_page's context plus the checks grouped by principle
    (each with how many apply and pass, and the bar the chart draws) and the history of
    evaluations (one more query)."""
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
    return context
