from django.db import migrations, models

MARKS = "papers_scoreinputchange"
# Skipped inside a transaction that ran SET LOCAL datarank.skip_score_marks = 'on': a snapshot
# build, which publishes a complete run computed from exactly the rows it writes.
SKIP = "IF current_setting('datarank.skip_score_marks', true) = 'on' THEN RETURN NULL; END IF;"

# PostgreSQL: statement triggers over the transition tables, one INSERT … SELECT per statement
# however many rows it wrote, so a bulk load pays for its marks once per batch.
POSTGRESQL = f"""
CREATE FUNCTION datarank_mark_cited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {SKIP}
    INSERT INTO {MARKS} (work_id) SELECT DISTINCT cited_id FROM changed_links;
    RETURN NULL;
END $$;
CREATE TRIGGER score_mark_citation_added AFTER INSERT ON papers_citation
    REFERENCING NEW TABLE AS changed_links FOR EACH STATEMENT EXECUTE FUNCTION datarank_mark_cited();
CREATE TRIGGER score_mark_citation_removed AFTER DELETE ON papers_citation
    REFERENCING OLD TABLE AS changed_links FOR EACH STATEMENT EXECUTE FUNCTION datarank_mark_cited();

-- A work's own counts make its base; as a citer, its counts weigh in every paper it cites.
CREATE FUNCTION datarank_mark_work_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {SKIP}
    WITH changed AS (
        SELECT n.id FROM new_works n JOIN old_works o ON o.id = n.id
        WHERE n.cited_by_count IS DISTINCT FROM o.cited_by_count
           OR n.referenced_works_count IS DISTINCT FROM o.referenced_works_count
    )
    INSERT INTO {MARKS} (work_id)
    SELECT id FROM changed UNION SELECT c.cited_id FROM papers_citation c JOIN changed w ON c.citing_id = w.id;
    RETURN NULL;
END $$;
CREATE TRIGGER score_mark_work_counts AFTER UPDATE ON papers_work
    REFERENCING NEW TABLE AS new_works OLD TABLE AS old_works FOR EACH STATEMENT EXECUTE FUNCTION datarank_mark_work_counts();

-- Authors decide self-citations, between a paper and each of its citers.
CREATE FUNCTION datarank_mark_authorships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {SKIP}
    INSERT INTO {MARKS} (work_id)
    SELECT work_id FROM changed_authorships
    UNION SELECT c.cited_id FROM papers_citation c JOIN changed_authorships a ON c.citing_id = a.work_id;
    RETURN NULL;
END $$;
CREATE TRIGGER score_mark_authorship_added AFTER INSERT ON papers_authorship
    REFERENCING NEW TABLE AS changed_authorships FOR EACH STATEMENT EXECUTE FUNCTION datarank_mark_authorships();
CREATE TRIGGER score_mark_authorship_removed AFTER DELETE ON papers_authorship
    REFERENCING OLD TABLE AS changed_authorships FOR EACH STATEMENT EXECUTE FUNCTION datarank_mark_authorships();

CREATE FUNCTION datarank_mark_authorships_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {SKIP}
    WITH moved AS (
        SELECT n.work_id AS new_work, o.work_id AS old_work FROM new_authorships n JOIN old_authorships o ON o.id = n.id
        WHERE n.work_id <> o.work_id OR n.author_id <> o.author_id
    ), works AS (SELECT new_work AS work_id FROM moved UNION SELECT old_work FROM moved)
    INSERT INTO {MARKS} (work_id)
    SELECT work_id FROM works UNION SELECT c.cited_id FROM papers_citation c JOIN works w ON c.citing_id = w.work_id;
    RETURN NULL;
END $$;
CREATE TRIGGER score_mark_authorship_moved AFTER UPDATE ON papers_authorship
    REFERENCING NEW TABLE AS new_authorships OLD TABLE AS old_authorships
    FOR EACH STATEMENT EXECUTE FUNCTION datarank_mark_authorships_moved();
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER score_mark_citation_added ON papers_citation;
DROP TRIGGER score_mark_citation_removed ON papers_citation;
DROP TRIGGER score_mark_work_counts ON papers_work;
DROP TRIGGER score_mark_authorship_added ON papers_authorship;
DROP TRIGGER score_mark_authorship_removed ON papers_authorship;
DROP TRIGGER score_mark_authorship_moved ON papers_authorship;
DROP FUNCTION datarank_mark_cited(), datarank_mark_work_counts(), datarank_mark_authorships(),
    datarank_mark_authorships_moved();
"""


def _authorship_marks(row: str) -> str:
    return (
        f"INSERT INTO {MARKS} (work_id) VALUES ({row}.work_id); "
        f"INSERT INTO {MARKS} (work_id) SELECT cited_id FROM papers_citation WHERE citing_id = {row}.work_id;"
    )


# SQLite has row triggers only; the same marks, a row at a time.
SQLITE = [
    f"CREATE TRIGGER score_mark_citation_added AFTER INSERT ON papers_citation "
    f"BEGIN INSERT INTO {MARKS} (work_id) VALUES (NEW.cited_id); END",
    f"CREATE TRIGGER score_mark_citation_removed AFTER DELETE ON papers_citation "
    f"BEGIN INSERT INTO {MARKS} (work_id) VALUES (OLD.cited_id); END",
    f"CREATE TRIGGER score_mark_work_counts AFTER UPDATE OF cited_by_count, referenced_works_count ON papers_work "
    "WHEN OLD.cited_by_count IS NOT NEW.cited_by_count OR OLD.referenced_works_count IS NOT NEW.referenced_works_count "
    f"BEGIN INSERT INTO {MARKS} (work_id) VALUES (NEW.id); "
    f"INSERT INTO {MARKS} (work_id) SELECT cited_id FROM papers_citation WHERE citing_id = NEW.id; END",
    f"CREATE TRIGGER score_mark_authorship_added AFTER INSERT ON papers_authorship BEGIN {_authorship_marks('NEW')} END",
    f"CREATE TRIGGER score_mark_authorship_removed AFTER DELETE ON papers_authorship "
    f"BEGIN {_authorship_marks('OLD')} END",
    "CREATE TRIGGER score_mark_authorship_moved AFTER UPDATE OF work_id, author_id ON papers_authorship "
    "WHEN OLD.work_id IS NOT NEW.work_id OR OLD.author_id IS NOT NEW.author_id "
    f"BEGIN {_authorship_marks('NEW')} {_authorship_marks('OLD')} END",
]
SQLITE_TRIGGERS = ("citation_added", "citation_removed", "work_counts", "authorship_added", "authorship_removed",
                   "authorship_moved")  # fmt: skip


def create_triggers(apps, schema_editor) -> None:
    statements = [POSTGRESQL] if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE)
        return
    for name in SQLITE_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER score_mark_{name}")


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0017_author_orcid_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScoreInputChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("work_id", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
