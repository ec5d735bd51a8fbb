"""Corrections to corpus membership, end to end: a visitor opens the form from a paper's page (or
from the page of a work we hold outside the corpus), files a correction, an editor accepts it in
the admin, the override is set and the page says an editor classified the paper; the accepted
corrections come out as labelled examples. And what guards the form: CSRF, the honeypot, the
reason's limits, the rate limit per client address and which address counts."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import django_ratelimit.core
import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client, RequestFactory

from datarank_site.pages.clients import client_address, client_fingerprint, rate_limit_key
from datarank_site.pages.corrections import SUBMISSIONS_RATE
from papers.models import CorpusEntry, Correction
from tests.factories import make_run, make_score, make_work, text

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PAPER = 101  # in the corpus
OUTSIDE = 202  # held, left out by the check
CITER = 303  # held only as a citer: no corpus entry
LIMIT = int(SUBMISSIONS_RATE.split("/")[0])
HTMX = {"HTTP_HX_REQUEST": "true"}
LIMITED = "Too many suggestions from your address; try again in an hour"
CHANGELIST = "/admin/papers/correction/"


@pytest.fixture(autouse=True)
def one_window(monkeypatch):
    # django-ratelimit counts in fixed windows; one window for the whole test, so that a window
    # ending mid-test can never reset a count.
    monkeypatch.setattr(django_ratelimit.core, "_get_window", lambda value, period: 0)


@pytest.fixture
def world():
    run = make_run(papers_scored=1)
    paper = make_work(PAPER, title="A global dataset of river discharge", corpus=True, type="dataset", venue="Zenodo")
    make_score(run, paper, rank=1, datarank=3.2)
    make_work(OUTSIDE, title="Ocean heat content, 1955 to 2024: data", corpus=False, type="article", venue="Earth Data")
    make_work(CITER, title="A study that uses the river data", corpus=None, type="article")
    return paper


def url(number: int) -> str:
    return f"/papers/W{number}/correction/"


def suggest(client, number: int = PAPER, *, reason: str = "It is a review article, no data.", **extra):
    data = {"reason": reason, "email": "", "website": "", **extra.pop("data", {})}
    return client.post(url(number), data, **extra)


def accept(admin_client, *corrections: Correction, note: str = "", action: str = "accept"):
    data = {"action": action, "index": "0", "select_across": "0", "note": note}
    data["_selected_action"] = [str(correction.pk) for correction in corrections]
    return admin_client.post(CHANGELIST, data, follow=True)


# Opening the form


def test_a_paper_page_links_to_the_form_and_fetches_it_only_when_opened(client, world):
    response = client.get(f"/papers/W{PAPER}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Is this not a data-sharing paper?" in html
    assert f'hx-get="{url(PAPER)}"' in html and 'hx-trigger="toggle once"' in html
    # Without JavaScript the same URL is a plain link.
    assert f'<a href="{url(PAPER)}">' in html
    # The page carries nothing per visitor, so it can be cached.
    assert "csrfmiddlewaretoken" not in html
    assert "csrftoken" not in response.cookies


def test_the_page_of_a_work_outside_the_corpus_offers_suggest_this_paper(client, world):
    for number in (OUTSIDE, CITER):
        response = client.get(f"/papers/W{number}/")

        html = response.content.decode()
        assert response.status_code == 404
        assert "Suggest this paper" in html
        assert f'hx-get="{url(number)}"' in html and f'<a href="{url(number)}">' in html
        assert "csrfmiddlewaretoken" not in html
        assert "Classified by an editor" not in html


def test_a_work_we_do_not_hold_has_no_suggestion_and_no_form(client, world):
    assert "Suggest this paper" not in client.get("/papers/W999/").content.decode()
    response = client.get(url(999))
    assert response.status_code == 404
    assert "We hold no work W999" in text(response)
    assert suggest(client, 999).status_code == 404
    assert not Correction.objects.exists()


def test_opening_the_form_by_htmx_gets_the_fragment_in_one_query(client, world, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(url(PAPER), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div class="correction"')
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'maxlength="2000"' in html and 'name="reason"' in html and 'name="email"' in html
    assert f'hx-post="{url(PAPER)}"' in html and f'action="{url(PAPER)}"' in html
    assert "HX-Request" in response["Vary"]
    # It holds a token for this visitor: no cache may keep it.
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_without_htmx_the_form_is_a_full_page(client, world):
    response = client.get(url(PAPER))

    assert response.status_code == 200
    page = text(response)
    assert response.content.decode().lstrip().lower().startswith("<!doctype html>")
    assert "Is this not a data-sharing paper?" in page and "A global dataset of river discharge" in page
    assert 'name="reason"' in response.content.decode()


def test_the_form_for_a_work_outside_the_corpus_asks_to_include_it(client, world):
    response = client.get(url(OUTSIDE))

    assert "Suggest this paper" in text(response)
    assert "left this work out of the data-sharing corpus" in text(response)


def test_a_lower_case_key_is_redirected_to_the_canonical_form_url(client, world):
    response = client.get(f"/papers/w{PAPER}/correction/")
    assert response.status_code == 301 and response["Location"] == url(PAPER)


# Filing, the queue, the decision


def test_a_correction_goes_from_the_form_to_the_editor_and_out_of_the_corpus(world, admin_client, admin_user):
    visitor = Client(enforce_csrf_checks=True)
    form = visitor.get(url(PAPER), **HTMX).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    filed = visitor.post(
        url(PAPER),
        {"csrfmiddlewaretoken": token, "reason": "A review of river gauges; it shares no data.", "email": "a@b.org"},
        REMOTE_ADDR="198.51.100.7",
        **HTMX,
    )

    assert filed.status_code == 200
    assert "Thank you." in text(filed) and "A review of river gauges; it shares no data." in text(filed)
    correction = Correction.objects.get()
    assert (correction.work_id, correction.kind, correction.status) == (PAPER, "exclude", "pending")
    assert correction.email == "a@b.org"
    # The address is kept only as a keyed hash.
    assert "198.51.100.7" not in correction.client and len(correction.client) == 64

    queue = admin_client.get(CHANGELIST)
    assert queue.status_code == 200
    assert "A review of river gauges; it shares no data." in queue.content.decode()

    decided = accept(admin_client, correction, note="Checked: a review.")

    assert decided.status_code == 200
    assert "Accepted 1 correction." in text(decided)
    correction.refresh_from_db()
    assert correction.status == "accepted" and correction.decided_by == admin_user
    assert correction.decided_at is not None and correction.note == "Checked: a review."
    entry = CorpusEntry.objects.get(work_id=PAPER)
    assert entry.override == "exclude" and not entry.in_corpus
    logged = {(log.content_type.model, log.object_id) for log in LogEntry.objects.filter(user=admin_user)}
    assert logged == {("correction", str(correction.pk)), ("corpusentry", str(PAPER))}
    page = visitor.get(f"/papers/W{PAPER}/")
    assert page.status_code == 404
    assert "Classified by an editor" in text(page)


def test_an_accepted_suggestion_brings_a_paper_into_the_corpus_with_the_editors_badge(client, world, admin_client):
    suggest(client, OUTSIDE, reason="It is a data descriptor for the ocean heat content grids.")
    correction = Correction.objects.get()
    assert correction.kind == "include"

    accept(admin_client, correction)

    entry = CorpusEntry.objects.get(work_id=OUTSIDE)
    assert entry.override == "include" and entry.in_corpus
    page = client.get(f"/papers/W{OUTSIDE}/")
    assert page.status_code == 200
    assert "Classified by an editor" in text(page)


def test_accepting_a_suggestion_for_a_citer_gives_it_a_corpus_entry_with_the_checks_verdict(
    client, world, admin_client
):
    suggest(client, CITER, reason="It publishes the gauge data as a supplement.")

    accept(admin_client, Correction.objects.get())

    entry = CorpusEntry.objects.get(work_id=CITER)
    assert entry.override == "include" and entry.in_corpus and not entry.included
    assert entry.reasons  # the check ran, for the record
    assert client.get(f"/papers/W{CITER}/").status_code == 200


def test_rejecting_leaves_the_corpus_as_it_was(client, world, admin_client, admin_user):
    suggest(client)

    decided = accept(admin_client, Correction.objects.get(), note="It is a dataset.", action="reject")

    assert "Rejected 1 correction." in text(decided)
    correction = Correction.objects.get()
    assert (correction.status, correction.decided_by, correction.note) == ("rejected", admin_user, "It is a dataset.")
    assert CorpusEntry.objects.get(work_id=PAPER).override == ""
    assert "Classified by an editor" not in text(client.get(f"/papers/W{PAPER}/"))


def test_a_decided_correction_is_not_decided_again(client, world, admin_client):
    suggest(client)
    correction = Correction.objects.get()
    accept(admin_client, correction, action="reject")

    again = accept(admin_client, correction)

    assert "1 already decided, left as they were." in text(again)
    assert Correction.objects.get().status == "rejected"
    assert CorpusEntry.objects.get(work_id=PAPER).override == ""


def test_the_queue_lists_pending_corrections_first(client, world, admin_client):
    suggest(client, reason="Decided already: first filed.")
    accept(admin_client, Correction.objects.get(), action="reject")
    suggest(client, OUTSIDE, reason="Still waiting: filed second.")

    html = admin_client.get(CHANGELIST).content.decode()

    assert html.index("Still waiting: filed second.") < html.index("Decided already: first filed.")


def test_a_user_who_may_not_change_corpus_entries_cannot_decide(client, world, django_user_model):
    suggest(client)
    staff = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_correction", "change_correction"]))
    viewer = Client()
    viewer.force_login(staff)

    assert 'value="accept"' not in viewer.get(CHANGELIST).content.decode()
    accept(viewer, Correction.objects.get())
    assert Correction.objects.get().status == "pending"
    assert CorpusEntry.objects.get(work_id=PAPER).override == ""


# Hostile input


def test_a_script_in_the_reason_is_stored_as_written_and_always_shown_escaped(client, world, admin_client):
    hostile = "<script>alert(1)</script> <b>bold</b>"

    thanks = suggest(client, reason=hostile, **HTMX)

    assert thanks.status_code == 200
    assert "<script>alert(1)" not in thanks.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thanks.content.decode()
    correction = Correction.objects.get()
    assert correction.reason == hostile
    for page in (admin_client.get(CHANGELIST), admin_client.get(f"{CHANGELIST}{correction.pk}/change/")):
        assert "<script>alert(1)" not in page.content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content.decode()


def test_a_reason_over_the_limit_is_refused_with_a_message_and_files_nothing(client, world):
    response = suggest(client, reason="x" * 10_000, **HTMX)

    assert response.status_code == 400
    assert "Please keep the reason to 2,000 characters (it has 10000). Nothing was filed." in text(response)
    assert not Correction.objects.exists()


def test_a_reason_of_exactly_the_limit_is_filed_counting_a_line_break_as_one_character(client, world):
    reason = "a" * 999 + "\r\n" + "b" * 1000

    assert suggest(client, reason=reason).status_code == 200
    assert Correction.objects.get().reason == "a" * 999 + "\n" + "b" * 1000


def test_control_characters_in_the_reason_are_refused(client, world):
    response = suggest(client, reason="Not data\x1b[31m, really\u202e", **HTMX)

    assert response.status_code == 400
    assert "control characters (U+001B, U+202E)" in text(response)
    assert not Correction.objects.exists()


def test_a_missing_reason_or_a_bad_email_is_refused_with_a_message(client, world):
    assert "Please say why" in text(suggest(client, reason="   "))
    assert "That is not an e-mail address" in text(suggest(client, data={"email": "not-an-address"}))
    assert not Correction.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(world):
    assert suggest(Client(enforce_csrf_checks=True)).status_code == 403
    assert not Correction.objects.exists()


def test_a_bot_that_fills_the_honeypot_is_thanked_and_nothing_is_filed(client, world):
    html = client.get(url(PAPER), **HTMX).content.decode()
    assert re.search(r'<div class="hp-field" aria-hidden="true">', html)
    assert 'name="website"' in html and 'tabindex="-1"' in html

    response = suggest(client, data={"website": "https://spam.example"}, **HTMX)

    assert response.status_code == 200 and "Thank you." in text(response)
    assert not Correction.objects.exists()


# The rate limit


def test_the_submission_past_the_limit_from_one_address_gets_a_429(client, world):
    for _ in range(LIMIT):
        assert suggest(client, REMOTE_ADDR="203.0.113.5").status_code == 200

    limited = suggest(client, REMOTE_ADDR="203.0.113.5", **HTMX)

    assert limited.status_code == 429
    assert LIMITED in text(limited)
    assert limited["Retry-After"] == "3600"
    # htmx swaps a 429 in like a 400 (base.html's rule comes before the one that drops 4xx), so
    # the message lands in the form's box.
    config = json.loads(re.search(r"name=\"htmx-config\" content='([^']+)'", client.get("/").content.decode())[1])
    codes = [rule["code"] for rule in config["responseHandling"]]
    assert {"code": "429", "swap": True} in config["responseHandling"]
    assert codes.index("429") < codes.index("[45]..")
    assert Correction.objects.count() == LIMIT
    # A full page says it too, and another address is not limited.
    assert LIMITED in text(suggest(client, REMOTE_ADDR="203.0.113.5"))
    assert suggest(client, REMOTE_ADDR="203.0.113.6").status_code == 200
    assert Correction.objects.count() == LIMIT + 1


def test_opening_the_form_does_not_count_against_the_limit(client, world):
    for _ in range(LIMIT + 3):
        assert client.get(url(PAPER), **HTMX).status_code == 200
    assert suggest(client).status_code == 200


def test_behind_one_trusted_proxy_the_forwarded_address_counts(client, world, settings):
    settings.DATARANK_TRUSTED_PROXY_HOPS = 1
    proxy = "10.0.0.2"
    for _ in range(LIMIT):
        suggest(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert suggest(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # Another visitor behind the same proxy is not limited, and a client cannot pass for
    # another by writing its own X-Forwarded-For: the proxy appends the address it saw.
    assert suggest(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200
    spoofed = suggest(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.77, 203.0.113.5")
    assert spoofed.status_code == 429


def test_with_no_trusted_proxy_the_forwarded_address_is_ignored(client, world, settings):
    settings.DATARANK_TRUSTED_PROXY_HOPS = 0
    for number in range(LIMIT):
        suggest(client, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")

    assert suggest(client, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429


def test_the_rate_limit_counts_in_a_cache_every_worker_shares():
    backend = settings.CACHES[settings.RATELIMIT_USE_CACHE]["BACKEND"]
    # A per-process cache would give each gunicorn worker its own count.
    assert backend == "django.core.cache.backends.db.DatabaseCache"


# Which address is the client's


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "10.0.0.2"),
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "198.51.100.9, 192.0.2.1", "192.0.2.1"),
        (2, "198.51.100.9, 192.0.2.1, 10.0.0.1", "192.0.2.1"),
        # A chain shorter than our proxies did not come through them all: nothing in it is trusted.
        (2, "192.0.2.1", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, "not an address", "10.0.0.2"),
        (1, "192.0.2.1:51234", "192.0.2.1"),
        (1, "[2001:DB8::1]:443", "2001:db8::1"),
    ],
)
def test_client_address_takes_the_nth_address_from_the_right(settings, hops, forwarded, expected):
    settings.DATARANK_TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_an_ipv6_client_is_limited_as_its_slash_64_and_stored_only_hashed(settings):
    settings.DATARANK_TRUSTED_PROXY_HOPS = 0
    one = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::a")
    other = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::b")

    assert rate_limit_key("", one) == rate_limit_key("", other) == "2001:db8:1:2::"
    assert client_fingerprint(one) == client_fingerprint(other)
    assert "2001" not in client_fingerprint(one)


def test_a_bad_trusted_proxy_hops_value_stops_the_site_with_the_message():
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DATARANK_PRODUCTION"}}
    for value, message in (("two", "DATARANK_TRUSTED_PROXY_HOPS='two' is not an integer"),
                           ("-1", "DATARANK_TRUSTED_PROXY_HOPS=-1 must be at least 0")):  # fmt: skip
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env={**env, "DATARANK_TRUSTED_PROXY_HOPS": value},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        assert message in result.stderr


# Labelled examples


def test_accepted_corrections_export_as_labelled_examples(client, world, admin_client, tmp_path):
    suggest(client, PAPER, reason="A review of gauges, “no data”.")
    suggest(client, OUTSIDE, reason="A data descriptor.\nWith grids.")
    suggest(client, CITER, reason="Rejected, so not exported.")
    first, second, rejected = Correction.objects.order_by("id")
    accept(admin_client, first, second)
    accept(admin_client, rejected, action="reject")
    out = tmp_path / "corrections.jsonl"

    call_command("export_corrections", str(out))

    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "id": f"W{PAPER}",
            "label": 0,
            "confidence": "high",
            "reason": "A review of gauges, “no data”.",
            "title": "A global dataset of river discharge",
            "type": "dataset",
            "venue": "Zenodo",
            "source": "correction",
        },
        {
            "id": f"W{OUTSIDE}",
            "label": 1,
            "confidence": "high",
            "reason": "A data descriptor.\nWith grids.",
            "title": "Ocean heat content, 1955 to 2024: data",
            "type": "article",
            "venue": "Earth Data",
            "source": "correction",
        },
    ]
    # The same keys, in the same order, as the hand labels the check is measured on.
    label = json.loads((ROOT / "data/labels/data-papers-tune.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert list(json.loads(lines[0])) == list(label)
    assert "“no data”" in lines[0]  # written as the labels are, not \u-escaped


def test_export_writes_to_standard_output_and_gives_one_line_per_work(client, world, admin_client, capsys):
    suggest(client, reason="First word.")
    suggest(client, reason="Second word.")
    accept(admin_client, *Correction.objects.all())

    call_command("export_corrections")

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["id"] == f"W{PAPER}"
