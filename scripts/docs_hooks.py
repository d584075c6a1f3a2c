"""mkdocs hook (mkdocs.yml ``hooks:``): generate the CLI and HTTP reference pages at build time.

The pages are made from the ``stanch`` command (``stanch.cli.reference``) and the OpenAPI schema
(``stanch.api.reference``), so they cannot drift from the code; they are never written into docs/.
"""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    from stanch.api.reference import markdown as http_markdown
    from stanch.api.reference import openapi_schema
    from stanch.cli.reference import markdown as cli_markdown

    files.append(File.generated(config, "reference/cli.md", content=cli_markdown()))
    files.append(File.generated(config, "reference/http.md", content=http_markdown(openapi_schema())))
    return files
