"""``stanch docs``: the documentation site (docs/, mkdocs.yml) served on this machine.

The site is built from the source tree, so this works in a checkout of Stanch with the test extra
installed (``pip install -e ".[test]"`` brings mkdocs-material); ``mkdocs serve`` in the checkout does
the same.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

CHECKOUT = Path(__file__).resolve().parents[2]
"""The folder holding ``mkdocs.yml`` when Stanch runs from a checkout (``pip install -e .``)."""


def docs_command(
    address: str = typer.Option("127.0.0.1:8001", "--address", help="Where to serve the site (host:port)."),
    build: Path | None = typer.Option(None, "--build", help="Write the site as HTML files to this folder "
                                      "instead of serving it."),
) -> None:
    """Serve the documentation site on this machine (from a checkout of Stanch, with mkdocs-material)."""
    config = CHECKOUT / "mkdocs.yml"
    if not config.exists():
        typer.echo(f"error: no mkdocs.yml in {CHECKOUT}: the site's sources come with a checkout of Stanch",
                   err=True)
        raise typer.Exit(2)
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        typer.echo('error: mkdocs is not installed: pip install -e ".[test]" in the checkout', err=True)
        raise typer.Exit(2) from None
    action = ["build", "--strict", "--site-dir", str(build)] if build else ["serve", "--dev-addr", address]
    command = [sys.executable, "-m", "mkdocs", *action, "--config-file", str(config)]
    done = subprocess.run(command, check=False)
    raise typer.Exit(done.returncode)


def register(app: typer.Typer) -> None:
    """Add ``stanch docs`` to the ``stanch`` command."""
    app.command("docs")(docs_command)
