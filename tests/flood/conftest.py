"""The API client fixture of tests/api, for the flood guard's API tests."""

from tests.api.conftest import api  # noqa: F401
