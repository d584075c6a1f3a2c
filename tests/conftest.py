"""Fixtures shared by every layer's tests: the conformance data and the databases."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from stanch.store import Database

REPO = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    """CI sets CI=true; there a missing service or data set is a failure, never a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def conformance_dir() -> Path | None:
    """Meta's public PDQ/vPDQ sample media: ``STANCH_CONFORMANCE_DIR`` or ../shared/conformance."""
    path = Path(os.environ.get("STANCH_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance"))
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The conformance folder; skipped locally when absent, a failure under CI=true."""
    path = conformance_dir()
    if path is None:
        message = "conformance data not found: set STANCH_CONFORMANCE_DIR or put shared/ beside the repo"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def require():
    """``require(ok, message)``: skip locally, fail under CI=true, when a tool or service is missing.

    A fixture so that conftest files in subfolders (which cannot import this one) can use it.
    """

    def check(ok: bool, message: str) -> None:
        if not ok:
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)

    return check


# Databases: every storage test runs on SQLite and on PostgreSQL (fixtures db_url, database, session).

DEFAULT_TEST_PG_URL = "postgresql://127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""
    from stanch.store import open_database

    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    open_database(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    """A throwaway database created for this test session on STANCH_TEST_PG_URL's server, migrated
    once and dropped at the end. Skipped when PostgreSQL is unreachable, a failure under CI=true."""
    import sqlalchemy
    from sqlalchemy.engine import make_url

    from stanch.store import normalize_url, open_database

    server = make_url(normalize_url(os.environ.get("STANCH_TEST_PG_URL", DEFAULT_TEST_PG_URL)))
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"stanch_test_{os.urandom(6).hex()}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except sqlalchemy.exc.OperationalError as error:
        admin.dispose()
        message = f"PostgreSQL is unreachable at {server.render_as_string()}: {error.orig}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    url = server.set(database=name).render_as_string(hide_password=False)
    open_database(url).dispose()
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated database with empty tables, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "stanch.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgresql_database")
    _empty_postgresql_tables(url)
    return url


def _empty_postgresql_tables(url: str) -> None:
    import sqlalchemy

    from stanch.store import create_store_engine

    engine = create_store_engine(url)
    with engine.begin() as connection:
        tables = sqlalchemy.inspect(connection).get_table_names()
        names = ", ".join(f'"{t}"' for t in tables if t != "alembic_version")
        if names:
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """``stanch.store.Database`` on ``db_url``."""
    from stanch.store import open_database

    db = open_database(db_url, migrate=False)
    yield db
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """One write transaction on ``database``, committed when the test ends."""
    with database.write() as write_session:
        yield write_session


@pytest.fixture(scope="session")
def ray_runtime(require: Any) -> Iterator[None]:
    """One local Ray runtime for the whole test session (starting Ray takes seconds): sweeps and
    index shards share it."""
    try:
        import ray
    except ImportError:
        require(False, "Ray is not installed: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
