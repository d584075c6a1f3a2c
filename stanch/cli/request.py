"""``stanch request file``: ask a running Stanch server for removal, with hashes made by ``stanch hash``.

For people who prefer the command line to the /report page: the files are hashed on their own
computer (``stanch hash``) and only the hashes travel, over HTTP to the server's public
``POST /v1/requests``. File names in the hash file are left out of the request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from stanch.cli.choices import RELATIONSHIPS, choice

if TYPE_CHECKING:
    import httpx

    Relationship = str
else:
    Relationship = choice(RELATIONSHIPS)

request_app = typer.Typer(help="Ask a Stanch server to remove content (as the /report page does).",
                          no_args_is_help=True)


def _hashes(path: Path | None) -> list[dict[str, Any]]:
    from stanch.desk.intake import InvalidRequest
    from stanch.desk.request_forms import pasted_hashes

    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}", param_hint="--hashes") from None
    try:
        return pasted_hashes(text)
    except InvalidRequest as error:
        raise typer.BadParameter(f"{path}: {error}", param_hint="--hashes") from None


@request_app.command("file")
def file_command(
    name: str = typer.Option(..., "--name", help="Your name (we use it only for this request)."),
    email: str = typer.Option(..., "--email", help="Where we tell you about the decision."),
    location: list[str] = typer.Option(..., "--location", help="Web address (URL) or item id of the "
                                       "content; repeat for several."),
    signature: str = typer.Option(..., "--signature", help="Your full name, typed, as your signature."),
    relationship: Relationship = typer.Option(
        "self", "--relationship", help="self (you are shown) or authorised (you act for the person shown)."),
    good_faith: bool = typer.Option(False, "--good-faith", help="State in good faith that the content was "
                                    "published without consent (required)."),
    hashes: Path | None = typer.Option(None, "--hashes", help="Output of 'stanch hash' for your own copies "
                                       "(one JSON line per file)."),
    explanation: str | None = typer.Option(None, "--explanation", help="Anything else we should know."),
    under_18: bool = typer.Option(False, "--under-18", help="The person shown was under 18 when the pictures "
                                  "or videos were made (even if older now)."),
    server: str = typer.Option("http://127.0.0.1:8000", "--server", help="The Stanch server's address."),
) -> None:
    """File a removal request; prints the case number and secret code (which cannot be recovered)."""
    import httpx

    from stanch.desk.request_forms import GOOD_FAITH_STATEMENT

    body: dict[str, Any] = {
        "requester": {"name": name, "email": email}, "relationship": relationship, "signature": signature,
        "good_faith": good_faith, "statement": GOOD_FAITH_STATEMENT, "locations": location,
        "hashes": _hashes(hashes), "under_18": under_18,
    }
    if explanation:
        body["explanation"] = explanation
    try:
        response = httpx.post(server.rstrip("/") + "/v1/requests", json=body, timeout=60)
    except httpx.HTTPError as error:
        typer.echo(f"error: could not reach {server}: {error}", err=True)
        raise typer.Exit(2) from None
    if response.status_code != 201:
        typer.echo(f"error: the server refused the request ({response.status_code}): {_detail(response)}",
                   err=True)
        raise typer.Exit(1)
    receipt = response.json()
    typer.echo(f"Request received. Decision due by {receipt['deadline']}.")
    typer.echo("Keep the secret code safe: it is shown only now and cannot be recovered if lost.")
    typer.echo(f"case {receipt['id']}")
    typer.echo(f"token {receipt['token']}")
    if "help" in receipt:
        typer.echo(f"{receipt['help']['text']} {receipt['help']['name']}: {receipt['help']['url']}")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return response.text[:500]
    return json.dumps(body.get("detail", body) if isinstance(body, dict) else body)


def register(app: typer.Typer) -> None:
    """Add ``stanch request`` to the ``stanch`` command."""
    app.add_typer(request_app, name="request")
