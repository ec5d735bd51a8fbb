"""Evaluating papers: signals with evidence from the fake DataCite and the sample's OpenAlex
records, "could not check" that keeps the last known value, stored evaluations with history,
and a calibrated score that follows the corpus without fetching anything again."""

from datetime import timedelta

import pytest

from datarank_site.pages.fair import fair_for_page
from papers.datacite import DataCiteClient
from papers.models import DoiPrefixAgency, FairSignal, Work
from scoring.fair.calibration import calibrated
from scoring.fair.evaluate import stale_work_ids
from scoring.models import FairEvaluation
from scoring.tasks import evaluate_fair, evaluate_fair_task, evaluate_stale_fair_task
from tests.factories import ACM_PAPER, ARXIV_PAPER, BARE_PAPER, ZENODO_DATASET
from tests.factories import FAIR_NOW as NOW
from tests.factories import make_corpus_paper as make_work
from tests.fake_datacite.app import Fault

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(days=1)


def run(*work_ids: int, now=NOW):
    return evaluate_fair(work_ids=list(work_ids), client=DataCiteClient(sleep=lambda s: None), now=now)


def statuses(work_id: int) -> dict[str, str]:
    return dict(FairSignal.objects.filter(work_id=work_id).values_list("key", "status"))


def test_a_sample_paper_with_a_crossref_doi_gets_its_signals_from_the_records_pointing_at_it(
    fake_datacite, sample_papers
):
    summary = run(ACM_PAPER)

    assert summary.evaluated == [ACM_PAPER] and summary.could_not_check == []
    assert statuses(ACM_PAPER) == {
        "has_doi": "yes",
        "indexed_in_repositories": "yes",
        "open_access": "yes",
        "datacite_relations": "yes",
        "linked_datasets": "yes",
        "dataset_classification": "no",
    }
    assert FairSignal.objects.get(work_id=ACM_PAPER, key="dataset_classification").evidence == (
        "OpenAlex type is article; DataCite: no DataCite record; data-paper check not passed"
    )
    relations = FairSignal.objects.get(work_id=ACM_PAPER, key="datacite_relations")
    assert relations.source == "DataCite"
    assert relations.evidence == "2 DataCite record(s) point at it: 10.1594/pangaea.912345, 10.5281/zenodo.7504123"
    assert relations.checked_at == NOW and relations.last_known == "yes"
    # Crossref says doi.org: DataCite's own record is not asked for.
    assert fake_datacite.requests_to("/dois/") == []
    assert [request.path for request in fake_datacite.requests_to("/ra/")] == ["/ra/10.1145/3383583.3398584"]


def test_a_sample_paper_with_a_datacite_doi_reads_its_own_record(fake_datacite, sample_papers):
    run(ARXIV_PAPER)

    # Its abstract presents a corpus: the data-paper check passed it, whatever DataCite says.
    classification = FairSignal.objects.get(work_id=ARXIV_PAPER, key="dataset_classification")
    assert (classification.status, classification.evidence) == ("yes", "passes the data-paper check")
    evaluation = FairEvaluation.objects.get(work_id=ARXIV_PAPER)
    checks = {check["key"]: check for check in evaluation.checks}
    assert checks["licence_identifier"]["passed"] is False
    assert checks["licence_identifier"]["fix"] == (
        "add a `rightsIdentifier` (an SPDX id such as `cc-by-4.0`) to the DataCite record"
    )
    assert checks["licence"]["evidence"][0] == {
        "source": "DataCite",
        "field": "rightsList[]",
        "value": "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    }
    assert checks["linked_from"]["passed"] is True
    assert evaluation.method_version == "fair-metadata-v1"


def test_the_registration_agency_is_asked_once_per_prefix_and_kept(fake_datacite, sample_papers):
    make_work(9100000000010, doi="10.1145/1111111.2222222", title="Another ACM paper")
    run(ACM_PAPER, 9100000000010)
    run(ACM_PAPER, now=LATER)

    assert len(fake_datacite.requests_to("/ra/")) == 1
    assert DoiPrefixAgency.objects.get(prefix="10.1145").agency == "Crossref"


def test_a_datacite_5xx_says_could_not_check_keeps_the_last_value_and_the_work_is_retried(fake_datacite, sample_papers):
    run(ARXIV_PAPER)
    before = FairEvaluation.objects.get(work_id=ARXIV_PAPER)
    fake_datacite.inject(Fault.server_error(503), path="^/dois", times=100)

    summary = run(ARXIV_PAPER, now=LATER)

    assert summary.could_not_check == [ARXIV_PAPER] and summary.evaluated == []
    relations = FairSignal.objects.get(work_id=ARXIV_PAPER, key="datacite_relations")
    assert relations.status == "unknown"
    assert relations.evidence.startswith("could not check: DataCite answered 503")
    assert (relations.last_known, relations.last_known_at) == ("yes", NOW)
    assert relations.last_known_evidence == "1 DataCite record(s) point at it: 10.1594/pangaea.912345"
    # OpenAlex's own items were checked again as usual.
    assert FairSignal.objects.get(work_id=ARXIV_PAPER, key="has_doi").checked_at == LATER
    # No score from partial facts: the previous evaluation stays the latest.
    assert list(FairEvaluation.objects.filter(work_id=ARXIV_PAPER)) == [before]
    assert stale_work_ids(limit=1) == [ACM_PAPER]  # never evaluated: first
    assert stale_work_ids(limit=2)[1] == ARXIV_PAPER


def test_a_datacite_timeout_says_could_not_check_and_a_down_source_is_not_asked_again(
    fake_datacite, sample_papers, settings
):
    fake_datacite.inject(Fault.slow(1.0), path="^/dois", times=100)
    client = DataCiteClient(timeout=0.2, max_retries=0, sleep=lambda s: None)

    summary = evaluate_fair(work_ids=[ACM_PAPER, ARXIV_PAPER], client=client, now=NOW)

    assert sorted(summary.could_not_check) == [ARXIV_PAPER, ACM_PAPER]
    assert statuses(ACM_PAPER)["datacite_relations"] == "unknown"
    assert FairSignal.objects.get(work_id=ACM_PAPER, key="datacite_relations").last_known == ""
    assert "did not answer in time" in summary.errors[0]
    # Two registration-agency lookups and the one DataCite call that timed out.
    assert client.calls == 3


def test_every_evaluation_is_kept_and_the_latest_marked(fake_datacite, sample_papers):
    run(ACM_PAPER)
    run(ACM_PAPER, now=LATER)

    history = list(FairEvaluation.objects.filter(work_id=ACM_PAPER))
    assert [evaluation.evaluated_at for evaluation in history] == [LATER, NOW]
    assert [evaluation.is_latest for evaluation in history] == [True, False]


def test_the_calibrated_score_is_the_percentile_of_the_raw_score_with_ties_shared(
    fake_datacite, zenodo_dataset, bare_paper
):
    make_work(9100000000011, check_passed=False, title="Notes too", type="article")
    run(ZENODO_DATASET, BARE_PAPER, 9100000000011)

    raws = dict(FairEvaluation.objects.values_list("work_id", "raw"))
    assert raws[BARE_PAPER] == raws[9100000000011] < raws[ZENODO_DATASET]
    assert calibrated(raws[ZENODO_DATASET]) == (100.0, 3)
    assert calibrated(raws[BARE_PAPER]) == (pytest.approx(200 / 3), 3)


def test_adding_papers_recalibrates_without_fetching_again(fake_datacite, zenodo_dataset, bare_paper):
    run(ZENODO_DATASET)
    assert fair_for_page(zenodo_dataset)["fair_calibrated"] == 100.0
    fetched = len(fake_datacite.log)

    run(BARE_PAPER)  # a paper without a DOI: nothing to fetch
    make_work(9100000000012, check_passed=False, title="Notes again", type="article")
    run(9100000000012)

    assert len(fake_datacite.log) == fetched
    assert fair_for_page(Work.objects.get(id=BARE_PAPER))["fair_calibrated"] == pytest.approx(200 / 3)
    assert fair_for_page(zenodo_dataset)["fair_calibrated"] == 100.0


def test_the_task_evaluates_and_retries_the_works_it_could_not_check(fake_datacite, sample_papers, monkeypatch):
    fake_datacite.inject(Fault.server_error(500), path="^/dois", times=100)
    retried = {}

    def retry(*, args, countdown):
        retried.update(args=args, countdown=countdown)
        return RuntimeError("retry")

    monkeypatch.setattr(evaluate_fair_task, "retry", retry)
    with pytest.raises(RuntimeError, match="retry"):
        evaluate_fair_task.run([ACM_PAPER, ARXIV_PAPER])

    assert sorted(retried["args"][0]) == [ARXIV_PAPER, ACM_PAPER]
    assert retried["countdown"] == 60


def test_the_task_returns_the_works_evaluated(fake_datacite, sample_papers):
    assert evaluate_fair_task.run([ACM_PAPER]) == [ACM_PAPER]


def test_the_periodic_job_queues_the_stalest_papers(
    sample_papers, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.DATARANK_FAIR_BATCH = 1
    queued = []
    monkeypatch.setattr(evaluate_fair_task, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert evaluate_stale_fair_task.run() == 1
    # Neither was ever evaluated: the lower id first.
    assert queued == [[ARXIV_PAPER]]


def test_the_beat_schedule_re_evaluates_fair_without_any_key(settings):
    assert settings.CELERY_BEAT_SCHEDULE["evaluate-stale-fair"]["task"] == "scoring.tasks.evaluate_stale_fair_task"
