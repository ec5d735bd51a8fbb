"""sitemap.xml: the site's fixed pages and every corpus paper (never the citers, which have no
page). Django's sitemap index splits the papers into files of at most 50,000 URLs."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from papers.models import Work


class PagesSitemap(Sitemap):
    def items(self) -> list[str]:
        return [reverse("home"), reverse("ranking"), reverse("methodology")]

    def location(self, item: str) -> str:
        return item


class PapersSitemap(Sitemap):
    limit = 50_000

    def items(self):
        # Ids only, in id order: pages of the sitemap are stable and read one index.
        return Work.objects.in_corpus().order_by("id").values_list("id", flat=True)

    def location(self, item: int) -> str:
        return reverse("paper", kwargs={"key": f"W{item}"})


SITEMAPS = {"pages": PagesSitemap, "papers": PapersSitemap}
