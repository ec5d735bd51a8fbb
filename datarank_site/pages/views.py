"""The public pages: home (the ranking's top), title search, the paper page and DOI links."""

import csv
from pathlib import Path

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F, Max, Q
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from datarank_site.pages import badges
from datarank_site.pages.embeds import EMBED_CSP, embed_context
from datarank_site.pages.errors import NotFound
from datarank_site.pages.facets import search_facets
from datarank_site.pages.fair import fair_page
from datarank_site.pages.forms import RankingForm, SearchForm, Sort, ranked_subfields
from datarank_site.pages.http import HtmxHttpRequest
from datarank_site.pages.methodology import methodology_figures
from datarank_site.pages.page_cache import CITER_TABLE_PARAMETERS, cached_page
from datarank_site.pages.pagination import UncountedPage
from datarank_site.pages.paper import CITER_COLUMNS, MAX_WORK_ID, PaperPage, citer_data, find_paper
from datarank_site.pages.researchers import matching_researchers
from datarank_site.pages.results import result_items
from papers.models import SearchEntry, Work, WorkQuerySet
from papers.openalex.records import normalize_doi, openalex_number
from papers.search import MAX_QUERY_WORDS, Match, first_matches, interpret
from scoring.dumps import CONTENT_TYPES, MANIFEST, list_dumps, open_served_file
from scoring.models import PaperScore, ScoredWork, ScoredWorkQuerySet, ScoringRun

HOME_PAPERS = 50
SEARCH_PAGE_SIZE = 25
# A search matching more papers than this says "more than 1,000" rather than count them all.
SEARCH_COUNT_CAP = 1_000
RANKING_PAGE_SIZE = 50
# Work fields no list of papers shows.
LONG_FIELDS = ("abstract", "indexed_in", "topics", "repository_locations")


def home(request: HttpRequest) -> HttpResponse:
    run = ScoringRun.objects.current()
    papers = ScoredWork.objects.in_corpus().ranked(run.id)[:HOME_PAPERS] if run else []
    not_ranked = run.papers_scored - run.papers_ranked if run else 0
    return render(request, "pages/home.html", {"run": run, "papers": papers, "not_ranked": not_ranked})


@vary_on_headers("HX-Request")
def search(request: HtmxHttpRequest) -> HttpResponse:
    """Results as you type: an htmx request gets only the results partial, so the same URL
    serves both and `Vary` keeps caches from handing one the other's answer."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        heading, message = "That search cannot be run", form.first_error()
        if request.htmx:
            # base.html has htmx swap 400s in, so the visitor reads why where the results were.
            return render(request, results_partial(request), {"form": form, "error": message}, status=400)
        return render(request, "400.html", {"heading": heading, "message": message}, status=400)
    query = form.cleaned_data["q"]
    if not query:
        return search_response(request, form, {"query": "", "page": None})

    lookup = identifier_lookup(query)
    if lookup is not None:
        key = Work.objects.in_corpus().filter(lookup).values_list("id", flat=True).first()
        if key is not None:
            url = reverse("paper", kwargs={"key": f"W{key}"})
            # A plain redirect would be followed by htmx and swapped in as a fragment.
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

    run = ScoringRun.objects.current()
    plan = interpret(query)
    entries = SearchEntry.objects.narrowed(**form.filters())
    # One past the cap tells "more than 1,000"; the facets count what is shown of them.
    matches = first_matches(plan, entries, limit=SEARCH_COUNT_CAP + 1, placed=run.papers_scored if run else 0)
    shown = matches[:SEARCH_COUNT_CAP]
    # Numbered over the ids; the page's items are made from its ids.
    paginator: Paginator[int] = Paginator(ordered_ids(shown, form.cleaned_data["sort"], run), SEARCH_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "query": query,
        "plan": plan,
        "page": page,
        "items": result_items(list(page.object_list), run),
        "capped": len(matches) > SEARCH_COUNT_CAP,
        "cap": SEARCH_COUNT_CAP,
        "facets": search_facets(form, shown, run, cap=SEARCH_COUNT_CAP),
        "run": run,
        "unknown_identifier": lookup is not None,
        # Above the first page of papers only: the names do not change with the page.
        "researchers": matching_researchers(plan, run, [m.work_id for m in shown]) if page.number == 1 else [],
        "max_query_words": MAX_QUERY_WORDS,
    }
    return search_response(request, form, context, page_number=page.number)


def ordered_ids(matches: list[Match], sort: str, run: ScoringRun | None) -> list[int]:
    """The matches' ids in the order asked: as found for relevance (buckets, then the run's
    order); otherwise the same matches sorted by the database, as order_results sorts any list."""
    ids = [match.work_id for match in matches]
    if sort == Sort.RELEVANCE or not ids:
        return ids
    works = ScoredWork.objects.filter(id__in=ids).with_score(run.id if run else None)
    return list(order_results(works, sort).values_list("id", flat=True))


def results_partial(request: HtmxHttpRequest) -> str:
    """The search box in the header swaps results into <main>, which needs the results'
    region around them; the search page's own controls, and the home page's box (which must
    outlive the swap, or it loses focus and the keys typed next), swap into that region; a
    facet's link swaps the search page's form and results together, so the form keeps the
    filter it chose."""
    partials = {"search-results": "results", "search-page": "search-page"}
    return f"pages/search.html#{partials.get(request.htmx.target or '', 'results-region')}"


def search_response(request: HtmxHttpRequest, form: SearchForm, context: dict, *, page_number: int = 1) -> HttpResponse:
    # Links and the address bar carry what was asked, not every empty field the form sent.
    search_query = form.query_string()
    context = {"form": form, "search_query": search_query, **context}
    if not request.htmx:
        return render(request, "pages/search.html", context)
    response = render(request, results_partial(request), context)
    query_string = search_query + (f"&page={page_number}" if page_number > 1 else "")
    response["HX-Push-Url"] = reverse("search") + (f"?{query_string}" if query_string else "")
    return response


@vary_on_headers("HX-Request")
def ranking(request: HtmxHttpRequest) -> HttpResponse:
    """The ranked papers in DataRank order, a page at a time, straight off the (run, rank) index;
    narrowed, if asked, to a tier, a subfield and a span of publication years."""
    run = ScoringRun.objects.current()
    form = RankingForm(request.GET, subfields=ranked_subfields(run) if run else ())
    if not form.is_valid():
        heading, message = "That ranking cannot be shown", form.first_error()
        if request.htmx:
            # base.html has htmx swap 400s in: the reason takes the place of the list, and the
            # address bar keeps the last list that could be shown.
            response = render(request, "pages/ranking.html#ranking-results", {"error": message}, status=400)
            response["HX-Push-Url"] = "false"
            return response
        return render(request, "400.html", {"heading": heading, "message": message}, status=400)
    filters = form.cleaned_data
    page = None
    if run:
        works = ScoredWork.objects.in_corpus().ranked(run.id)
        if filters["tier"] is not None:
            works = works.in_tier(filters["tier"])
        if filters["subfield"] is not None:
            works = works.filter(subfield_id=filters["subfield"])
        works = filter_years(works, filters["year_from"], filters["year_to"])
        # Past the last page there is nothing to show; clamping also keeps OFFSET within range.
        last_page = max(1, -(-run.papers_ranked // RANKING_PAGE_SIZE))
        number = min(page_number(request.GET.get("page")), last_page)
        narrowed = filters["subfield"] is not None or filters["year_from"] is not None or filters["year_to"] is not None
        if narrowed:
            page = UncountedPage(works, number=number, per_page=RANKING_PAGE_SIZE)
        else:
            page = seek_ranking(works, run, tier=filters["tier"], number=number)
    context = {
        "form": form,
        "run": run,
        "not_ranked": run.papers_scored - run.papers_ranked if run else 0,
        "page": page,
        "tier": filters["tier"],
        # Links carry every filter, and the address bar only what was chosen.
        "previous_url": form.url(page=page.number - 1) if page and page.has_previous else "",
        "next_url": form.url(page=page.number + 1) if page and page.has_next else "",
    }
    if not request.htmx:
        return render(request, "pages/ranking.html", context)
    response = render(request, "pages/ranking.html#ranking-results", context)
    response["HX-Push-Url"] = form.url(page=page.number if page else 1)
    return response


def seek_ranking(works: ScoredWorkQuerySet, run: ScoringRun, *, tier: int | None, number: int) -> UncountedPage:
    """A page of the whole ranking or of one tier, which start at known places in the run's
    order (a tier's is kept on the run): the page's first rank is found off the (run, rank)
    index, and only the papers tied with it before the page are skipped, not every paper above
    it, which at a million papers an OFFSET would read."""
    start = run.figures.get("tier_starts", [None] * 5)[tier - 1] if tier else 1
    place = (start or 1) + (number - 1) * RANKING_PAGE_SIZE
    # The rank of the paper at that place: ties share the rank of their first place.
    first = PaperScore.objects.filter(run=run, rank__lte=place).aggregate(rank=Max("rank"))["rank"]
    if start is None or first is None:
        return UncountedPage(works, number=number, per_page=RANKING_PAGE_SIZE)
    return UncountedPage(works.from_rank(first), number=number, per_page=RANKING_PAGE_SIZE, skip=place - first)


def page_number(raw: str | None) -> int:
    """A page number from the URL; anything that is not one means the first page."""
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawlers may read every paper page; search results and the admin are not for indexing."""
    sitemap = request.build_absolute_uri(reverse("sitemaps"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /search/", "Allow: /", "", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def identifier_lookup(text: str) -> Q | None:
    """The filter for the one work a DOI or an OpenAlex work id names, or None when the text
    is neither and so is a title search."""
    try:
        return Q(doi=normalize_doi(text))
    except ValueError:
        pass
    try:
        number = openalex_number(text, kind="W")
    except ValueError:
        return None
    # A number past 64 bits cannot be one of ours, and would overflow the database's integer.
    return Q(id=number) if number <= MAX_WORK_ID else Q(pk__in=[])


def filter_years[Works: WorkQuerySet](works: Works, start: int | None, end: int | None) -> Works:
    if start is not None:
        works = works.filter(publication_year__gte=start)
    if end is not None:
        works = works.filter(publication_year__lte=end)
    return works


def order_results(works: ScoredWorkQuerySet, sort: str) -> ScoredWorkQuerySet:
    """Every order ends on the id so that pages never repeat or skip a paper. The works carry
    their score (`with_score`), which gives them the `rank` ordered by."""
    by_rank = F("rank").asc(nulls_last=True)
    if sort == Sort.DATARANK:
        return works.order_by(by_rank, "id")
    if sort == Sort.CITATIONS:
        return works.order_by("-cited_by_count", by_rank, "id")
    if sort == Sort.YEAR:
        return works.order_by(F("publication_year").desc(nulls_last=True), by_rank, "id")
    return works.order_by(F("relevance").desc(), by_rank, "id")


def doi(request: HttpRequest, doi: str) -> HttpResponse:
    """`/doi/10.…` is a stable link to a paper for anyone who knows only its DOI."""
    try:
        bare = normalize_doi(doi)
    except ValueError:
        raise NotFound(f"“{doi}” is not a DOI: a DOI looks like 10.1234/abc.") from None
    key = Work.objects.in_corpus().filter(doi=bare).values_list("id", flat=True).first()
    if key is None:
        raise NotFound(f"We hold no corpus paper with the DOI {bare}.")
    return redirect("paper", key=f"W{key}")


@vary_on_headers("HX-Request")
@cached_page(view_name="paper", parameters=CITER_TABLE_PARAMETERS)
def paper(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """The paper page; an htmx request (sorting or paging the citer table) gets the table alone."""
    page = PaperPage.build(key, view="paper")
    if request.htmx:
        return render(request, "pages/paper.html#citer-table", page.table_context(request.GET))
    return render(request, "pages/paper.html", page.context(request.GET))


def paper_citers_csv(request: HttpRequest, key: str) -> HttpResponse:
    """The kept citers in cap order: `contribution` adds up to the network contribution."""
    page = PaperPage.build(key, view="paper_citers_csv")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{page.work.openalex_id}-citers.csv"'
    # A float's str() is its shortest exact form, so the CSV keeps full precision.
    writer = csv.DictWriter(response, fieldnames=CITER_COLUMNS)
    writer.writeheader()
    writer.writerows(citer_data(row) for row in page.citers.kept)
    return response


def paper_data(request: HttpRequest, key: str) -> HttpResponse:
    """Everything the paper page shows, as JSON."""
    page = PaperPage.build(key, view="paper_data")
    url = request.build_absolute_uri(reverse("paper", kwargs={"key": page.work.openalex_id}))
    response = JsonResponse(page.data(url=url), json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'inline; filename="{page.work.openalex_id}.json"'
    return response


# --- FAIR ---


@cached_page(view_name="paper_fair")
def paper_fair(request: HttpRequest, key: str) -> HttpResponse:
    """A paper's full FAIR evaluation: sub-scores, every check with its evidence and fix, history."""
    work, _ = find_paper(key, view="paper_fair")
    return render(request, "pages/fair.html", {"work": work, **fair_page(work=work)})


def methodology(request: HttpRequest) -> HttpResponse:
    """How DataRank and the FAIR score are made, with figures from the live corpus."""
    return render(request, "pages/methodology.html", methodology_figures())


# --- Badges, the embed card and bulk downloads ---


def badge_svg(request: HttpRequest, key: str) -> HttpResponse:
    """`/badges/W….svg`: the paper's DataRank as an SVG badge (`?fair=1` adds its FAIR score)."""
    figures = badges.figures_for_key(key, view="badge_svg", fair=badges.wants_fair(request))
    return badges.badge_response(request, figures, kind="svg")


def badge_json(request: HttpRequest, key: str) -> HttpResponse:
    """`/badges/W….json`: the same as a shields.io endpoint."""
    figures = badges.figures_for_key(key, view="badge_json", fair=badges.wants_fair(request))
    return badges.badge_response(request, figures, kind="json")


def doi_badge(request: HttpRequest, doi: str, kind: str) -> HttpResponse:
    """`/badges/doi/10.….svg` and `.json`: the badge of the corpus paper with that DOI."""
    return badges.badge_response(request, badges.figures_for_doi(doi, fair=badges.wants_fair(request)), kind=kind)


@xframe_options_exempt
@csp_override(EMBED_CSP)
@cached_page(view_name="embed")
def embed(request: HttpRequest, key: str) -> HttpResponse:
    """The card other sites frame: the one page that may be framed, by anyone."""
    try:
        work, run = find_paper(key, view="embed")
    except NotFound as missing:
        # Said inside the frame, where the embedding page shows it, with the status a page has.
        return render(request, "pages/embed.html", {"missing": missing.message}, status=404)
    return render(request, "pages/embed.html", embed_context(request, work, run))


def downloads(request: HttpRequest) -> HttpResponse:
    """The bulk dumps of the newest runs, read from their manifests (no database query)."""
    return render(request, "pages/downloads.html", {"dumps": list_dumps(), "keep": settings.DATARANK_DUMPS_KEEP})


def download_file(request: HttpRequest, folder: str, name: str) -> FileResponse:
    """One file of a dump, streamed with its Content-Length (in production the proxy serves
    the folder itself: README)."""
    file = open_served_file(folder, name)
    if file is None:
        raise NotFound(f"There is no download {folder}/{name}: the newest runs' dumps are listed on /downloads/.")
    return FileResponse(
        file, as_attachment=name != MANIFEST, filename=name, content_type=CONTENT_TYPES[Path(name).suffix]
    )
