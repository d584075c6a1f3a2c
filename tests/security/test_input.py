"""D6 (deep JSON: 500), D7 (unstorable text: 500), D8 (unbounded integers: 500), and the error text that
showed an in-memory object address. Each answer must be a 4xx naming the problem, nothing stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from stanch.bodies import BodyError, parse_json
from stanch.store.desk_models import TakedownRequest
from tests.api.conftest import Api
from tests.desk.factory import request_body

DEEP = "[" * 1100 + "]" * 1100


@pytest.mark.parametrize(
    ("path", "scope"),
    [("/v1/requests", None), ("/v1/appeals", None), ("/v1/match", "match"), ("/v1/banks", "bank")],
)
def test_deeply_nested_json_is_a_422(api: Api, path: str, scope: str | None) -> None:
    headers = api.headers(scope) if scope else {}
    response = api.client.post(path, content=DEEP, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 422 and "nested" in response.json()["detail"]


def test_deeply_nested_fingerprints_on_the_report_form_are_refused_not_a_500(api: Api) -> None:
    page = api.client.get("/report")
    token = page.text.split('name="form_token" value="', 1)[1].split('"', 1)[0]
    form = {"form_token": token, "name": "A", "email": "a@example.org", "relationship": "self",
            "signature": "A", "good_faith": "on", "statement": "Mine.", "locations": "https://x.example/1",
            "hashes": DEEP, "pasted": DEEP}
    response = api.client.post("/report", data=form)
    assert response.status_code in (400, 403, 422) and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"statement": "lone \ud800 surrogate"}, "statement"),
        ({"statement": "nul \x00 here"}, "statement"),
        ({"requester": {"name": "A\x00B", "email": "a@example.org"}}, "requester.name"),
        ({"signature": "\udfff"}, "signature"),
    ],
)
def test_unstorable_text_is_a_422_naming_the_field_and_nothing_is_stored(
    api: Api, bad: dict[str, object], named: str
) -> None:
    body = json.dumps(request_body(**bad))  # ASCII: the surrogate travels as \ud800, as an attacker sends it
    response = api.client.post("/v1/requests", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert named in response.json()["detail"]
    with api.db.read() as session:
        assert session.scalar(select(func.count()).select_from(TakedownRequest)) == 0


def test_a_nul_in_the_case_number_path_is_a_4xx(api: Api) -> None:
    for path in ("/v1/requests/STN-%00", "/v1/appeals/APL%00X", "/v1/requests/STN-1?x=%00"):
        response = api.client.get(path, headers={"X-Stanch-Token": "x"})
        assert response.status_code == 400, path


def test_a_surrogate_escape_in_a_case_number_is_unknown_not_a_500(api: Api) -> None:
    response = api.client.get("/v1/requests/STN-%ED%A0%80", headers={"X-Stanch-Token": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "entry",
    ["2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999999", "0", "-1"],
)
def test_entry_ids_beyond_the_column_are_a_422(api: Api, entry: str) -> None:
    api.create_bank("b")
    for method in ("GET", "DELETE"):
        response = api.client.request(method, f"/v1/banks/b/entries/{entry}", headers=api.headers("bank"))
        assert response.status_code == 422, (method, entry, response.text)


def test_the_parser_refuses_nan_and_names_nested_fields() -> None:
    with pytest.raises(BodyError, match="not valid JSON"):
        parse_json("[NaN]")
    with pytest.raises(BodyError, match=r"a\.b\[1\] contains a NUL"):
        parse_json('{"a": {"b": ["ok", "x\\u0000"]}}')
    assert parse_json('{"a": [1, {"b": "fine"}]}') == {"a": [1, {"b": "fine"}]}


@pytest.mark.parametrize("data", [b"GIF89a" + b"\x00" * 50, b"\xff\xd8\xff\xe0" + b"\x00" * 100])
def test_an_unreadable_file_error_shows_no_object_address(api: Api, data: bytes) -> None:
    response = api.post("/v1/hash", "match", files={"file": ("x", data, "application/octet-stream")})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert " at 0x" not in detail and "cannot identify image file the file" in detail
