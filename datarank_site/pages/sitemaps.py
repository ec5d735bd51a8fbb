"""sitemap.xml: the site's fixed pages, and the papers, researchers and institutions the current
run scored (citers have no page; a researcher or institution has one when it has a corpus
paper). Each list is split into files of at most 50,000 URLs where the run's figures say — the
first id of each file, kept when the run was published (scoring.summary) — and a file is read
off the run's (run, id) index as an id range: no request counts the rows, or skips through them
with OFFSET."""

from django.contrib.sitemaps import Sitemap
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import cached_property

from scoring.models import InstitutionScore, PaperScore, ResearcherScore, ScoringRun
from scoring.summary import SITEMAP_LIMIT


class PagesSitemap(Sitemap):
    def items(self) -> list[str]:
        return [reverse(name) for name in ("home", "ranking", "researchers", "institutions", "methodology")]

    def location(self, item: str) -> str:
        return item


class StartsPaginator(Paginator):
    """Pages of an id-ordered list, page n holding the ids from starts[n-1] up to starts[n]."""

    def __init__(self, ids: QuerySet, per_page: int, *, starts: list[int], key: str) -> None:
        super().__init__(ids, per_page)
        self.ids, self.starts, self.key = ids, starts, key

    @cached_property
    def num_pages(self) -> int:
        return len(self.starts)

    def page(self, number) -> Page:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if not 1 <= number <= self.num_pages:
            raise EmptyPage("That page contains no results")
        ids = self.ids.filter(**{f"{self.key}__gte": self.starts[number - 1]})
        if number < self.num_pages:
            ids = ids.filter(**{f"{self.key}__lt": self.starts[number]})
        return Page(ids, number, self)


class RunSitemap(Sitemap):
    """The ids of one kind of row the current run holds, one file per stored start."""

    limit = SITEMAP_LIMIT
    model: type[PaperScore | ResearcherScore | InstitutionScore]
    key: str
    kind: str  # its name in the run's figures["sitemap_starts"]
    url_name: str
    prefix: str

    @cached_property
    def paginator(self) -> StartsPaginator:
        run = ScoringRun.objects.current()
        starts = run.figures.get("sitemap_starts", {}).get(self.kind, []) if run else []
        ids = self.model.objects.filter(run_id=run.pk if run else None).order_by(self.key)
        return StartsPaginator(ids.values_list(self.key, flat=True), self.limit, starts=starts, key=self.key)

    def location(self, item: int) -> str:
        return reverse(self.url_name, kwargs={"key": f"{self.prefix}{item}"})


class PapersSitemap(RunSitemap):
    model, key, kind, url_name, prefix = PaperScore, "work_id", "papers", "paper", "W"


class ResearchersSitemap(RunSitemap):
    model, key, kind, url_name, prefix = ResearcherScore, "author_id", "researchers", "researcher", "A"


class InstitutionsSitemap(RunSitemap):
    model, key, kind, url_name, prefix = InstitutionScore, "institution_id", "institutions", "institution", "I"


SITEMAPS = {
    "pages": PagesSitemap,
    "papers": PapersSitemap,
    "researchers": ResearchersSitemap,
    "institutions": InstitutionsSitemap,
}
