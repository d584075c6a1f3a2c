"""The HTTP API as a Markdown page, from the OpenAPI schema FastAPI builds (``/openapi.json``).

``scripts/docs_hooks.py`` writes it into the documentation site at build time, so the reference is the
schema the server serves; ``tests/test_docs.py`` reads the same schema to check every route is
documented.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI schema of ``stanch serve``'s app (built without opening a database)."""
    from stanch.api.app import create_app

    return create_app().openapi()


def routes(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(METHOD, path, operation)`` for every operation in the schema, in its order."""
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def _cell(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array" and "items" in schema:
        return f"array of {_schema_name(schema['items'])}"
    return str(schema.get("type", "object"))


def markdown(schema: dict[str, Any]) -> str:
    """The HTTP reference page: every operation's summary, parameters, body and responses."""
    out = ["# HTTP reference", "",
           f"Generated from the OpenAPI schema of `stanch serve` (version {schema['info']['version']}) when",
           "the site is built. A running server serves the same schema at `/openapi.json`, browsable at",
           "`/docs` and `/redoc`. The [platform guide](../guides/platform.md) explains the API by task.", ""]
    for method, path, operation in routes(schema):
        out += [f"## {method} `{path}`", ""]
        if operation.get("summary"):
            out += [f"**{operation['summary']}**", ""]
        if operation.get("description"):
            out += [operation["description"], ""]
        params = operation.get("parameters", [])
        if params:
            out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
            out += [f"| `{p['name']}` | {p['in']} | {_cell(_schema_name(p.get('schema', {})))} | "
                    f"{'yes' if p.get('required') else 'no'} | {_cell(p.get('description'))} |"
                    for p in params]
            out.append("")
        body = operation.get("requestBody", {}).get("content", {})
        if body:
            kinds = ", ".join(f"`{kind}` ({_schema_name(media.get('schema', {}))})"
                              for kind, media in body.items())
            out += [f"Request body: {kinds}.", ""]
        responses = operation.get("responses", {})
        if responses:
            out += ["| status | description |", "|---|---|"]
            out += [f"| {code} | {_cell(r.get('description'))} |" for code, r in responses.items()]
            out.append("")
    out += ["## Schemas", "", "The bodies above, as JSON Schema:", ""]
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        out += [f"### {name}", "", "```json", json.dumps(component, indent=2), "```", ""]
    return "\n".join(out)
