"""The API client fixture of tests/api and the sweep catalog of tests/sweep, for the flood guard's tests."""

from tests.api.conftest import api  # noqa: F401
from tests.sweep.conftest import catalog  # noqa: F401
