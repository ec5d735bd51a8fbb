"""FAIR for a paper: the checklist signals and the calibrated score, as the paper page shows them."""

from papers.models import Work


def fair_for_page(work: Work) -> dict:
    """The context the paper page's FAIR sections need."""
    return {"fair_signals": list(work.fair_signals.all())}
