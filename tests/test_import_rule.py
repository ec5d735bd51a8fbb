"""The import rule, enforced: which package may import which.

- papers/ (the corpus) imports nothing from scoring or datarank_site.
- scoring/ (every number) may import papers.models and nothing else of papers; nothing of
  datarank_site.
- The adapters — tasks.py, admin.py, admin_views.py and anything under management/ of either
  app — may import any module of the other app, but still nothing of datarank_site.
- datarank_site/pages/ (and any package beside it) reads both apps; nothing in papers/ or
  scoring/ imports datarank_site.pages.
- Migrations are held to the same rule.
- A task is never sent by name to get around the rule (send_task, signature("…"), app.tasks[…]).

Every import is read with the standard library's `ast`: module-level, function-level and
`if TYPE_CHECKING:` ones, `import x.y` and `from x import y`, relative imports resolved against
the file's package, and importlib.import_module / __import__ of a literal name. Plain `ast`
rather than import-linter: the rule has an exception per file (the adapters), the send-by-name
check needs the syntax tree anyway, and a hundred lines keep the failure messages ours and the
dependencies as they are."""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("papers", "scoring")
ADAPTER_MODULES = ("tasks.py", "admin.py", "admin_views.py")
SITE = "datarank_site"
PAGES = "datarank_site.pages"

CORPUS_RULE = "papers/ imports nothing from scoring or datarank_site (only its adapters may import scoring)"
SCORING_RULE = (
    "scoring/ may import papers.models and nothing else of papers (only its adapters may import more), "
    "nothing of the site"
)
ADAPTER_RULE = "the adapters may import across papers and scoring, but nothing of datarank_site"
PAGES_RULE = "nothing in papers/ or scoring/ imports datarank_site.pages: the pages read the apps, never the reverse"


@dataclass(frozen=True)
class Import:
    path: str  # relative to the project root, with forward slashes: papers/openalex/client.py
    line: int
    statement: str  # the statement, unparsed onto one line, for the failure message
    target: str  # what it imports, absolute: papers.models, papers.models.Work, scoring.services


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    statement: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: `{self.statement}` — {self.why}"


def within(target: str, package: str) -> bool:
    return target == package or target.startswith(package + ".")


def is_adapter(path: str) -> bool:
    """tasks.py, admin.py, admin_views.py at an app's root, or anything under its management/."""
    app, *inside = path.split("/")
    return app in APPS and (inside[:1] == ["management"] or (len(inside) == 1 and inside[0] in ADAPTER_MODULES))


def package_of(path: str) -> list[str]:
    """The package a file's relative imports start from: papers/openalex/client.py and
    papers/openalex/__init__.py are both in papers.openalex."""
    return path.removesuffix(".py").split("/")[:-1]


def resolve(path: str, module: str | None, level: int) -> str | None:
    """The absolute name `from <level dots><module> import …` means in `path`; None when the dots
    climb above the top-level package (Python refuses such an import too)."""
    if level == 0:
        return module
    package = package_of(path)
    if level - 1 >= len(package):
        return None
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def literal_str(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def callee_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def imports_in(path: str, source: str) -> list[Import]:
    """Every import in the source, read as if it were the file at `path`."""
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, ast.unparse(node), alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(path, node.module, node.level)
            if base is None:
                dots = "." * node.level
                found.append(Import(path, node.lineno, ast.unparse(node), f"<{dots}{node.module or ''} above the top>"))
                continue
            for alias in node.names:
                # `from papers import models` imports papers.models; `from papers.models import
                # Work` is read as papers.models.Work, which lies within papers.models.
                target = base if alias.name == "*" else f"{base}.{alias.name}"
                found.append(Import(path, node.lineno, ast.unparse(node), target))
        elif isinstance(node, ast.Call) and callee_name(node) in {"import_module", "__import__"}:
            name = literal_str(node.args[0] if node.args else None)
            if name is not None:
                level = len(name) - len(name.lstrip("."))
                target = resolve(path, name.lstrip(".") or None, level) if level else name
                found.append(Import(path, node.lineno, ast.unparse(node), target or f"<{name} above the top>"))
    return sorted(found, key=lambda item: (item.line, item.target))


def why_forbidden(item: Import) -> str | None:
    """Which part of the rule the import breaks, or None when the rule allows it."""
    app = item.path.split("/")[0]
    if item.target.startswith("<"):
        return "a relative import above the top-level package cannot be resolved"
    if within(item.target, PAGES):
        return PAGES_RULE
    if is_adapter(item.path):
        return ADAPTER_RULE if within(item.target, SITE) else None
    if app == "papers" and (within(item.target, "scoring") or within(item.target, SITE)):
        return CORPUS_RULE
    if app == "scoring" and (
        within(item.target, SITE) or (within(item.target, "papers") and not within(item.target, "papers.models"))
    ):
        return SCORING_RULE
    return None


def violations_in(path: str, source: str) -> list[Finding]:
    return [
        Finding(item.path, item.line, item.statement, f"reaches {item.target}: {why}")
        for item in imports_in(path, source)
        if (why := why_forbidden(item)) is not None
    ]


def sends_by_name_in(path: str, source: str) -> list[Finding]:
    """Tasks reached by their registered name instead of by importing them."""
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        why = None
        if isinstance(node, ast.Call):
            name = callee_name(node)
            named = [node.args[0]] if node.args else []
            named += [keyword.value for keyword in node.keywords if keyword.arg in {"name", "task", "varies"}]
            is_string = any(literal_str(arg) is not None or isinstance(arg, ast.JoinedStr) for arg in named)
            if name == "send_task":
                why = "send_task sends a task by name"
            elif name in {"signature", "subtask", "Signature"} and is_string:
                why = "a signature built from a task's name"
            elif (
                name == "get"
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "tasks"
            ):
                why = "a task looked up by name in the Celery registry"
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "tasks":
            why = "a task looked up by name in the Celery registry"
        if why:
            found.append(Finding(path, node.lineno, ast.unparse(node), f"{why}; import the task instead"))
    return found


def app_files() -> dict[str, str]:
    """Every Python file of both apps, migrations included, by relative path."""
    files = {}
    for app in APPS:
        for file in sorted((ROOT / app).rglob("*.py")):
            if "__pycache__" not in file.parts:
                files[file.relative_to(ROOT).as_posix()] = file.read_text(encoding="utf-8")
    return files


def fail_on(found: list[Finding], what: str) -> None:
    if found:
        pytest.fail(f"{what}:\n" + "\n".join(f"  {finding}" for finding in found), pytrace=False)


def findings(*, where) -> list[Finding]:
    return [finding for path, source in app_files().items() if where(path) for finding in violations_in(path, source)]


# --- the rule, on the code --------------------------------------------------------------------


def test_the_corpus_imports_nothing_from_scoring_or_the_site():
    fail_on(findings(where=lambda path: path.startswith("papers/") and not is_adapter(path)), "The corpus imports")


def test_scoring_reads_only_the_corpus_models():
    fail_on(findings(where=lambda path: path.startswith("scoring/") and not is_adapter(path)), "Scoring imports")


def test_the_adapters_may_cross_between_the_apps_but_never_reach_the_site():
    fail_on(findings(where=is_adapter), "The adapters import")


def test_nothing_in_the_apps_imports_the_public_pages():
    pages = [
        Finding(item.path, item.line, item.statement, f"reaches {item.target}: {PAGES_RULE}")
        for path, source in app_files().items()
        for item in imports_in(path, source)
        if within(item.target, PAGES)
    ]
    fail_on(pages, "The apps import the public pages")


def test_migrations_are_held_to_the_rule_too():
    checked = app_files()
    on_disk = {file.relative_to(ROOT).as_posix() for app in APPS for file in (ROOT / app / "migrations").glob("*.py")}
    assert {
        "papers/migrations/0007_move_fair_evaluation.py",
        "scoring/migrations/0004_move_fair_evaluation.py",
    } <= on_disk
    assert on_disk <= checked.keys(), "a migration escapes the checks above"
    found = [finding for path in sorted(on_disk) for finding in violations_in(path, checked[path])]
    fail_on(found, "Migrations import")


def test_no_task_is_sent_by_name():
    sent = [finding for path, source in app_files().items() for finding in sends_by_name_in(path, source)]
    fail_on(sent, "Tasks sent by name, around the import rule")


# --- the checker, on itself: a broken checker must not pass silently --------------------------


def test_the_checker_reads_the_whole_tree():
    files = app_files()
    assert {"papers/models.py", "papers/openalex/client.py", "scoring/fair/metrics.py"} <= files.keys()
    assert {"papers/tasks.py", "scoring/admin.py", "papers/management/commands/track.py"} <= set(
        filter(is_adapter, files)
    )
    assert not is_adapter("papers/openalex/refresh.py")
    assert not is_adapter("scoring/fair/tasks.py")
    # The reads the rule allows are seen, so the tests above are not passing on an empty list.
    targets = {
        (path.split("/")[0], is_adapter(path), item.target.split(".")[0])
        for path, source in files.items()
        for item in imports_in(path, source)
    }
    assert {("scoring", False, "papers"), ("papers", True, "scoring"), ("scoring", True, "papers")} <= targets


def test_the_checker_catches_an_upward_import_inside_a_function():
    source = "def f():\n    from scoring.models import PaperScore\n"
    found = violations_in("papers/x.py", source)
    assert [(f.path, f.line, f.statement, f.why) for f in found] == [
        ("papers/x.py", 2, "from scoring.models import PaperScore", f"reaches scoring.models.PaperScore: {CORPUS_RULE}")
    ]
    assert str(found[0]).startswith("papers/x.py:2: `from scoring.models import PaperScore`")


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("papers/x.py", "import scoring.models\n"),
        ("papers/x.py", "import scoring\n"),
        ("papers/x.py", "from scoring import services\n"),
        (
            "papers/openalex/x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from scoring.models import A\n",
        ),
        ("papers/x.py", "try:\n    import datarank_site.settings\nexcept ImportError:\n    pass\n"),
        ("papers/x.py", "import importlib\nimportlib.import_module('scoring.services')\n"),
        ("papers/x.py", "class C:\n    def m(self):\n        __import__('scoring')\n"),
        ("papers/templatetags/x.py", "from scoring.models import PaperScore\n"),
        ("scoring/x.py", "from papers import facts\n"),
        ("scoring/x.py", "import papers\n"),
        ("scoring/x.py", "from papers import *\n"),
        ("scoring/x.py", "from papers.openalex.records import normalize_doi\n"),
        ("scoring/fair/x.py", "def f():\n    from papers.datacite import DataCiteClient\n"),
        ("scoring/x.py", "from datarank_site.pages.views import home\n"),
        ("scoring/migrations/0009_x.py", "from papers.facts import gather_facts\n"),
        ("papers/tasks.py", "from datarank_site.celery import app\n"),
        ("scoring/admin.py", "from datarank_site.pages import views\n"),
        ("scoring/management/commands/x.py", "import datarank_site\n"),
        ("papers/openalex/x.py", "from ... import anything\n"),
    ],
)
def test_the_checker_catches_every_form_of_a_forbidden_import(path, source):
    assert violations_in(path, source), f"{source!r} in {path} was not reported"


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("scoring/x.py", "from papers.models import Work\n"),
        ("scoring/x.py", "from papers import models\n"),
        ("scoring/x.py", "import papers.models\n"),
        ("scoring/fair/x.py", "from .. import models\nfrom . import metrics\n"),
        ("papers/openalex/x.py", "from . import records\nfrom ..models import Work\n"),
        ("papers/tasks.py", "from scoring.tasks import rescore_corpus_task\n"),
        ("papers/admin.py", "from scoring.admin_views import queue_rescore\n"),
        ("scoring/tasks.py", "from papers.facts import gather_facts\n"),
        ("scoring/management/commands/x.py", "from papers.openalex.records import openalex_number\n"),
        ("papers/migrations/0009_x.py", "from django.db import migrations\n"),
        ("papers/x.py", "import scoringly\nimport papers_extra\n"),
    ],
)
def test_the_checker_allows_what_the_rule_allows(path, source):
    assert violations_in(path, source) == []


def test_relative_imports_resolve_against_the_files_package():
    def targets(path, source):
        return [item.target for item in imports_in(path, source)]

    assert targets("papers/openalex/x.py", "from . import z\n") == ["papers.openalex.z"]
    assert targets("papers/openalex/__init__.py", "from . import z\n") == ["papers.openalex.z"]
    assert targets("papers/openalex/x.py", "from ..models import Work\n") == ["papers.models.Work"]
    assert targets("scoring/fair/metrics.py", "from .. import datarank\n") == ["scoring.datarank"]
    assert targets("scoring/x.py", "from .fair.metrics import METHOD_VERSION\n") == [
        "scoring.fair.metrics.METHOD_VERSION"
    ]


@pytest.mark.parametrize(
    "source",
    [
        "from celery import current_app\ncurrent_app.send_task('scoring.tasks.rescore_corpus_task')\n",
        "def f(app):\n    app.send_task(name)\n",
        "from celery import signature\nsignature('scoring.tasks.rescore_corpus_task').delay()\n",
        "import celery\ncelery.signature(name=f'scoring.tasks.{n}')\n",
        "from celery import current_app\ncurrent_app.tasks['scoring.tasks.rescore_corpus_task'].delay()\n",
        "def f(app):\n    return app.tasks.get('scoring.tasks.rescore_corpus_task')\n",
    ],
)
def test_the_checker_catches_a_task_sent_by_name(source):
    assert sends_by_name_in("papers/x.py", source), f"{source!r} was not reported"


def test_a_task_imported_and_signed_is_not_sent_by_name():
    source = "from scoring.tasks import rescore_corpus_task\nrescore_corpus_task.signature((1,)).delay()\n"
    assert sends_by_name_in("papers/tasks.py", source) == []
