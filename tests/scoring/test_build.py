"""build_index end to end: a snapshot in the published layout becomes a published scoring run
whose `scores --format csv` is byte for byte what load_openalex + rescore give for the same
records; a snapshot short of its manifest publishes nothing; what the site holds (admin
overrides, newer records) wins; a build stopped in a stage or while publishing leaves the
current run as it was, and the next one resumes. And the bundled sample, which load_sample
builds this way: the same corpus and scores as load_openalex + rescore of its files."""

import re
import shutil
from datetime import date
from io import StringIO
from pathlib import Path

import duckdb
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from papers.models import Citation, CorpusEntry, FairSignal, Work
from papers.openalex import snapshot
from scoring import build as scoring_build
from scoring.models import FairEvaluation, PaperScore, ScoringRun, SnapshotBuild
from tests.conftest import API_DIR, GEOSCIENCE_ARABIA, SNAPSHOT
from tests.papers.openalex.test_snapshot import LAYOUT, make_snapshot, write_manifest, write_part

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The sample snapshot, and a work dir with its snapshot stages already run (every test
    copies it, so each build only runs what depends on the site's own rows)."""
    root = tmp_path_factory.mktemp("sample")
    works = make_snapshot(root)
    build = snapshot.SnapshotBuild(
        snapshot=snapshot.open_snapshot(works), workdir=root / "template", threads=2, memory_limit=None, cap=200
    )
    build.extract()
    build.check()
    build.close()
    return works


def build_index(works: Path, workdir: Path, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("build_index", str(works), workdir=str(workdir), threads=2, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def workdir(sample, tmp_path) -> Path:
    shutil.copytree(sample.parent.parent / "template", tmp_path / "work")
    return tmp_path / "work"


def scores_csv() -> str:
    out = StringIO()
    call_command("scores", output_format="csv", stdout=out)
    return out.getvalue()


def corpus() -> set[int]:
    return set(CorpusEntry.objects.filter(in_corpus=True).values_list("work_id", flat=True))


def clear_site() -> None:
    ScoringRun.objects.all().delete()
    Work.objects.all().delete()


def test_scores_after_a_build_are_byte_identical_to_load_openalex_and_rescore(sample, workdir):
    summary, _ = build_index(sample, workdir, keep_workdir=True)
    built = scores_csv()
    assert "Scoring run" in summary and "26 legacy grant records dropped" in summary
    assert ScoringRun.objects.count() == 1
    # A rescore of what the build published reads the same figures.
    call_command("rescore", stdout=StringIO())
    assert scores_csv() == built
    clear_site()
    parts = sorted(str(path) for path in sample.glob("updated_date=*/*.gz"))
    call_command("load_openalex", *parts, stdout=StringIO(), stderr=StringIO())
    call_command("rescore", stdout=StringIO())
    loaded = scores_csv()
    assert built == loaded
    assert len(built.splitlines()) == 1 + 57


def test_it_publishes_the_corpus_papers_and_their_capped_citers_only(sample, workdir):
    build_index(sample, workdir, keep_workdir=True)
    db = duckdb.connect()
    links = db.execute(f"SELECT citing, cited FROM read_parquet('{workdir / 'engine_links.parquet'}')").fetchall()
    assert CorpusEntry.objects.filter(in_corpus=True).count() == PaperScore.objects.count() == 57
    assert set(Citation.objects.values_list("citing_id", "cited_id")) == set(links)
    citers = {citing for citing, _ in links}
    assert set(Work.objects.values_list("id", flat=True)) == citers | set(
        CorpusEntry.objects.filter(in_corpus=True).values_list("work_id", flat=True)
    )


def test_a_works_folder_missing_the_parts_of_its_manifest_publishes_nothing(tmp_path):
    with pytest.raises(CommandError) as error:
        build_index(LAYOUT, tmp_path / "work")
    message = str(error.value)
    assert message.startswith("464 part(s) of the manifest are not here as listed; nothing was published")
    assert message.count(": missing (the manifest lists ") == 464
    assert not Work.objects.exists()
    assert not ScoringRun.objects.exists()


def test_a_part_holding_other_records_than_the_manifest_says_publishes_nothing(sample, workdir, tmp_path):
    works = tmp_path / "snapshot"
    shutil.copytree(sample, works)
    write_manifest(works, records={"updated_date=2026-02-02/part_000.gz": 5})
    with pytest.raises(
        CommandError, match=r"updated_date=2026-02-02/part_000.gz: holds 1,228 records, the manifest says 5"
    ):
        build_index(works, workdir)
    assert not ScoringRun.objects.exists()


def test_bad_lines_are_named_and_skipped_and_the_rest_is_published(tmp_path):
    works = tmp_path / "works"
    snapshot_lines = [
        b'{"id": "W1", "cited_by_count": 3, "type": "dataset", "title": "A data set"}',
        b'{"id": "W2", "cited_by_count": 1, "referenced_works": ["W1"]}',
        b"not json",
        b'{"id": "W3", "cited_by_count": 1, "referenced_works": ["W1", "W?"]}',
    ]
    write_part(works / "part_000.jsonl.gz", snapshot_lines)
    _, err = build_index(works, tmp_path / "work")
    assert err.splitlines() == [
        "skipped part_000.jsonl.gz:3: not valid JSON: Expecting value: line 1 column 1 (char 0)",
        "skipped part_000.jsonl.gz:4: referenced_works holds 'W?', which is not an OpenAlex work id",
    ]
    assert list(Citation.objects.values_list("citing_id", "cited_id")) == [(2, 1)]
    assert PaperScore.objects.get().citing_works == 1


def test_admin_overrides_and_newer_records_the_site_holds_win(sample, workdir, tmp_path):
    build_index(sample, workdir, keep_workdir=True)
    scored = sorted(PaperScore.objects.values_list("work_id", flat=True))
    excluded, newer = scored[0], scored[1]
    included = Citation.objects.exclude(citing_id__in=scored).values_list("citing_id", flat=True).first()
    CorpusEntry.objects.filter(work_id=excluded).update(override=CorpusEntry.Override.EXCLUDE)
    CorpusEntry.objects.filter(work_id=included).update(override=CorpusEntry.Override.INCLUDE)
    Work.objects.filter(id=newer).update(
        openalex_updated=timezone.now().date(), cited_by_count=99_999, title="Refreshed from the API"
    )
    build_index(sample, workdir, keep_workdir=True)
    run = ScoringRun.objects.current()
    now_scored = set(PaperScore.objects.filter(run=run).values_list("work_id", flat=True))
    assert excluded not in now_scored
    assert included in now_scored
    held = Work.objects.get(id=newer)
    assert (held.title, held.cited_by_count) == ("Refreshed from the API", 99_999)
    built = scores_csv()
    call_command("rescore", stdout=StringIO())
    assert scores_csv() == built


def test_a_build_failing_while_publishing_leaves_the_current_run_and_the_next_one_resumes(sample, workdir, monkeypatch):
    build_index(sample, workdir, keep_workdir=True)
    before = scores_csv()
    current = ScoringRun.objects.current()
    works_before = Work.objects.count()
    original = scoring_build.publish_run

    def fail_after_the_corpus_rows(**arguments):
        original(**arguments)
        raise RuntimeError("stopped while publishing")

    monkeypatch.setattr("scoring.management.commands.build_index.publish_run", fail_after_the_corpus_rows)
    CorpusEntry.objects.filter(work_id=current.scores.first().work_id).update(override=CorpusEntry.Override.EXCLUDE)
    with pytest.raises(RuntimeError, match="stopped while publishing"):
        build_index(sample, workdir, keep_workdir=True)
    assert ScoringRun.objects.current() == current
    assert ScoringRun.objects.count() == 1
    assert Work.objects.count() == works_before
    assert scores_csv() == before
    monkeypatch.undo()
    summary, _ = build_index(sample, workdir)
    assert "stage extract parts:" in summary and "(done before)" in summary
    assert ScoringRun.objects.current() != current
    assert not workdir.exists()


def test_a_build_stopped_in_a_stage_publishes_nothing_and_the_next_resumes_there(sample, workdir, monkeypatch):
    def stop(self, output):
        output.write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot.SnapshotBuild, "_references", stop)
    with pytest.raises(KeyboardInterrupt):
        build_index(sample, workdir)
    assert not ScoringRun.objects.exists()
    assert not (workdir / "corpus_links.parquet").exists()
    monkeypatch.undo()
    summary, _ = build_index(sample, workdir, keep_workdir=True)
    done_before = [line.split(":")[0].strip() for line in summary.splitlines() if "(done before)" in line]
    assert done_before == ["stage extract parts", "stage works", "stage verdicts"]
    assert ScoringRun.objects.count() == 1


def test_running_out_of_disk_says_so_and_publishes_nothing(sample, workdir, monkeypatch):
    def full(self, output):
        raise duckdb.IOException(f'Could not write file "{output}": No space left on device')

    monkeypatch.setattr(snapshot.SnapshotBuild, "_references", full)
    with pytest.raises(
        CommandError, match=r"out of disk in the work dir .*nothing was published.*finished stages are kept"
    ):
        build_index(sample, workdir)
    assert not ScoringRun.objects.exists()
    assert (workdir / "works.parquet").exists()


# The bundled sample


def test_load_sample_builds_the_sample_into_the_corpus_and_scores_load_openalex_and_rescore_give():
    out = StringIO()
    call_command("load_sample", stdout=out, stderr=StringIO())
    assert_fair_from_the_records(out.getvalue())
    record = SnapshotBuild.objects.get()
    assert (record.status, record.run) == (SnapshotBuild.Status.SUCCEEDED, ScoringRun.objects.current())
    assert (record.records, record.works, record.manifest_date) == (3_684 + 1_851, 3_684 + 1_851, date(2026, 3, 1))
    built, built_corpus = scores_csv(), corpus()
    clear_site()
    files = [*sorted(API_DIR.glob("*.json")), SNAPSHOT, GEOSCIENCE_ARABIA]
    call_command("load_openalex", *map(str, files), stdout=StringIO(), stderr=StringIO())
    call_command("rescore", stdout=StringIO())
    assert scores_csv() == built
    assert corpus() == built_corpus
    # 79 works of the snapshot and 2 of the API pages pass the data-paper check (README.md).
    assert len(built_corpus) == len(built.splitlines()) - 1 == 81


def assert_fair_from_the_records(output: str) -> None:
    """Offline, as on a first `make run`: every corpus paper has its six checklist items and a
    score; only papers whose DOI may be DataCite's wait for it, and their score says provisional."""
    corpus_ids = set(Work.objects.in_corpus().values_list("id", flat=True))
    evaluations = dict(FairEvaluation.objects.filter(is_latest=True).values_list("work_id", "provisional"))
    assert set(evaluations) == corpus_ids
    signals = FairSignal.objects.filter(work_id__in=corpus_ids)
    assert signals.count() == 6 * len(corpus_ids)
    waiting = set(signals.filter(status="unknown").values_list("work_id", flat=True))
    datacite = {
        work.id
        for work in Work.objects.filter(id__in=corpus_ids)
        if work.doi and ("datacite" in work.indexed_in or "crossref" not in work.indexed_in)
    }
    assert waiting <= datacite and {work for work, provisional in evaluations.items() if provisional} <= datacite
    settled = corpus_ids - datacite
    assert settled and not any(evaluations[work] for work in settled)
    # Each way in says what it evaluated: load_openalex the API pages' papers, build_index the rest.
    lines = re.findall(r"FAIR from the records: (\d+) paper\(s\) evaluated, (\d+) provisional", output)
    assert [sum(int(line[column]) for line in lines) for column in (0, 1)] == [
        len(settled) + len(datacite - {w for w, p in evaluations.items() if p}),
        sum(evaluations.values()),
    ]
