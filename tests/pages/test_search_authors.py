"""Search reads authors' names and venues as well as titles (issue 16): the same cases on
PostgreSQL and SQLite, typos corrected against their words too."""

import pytest
from django.db.models import F

from papers.models import Author, Authorship, Work
from papers.search import index_for_search, interpret
from tests.factories import make_work, text

pytestmark = pytest.mark.django_db

IMAGENET, ESSD, SOCHER_TITLE = 1, 2, 3
IMAGENET_AUTHORS = ["Jia Deng", "Wei Dong", "Richard Socher", "Li-Jia Li", "Kai Li", "Li Fei-Fei"]


def with_authors(work: Work, names: list[str], first_id: int) -> None:
    for position, name in enumerate(names):
        author, _ = Author.objects.get_or_create(id=first_id + position, defaults={"display_name": name})
        Authorship.objects.create(work=work, author=author, position=position)
    index_for_search([work.id])  # as a load does once the authorships are written


@pytest.fixture
def papers(db):
    imagenet = make_work(IMAGENET, title="ImageNet: A large-scale hierarchical image database", corpus=True)
    with_authors(imagenet, IMAGENET_AUTHORS, 100)
    essd = make_work(ESSD, title="Global carbon budget", venue="Earth System Science Data", corpus=True)
    with_authors(essd, ["Pierre Friedlingstein"], 200)
    make_work(SOCHER_TITLE, title="Socher and deng: a glacier dataset", corpus=True)
    citer = make_work(4, title="Citing work", corpus=None)  # outside the corpus: never found
    with_authors(citer, ["Li Fei-Fei"], 105)


def found(query: str) -> list[int]:
    return [work.id for work in Work.objects.search(query).order_by(F("relevance").desc(), "id")]


@pytest.mark.parametrize("query", ["Deng Fei-Fei", "li fei-fei", "LI FEI-FEI", "richard socher imagenet"])
def test_authors_names_find_their_papers(papers, query):
    assert found(query) == [IMAGENET]


def test_a_typo_in_an_authors_name_is_corrected_from_the_names(papers):
    plan = interpret("richrd sochre")

    assert plan.corrected == {"richrd": "richard", "sochre": "socher"}
    assert found("richrd sochre") == [IMAGENET]
    assert found("li fie-fei") == [IMAGENET]  # "fie" is too short to correct: dropped, as for titles
    assert interpret("li fie-fei").dropped == ("fie",)


def test_the_page_announces_the_name_correction(client, papers):
    page = text(client.get("/search/", {"q": "friedlingstien"}))

    assert "Showing results for friedlingstein: no paper has “friedlingstien”." in page
    assert "Global carbon budget" in page


def test_a_venue_name_finds_its_papers(papers):
    assert found("Earth System Science Data") == [ESSD]
    assert found("earth system sci") == [ESSD]  # the last word is a prefix, as for titles


def test_the_words_may_come_from_the_title_the_authors_and_the_venue_together(papers):
    assert found("imagenet fei-fei") == [IMAGENET]
    assert found("carbon friedlingstein earth") == [ESSD]
    assert found("glacier fei-fei") == []  # each word must match somewhere in the same paper


def test_a_title_match_and_an_author_match_are_in_the_same_bucket(papers):
    # Both hold every word as typed, one in its title, the other in its authors' names: neither
    # is preferred, and the run's order (here, unplaced papers by id) decides.
    assert found("socher deng") == [IMAGENET, SOCHER_TITLE]


def test_exact_matches_still_rank_above_corrected_ones_across_the_fields(papers):
    make_work(5, title="Sochre basin survey", corpus=True)  # "sochre" now a word as typed

    # As typed in a title, then corrected to the name "socher" in a title and in an author's name.
    assert found("sochre") == [5, IMAGENET, SOCHER_TITLE]


def test_a_result_links_its_first_three_authors_and_says_et_al_for_the_rest(client, papers):
    html = client.get("/search/", {"q": "imagenet"}).content.decode()

    byline = html[html.index('<span class="byline">') : html.index("</span>", html.index('<span class="byline">'))]
    assert byline == (
        '<span class="byline"><a href="/researchers/A100/">Jia Deng</a>, <a href="/researchers/A101/">Wei Dong</a>, '
        '<a href="/researchers/A102/">Richard Socher</a> et al.'
    )


def test_a_result_with_three_authors_or_fewer_has_no_et_al(client, papers):
    html = client.get("/search/", {"q": "carbon budget"}).content.decode()

    assert '<span class="byline"><a href="/researchers/A200/">Pierre Friedlingstein</a></span>' in html
    assert "et al." not in html
