"""Typo tolerance (issue 16): the same cases on PostgreSQL and SQLite, through the vocabulary."""

import pytest
from django.db.models import F

from papers.models import SearchWord, Work
from papers.search import interpret
from tests.factories import make_work, text

pytestmark = pytest.mark.django_db

IMAGENET = 1


@pytest.fixture
def images(db):
    make_work(IMAGENET, title="ImageNet: A large-scale hierarchical image database", corpus=True)
    make_work(2, title="Image segmentation of glaciers", corpus=True)
    make_work(3, title="A hierarchical soil database", corpus=True)
    make_work(4, title="Scalable ocean dataset", corpus=True)
    make_work(5, title="Imagined large worlds", corpus=None)  # a citer: not searched, not in the vocabulary


def found(query: str) -> list[int]:
    return [work.id for work in Work.objects.search(query).order_by(F("relevance").desc(), "id")]


@pytest.mark.parametrize("query", ["imagnet", "imaegnet", "hierarchcal image databse", "large-scal", "IMAGENT"])
def test_a_typo_still_finds_the_paper(images, query):
    assert IMAGENET in found(query)


def test_without_its_typo_the_query_finds_the_same_papers_as_with_it(images):
    assert found("imagnet") == found("imagenet") == [IMAGENET]
    assert found("hierarchcal image databse") == [IMAGENET]


def test_a_transposition_counts_as_one_typo_but_two_typos_are_too_many_for_eight_letters(images):
    assert found("imaegnet") == [IMAGENET]
    assert found("imaegnte") == []


def test_nine_letters_or_more_may_have_two_typos(images):
    assert set(found("hirarchcal")) == {IMAGENET, 3}
    assert found("hirarchcl") == []  # three


def test_a_word_of_four_letters_is_not_corrected_but_the_last_word_is_a_prefix(images):
    assert set(found("imag")) == {IMAGENET, 2}
    assert found("imge segmentation") == [2]  # "imge" is dropped, not corrected to "image"
    assert interpret("imge segmentation").dropped == ("imge",)


def test_a_short_word_no_title_has_is_dropped_and_the_page_says_so(client, images):
    page = text(client.get("/search/", {"q": "qzx imagenet"}))

    assert "Ignored “qzx”: no paper has it." in page and "1 paper match" in page
    assert "ImageNet: A large-scale hierarchical image database" in page
    assert "Ignored" not in text(client.get("/search/", {"q": "imagenet"}))


def test_the_page_announces_the_correction(client, images):
    page = text(client.get("/search/", {"q": "imagnet"}))

    assert "Showing results for imagenet: no paper has “imagnet”." in page
    assert "ImageNet: A large-scale hierarchical image database" in page
    assert "Showing results for" not in text(client.get("/search/", {"q": "imagenet"}))


def test_the_htmx_fragment_announces_it_too(client, images):
    page = text(client.get("/search/", {"q": "databse imag"}, HTTP_HX_REQUEST="true"))

    assert "Showing results for database imag: no paper has “databse”." in page


def test_exact_matches_rank_above_corrected_ones(images):
    make_work(6, title="Ocean datset with a typo in its title", corpus=True)

    # "datset" is a word of a title, and one typo away from "dataset": both match, exact first.
    assert found("datset") == [6, 4]
    assert found("ocean dataset") == [4, 6]


def test_datset_finds_a_dataset_title(images):
    assert found("datset") == [4]


def test_corrections_only_come_from_corpus_titles(images):
    assert found("imagind") == []  # "imagined" is only in a citer's title
    assert not SearchWord.objects.filter(word="imagined").exists()


def test_a_query_of_200_one_letter_words_reads_the_vocabulary_once(client, images, django_assert_max_num_queries):
    query = " ".join("abcdefghijklmnopqrstuvwxyz"[n % 26] for n in range(150))

    # The vocabulary, the run, the researchers, the count, the page's ids, rows and their first
    # authors (the form caps the query at 300 characters: 150 words).
    with django_assert_max_num_queries(7):
        response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    with django_assert_max_num_queries(2):
        list(Work.objects.search(" ".join(["x"] * 200)))


@pytest.mark.parametrize(
    "query", ["x" * 300, "é" * 299 + "s", "'&|!:*()<>\\ imagnet", "imagnet:* | !soil", "%imagnet_"]
)
def test_hostile_input_with_typos_never_errors(client, images, query):
    assert client.get("/search/", {"q": query}).status_code == 200
    list(Work.objects.search(query))


GLAC_WORDS = ["glacier", "glaciers", "glacial", "glaciation", "glaciology", "glacis", "glaciate", "glacio", "glacé"]


@pytest.fixture
def glaciers(db):
    """Ten words begin "glac", each in two papers, and an eleventh, "glaciolake", in one."""
    number = 100
    for word in [*GLAC_WORDS, "glacierized"]:
        for _ in range(2):
            number += 1
            make_work(number, title=f"Notes on {word}", corpus=True)
    make_work(99, title="A glaciolake survey", corpus=True)


def test_the_last_word_completes_to_its_ten_most_frequent_words_only(glaciers):
    [word] = interpret("glac").words

    assert len(word.completions) == 10 and "glaciolake" not in word.completions
    assert 99 not in found("glac") and len(found("glac")) == 20
    # One letter more and the rare word is among the few the prefix begins.
    assert 99 in found("glaciol")


def test_a_single_letter_is_not_completed_and_no_paper_has_it_so_it_is_dropped(glaciers):
    plan = interpret("glaciolake g")

    assert plan.dropped == ("g",)
    assert found("glaciolake g") == found("glaciolake") == [99]
