"""``stanch serve``: migrate the database, make sure someone can sign in, then serve the API.

Migrations run once here, before uvicorn starts its worker processes; each worker then builds its own
app (``stanch.api.app.create_app``) with its own in-memory banks, and they converge through the change
feed; each also runs the desk's ticker, the housekeeper (what ``stanch prune`` does, every
``STANCH_PRUNE_HOURS``, one process at a time) and the outbox dispatcher (``STANCH_DISPATCH=0`` leaves
sending to a separate ``stanch actions run``). On the very first start (no API key exists yet) an admin key
with every scope is created and printed this once: only its digest is stored, so it cannot be shown
again. Likewise, when no desk account exists, an admin account is created and its password printed
once.
"""

from __future__ import annotations

import os

import typer

WORKER_START_SECONDS = 120
"""How long uvicorn lets a worker go quiet before restarting it: a worker loading millions of hashes
(or starting on a busy machine) must not be mistaken for a dead one (uvicorn's default is 5 s)."""


def first_admin_key(url: str | None = None) -> str | None:
    """Migrate the database and, if it has no API key at all, create an admin key and return it."""
    from stanch.desk.audit import record
    from stanch.store import SCOPES, create_key, list_keys, open_database

    db = open_database(url)
    try:
        with db.write() as session:
            if list_keys(session):
                return None
            row, key = create_key(session, "admin (created at first start)", list(SCOPES))
            record(session, "system", "key.create", ("key", row.id), {"name": row.name, "scopes": row.scopes})
            return key
    finally:
        db.dispose()


def first_admin_user(url: str | None = None) -> tuple[str, str] | None:
    """If the database has no desk account, create an admin (``STANCH_ADMIN_EMAIL`` or admin@localhost)
    and return its email and password, to print once."""
    from stanch.desk.users import ensure_first_admin
    from stanch.store import open_database

    db = open_database(url)
    try:
        with db.write() as session:
            return ensure_first_admin(session, os.environ.get("STANCH_ADMIN_EMAIL"))
    finally:
        db.dispose()


def check_settings() -> None:
    """Read the server's settings now, so a mistake is one line here (``ConfigError``, exit status 2)
    rather than a traceback from inside the server's start-up."""
    from stanch.actions import ActionSettings
    from stanch.actions.background import dispatch_in_server
    from stanch.config import ConfigError
    from stanch.desk.copy_review import copy_review_hours
    from stanch.housekeeping import prune_hours

    if dispatch_in_server():
        ActionSettings.from_env()
    for read in (prune_hours, copy_review_hours):
        try:
            read()
        except ValueError as error:
            raise ConfigError(str(error)) from None


def serve_command(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Server processes (each holds the banks)."),
) -> None:
    """Serve the HTTP API (and pages) on the database in STANCH_DATABASE_URL."""
    import uvicorn

    from stanch.config import database_url

    check_settings()
    key = first_admin_key()
    if key is not None:
        typer.echo(
            "First start: created an admin API key with every scope. It is shown only now; keep it safe.\n"
            f"  {key}\n"
            f"Use it as:  curl -H 'Authorization: Bearer {key}' http://{host}:{port}/v1/banks\n"
            "Create narrower keys with: stanch keys create --name NAME --scopes match"
        )
    admin = first_admin_user()
    if admin is not None:
        typer.echo(
            "First start: created a desk admin account. Its password is shown only now; keep it safe.\n"
            f"  Sign in at http://{host}:{port}/desk as {admin[0]} with password {admin[1]}\n"
            "Add reviewers with: stanch users create --email EMAIL --role reviewer"
        )
    typer.echo(f"Stanch on {database_url()}: http://{host}:{port}/docs", err=True)
    uvicorn.run(
        "stanch.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )


def register(app: typer.Typer) -> None:
    """Add ``stanch serve`` to the ``stanch`` command."""
    app.command("serve")(serve_command)
