"""The HMA-compatible API, driven the way a platform's HMA integration drives HMA 1.x.

``HmaClient`` knows only HMA's documented requests (base URL, paths, query parameters, JSON bodies,
multipart ``photo``/``video`` fields; as in HMA's tests ``OpenMediaMatch/tests/test_api.py``) plus the
one thing Stanch adds, the ``Authorization`` header; the assertions are on HMA's response shapes. None of
Stanch's own API helpers are used, so a shape that drifted from HMA's fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from stanch.desk.audit import events
from tests.api.conftest import JSON_LIMIT, Api, encoded, picture
from tests.api.test_api_video import video
from tests.local_server import QuietHandler, local_server


class HmaClient:
    """A minimal HMA client: a base URL, a bearer key, HMA's paths."""

    def __init__(self, client: TestClient, base_url: str, key: str | None) -> None:
        self.client, self.base = client, base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, path: str, **params: Any) -> Response:
        return self.client.get(self.base + path, params=params, headers=self.headers)

    def post(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Response:
        return self.client.post(self.base + path, headers={**self.headers, **(headers or {})}, **kwargs)

    def delete(self, path: str) -> Response:
        return self.client.delete(self.base + path, headers=self.headers)


def hma(api: Api, scope: str | None) -> HmaClient:
    return HmaClient(api.client, "/hma", api.keys[scope] if scope else None)


PHOTO = encoded(picture(7))
OTHER_PHOTO = encoded(picture(8))


def test_status_answers_load_balancers_without_a_key(api: Api) -> None:
    response = hma(api, None).get("/status")
    assert response.status_code == 200
    assert response.content == b"I-AM-ALIVE"


def test_every_other_route_needs_a_key_with_its_scope(api: Api) -> None:
    assert hma(api, None).get("/c/banks").status_code == 401
    assert hma(api, "match").get("/c/banks").status_code == 403
    assert hma(api, "bank").get("/m/lookup", signal_type="pdq", signal="0" * 64).status_code == 403
    assert hma(api, None).post("/h/hash", files={"photo": ("a.png", PHOTO, "image/png")}).status_code == 401


def test_bank_create_list_get_follow_hma_names_and_answers(api: Api) -> None:
    curator = hma(api, "bank")
    created = curator.post("/c/banks", json={"name": "NCII_REPORTS"})
    assert created.status_code == 201
    assert created.json() == {"name": "NCII_REPORTS", "matching_enabled_ratio": 1.0}
    assert curator.post("/c/banks", json={"name": "NCII_REPORTS"}).status_code == 403
    bad = curator.post("/c/banks", json={"name": "lower-case"})
    assert bad.status_code == 400 and bad.json() == {"message": "Bank names must be UPPER_WITH_UNDERSCORE"}
    assert curator.post("/c/banks", json={"name": "HALF", "enabled_ratio": 0.5}).status_code == 400
    assert {"name": "NCII_REPORTS", "matching_enabled_ratio": 1.0} in curator.get("/c/banks").json()
    assert curator.get("/c/bank/NCII_REPORTS").json() == {"name": "NCII_REPORTS",
                                                          "matching_enabled_ratio": 1.0}
    missing = curator.get("/c/bank/NO_SUCH_BANK")
    assert missing.status_code == 404 and missing.json() == {"message": "bank 'NO_SUCH_BANK' not found"}


def test_hash_signal_add_lookup_and_delete_as_an_hma_client_does(api: Api) -> None:
    curator, matcher = hma(api, "bank"), hma(api, "match")
    assert curator.post("/c/banks", json={"name": "NCII_REPORTS"}).status_code == 201

    hashed = matcher.post("/h/hash", files={"photo": ("photo.png", PHOTO, "image/png")})
    assert hashed.status_code == 200 and set(hashed.json()) == {"pdq"}
    pdq = hashed.json()["pdq"]

    added = curator.post("/c/bank/NCII_REPORTS/signal", json={"pdq": pdq})
    assert added.status_code == 200
    content_id = added.json()["id"]
    assert added.json() == {"id": content_id, "signals": {"pdq": pdq}}

    by_hash = matcher.get("/m/lookup", signal_type="pdq", signal=pdq)
    assert by_hash.json() == {"NCII_REPORTS": [{"bank_content_id": content_id, "distance": "0"}]}
    by_file = matcher.post("/m/lookup", files={"photo": ("photo.png", PHOTO, "image/png")})
    assert by_file.json() == {"pdq": {"NCII_REPORTS": [{"bank_content_id": content_id, "distance": "0"}]}}
    other = matcher.post("/m/lookup", files={"photo": ("o.png", OTHER_PHOTO, "image/png")})
    assert other.json() == {"pdq": {}}
    assert matcher.get("/m/lookup", signal_type="pdq", signal=pdq, banks="OTHER_BANK").json() == {}

    content = curator.get(f"/c/bank/NCII_REPORTS/content/{content_id}", include_signals="true").json()
    assert content == {
        "id": content_id,
        "disable_until_ts": 0,
        "original_media_uri": None,
        "bank": {"name": "NCII_REPORTS", "matching_enabled_ratio": 1.0},
        "signals": {"pdq": pdq},
    }

    assert curator.delete(f"/c/bank/NCII_REPORTS/content/{content_id}").json() == {"deleted": 1}
    assert matcher.get("/m/lookup", signal_type="pdq", signal=pdq).json() == {}
    assert curator.delete(f"/c/bank/NCII_REPORTS/content/{content_id}").json() == {"deleted": 0}
    assert curator.get(f"/c/bank/NCII_REPORTS/content/{content_id}").json()["disable_until_ts"] > 0
    with api.db.read() as session:
        actions = [e.action for e in events(session)]
    assert actions.count("bank.create") == 1 and actions.count("entry.withdraw") == 1


def test_content_upload_and_video_md5_signals(api: Api) -> None:
    curator, matcher = hma(api, "bank"), hma(api, "match")
    curator.post("/c/banks", json={"name": "VIDEOS"})
    uploaded = curator.post("/c/bank/VIDEOS/content", files={"photo": ("p.png", PHOTO, "image/png")})
    assert uploaded.status_code == 200 and set(uploaded.json()["signals"]) == {"pdq"}
    found = matcher.post("/m/lookup", files={"photo": ("p.png", PHOTO, "image/png")}).json()
    assert [m["bank_content_id"] for m in found["pdq"]["VIDEOS"]] == [uploaded.json()["id"]]

    md5 = "0123456789abcdef0123456789abcdef"
    video = curator.post("/c/bank/VIDEOS/signal", json={"video_md5": md5.upper(), "note": "from a partner"})
    assert video.json() == {"id": video.json()["id"], "signals": {"video_md5": md5}}
    assert matcher.get("/m/lookup", signal_type="video_md5", signal=md5).json() == {
        "VIDEOS": [{"bank_content_id": video.json()["id"], "distance": "-"}]  # pytx's NO_DISTANCE_STR
    }
    for body, message in (({"tmk": "x"}, "No such signal type tmk"), ({}, "No signals given"),
                          ({"video_md5": "short"}, "Invalid video_md5 signal")):
        refused = curator.post("/c/bank/VIDEOS/signal", json=body)
        assert refused.status_code == 400 and refused.json()["message"].startswith(message)
    assert matcher.get("/m/lookup", signal_type="tmk", signal="x").status_code == 400


def test_compare_and_index_status_shapes(api: Api) -> None:
    matcher = hma(api, "match")
    pdq = matcher.post("/h/hash", files={"photo": ("p.png", PHOTO, "image/png")}).json()["pdq"]
    flipped = f"{int(pdq, 16) ^ 0x1FF:064x}"  # nine bits differ
    assert matcher.post("/m/compare", json={"pdq": [pdq, flipped]}).json() == {"pdq": [True, {"distance": 9}]}
    far = f"{int(pdq, 16) ^ ((1 << 64) - 1):064x}"
    assert matcher.post("/m/compare", json={"pdq": [pdq, far]}).json() == {"pdq": [False, {"distance": 64}]}
    assert matcher.post("/m/compare", json={"pdq": [pdq]}).status_code == 400
    status = matcher.get("/m/index/status").json()
    assert set(status) == {"pdq", "video_md5"}
    assert set(status["pdq"]) == {"present", "built_to", "size"}
    assert set(matcher.get("/m/index/status", signal_type="pdq").json()) == {"pdq"}


class _Media(QuietHandler):
    def do_GET(self) -> None:
        self.send_body(200, PHOTO, "image/png")


def test_hash_by_url_uses_the_safe_fetcher(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    matcher = hma(api, "match")
    with local_server(_Media) as base:
        refused = matcher.get("/h/hash", url=f"{base}/photo.png")  # 127.0.0.1 is not a public address
        assert refused.status_code == 400 and refused.json()["message"].startswith("Failed to fetch URL")
        monkeypatch.setenv("STANCH_RESOLVER_ALLOW_PRIVATE", "1")
        by_url = matcher.get("/h/hash", url=f"{base}/photo.png").json()
        curator = hma(api, "bank")
        curator.post("/c/banks", json={"name": "BY_URL"})
        banked = curator.post("/c/bank/BY_URL/content", params={"url": f"{base}/photo.png"}).json()
        hit = [{"bank_content_id": banked["id"], "distance": "0"}]
        assert matcher.get("/m/lookup", url=f"{base}/photo.png").json() == {"pdq": {"BY_URL": hit}}
        assert matcher.get("/m/lookup", url=f"{base}/photo.png", signal_type="pdq").json() == {"BY_URL": hit}
    by_upload = matcher.post("/h/hash", files={"photo": ("p.png", PHOTO, "image/png")}).json()
    assert by_url == by_upload == banked["signals"]


def test_bad_bodies_get_hma_error_bodies(api: Api) -> None:
    curator, matcher = hma(api, "bank"), hma(api, "match")
    as_json = {"Content-Type": "application/json"}
    not_json = curator.post("/c/banks", content=b"{nope", headers=as_json)
    assert not_json.status_code == 422 and "message" in not_json.json()
    huge = curator.post("/c/banks", content=b"[" * (JSON_LIMIT + 10), headers=as_json)
    assert huge.status_code == 413 and "message" in huge.json()
    wrong_field = matcher.post("/h/hash", files={"file": ("p.png", PHOTO, "image/png")})
    assert wrong_field.status_code == 422 and "'photo' or 'video'" in wrong_field.json()["message"]
    not_media = matcher.post("/h/hash", files={"photo": ("p.png", b"not an image", "image/png")})
    assert not_media.status_code == 400 and not_media.json()["message"].startswith("cannot hash this file")
    assert matcher.post("/m/compare", json={"pdq": ["zz", "0" * 64]}).status_code == 400


def test_videos_match_exactly_under_video_md5_and_by_frames_under_vpdq(api: Api) -> None:
    curator, matcher = hma(api, "bank"), hma(api, "match")
    curator.post("/c/banks", json={"name": "CLIPS"})
    original = video(21, 8.0)
    banked = curator.post("/c/bank/CLIPS/content", files={"video": ("clip.mp4", original, "video/mp4")})
    assert set(banked.json()["signals"]) == {"video_md5"}
    hit = [{"bank_content_id": banked.json()["id"], "distance": "-"}]
    same = matcher.post("/m/lookup", files={"video": ("same.mp4", original, "video/mp4")}).json()
    assert same == {"video_md5": {"CLIPS": hit}, "vpdq": {}}
    copy = video(21, 5.0, start=2.0, bit_rate=60_000)
    trimmed = matcher.post("/m/lookup", files={"video": ("copy.mp4", copy, "video/mp4")}).json()
    assert trimmed["video_md5"] == {}
    assert [m["bank_content_id"] for m in trimmed["vpdq"]["CLIPS"]] == [banked.json()["id"]]
