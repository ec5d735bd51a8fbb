"""A pytest plugin that scripts/mutation loads into every mutmut run (`-p mutation_pytest`).

- mutmut 3 forks one worker per mutant from a process that has already imported Django, so every
  worker would create, fill and drop the same SQLite test database file at once (the settings
  name one file, DATARANK_VAR_DIR/test.sqlite3): a test failing on a clobbered database would
  count as a kill. Here each process gets a file of its own.
- Hypothesis is derandomized, so a mutant is killed, or not, by the same examples on every run.
- mutmut runs a mutant's tests with -x, so the first failing test ends the run: the cheap tests
  go first (by the call times mutmut measured), and those that need the database or a
  module-scoped fixture of the project's (all real records read in) go last. Which tests run is
  unchanged, only their order: a mutant that survives has still met every one of its tests.

Not for the ordinary test run: `make test` never loads it.
"""

import os

import pytest
from hypothesis import settings as hypothesis_settings

hypothesis_settings.register_profile("mutation", derandomize=True, database=None)
hypothesis_settings.load_profile("mutation")


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    test_settings = database.setdefault("TEST", {})
    name = test_settings.get("NAME")
    if name and str(name) != ":memory:" and database["ENGINE"].endswith("sqlite3"):
        base, ext = os.path.splitext(str(name))
        test_settings["NAME"] = f"{base}-{os.getpid()}{ext}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        from mutmut.state import state

        durations: dict[str, float] = state().duration_by_test
    except ImportError:
        durations = {}

    def cost(item: pytest.Item) -> tuple[bool, float]:
        return _expensive(item), durations.get(item.nodeid, 0.0)

    items.sort(key=cost)


def _expensive(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db"):
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    # A fixture of the project's own (a baseid under the tests) set up once for many tests.
    return any(
        definition.scope != "function" and definition.baseid
        for definitions in info.name2fixturedefs.values()
        for definition in definitions
    )
