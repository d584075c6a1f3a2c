"""POST /v1/match and /v1/match/batch: verdicts, trust, allow-lists, quality, digests, and bad input."""

from __future__ import annotations

import json
import re

import pytest

from tests.api.conftest import Api

PDQ = "d8f8f0cce0f4e84ef8f0f0b0b8f0e0e0c6c6e6e2f2f2f0f0e0c0c0c0e0f0f8fc"
NEAR = PDQ[:-2] + "00"
"""PDQ with its last byte (0xfc) cleared: 6 bits away."""
FAR = "".join("f" if c == "0" else "0" for c in "0" * 64)
MD5 = "0a21c8f85a55a9e276ffc2c53f6887c4"


def bits_apart(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def add(api: Api, bank: str, body: dict) -> int:
    response = api.post(f"/v1/banks/{bank}/entries", "bank", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def match(api: Api, body: dict) -> dict:
    response = api.post("/v1/match", "match", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_added_hash_matches_at_once_and_withdrawn_hash_at_once_stops(api: Api) -> None:
    api.create_bank("ncii")
    entry = add(api, "ncii", {"pdq": PDQ, "source": "case 12"})
    verdict = match(api, {"pdq": NEAR})
    assert verdict["matched"] is True
    assert verdict["action"] == "block"
    assert verdict["matches"] == [
        {
            "bank": "ncii", "entry": entry, "distance": bits_apart(PDQ, NEAR), "signal": "pdq",
            "hash": "original", "query": "original", "trust": "block",
        }
    ]  # fmt: skip
    response = api.client.delete(f"/v1/banks/ncii/entries/{entry}", headers=api.headers("bank"))
    assert response.status_code == 200
    assert response.json()["withdrawn"] is True
    assert match(api, {"pdq": NEAR}) == {"matched": False, "action": "none", "matches": []}


def test_no_match_beyond_the_bank_threshold(api: Api) -> None:
    api.create_bank("strict", threshold=2)
    add(api, "strict", {"pdq": PDQ})
    assert bits_apart(PDQ, NEAR) > 2
    assert match(api, {"pdq": NEAR})["matched"] is False
    assert match(api, {"pdq": PDQ})["matched"] is True
    assert match(api, {"pdq": FAR})["matched"] is False


def test_review_bank_gives_review_and_block_wins_over_review(api: Api) -> None:
    api.create_bank("partner", trust="review")
    add(api, "partner", {"pdq": PDQ})
    assert match(api, {"pdq": PDQ})["action"] == "review"
    api.create_bank("ncii")
    add(api, "ncii", {"pdq": PDQ})
    verdict = match(api, {"pdq": PDQ})
    assert verdict["action"] == "block"
    assert [m["bank"] for m in verdict["matches"]] == ["ncii", "partner"]


def test_allow_list_hit_wins_and_nothing_is_actioned(api: Api) -> None:
    api.create_bank("ncii")
    api.create_bank("benign", kind="allow")
    add(api, "ncii", {"pdq": PDQ})
    add(api, "benign", {"pdq": PDQ})
    verdict = match(api, {"pdq": NEAR})
    assert verdict["action"] == "allow"
    assert verdict["matched"] is False
    assert {m["bank"] for m in verdict["matches"]} == {"ncii", "benign"}
    assert any("allow-list" in note for note in verdict["notes"])


def test_low_quality_hash_never_matches_alone_but_a_digest_does(api: Api) -> None:
    api.create_bank("ncii")
    add(api, "ncii", {"pdq": PDQ, "md5": MD5})
    low = match(api, {"pdq": PDQ, "quality": 30})
    assert low["matched"] is False
    assert "below 50" in low["notes"][0]
    exact = match(api, {"pdq": PDQ, "quality": 30, "md5": MD5.upper()})
    assert exact["matched"] is True
    assert exact["matches"] == [
        {"bank": "ncii", "entry": 1, "distance": 0, "signal": "md5", "trust": "block"}
    ]


def test_md5_and_sha256_exact_matches_are_their_own_signal(api: Api) -> None:
    api.create_bank("ncii")
    entry = add(api, "ncii", {"md5": MD5, "sha256": "ab" * 32})
    assert match(api, {"md5": MD5})["matches"][0]["signal"] == "md5"
    verdict = match(api, {"sha256": "AB" * 32})
    assert verdict["matches"] == [
        {"bank": "ncii", "entry": entry, "distance": 0, "signal": "sha256", "trust": "block"}
    ]
    assert match(api, {"md5": "1" * 32})["matched"] is False


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"pdq": "abc"}, "64 hex digits; this one has 3"),
        ({"pdq": "z" * 64}, "only the hex digits"),
        ({"pdq": 12}, "pdq"),
        ({"md5": "xyz"}, "MD5"),
        ({"sha256": "a" * 63}, "SHA-256"),
        ({}, "send a hash to match"),
        ({"pdq": PDQ, "signals": {"kind": "image"}}, "not both"),
        ({"signals": {"kind": "sound"}}, "kind"),
        ({"signals": {"kind": "image", "pdq": PDQ}}, "signals"),
        ({"pdq": PDQ, "colour": "red"}, "colour"),
        ({"pdq": PDQ, "quality": 101}, "quality"),
        ([PDQ], "body"),
    ],
)
def test_malformed_lookups_are_422_naming_the_problem(api: Api, body: object, problem: str) -> None:
    response = api.post("/v1/match", "match", json=body)
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"]


def test_a_body_that_is_not_json_is_422(api: Api) -> None:
    response = api.post("/v1/match", "match", content=b"{pdq", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_batch_answers_in_order(api: Api) -> None:
    api.create_bank("ncii")
    entry = add(api, "ncii", {"pdq": PDQ, "md5": MD5})
    items = [{"pdq": FAR}, {"pdq": NEAR}, {"md5": MD5}, {"pdq": PDQ, "quality": 10}]
    response = api.post("/v1/match/batch", "match", json={"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["matched"] for r in results] == [False, True, True, False]
    assert results[1]["matches"][0]["entry"] == entry
    assert results[2]["matches"][0]["signal"] == "md5"


def test_batch_of_1000_is_answered_and_1001_refused_naming_the_limit(api: Api) -> None:
    ok = api.post("/v1/match/batch", "match", json={"items": [{"pdq": PDQ}] * 1000})
    assert ok.status_code == 200
    assert len(ok.json()["results"]) == 1000
    response = api.post("/v1/match/batch", "match", json={"items": [{"pdq": PDQ}] * 1001})
    assert response.status_code == 413
    assert "at most 1,000 items" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"items": [{"pdq": PDQ}, {"pdq": "00"}]}, "items.1.pdq"),
        ({"items": "all"}, '{"items": [...]}'),
        ([{"pdq": PDQ}], '{"items": [...]}'),
    ],
)
def test_malformed_batch_is_422_naming_the_item(api: Api, body: object, problem: str) -> None:
    response = api.post("/v1/match/batch", "match", json=body)
    assert response.status_code == 422
    assert problem in response.json()["detail"]


def test_openapi_describes_every_endpoint_and_every_reference_resolves(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    paths = {"/v1/hash", "/v1/match", "/v1/match/batch", "/v1/banks", "/v1/banks/{bank}",
             "/v1/banks/{bank}/entries", "/v1/banks/{bank}/entries/{entry_id}"}  # fmt: skip
    assert paths <= set(document["paths"])
    references = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)))
    assert {"HashQuery", "BatchQuery"} <= references <= set(document["components"]["schemas"])
