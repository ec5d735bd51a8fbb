from tests.fake_openalex.fixtures import fake_openalex  # noqa: F401
