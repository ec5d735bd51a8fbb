"""Evaluating papers: signals with evidence from the sample's OpenAlex records first and the fake
DataCite for DataCite DOIs, "not checked yet" that keeps the last known value, provisional
scores, stored evaluations with history, and a calibrated score that follows the corpus without
fetching anything again."""

import time
from datetime import timedelta

import pytest

from datarank_site.pages.fair import fair_for_page
from papers.datacite import DataCiteClient
from papers.models import CorpusEntry, DoiPrefixAgency, FairSignal, Work
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


def test_a_crossref_paper_is_settled_from_its_openalex_record_without_asking_anyone(fake_datacite, sample_papers):
    summary = run(ACM_PAPER)

    assert summary.evaluated == [ACM_PAPER] and summary.provisional == []
    assert statuses(ACM_PAPER) == {
        "has_doi": "yes",
        "indexed_in_repositories": "yes",
        "open_access": "yes",
        "datacite_relations": "na",
        "linked_datasets": "no",
        "dataset_classification": "no",
    }
    evidence = dict(FairSignal.objects.filter(work_id=ACM_PAPER).values_list("key", "evidence"))
    assert evidence["has_doi"] == "https://doi.org/10.1145/3383583.3398584 (registered with Crossref)"
    assert evidence["datacite_relations"] == (
        "does not apply: a Crossref DOI, and DataCite holds records of its own DOIs only"
    )
    assert evidence["linked_datasets"] == (
        "OpenAlex links no dataset; DataCite not asked: a Crossref DOI, and DataCite holds records of its own DOIs only"
    )
    assert evidence["dataset_classification"] == (
        "OpenAlex type is article; DataCite: not asked (a Crossref DOI, and DataCite holds records of its own DOIs "
        "only); data-paper check not passed"
    )
    evaluation = FairEvaluation.objects.get(work_id=ACM_PAPER)
    assert evaluation.provisional is False
    checks = {check["key"]: check for check in evaluation.checks}
    assert (checks["linked_from"]["passed"], checks["linked_from"]["pending"]) == (None, "")
    assert checks["structured_metadata"]["passed"] is True
    # indexed_in names the agency: neither doi.org nor DataCite is asked.
    assert fake_datacite.log == []


def test_a_paper_indexed_under_two_agencies_asks_doi_org_which_one_and_keeps_the_answer(fake_datacite, db):
    make_work(9100000000013, doi="10.1145/1111111.2222222", title="Two agencies", indexed_in=["crossref", "datacite"])

    run(9100000000013)
    offline = evaluate_fair(work_ids=[9100000000013], client=None, now=LATER)

    assert [request.path for request in fake_datacite.log] == ["/ra/10.1145/1111111.2222222"]
    assert DoiPrefixAgency.objects.get(prefix="10.1145").agency == "Crossref"
    # Without network, the answer doi.org gave for the prefix settles it.
    assert offline.evaluated == [9100000000013]


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
    assert evaluation.method_version == "fair-metadata-v2" and evaluation.provisional is False


def test_the_registration_agency_is_asked_once_per_prefix_and_kept(fake_datacite, db):
    make_work(9100000000010, doi="10.1145/1111111.2222222", title="An ACM paper OpenAlex indexes nowhere")
    make_work(9100000000014, doi="10.1145/3333333.4444444", title="Another")
    run(9100000000010, 9100000000014)
    run(9100000000010, now=LATER)

    assert len(fake_datacite.requests_to("/ra/")) == 1
    assert DoiPrefixAgency.objects.get(prefix="10.1145").agency == "Crossref"


def test_without_network_a_datacite_doi_waits_for_datacite_and_its_score_is_provisional(sample_papers):
    summary = evaluate_fair(work_ids=[ACM_PAPER, ARXIV_PAPER], client=None, now=NOW)

    assert summary.evaluated == [ACM_PAPER] and summary.provisional == [ARXIV_PAPER]
    assert summary.reasons == ["DataCite has not been asked yet"]
    assert statuses(ARXIV_PAPER) == {
        "has_doi": "yes",
        "indexed_in_repositories": "yes",
        "open_access": "yes",
        "datacite_relations": "unknown",
        "linked_datasets": "unknown",
        # The data-paper check passes it: DataCite could only add a reason.
        "dataset_classification": "yes",
    }
    relations = FairSignal.objects.get(work_id=ARXIV_PAPER, key="datacite_relations")
    assert relations.evidence == "not checked yet: DataCite has not been asked yet"
    assert relations.last_known == ""
    evaluation = FairEvaluation.objects.get(work_id=ARXIV_PAPER)
    assert evaluation.provisional is True
    pending = {check["key"]: check["pending"] for check in evaluation.checks if check["pending"]}
    # The arXiv record states no licence: the licence checks wait for DataCite's rightsList too.
    assert set(pending) == {
        "access_conditions",
        "licence",
        "qualified_relations",
        "linked_from",
        "linked_datasets",
        "file_formats",
        "licence_identifier",
    }
    assert set(pending.values()) == {"DataCite has not been asked yet"}


def test_a_provisional_score_counts_only_the_checks_made(sample_papers):
    evaluate_fair(work_ids=[ARXIV_PAPER], client=None, now=NOW)

    evaluation = FairEvaluation.objects.get(work_id=ARXIV_PAPER)
    made = [check for check in evaluation.checks if check["passed"] is not None]
    by_principle = {
        principle: [check["passed"] for check in made if check["principle"] == principle] for principle in "FAIR"
    }
    for principle in "FAIR":
        passed = by_principle[principle]
        assert getattr(evaluation, principle.lower()) == round(100 * sum(passed) / len(passed), 2)
    assert evaluation.raw == round((evaluation.f + evaluation.a + evaluation.i + evaluation.r) / 4, 2)


def test_a_datacite_5xx_says_not_checked_yet_keeps_the_last_value_and_the_work_is_retried(fake_datacite, sample_papers):
    run(ARXIV_PAPER)
    before = FairEvaluation.objects.get(work_id=ARXIV_PAPER)
    fake_datacite.inject(Fault.server_error(503), path="^/dois", times=100)

    summary = run(ARXIV_PAPER, now=LATER)

    assert summary.provisional == [ARXIV_PAPER] and summary.evaluated == []
    relations = FairSignal.objects.get(work_id=ARXIV_PAPER, key="datacite_relations")
    assert relations.status == "unknown"
    assert relations.evidence.startswith("not checked yet: DataCite answered 503")
    assert (relations.last_known, relations.last_known_at) == ("yes", NOW)
    assert relations.last_known_evidence == "1 DataCite record(s) point at it: 10.1594/pangaea.912345"
    # OpenAlex's own items were checked again as usual.
    assert FairSignal.objects.get(work_id=ARXIV_PAPER, key="has_doi").checked_at == LATER
    # The new score is provisional and says so; the complete one stays in the history.
    latest = FairEvaluation.objects.get(work_id=ARXIV_PAPER, is_latest=True)
    assert latest.provisional is True and latest.evaluated_at == LATER
    assert list(FairEvaluation.objects.filter(work_id=ARXIV_PAPER, is_latest=False)) == [before]
    assert stale_work_ids(limit=1) == [ACM_PAPER]  # never evaluated: first
    assert stale_work_ids(limit=2)[1] == ARXIV_PAPER  # provisional: next


def test_a_datacite_timeout_leaves_the_score_provisional_and_a_down_source_is_not_asked_again(
    fake_datacite, sample_papers, zenodo_dataset
):
    fake_datacite.inject(Fault.slow(1.0), path="^/dois", times=100)
    client = DataCiteClient(timeout=0.2, max_retries=0, sleep=lambda s: None)

    summary = evaluate_fair(work_ids=[ACM_PAPER, ARXIV_PAPER, ZENODO_DATASET], client=client, now=NOW)

    assert summary.evaluated == [ACM_PAPER]
    assert sorted(summary.provisional) == [ARXIV_PAPER, ZENODO_DATASET]
    assert statuses(ZENODO_DATASET)["datacite_relations"] == "unknown"
    assert "did not answer in time" in summary.reasons[0]
    # The fake logs a slow request once its delay is over: every request the run sent is logged
    # within that delay of the run's end.
    time.sleep(1.5)
    # The one DataCite call that timed out; the other DataCite DOI was not asked.
    assert [request.path for request in fake_datacite.log] == ["/dois/10.48550/arxiv.2007.14454"]


def test_every_evaluation_that_changes_something_is_kept_and_the_latest_marked(fake_datacite, sample_papers):
    run(ACM_PAPER)
    Work.objects.filter(id=ACM_PAPER).update(is_oa=False)
    run(ACM_PAPER, now=LATER)

    history = list(FairEvaluation.objects.filter(work_id=ACM_PAPER))
    assert [evaluation.evaluated_at for evaluation in history] == [LATER, NOW]
    assert [evaluation.is_latest for evaluation in history] == [True, False]
    assert history[0].a < history[1].a


def test_an_evaluation_that_finds_the_same_only_moves_the_latest_ones_date(fake_datacite, sample_papers):
    fake_datacite.inject(Fault.server_error(503), path="^/dois", times=100)
    run(ARXIV_PAPER)
    run(ARXIV_PAPER, now=LATER)  # DataCite still down: the same provisional findings

    history = list(FairEvaluation.objects.filter(work_id=ARXIV_PAPER))
    assert [(evaluation.evaluated_at, evaluation.is_latest, evaluation.provisional) for evaluation in history] == [
        (LATER, True, True)
    ]


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

    # The Crossref paper needs no DataCite: only the DataCite one is retried.
    assert retried["args"][0] == [ARXIV_PAPER]
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


def test_datacites_resource_type_reaches_the_data_paper_check(fake_datacite, db):
    # An admin took it into the corpus; OpenAlex's record alone does not pass the check.
    make_work(9100000000015, check_passed=False, doi="10.5281/zenodo.7504123", title="Notes", type="other",
              indexed_in=["datacite"])  # fmt: skip

    run(9100000000015)

    entry = CorpusEntry.objects.get(work_id=9100000000015)
    assert entry.check_passed is True and entry.confidence == 0.95
    assert entry.reasons == ["DataCite resource type is Dataset"]
    assert (entry.included, entry.checked_at) == (True, NOW)


def test_without_a_datacite_record_the_data_paper_check_is_left_as_it_was(sample_papers):
    before = CorpusEntry.objects.get(work_id=ACM_PAPER)

    evaluate_fair(work_ids=[ACM_PAPER], client=None, now=LATER)

    after = CorpusEntry.objects.get(work_id=ACM_PAPER)
    assert (after.check_passed, after.reasons, after.checked_at) == (
        before.check_passed,
        before.reasons,
        before.checked_at,
    )
