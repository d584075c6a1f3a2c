"""Banks and entries over HTTP: create, list, read, add (hash or signals), withdraw, and bad input."""

from __future__ import annotations

import threading
import time

import pytest

from stanch.signals import hash_media, signals_record
from stanch.store import get_bank, iter_entries
from tests.api.conftest import JSON_LIMIT, Api, encoded, picture

PDQ = "d8f8f0cce0f4e84ef8f0f0b0b8f0e0e0c6c6e6e2f2f2f0f0e0c0c0c0e0f0f8fc"


def test_create_list_and_read_banks(api: Api) -> None:
    created = api.post("/v1/banks", "bank", json={"name": "partner", "threshold": 20, "trust": "review"})
    assert created.status_code == 201
    assert created.json()["threshold"] == 20
    api.create_bank("ncii")
    api.post("/v1/banks/ncii/entries", "bank", json={"pdq": PDQ})
    listed = api.client.get("/v1/banks", headers=api.headers("bank")).json()["banks"]
    assert [(b["name"], b["entries"], b["trust"]) for b in listed] == [
        ("ncii", 1, "block"),
        ("partner", 0, "review"),
    ]
    one = api.client.get("/v1/banks/partner", headers=api.headers("bank")).json()
    assert (one["name"], one["threshold"], one["kind"]) == ("partner", 20, "match")


@pytest.mark.parametrize(
    ("body", "status", "problem"),
    [
        ({"name": "has space"}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": "x", "trust": "maybe"}, 422, "trust"),
        ({"name": "x", "kind": "deny"}, 422, "kind"),
        ({"name": "x", "threshold": -1}, 422, "threshold"),
        ({"name": "x", "threshold": 300}, 422, "threshold"),
    ],
)
def test_bad_bank_is_refused_naming_the_problem(api: Api, body: dict, status: int, problem: str) -> None:
    response = api.post("/v1/banks", "bank", json=body)
    assert response.status_code == status
    assert problem in response.json()["detail"]


def test_a_bank_name_is_taken_once(api: Api) -> None:
    api.create_bank("ncii")
    response = api.post("/v1/banks", "bank", json={"name": "ncii"})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_unknown_bank_or_entry_is_404_naming_it(api: Api) -> None:
    headers = api.headers("bank")
    assert "'nope'" in api.client.get("/v1/banks/nope", headers=headers).json()["detail"]
    response = api.post("/v1/banks/nope/entries", "bank", json={"pdq": PDQ})
    assert response.status_code == 404
    assert "no bank named 'nope'" in response.json()["detail"]
    api.create_bank("ncii")
    response = api.client.delete("/v1/banks/ncii/entries/99", headers=headers)
    assert response.status_code == 404
    assert "no entry 99" in response.json()["detail"]
    assert api.client.delete("/v1/banks/nope/entries/1", headers=headers).status_code == 404


def test_entry_from_signals_keeps_its_source_and_all_its_hashes(api: Api) -> None:
    api.create_bank("ncii")
    record = signals_record(hash_media(encoded(picture(3)), purpose="bank"))
    response = api.post("/v1/banks/ncii/entries", "bank", json={"signals": record, "source": "upload-17.png"})
    assert response.status_code == 201
    entry = response.json()
    assert (entry["bank"], entry["kind"], entry["source"]) == ("ncii", "image", "upload-17.png")
    shown = api.client.get(f"/v1/banks/ncii/entries/{entry['id']}", headers=api.headers("bank")).json()
    assert shown["source"] == "upload-17.png" and shown["withdrawn"] is False
    with api.db.read() as session:
        [stored] = list(iter_entries(session, get_bank(session, "ncii")))
    assert {h.role for h in stored.hashes} >= {"original", "flipx", "rotate90", "mirrored", "rotated90"}
    assert stored.entry.md5 == record["md5"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"pdq": "00"}, "64 hex digits"),
        ({"source": "x"}, "send a hash"),
        ({"signals": {"kind": "image", "pdq": PDQ}}, "signals"),
    ],
)
def test_malformed_entry_is_422_and_nothing_is_written(api: Api, body: dict, problem: str) -> None:
    api.create_bank("ncii")
    response = api.post("/v1/banks/ncii/entries", "bank", json=body)
    assert response.status_code == 422
    assert problem in response.json()["detail"]
    with api.db.read() as session:
        assert list(iter_entries(session, get_bank(session, "ncii"), include_withdrawn=True)) == []


def test_withdrawing_twice_is_harmless_and_keeps_the_record(api: Api) -> None:
    api.create_bank("ncii")
    entry = api.post("/v1/banks/ncii/entries", "bank", json={"pdq": PDQ}).json()["id"]
    headers = api.headers("bank")
    first = api.client.delete(f"/v1/banks/ncii/entries/{entry}?reason=appeal+upheld", headers=headers).json()
    second = api.client.delete(f"/v1/banks/ncii/entries/{entry}", headers=headers).json()
    assert first["withdrawn_reason"] == second["withdrawn_reason"] == "appeal upheld"
    assert first["withdrawn_at"] == second["withdrawn_at"]


def test_a_committed_entry_is_never_reported_as_failed(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """If applying the commit locally fails, the answer is still 201 and the background poll applies it."""
    api.create_bank("ncii")
    follower = api.client.app.state.stanch.follower  # type: ignore[attr-defined]
    poll = follower.poll
    calls = []

    def failing_once() -> int:
        if threading.current_thread().name != "stanch-follow" and not calls:
            calls.append(1)
            raise OSError("database connection lost")
        return int(poll())

    monkeypatch.setattr(follower, "poll", failing_once)
    response = api.post("/v1/banks/ncii/entries", "bank", json={"pdq": PDQ})
    assert response.status_code == 201
    assert calls == [1]
    deadline = time.monotonic() + 5
    while not api.post("/v1/match", "match", json={"pdq": PDQ}).json()["matched"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_oversized_json_body_is_413_and_nothing_is_written(api: Api) -> None:
    api.create_bank("ncii")
    body = {"pdq": PDQ, "source": "x" * (JSON_LIMIT + 10)}
    response = api.post("/v1/banks/ncii/entries", "bank", json=body)
    assert response.status_code == 413
    assert "limit of 1 MiB" in response.json()["detail"]
    with api.db.read() as session:
        assert list(iter_entries(session, get_bank(session, "ncii"), include_withdrawn=True)) == []
    assert api.post("/v1/banks", "bank", json={"name": "y" * (JSON_LIMIT + 10)}).status_code == 413
