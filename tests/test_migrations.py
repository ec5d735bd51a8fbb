"""Moved models keep their rows: FairEvaluation went from papers to scoring (papers 0007 and
scoring 0004, both SeparateDatabaseAndState) keeping its table, papers_fairevaluation, and its
content type, so permissions given on it stay given.

The test takes a database back to the head before the move, fills it through the historical
models of that head, migrates forward again and reads every row back through today's models."""

from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from papers.models import Author, Authorship, Citation, CorpusEntry, DoiPrefixAgency, FairSignal, RefreshRun, Work
from scoring.fair.metrics import METHOD_VERSION
from scoring.models import FairEvaluation, PaperScore, ScoringRun

# The two apps just before the move; every other app stays at its latest migration.
BEFORE_THE_MOVE = {"papers": "0006_citation_first_seen_and_removals", "scoring": "0003_run_data_date_and_counts"}
AFTER_THE_MOVE = {"papers": "0007_move_fair_evaluation", "scoring": "0004_move_fair_evaluation"}

# Today's model, and the (app label, model name) it had before the move.
MODELS = [
    (Work, ("papers", "Work")),
    (Author, ("papers", "Author")),
    (Authorship, ("papers", "Authorship")),
    (Citation, ("papers", "Citation")),
    (CorpusEntry, ("papers", "CorpusEntry")),
    (FairSignal, ("papers", "FairSignal")),
    (RefreshRun, ("papers", "RefreshRun")),
    (DoiPrefixAgency, ("papers", "DoiPrefixAgency")),
    (ScoringRun, ("scoring", "ScoringRun")),
    (PaperScore, ("scoring", "PaperScore")),
    (FairEvaluation, ("papers", "FairEvaluation")),
]

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
CHECKS = [{"key": "F1", "principle": "F", "passed": True, "evidence": "a DOI"}]


def head(executor: MigrationExecutor, pinned: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Every app's latest migration, except the apps `pinned` to an earlier one."""
    pinned = pinned or {}
    leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in pinned]
    return sorted([*leaves, *pinned.items()])


def migrate(pinned: dict[str, str] | None = None) -> MigrationExecutor:
    """Migrate the test database to `head(pinned)`; a fresh executor each time, so that the
    loader knows what is applied now."""
    executor = MigrationExecutor(connection)
    executor.migrate(head(executor, pinned))
    return MigrationExecutor(connection)


def populate(apps) -> int:
    """One row of each model, through the historical models; returns the user's id."""
    historical = {name: apps.get_model(label, name) for _, (label, name) in MODELS}
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    content_types = apps.get_model("contenttypes", "ContentType")
    permissions = apps.get_model("auth", "Permission")

    # Before the move the evaluations' content type, and so the permission, is papers'.
    content_type, _ = content_types.objects.get_or_create(app_label="papers", model="fairevaluation")
    permission, _ = permissions.objects.get_or_create(
        content_type=content_type, codename="add_fairevaluation", defaults={"name": "Can add fair evaluation"}
    )
    user = user_model.objects.create(username="curator", password="!", is_active=True)
    user.user_permissions.add(permission)

    work = historical["Work"].objects.create(
        id=4242,
        doi="10.5281/zenodo.4242",
        title="A data paper",
        abstract="Data, shared.",
        publication_year=2024,
        venue="Earth System Science Data",
        type="article",
        cited_by_count=7,
        referenced_works_count=3,
        is_oa=True,
        oa_status="gold",
        indexed_in=["crossref", "doaj"],
        topics=["Geochemistry"],
        repository_locations=[{"source": "Zenodo", "url": "https://zenodo.org/records/4242"}],
        openalex_updated=date(2026, 2, 1),
        fetched_at=WHEN,
        license="cc-by",
        datasets=["W99"],
    )
    citer = historical["Work"].objects.create(id=77, title="A citer", cited_by_count=2, fetched_at=WHEN)
    author = historical["Author"].objects.create(id=31, display_name="A. Curie", orcid="0000-0002-1825-0097")
    historical["Authorship"].objects.create(work=work, author=author, position=1)
    historical["Citation"].objects.create(
        citing=citer, cited=work, pull_position=1, is_self_citation=False, first_seen_at=WHEN
    )
    historical["CorpusEntry"].objects.create(
        work=work, check_passed=True, confidence=0.9, reasons=["data paper cue"], included=True, checked_at=WHEN
    )
    historical["FairSignal"].objects.create(
        work=work,
        key="has_doi",
        status="yes",
        source="OpenAlex",
        field="doi",
        evidence="10.5281/zenodo.4242",
        checked_at=WHEN,
        last_known="yes",
        last_known_evidence="10.5281/zenodo.4242",
        last_known_at=WHEN,
    )
    historical["RefreshRun"].objects.create(
        finished_at=WHEN,
        status="succeeded",
        papers_total=2,
        papers_done=2,
        list_calls=3,
        errors=[{"work": 5, "error": "gone"}],
        done_work_ids=[4242],
        triggered_by="admin",
    )
    historical["DoiPrefixAgency"].objects.create(prefix="10.5281", agency="DataCite", checked_at=WHEN)
    run = historical["ScoringRun"].objects.create(
        algorithm="datarank-v1",
        damping=0.85,
        citer_cap=500,
        status="succeeded",
        finished_at=WHEN,
        papers_scored=1,
        links_read=1,
        citers_read=1,
        data_as_of=WHEN,
        started_by=user,
    )
    historical["PaperScore"].objects.create(
        run=run,
        work=work,
        base_contribution=0.15,
        network_contribution=0.25,
        datarank=0.4,
        citing_works=1,
        citers_with_signal=1,
        self_citations_excluded=0,
        cap_bound=False,
        rank=1,
        top_percent=100.0,
        tier=1,
    )
    historical["FairEvaluation"].objects.create(
        work=work,
        method_version=METHOD_VERSION,
        evaluated_at=WHEN,
        f=80.0,
        a=75.5,
        i=60.0,
        r=50.25,
        raw=66.4375,
        checks=CHECKS,
        is_latest=True,
    )
    return user.pk


def rows(model) -> tuple[list[str], list[dict]]:
    """The model's concrete fields and its rows as the database holds them, in primary key order."""
    fields = [field.attname for field in model._meta.concrete_fields]
    return fields, list(model.objects.order_by("pk").values(*fields))


@pytest.mark.django_db(transaction=True)
def test_moving_fair_evaluation_to_scoring_keeps_every_row_and_permission():
    try:
        before = migrate(BEFORE_THE_MOVE)
        old_apps = before.loader.project_state(head(before, BEFORE_THE_MOVE)).apps
        assert not set(AFTER_THE_MOVE.items()) & set(before.loader.applied_migrations)
        # Going back, scoring 0004 returned the evaluations' content type to papers.
        old_content_types = old_apps.get_model("contenttypes", "ContentType").objects.filter(model="fairevaluation")
        assert [content_type.app_label for content_type in old_content_types] == ["papers"]
        user_id = populate(old_apps)
        held = {label_name: rows(old_apps.get_model(*label_name)) for _, label_name in MODELS}
        old_content_type = old_content_types.get()
        old_permission = old_apps.get_model("auth", "Permission").objects.get(codename="add_fairevaluation")

        after = migrate()
        assert set(AFTER_THE_MOVE.items()) <= set(after.loader.applied_migrations)
        ContentType.objects.clear_cache()

        for model, label_name in MODELS:
            fields, old_rows = held[label_name]
            assert len(old_rows) == (2 if model is Work else 1), f"{label_name} was not populated"
            # Today's model may have gained fields since; the ones it had must hold the same values.
            assert set(fields) <= {field.attname for field in model._meta.concrete_fields}, model
            assert list(model.objects.order_by("pk").values(*fields)) == old_rows, f"{model._meta.label} changed"

        # The evaluations are today's scoring model over the table they always had.
        assert FairEvaluation._meta.app_label == "scoring"
        assert FairEvaluation._meta.db_table == "papers_fairevaluation"
        evaluation = FairEvaluation.objects.get()
        assert (evaluation.work_id, evaluation.raw, evaluation.checks) == (4242, 66.4375, CHECKS)
        assert list(FairEvaluation.objects.current()) == [evaluation]
        assert list(Work.objects.get(pk=4242).fair_evaluations.all()) == [evaluation]

        # The content type moved rather than a new one appearing beside it, and the permission
        # on it came along, so the user given it before the move still holds it.
        content_type = ContentType.objects.get_for_model(FairEvaluation)
        assert (content_type.pk, content_type.app_label) == (old_content_type.pk, "scoring")
        assert not ContentType.objects.filter(app_label="papers", model="fairevaluation").exists()
        permission = Permission.objects.get(content_type=content_type, codename="add_fairevaluation")
        assert permission.pk == old_permission.pk
        user = get_user_model().objects.get(pk=user_id)
        assert user.has_perm("scoring.add_fairevaluation")
        assert not user.has_perm("papers.add_fairevaluation")
    finally:
        # Whatever happened above, the next test finds the database at the latest head.
        migrate()
        ContentType.objects.clear_cache()
