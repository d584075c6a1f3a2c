"""The ``stanch`` command: a thin layer over the library, one module per command group.

Each module exposes ``register(app)``; commands parse arguments, call the library and print.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="stanch",
    help="Stanch: hash media, keep banks of hashes, match uploads, run the takedown desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def stanch() -> None:
    """Stanch: hash media, keep banks of hashes, match uploads, run the takedown desk."""


def main() -> None:
    """Entry point of the console script."""
    app()


# Command groups register themselves below, one module each: ``from stanch.cli import X`` then
# ``X.register(app)``.
from stanch.cli import hash as hash_command  # noqa: E402

hash_command.register(app)
from stanch.cli import match as match_command  # noqa: E402
from stanch.cli import serve as serve_command  # noqa: E402

match_command.register(app)
serve_command.register(app)
from stanch.cli import actions as actions_command  # noqa: E402
from stanch.cli import audit as audit_command  # noqa: E402

actions_command.register(app)
audit_command.register(app)
from stanch.cli import request as request_command  # noqa: E402
from stanch.cli import users as users_command  # noqa: E402

request_command.register(app)
users_command.register(app)
from stanch.cli import desk as desk_command  # noqa: E402
from stanch.cli import report as report_command  # noqa: E402

desk_command.register(app)
report_command.register(app)
from stanch.cli import sweep as sweep_command  # noqa: E402

sweep_command.register(app)
from stanch.cli import bank as bank_command  # noqa: E402
from stanch.cli import keys as keys_command  # noqa: E402

bank_command.register(app)
keys_command.register(app)
from stanch.cli import prune as prune_command  # noqa: E402

prune_command.register(app)
from stanch.cli import exchange as exchange_command  # noqa: E402

exchange_command.register(app)
from stanch.cli import dsa as dsa_command  # noqa: E402

dsa_command.register(app)
