"""The security suite: one test (or more) per defect of the red-team pass (issue 11), each of which
failed on the code before its fix. Storage tests run on SQLite and PostgreSQL like the rest."""

from tests.api.conftest import api  # noqa: F401  (the API client fixture, on both databases)
