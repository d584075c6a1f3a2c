"""/docs and /redoc work with no network: Swagger UI and ReDoc come from the package, not a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from stanch.api.app import DOCS_ASSETS, create_app


def test_api_docs_load_their_assets_from_the_server() -> None:
    client = TestClient(create_app())  # no lifespan: the pages need no database
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        scripts = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert scripts, page
        for url in scripts:
            assert url.startswith(DOCS_ASSETS + "/"), url  # nothing from another host
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 10_000
        assert "cdn." not in html and "fonts.googleapis" not in html
