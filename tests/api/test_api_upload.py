"""Uploaded files: hashed in memory (never written), matched even when edited, bounded in size."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import starlette.formparsers
from PIL import Image

from stanch.signals import hash_media, signals_record
from tests.api.conftest import MIRROR_VIEWS, UPLOAD_LIMIT, Api, encoded, picture


def bank_file(api: Api, bank: str, data: bytes, source: str) -> int:
    record = signals_record(hash_media(data, purpose="bank"))
    response = api.post(f"/v1/banks/{bank}/entries", "bank", json={"signals": record, "source": source})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def upload(api: Api, path: str, data: bytes, name: str = "upload.jpg", field: str = "file") -> dict:
    response = api.post(path, "match", files={field: (name, data, "application/octet-stream")})
    return {"status": response.status_code, **response.json()}


def test_hash_endpoint_answers_like_stanch_hash(api: Api) -> None:
    data = encoded(picture(5), "JPEG", quality=90)
    answer = upload(api, "/v1/hash", data, name="holiday.jpg")
    assert answer.pop("status") == 200
    assert answer == {"path": "holiday.jpg", **signals_record(hash_media(data))}


def test_hash_endpoint_hashes_for_a_bank_when_asked(api: Api) -> None:
    data = encoded(picture(5), "JPEG", quality=90)
    answer = upload(api, "/v1/hash?for=bank", data, name="holiday.jpg")
    assert answer.pop("status") == 200
    assert answer == {"path": "holiday.jpg", **signals_record(hash_media(data, purpose="bank"))}
    assert "mirrored" in {v["name"] for v in answer["pdq_variants"]}
    assert upload(api, "/v1/hash?for=banks", data)["status"] == 422


def test_uploaded_copy_matches_the_banked_picture(api: Api) -> None:
    api.create_bank("ncii")
    entry = bank_file(api, "ncii", encoded(picture(7)), "case-3.png")
    copy = encoded(np.asarray(Image.fromarray(picture(7)).resize((200, 150))), "JPEG", quality=40)
    verdict = upload(api, "/v1/match", copy)
    assert verdict["status"] == 200
    assert (verdict["matched"], verdict["action"], verdict["kind"]) == (True, "block", "image")
    assert verdict["matches"][0]["entry"] == entry
    assert upload(api, "/v1/match", encoded(picture(8)))["matched"] is False


def test_letterboxed_mirrored_conformance_picture_matches_through_the_api(
    api: Api, conformance: Path
) -> None:
    original = (conformance / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    api.create_bank("ncii")
    entry = bank_file(api, "ncii", original, "aaa-orig.jpg")
    rgb = np.asarray(Image.open(conformance / "pdq" / "bridge-mods" / "aaa-orig.jpg").convert("RGB"))
    mirrored = rgb[:, ::-1]
    bar = np.zeros((rgb.shape[0] // 4, rgb.shape[1], 3), np.uint8)
    edited = encoded(np.ascontiguousarray(np.concatenate([bar, mirrored, bar])), "JPEG", quality=80)
    verdict = upload(api, "/v1/match", edited)
    assert verdict["matched"] is True, verdict
    [found] = verdict["matches"]
    assert found["entry"] == entry
    assert found["hash"] in MIRROR_VIEWS
    assert found["query"] in {"trimmed", "content"}


def test_upload_is_never_written_to_disk(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an upload was about to be written to a temporary file")

    for module, name in [
        (tempfile, "SpooledTemporaryFile"), (tempfile, "TemporaryFile"), (tempfile, "NamedTemporaryFile"),
        (tempfile, "mkstemp"), (starlette.formparsers, "SpooledTemporaryFile"),
    ]:  # fmt: skip
        monkeypatch.setattr(module, name, refuse)
    noisy = np.random.default_rng(0).integers(0, 256, (700, 700, 3), dtype=np.uint8)
    data = encoded(noisy)
    assert 2**20 < len(data) < UPLOAD_LIMIT  # above Starlette's 1 MB spooling threshold
    assert upload(api, "/v1/match", data)["status"] == 200
    assert upload(api, "/v1/hash", data)["status"] == 200


def test_oversized_upload_is_413_naming_the_limit(api: Api) -> None:
    answer = upload(api, "/v1/match", b"\xff" * (UPLOAD_LIMIT + 100_000))
    assert answer["status"] == 413
    assert "limit of 2 MiB" in answer["detail"]
    assert upload(api, "/v1/hash", b"\xff" * (UPLOAD_LIMIT + 100_000))["status"] == 413


@pytest.mark.parametrize("data", [b"", b"not a picture at all", encoded(picture(1))[:300]])
def test_bad_media_is_422_with_the_reason(api: Api, data: bytes) -> None:
    answer = upload(api, "/v1/match", data)
    assert answer["status"] == 422
    assert answer["detail"].startswith("the file cannot be hashed: ")
    assert len(answer["detail"]) > len("the file cannot be hashed: ")


def test_upload_in_the_wrong_field_or_form_is_refused(api: Api) -> None:
    answer = upload(api, "/v1/match", encoded(picture(1)), field="image")
    assert answer["status"] == 422
    assert "field named 'file'" in answer["detail"]
    response = api.post("/v1/hash", "match", json={"pdq": "0" * 64})
    assert response.status_code == 415
    broken = api.post(
        "/v1/match", "match", content=b"--x\r\nnonsense", headers={"Content-Type": "multipart/form-data"}
    )
    assert broken.status_code == 422
    assert "boundary" in broken.json()["detail"]
