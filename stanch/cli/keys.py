"""``stanch keys create|list|revoke``: API keys for the HTTP API.

The key is printed once, as the last word of the last line of ``create``; only its SHA-256 is kept.
Creating and revoking a key are audit events (``key.create``, ``key.revoke``), never with the key.
"""

from __future__ import annotations

import json

import typer

from stanch.cli.audit import cli_actor
from stanch.cli.choices import SCOPES
from stanch.cli.transaction import cli_write

keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


@keys_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Who or what uses the key."),
    scopes: str = typer.Option(..., "--scopes", help=f"Comma-separated: {', '.join(SCOPES)}."),
) -> None:
    """Create a key and print it (it cannot be shown again)."""
    from stanch.desk.audit import record
    from stanch.store import create_key

    with cli_write(ValueError) as session:
        row, key = create_key(session, name, scopes)
        record(session, cli_actor(), "key.create", ("key", row.id), {"name": row.name, "scopes": row.scopes})
    typer.echo(
        f"Created API key {row.id} ({row.name!r}, scopes {row.scopes}). Store it now; it is not shown again."
    )
    typer.echo(f"API key: {key}")


@keys_app.command("list")
def list_command() -> None:
    """One JSON line per key (never the key itself)."""
    from stanch.store import list_keys, open_database

    db = open_database()
    try:
        with db.read() as session:
            for row in list_keys(session):
                typer.echo(json.dumps({
                    "id": row.id,
                    "name": row.name,
                    "prefix": row.prefix,
                    "scopes": row.scopes.split(","),
                    "created": row.created.isoformat(),
                    "last_used": row.last_used.isoformat() if row.last_used else None,
                    "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
                }))  # fmt: skip
    finally:
        db.dispose()


@keys_app.command("revoke")
def revoke(key: str = typer.Argument(..., help="The key's id or prefix (see stanch keys list).")) -> None:
    """Revoke a key: requests using it are refused from now on."""
    from stanch.desk.audit import record
    from stanch.store import revoke_key

    with cli_write(LookupError) as session:
        row = revoke_key(session, key)
        assert row.revoked_at is not None
        record(session, cli_actor(), "key.revoke", ("key", row.id), {"name": row.name})
        typer.echo(json.dumps({"id": row.id, "name": row.name, "revoked_at": row.revoked_at.isoformat()}))


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
