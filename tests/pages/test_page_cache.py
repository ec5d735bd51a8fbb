"""Paper pages, FAIR pages and their fragments are rendered once and served from the cache until
a run publishes, the paper's own data changes or the FAIR calibration moves; they answer
conditional requests with a 304 and carry nothing that differs from one visitor to the next."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.http import http_date

from datarank_site.settings import cache_from_url
from papers.models import CorpusEntry, FairSignal, Work
from scoring.fair.metrics import METHOD_VERSION
from scoring.models import FairEvaluation
from scoring.services import rescore_corpus
from tests.factories import NOW, cite, make_work, text
from tests.pages.test_paper_page import PAPER, build_paper

pytestmark = pytest.mark.django_db

PAGE = f"/papers/W{PAPER}/"
FAIR_PAGE = f"/papers/W{PAPER}/fair/"
HTMX = {"HX-Request": "true"}
# The page's version: the current run, the paper's own stamps and the FAIR calibration, in one query.
VERSION_QUERIES = 1
# The page as paper.py builds it (tests/pages/test_paper_page.py counts them), with the FAIR
# calibration's aggregate; three of them (the graph and the histogram) are cached on their own.
PAGE_QUERIES = 11


@pytest.fixture
def paper():
    """A scored corpus paper with 30 citers, evaluated for FAIR (the only evaluation, so its
    calibrated score is 100/100)."""
    work = build_paper(30)
    rescore_corpus()
    evaluate(work, raw=50.0)
    return work


def evaluate(work: Work, *, raw: float, minutes_later: int = 0) -> FairEvaluation:
    FairEvaluation.objects.filter(work=work, is_latest=True).update(is_latest=False)
    return FairEvaluation.objects.create(
        work=work,
        method_version=METHOD_VERSION,
        evaluated_at=NOW + timedelta(minutes=minutes_later),
        f=raw,
        a=raw,
        i=raw,
        r=raw,
        raw=raw,
        checks=[],
    )


def run_number(response) -> str:
    return re.search(r"scoring run (\d+)", text(response)).group(1)


# Served from the cache


def test_a_second_view_is_served_from_the_cache_in_one_query(client, paper, django_assert_num_queries):
    with django_assert_num_queries(VERSION_QUERIES + PAGE_QUERIES):
        first = client.get(PAGE)
    with django_assert_num_queries(VERSION_QUERIES):
        second = client.get(PAGE)

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"] and second["Last-Modified"] == first["Last-Modified"]
    assert second["Content-Type"] == "text/html; charset=utf-8"
    assert "HX-Request" in second["Vary"]
    assert set(second["Cache-Control"].split(", ")) == {"public", "no-cache"}


def test_the_cached_page_is_what_a_fresh_render_gives(client, paper, settings):
    client.get(PAGE)
    cached = client.get(PAGE)
    settings.DATARANK_PAGE_CACHE_SECONDS = 0

    assert client.get(PAGE).content == cached.content


def test_the_fair_page_is_served_from_the_cache_too(client, paper, django_assert_num_queries):
    first = client.get(FAIR_PAGE)
    with django_assert_num_queries(VERSION_QUERIES):
        second = client.get(FAIR_PAGE)

    assert first.status_code == second.status_code == 200
    assert second.content == first.content and "100/100" in text(second)
    assert second["ETag"] == first["ETag"] != client.get(PAGE)["ETag"]


def test_the_fragment_and_the_page_are_kept_apart(client, paper, django_assert_num_queries):
    page = client.get(PAGE)
    fragment = client.get(PAGE, headers=HTMX)
    with django_assert_num_queries(2 * VERSION_QUERIES):
        page_again = client.get(PAGE)
        fragment_again = client.get(PAGE, headers=HTMX)
    second_page = client.get(PAGE, {"page": "2"}, headers=HTMX)

    assert page_again.content == page.content and "<html" in page.content.decode()
    assert fragment_again.content == fragment.content
    assert fragment.content.decode().lstrip().startswith('<div id="citer-table"')
    assert "Page 2 of 2" in text(second_page) and "Page 1 of 2" in text(fragment)
    assert len({page["ETag"], fragment["ETag"], second_page["ETag"]}) == 3
    assert "HX-Request" in fragment_again["Vary"]


def test_a_sorted_table_is_kept_under_its_own_query(client, paper, django_assert_num_queries):
    by_year = client.get(PAGE, {"sort": "year", "asc": "1"}, headers=HTMX)
    with django_assert_num_queries(VERSION_QUERIES):
        again = client.get(PAGE, {"sort": "year", "asc": "1"}, headers=HTMX)

    assert again.content == by_year.content != client.get(PAGE, headers=HTMX).content


def test_a_query_the_page_does_not_read_is_rendered_not_kept(client, paper, django_assert_num_queries):
    client.get(PAGE, {"q": "first"})
    with django_assert_num_queries(PAGE_QUERIES - 3):
        response = client.get(PAGE, {"q": "second visitor"})

    # The header's search box shows what was asked: a kept copy would show someone else's words.
    assert 'value="second visitor"' in response.content.decode()
    assert "ETag" not in response


def test_a_non_canonical_key_and_a_paper_outside_the_corpus_are_answered_as_before(client, paper):
    make_work(77, title="Just a citer", corpus=None)

    assert client.get(f"/papers/w{PAPER}/")["Location"] == PAGE
    assert client.get("/papers/W77/").status_code == 404
    assert client.get("/papers/W78/").status_code == 404
    # Past 64 bits: not a work id at all, never a database error.
    assert client.get("/papers/W9999999999999999999/").status_code == 404


def test_the_cache_can_be_turned_off(client, paper, settings, django_assert_num_queries):
    settings.DATARANK_PAGE_CACHE_SECONDS = 0
    client.get(PAGE)
    with django_assert_num_queries(PAGE_QUERIES - 3):  # the graph and the histogram stay cached
        response = client.get(PAGE)

    assert "ETag" not in response and "Last-Modified" not in response


# What changes the key


def test_a_new_run_publishing_renders_the_page_again(client, paper):
    before = client.get(PAGE)
    # The paper's record changes with no new fetch time: the kept copy stands until a run publishes.
    Work.objects.filter(id=PAPER).update(cited_by_count=4321)
    assert client.get(PAGE).content == before.content

    rescore_corpus()
    after = client.get(PAGE)

    assert "cited 4,321 times" in text(after) and "cited 4,321 times" not in text(before)
    assert int(run_number(after)) == int(run_number(before)) + 1
    assert after["ETag"] != before["ETag"]


def test_a_new_fetch_of_the_papers_record_renders_the_page_again(client, paper):
    before = client.get(PAGE)
    Work.objects.filter(id=PAPER).update(title="A renamed dataset", fetched_at=NOW + timedelta(hours=1))

    after = client.get(PAGE)

    assert "A renamed dataset" in text(after) and "A renamed dataset" not in text(before)
    assert after["ETag"] != before["ETag"]


def test_an_editors_override_renders_the_page_again(client, paper):
    before = client.get(PAGE)
    CorpusEntry.objects.filter(work_id=PAPER).update(override=CorpusEntry.Override.INCLUDE)

    after = client.get(PAGE)

    assert "Classified by an editor" in text(after) and "Classified by an editor" not in text(before)


def test_taking_the_paper_out_of_the_corpus_ends_its_page_at_once(client, paper):
    client.get(PAGE)
    CorpusEntry.objects.filter(work_id=PAPER).update(override=CorpusEntry.Override.EXCLUDE)

    assert client.get(PAGE).status_code == 404


def test_a_new_check_of_the_fair_checklist_renders_the_page_again(client, paper):
    signal = FairSignal.objects.create(
        work=paper, key="has_doi", status="no", source="OpenAlex", field="doi", evidence="none held", checked_at=NOW
    )
    before = client.get(PAGE)
    FairSignal.objects.filter(pk=signal.pk).update(
        status="yes", evidence="10.5281/zenodo.1 registered", checked_at=NOW + timedelta(days=1)
    )

    after = client.get(PAGE)

    assert "10.5281/zenodo.1 registered" in text(after) and "none held" in text(before)


def test_a_new_citer_renders_the_page_again(client, paper):
    before = client.get(PAGE)
    cite(make_work(950, title="A late citer", corpus=None, cited_by_count=2), paper)

    after = client.get(PAGE)

    assert "A late citer" in text(after) and "A late citer" not in text(before)


def test_an_evaluation_of_another_paper_recalibrates_the_page(client, paper):
    other = make_work(901, title="Another corpus paper", corpus=True)
    page, fair = client.get(PAGE), client.get(FAIR_PAGE)
    assert "Its calibrated FAIR score is 100/100" in text(page)

    # The other paper scores higher: ours is now at the 50th percentile of the two.
    evaluate(other, raw=80.0, minutes_later=5)

    assert "Its calibrated FAIR score is 50/100" in text(client.get(PAGE))
    assert "Calibrated FAIR score 100/100" in text(fair)
    assert "Calibrated FAIR score 50/100" in text(client.get(FAIR_PAGE))


def test_a_re_evaluation_that_keeps_the_count_still_recalibrates(client, paper):
    other = make_work(901, title="Another corpus paper", corpus=True)
    evaluate(other, raw=20.0, minutes_later=5)
    assert "Its calibrated FAIR score is 100/100" in text(client.get(PAGE))

    evaluate(other, raw=90.0, minutes_later=10)

    assert "Its calibrated FAIR score is 50/100" in text(client.get(PAGE))


# Conditional requests


def test_a_conditional_get_with_the_etag_gets_a_304(client, paper):
    etag = client.get(PAGE)["ETag"]

    not_modified = client.get(PAGE, headers={"If-None-Match": etag})
    other = client.get(PAGE, headers={"If-None-Match": '"something-else"'})

    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag and "HX-Request" in not_modified["Vary"]
    assert other.status_code == 200 and other["ETag"] == etag


def test_a_conditional_get_with_last_modified_gets_a_304(client, paper):
    first = client.get(PAGE)
    last_modified = first["Last-Modified"]
    earlier = http_date(timezone.now().timestamp() - 3600)

    assert client.get(PAGE, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(PAGE, headers={"If-Modified-Since": earlier}).status_code == 200


def test_a_conditional_fragment_request_gets_a_304(client, paper):
    etag = client.get(PAGE, headers=HTMX)["ETag"]

    assert client.get(PAGE, headers={**HTMX, "If-None-Match": etag}).status_code == 304
    # The full page is another representation: the fragment's ETag does not match it.
    assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 200


def test_after_a_change_the_old_validators_get_the_new_page(client, paper):
    first = client.get(PAGE)
    rescore_corpus()

    # A later Last-Modified than the old copy's, and the new bytes.
    response = client.get(PAGE, headers={"If-None-Match": first["ETag"]})

    assert response.status_code == 200 and response["ETag"] != first["ETag"]


def test_the_fair_page_answers_conditional_requests(client, paper):
    etag = client.get(FAIR_PAGE)["ETag"]

    assert client.get(FAIR_PAGE, headers={"If-None-Match": etag}).status_code == 304
    evaluate(make_work(901, corpus=True), raw=80.0, minutes_later=5)
    assert client.get(FAIR_PAGE, headers={"If-None-Match": etag}).status_code == 200


# Nothing per visitor


def test_two_visitors_get_the_same_bytes_with_no_nonce_and_no_csrf_token(paper, settings):
    # Rendered afresh for each of them: what is kept must not differ between renders.
    settings.DATARANK_PAGE_CACHE_SECONDS = 0
    bodies = []
    for _ in range(2):
        visitor = Client()
        for url, headers in ((PAGE, {}), (PAGE, HTMX), (FAIR_PAGE, {})):
            response = visitor.get(url, headers=headers)
            assert response.status_code == 200
            assert not response.cookies, url
            assert "Cookie" not in response.get("Vary", ""), url
            bodies.append(response.content)

    assert bodies[:3] == bodies[3:]
    for body in bodies:
        assert b"nonce" not in body and b"csrfmiddlewaretoken" not in body
    assert "nonce" not in Client().get(PAGE)["Content-Security-Policy"]


def test_every_script_on_the_pages_is_a_static_file_or_a_data_block(client, paper):
    for url in (PAGE, FAIR_PAGE):
        html = client.get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert " src=" in tag or 'type="application/json"' in tag, tag


def test_a_staff_member_gets_the_page_everyone_gets(paper, settings):
    settings.DATARANK_PAGE_CACHE_SECONDS = 0
    staff = Client()
    staff.force_login(User.objects.create_user("editor", is_staff=True, is_superuser=True))

    # The page shows nothing of who is signed in, so the kept copy is right for staff too.
    assert staff.get(PAGE).content == Client().get(PAGE).content
    assert staff.get(FAIR_PAGE).content == Client().get(FAIR_PAGE).content


def test_the_correction_form_is_fetched_by_its_own_get(client, paper):
    page = client.get(PAGE).content.decode()
    form = client.get(f"/papers/W{PAPER}/correction/", headers=HTMX)

    assert f'hx-get="/papers/W{PAPER}/correction/"' in page and 'method="post"' not in page
    assert b"csrfmiddlewaretoken" in form.content and "no-cache" in form["Cache-Control"]


# The cache backend


def test_cache_url_picks_the_backend():
    assert cache_from_url("")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert cache_from_url("locmem://")["OPTIONS"]["MAX_ENTRIES"] >= 1000
    redis = cache_from_url("redis://127.0.0.1:6379/3")
    assert redis["BACKEND"] == "datarank_site.cache.ForgivingRedisCache"
    assert redis["LOCATION"] == "redis://127.0.0.1:6379/3"
    assert cache_from_url("dummy://")["BACKEND"] == "django.core.cache.backends.dummy.DummyCache"
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        cache_from_url("memcached://127.0.0.1:11211")


def test_an_unreachable_redis_leaves_the_pages_working(paper):
    # Nothing listens on port 1: every cache call fails at once, and the page is rendered instead.
    with override_settings(CACHES={"default": cache_from_url("redis://127.0.0.1:1/0")}):
        responses = [Client().get(PAGE) for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert responses[0].content == responses[1].content


@pytest.mark.redis
def test_pages_are_shared_through_redis(paper, settings, django_assert_num_queries):
    url = re.sub(r"/\d+$", "/14", settings.CELERY_BROKER_URL)
    with override_settings(CACHES={"default": cache_from_url(url)}):
        caches["default"].clear()
        first = Client().get(PAGE)
        # Another visitor, as another process would serve them: the copy comes from Redis.
        with django_assert_num_queries(VERSION_QUERIES):
            second = Client().get(PAGE)
        caches["default"].clear()

    assert second.content == first.content and second["ETag"] == first["ETag"]
