"""sitemap.xml: the site's fixed pages, every corpus paper (never the citers, which have no
page), and the researchers and institutions the current run scored (those with a corpus paper,
which alone have a page). Django's sitemap index splits each into files of at most 50,000 URLs."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from papers.models import Work
from scoring.models import InstitutionScore, ResearcherScore, ScoringRun


class PagesSitemap(Sitemap):
    def items(self) -> list[str]:
        return [reverse(name) for name in ("home", "ranking", "researchers", "institutions", "methodology")]

    def location(self, item: str) -> str:
        return item


class PapersSitemap(Sitemap):
    limit = 50_000

    def items(self):
        # Ids only, in id order: pages of the sitemap are stable and read one index.
        return Work.objects.in_corpus().order_by("id").values_list("id", flat=True)

    def location(self, item: int) -> str:
        return reverse("paper", kwargs={"key": f"W{item}"})


class ResearchersSitemap(Sitemap):
    limit = 50_000

    def items(self):
        # Ids only, off the run's unique (run, author) index: no author table is read.
        run = ScoringRun.objects.current()
        scores = ResearcherScore.objects.filter(run_id=run.id if run else None)
        return scores.order_by("author_id").values_list("author_id", flat=True)

    def location(self, item: int) -> str:
        return reverse("researcher", kwargs={"key": f"A{item}"})


class InstitutionsSitemap(Sitemap):
    limit = 50_000

    def items(self):
        run = ScoringRun.objects.current()
        scores = InstitutionScore.objects.filter(run_id=run.id if run else None)
        return scores.order_by("institution_id").values_list("institution_id", flat=True)

    def location(self, item: int) -> str:
        return reverse("institution", kwargs={"key": f"I{item}"})


SITEMAPS = {
    "pages": PagesSitemap,
    "papers": PapersSitemap,
    "researchers": ResearchersSitemap,
    "institutions": InstitutionsSitemap,
}
