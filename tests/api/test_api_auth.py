"""Every endpoint needs a valid key with the right scope: 401 without one, 403 with the wrong scope."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from stanch.store import create_key, revoke_key
from tests.api.conftest import Api

ENDPOINTS = [
    ("post", "/v1/match", "match"),
    ("post", "/v1/match/batch", "match"),
    ("post", "/v1/hash", "match"),
    ("get", "/v1/banks", "bank"),
    ("post", "/v1/banks", "bank"),
    ("get", "/v1/banks/ncii", "bank"),
    ("post", "/v1/banks/ncii/entries", "bank"),
    ("delete", "/v1/banks/ncii/entries/1", "bank"),
]


def test_missing_key_is_401_saying_how_to_send_one(api: Api) -> None:
    for method, path, _ in ENDPOINTS:
        response = api.client.request(method, path, json={"pdq": "0" * 64})
        assert response.status_code == 401, path
        assert "Authorization: Bearer" in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer stanch_000000000000_nope", "Bearer nonsense", "Basic abc", "Bearer "]
)
def test_wrong_key_is_401(api: Api, header: str) -> None:
    response = api.client.post("/v1/match", json={"pdq": "0" * 64}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_revoked_key_is_401(api: Api) -> None:
    assert api.post("/v1/match", "match", json={"pdq": "0" * 64}).status_code == 200
    prefix = api.keys["match"].split("_")[1]
    with api.db.write() as session:
        revoke_key(session, prefix)
    deadline = time.monotonic() + 5  # a remembered key is checked again in the background
    while (response := api.post("/v1/match", "match", json={"pdq": "0" * 64})).status_code == 200:
        assert time.monotonic() < deadline, "the revoked key was still accepted after 5 s"
        time.sleep(0.02)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_wrong_scope_is_403_naming_the_scope(api: Api) -> None:
    for method, path, scope in ENDPOINTS:
        other = "bank" if scope == "match" else "match"
        response = api.client.request(method, path, json={"pdq": "0" * 64}, headers=api.headers(other))
        assert response.status_code == 403, path
        assert repr(scope) in response.json()["detail"]
        desk = api.client.request(method, path, json={"pdq": "0" * 64}, headers=api.headers("desk"))
        assert desk.status_code == 403, path


def test_admin_key_may_do_everything(api: Api) -> None:
    with api.db.write() as session:
        _, admin = create_key(session, "admin", ["admin"])
    headers = {"Authorization": f"Bearer {admin}"}
    assert api.client.post("/v1/banks", json={"name": "ncii"}, headers=headers).status_code == 201
    assert api.client.post("/v1/match", json={"pdq": "0" * 64}, headers=headers).status_code == 200


def test_a_remembered_key_is_not_held_up_by_a_long_write(api: Api) -> None:
    """Matching must go on while, e.g., a big import holds SQLite's write lock."""
    assert api.post("/v1/match", "match", json={"pdq": "0" * 64}).status_code == 200
    started, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with api.db.write() as session:
            session.execute(text("UPDATE api_keys SET name = name"))
            started.set()
            release.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert started.wait(10)
        for _ in range(5):
            begun = time.monotonic()
            assert api.post("/v1/match", "match", json={"pdq": "0" * 64}).status_code == 200
            assert time.monotonic() - begun < 2.0
    finally:
        release.set()
        writer.join()
