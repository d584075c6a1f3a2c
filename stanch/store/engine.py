"""Engines: how Stanch connects to SQLite and PostgreSQL.

SQLite (the default) runs in WAL mode so that readers never wait for a writer, with foreign keys on
and a busy timeout. Its write transactions start with ``BEGIN IMMEDIATE``: a transaction that reads
first and writes later would otherwise fail with "database is locked" whenever another process wrote
in between, and a busy timeout cannot help with that. PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session

from stanch.bodies import unstorable
from stanch.config import ConfigError, database_url

_SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "stanch_immediate"
"""Execution option that makes a SQLite transaction take the write lock when it begins."""


def normalize_url(url: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` URLs to the psycopg 3 driver SQLAlchemy should use."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class UnstorableText(ValueError):
    """A statement was given text no column can hold (a NUL, or a lone surrogate); nothing was run.

    Checked for every statement, whatever layer built it, so such text is always a refusal (422) and
    never a database error (500) with the row in the log.
    """


def _refuse_unstorable(parameters: Any) -> None:
    rows = parameters if isinstance(parameters, list | tuple) else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else row if isinstance(row, list | tuple) else [row]
        for value in values:
            if isinstance(value, str):
                problem = unstorable(value)
                if problem:
                    raise UnstorableText(f"a text value {problem}; remove it and try again")


class _NoRows(logging.Filter):
    """Drops SQLAlchemy's DEBUG records: at that level it logs every row a query returns (a request's
    name, email and statement among them), which ``hide_parameters`` does not cover. Statements
    (INFO, with their parameters hidden) still log for whoever turns the engine's logging on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_ROW_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine")


def _quiet_rows() -> None:
    for name in _ROW_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoRows) for f in logger.filters):
            logger.addFilter(_NoRows())


class RedactedDatabaseError(Exception):
    """The database driver's error without the details that quote the row (PostgreSQL's ``DETAIL:
    Key (email)=(someone@example.org) already exists``), so that neither a traceback in a server log
    nor an error shown to anyone can carry a requester's data. ``sqlstate`` keeps the error's code."""

    def __init__(self, original: BaseException) -> None:
        diag = getattr(original, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        text = primary or (str(original).splitlines() or [type(original).__name__])[0]
        super().__init__(f"{type(original).__name__}: {text}")
        self.sqlstate: str | None = getattr(original, "sqlstate", None)


def _redact_errors(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _redact(context: Any) -> BaseException | None:
        error = context.sqlalchemy_exception
        if not isinstance(error, DBAPIError) or context.original_exception is None:
            return None
        return type(error)(context.statement, None, RedactedDatabaseError(context.original_exception),
                           hide_parameters=True, connection_invalidated=error.connection_invalidated)


def _guard_text(engine: Engine) -> None:
    _quiet_rows()
    _redact_errors(engine)

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any,
               _executemany: bool) -> None:
        _refuse_unstorable(parameters)


def create_store_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: ``STANCH_DATABASE_URL``) with Stanch's connection settings.

    ``hide_parameters``: a failed statement's error (and SQLAlchemy's echo log) would otherwise carry
    its bound values, and an insert of a request carries the requester's name, email and statement.
    """
    setting = "the database URL" if url else "STANCH_DATABASE_URL"
    text = url or database_url()
    try:
        parsed = make_url(normalize_url(text))
    except ArgumentError:
        raise ConfigError(f"{setting}: {text!r} is not a database URL (use sqlite:///path/to/stanch.db "
                          "or postgresql://user@host/db)") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            if not folder.is_dir():  # not created: a mistyped path would silently start an empty database
                raise ConfigError(f"{setting}: the folder {str(folder)!r} of the SQLite file does not exist "
                                  "(create it, or correct the path)")
        engine = create_engine(
            parsed, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
        )
        _configure_sqlite(engine)
        _guard_text(engine)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"{setting}: unsupported database {parsed.get_backend_name()!r}: use sqlite:/// "
                          "or postgresql://")
    engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    _guard_text(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, busy timeout, and transactions begun by us rather than by the driver.

    This is SQLAlchemy's documented recipe for pysqlite: the driver's own implicit BEGIN is turned
    off so that DDL is transactional (migrations are all-or-nothing) and writes can use IMMEDIATE.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: large imports update big indexes
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_postgresql(connection: Connection | Session) -> bool:
    """Whether this connection or session talks to PostgreSQL (the bulk paths differ)."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    return bind.dialect.name == "postgresql"


def write_engine(engine: Engine) -> Engine:
    """The engine whose SQLite transactions begin with ``BEGIN IMMEDIATE``; PostgreSQL ignores it."""
    return engine.execution_options(**{_IMMEDIATE: True})
