"""The documentation covers what Stanch has (datasette's tests/test_docs.py is the model).

What counts as documented, so that every engineer's page passes the same way (docs/index.md, "How the
docs are checked", says the same for writers):

- a command (``stanch bank create``) must be named in the hand-written pages, docs/**/*.md, in
  backticks or not: the generated reference lists every command, so counting it would prove nothing;
- an option is documented by its help text, which the generated CLI reference (docs/reference/cli.md,
  built from the command) shows: an option with no help fails; naming its flag in a page is welcome;
- a ``STANCH_*`` environment variable read anywhere in stanch/ must be named in the hand-written pages;
- an HTTP route (each method of each OpenAPI path) must be named in the hand-written pages by its path
  as the schema writes it (``/v1/banks/{name}``), with its method (``GET``) within ``NEAR`` characters,
  before or after: the generated HTTP reference has every route, but a platform engineer needs prose.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from stanch.api.reference import openapi_schema, routes
from stanch.cli.reference import commands

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NEAR = 300
"""How far (in characters) from a route's path its method may be named."""


@cache
def prose() -> str:
    """The text of every hand-written page."""
    return "\n".join(path.read_text() for path in sorted(DOCS.rglob("*.md")))


def environment_variables() -> list[str]:
    names: set[str] = set()
    for path in (ROOT / "stanch").rglob("*.py"):
        names.update(re.findall(r"\b(STANCH_[A-Z0-9_]*[A-Z0-9])\b", path.read_text()))
    return sorted(names)


COMMANDS = [entry.path for entry in commands()]
OPTIONS = [(entry.path, option.opts[0], option) for entry in commands() for option in entry.options()]
ROUTES = [(method, path) for method, path, _ in routes(openapi_schema())]


def test_the_lists_are_not_empty() -> None:
    """A broken walk of the command or of the schema must not pass every test below by finding nothing."""
    assert "stanch bank create" in COMMANDS and "stanch hash" in COMMANDS
    assert ("POST", "/v1/match") in ROUTES
    assert "STANCH_DATABASE_URL" in environment_variables()


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_documented(command: str) -> None:
    assert re.search(rf"{re.escape(command)}(?![\w-])", prose()), f"`{command}` is named in no page of docs/"


@pytest.mark.parametrize(("command", "flag", "option"), OPTIONS, ids=[f"{c} {f}" for c, f, _ in OPTIONS])
def test_option_has_help(command: str, flag: str, option: object) -> None:
    assert getattr(option, "help", None), f"{command} {flag} has no help text for the CLI reference"


@pytest.mark.parametrize("name", environment_variables())
def test_environment_variable_is_documented(name: str) -> None:
    assert re.search(rf"\b{name}\b", prose()), f"{name} is read in stanch/ but named in no page of docs/"


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_is_documented(method: str, path: str) -> None:
    text = prose()
    spots = [m.start() for m in re.finditer(rf"{re.escape(path)}(?![\w/{{-])", text)]
    assert spots, f"{path} is named in no page of docs/"
    assert any(re.search(rf"\b{method}\b", text[max(0, at - NEAR): at + len(path) + NEAR]) for at in spots), \
        f"{path} is named in docs/, but never with {method} near it"
