"""``stanch users``: reviewer accounts for the desk (create, list, new password, two-step sign-in).

Passwords are generated, printed once and stored only as argon2id hashes. Every change is recorded in
the audit log with the operating-system user who ran the command (``cli:<user>``).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import typer

from stanch.cli.audit import cli_actor
from stanch.cli.choices import ROLES, choice
from stanch.cli.transaction import cli_write

if TYPE_CHECKING:
    Role = str
else:
    Role = choice(ROLES)

ACCOUNT_EMAIL = "The account's email address (its sign-in name)."

users_app = typer.Typer(help="Reviewer accounts for the desk.", no_args_is_help=True)
totp_app = typer.Typer(help="Two-step sign-in with an authenticator app.", no_args_is_help=True)
users_app.add_typer(totp_app, name="totp")


@users_app.command("create")
def create_command(
    email: str = typer.Option(..., "--email", help="The reviewer's email address (their sign-in name)."),
    role: Role = typer.Option("reviewer", "--role", help="reviewer (works the queue) or admin (also manages "
                             "accounts)."),
) -> None:
    """Create an account and print its password (shown only now)."""
    from stanch.desk.users import UserError, create_user, new_password

    password = new_password()
    with cli_write(UserError) as session:
        create_user(session, email, role, password, actor=cli_actor())
    typer.echo(f"Created {role} {email.strip().lower()}. Password (shown only now): {password}")


@users_app.command("list")
def list_command() -> None:
    """One line per account: email, role, two-step sign-in on or off."""
    from stanch.desk.users import list_users
    from stanch.store import open_database

    db = open_database()
    try:
        with db.read() as session:
            for user in list_users(session):
                fields = [user.email, user.role, "totp" if user.totp_secret else "no-totp"]
                typer.echo("\t".join(fields + (["disabled"] if user.disabled_at else [])))
    finally:
        db.dispose()


@users_app.command("password")
def password_command(email: str = typer.Option(..., "--email", help=ACCOUNT_EMAIL)) -> None:
    """Give an account a new password (printed once) and sign it out everywhere."""
    from stanch.desk.users import UserError, get_user, new_password, set_password

    password = new_password()
    with cli_write(UserError) as session:
        set_password(session, get_user(session, email), password, actor=cli_actor())
    typer.echo(f"New password for {email} (shown only now): {password}")


@users_app.command("disable")
def disable_command(email: str = typer.Option(..., "--email", help=ACCOUNT_EMAIL)) -> None:
    """Stop an account from signing in; its sessions end at once (the account stays for the audit log)."""
    from stanch.desk.users import UserError, disable_user, get_user

    with cli_write(UserError) as session:
        disable_user(session, get_user(session, email), actor=cli_actor())
    typer.echo(f"{email} can no longer sign in.")


@totp_app.command("on")
def totp_on_command(email: str = typer.Option(..., "--email", help=ACCOUNT_EMAIL)) -> None:
    """Turn on two-step sign-in; prints the otpauth:// link to add to an authenticator app, and its QR code
    in block characters (light on dark: scan it from a terminal with a dark background)."""
    import segno

    from stanch.desk.users import UserError, enable_totp, get_user

    with cli_write(UserError) as session:
        uri = enable_totp(session, get_user(session, email), actor=cli_actor())
    drawing = io.StringIO()
    segno.make(uri, error="m").terminal(out=drawing, compact=True)
    typer.echo(drawing.getvalue(), nl=False)
    typer.echo("Scan this code with the authenticator app, or add the link (or type the secret in it):")
    typer.echo(uri)


@totp_app.command("off")
def totp_off_command(email: str = typer.Option(..., "--email", help=ACCOUNT_EMAIL)) -> None:
    """Turn off two-step sign-in (for a lost phone)."""
    from stanch.desk.users import UserError, disable_totp, get_user

    with cli_write(UserError) as session:
        disable_totp(session, get_user(session, email), actor=cli_actor())
    typer.echo(f"Two-step sign-in is off for {email}.")


def register(app: typer.Typer) -> None:
    """Add ``stanch users`` to the ``stanch`` command."""
    app.add_typer(users_app, name="users")
