"""D11 (the secret code in the address, hence in access logs) and D4 (appeals telling real case numbers
from unknown ones, with failed probes never counted)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.desk.factory import request_body


def _filed(api: Api) -> dict[str, str]:
    response = api.client.post("/v1/requests", json=request_body())
    assert response.status_code == 201
    return response.json()


@pytest.mark.parametrize("action", ["get", "info", "withdraw"])
def test_a_code_in_the_query_string_is_refused_saying_where_it_goes(api: Api, action: str) -> None:
    receipt = _filed(api)
    path = f"/v1/requests/{receipt['id']}"
    if action == "get":
        response = api.client.get(path, params={"token": receipt["token"]})
    else:
        response = api.client.post(f"{path}/{action}", params={"token": receipt["token"]}, json={"text": "x"})
    assert response.status_code == 400 and "X-Stanch-Token" in response.json()["detail"]
    with_header = api.client.get(path, headers={"X-Stanch-Token": receipt["token"]})
    assert with_header.status_code == 200 and with_header.json()["status"] != "withdrawn"


def test_the_appeal_status_takes_the_code_in_the_header_only(api: Api) -> None:
    response = api.client.get("/v1/appeals/APL-0000-0000", params={"token": "x"})
    assert response.status_code == 400 and "X-Stanch-Token" in response.json()["detail"]
    assert api.client.get("/v1/appeals/APL-0000-0000", headers={"X-Stanch-Token": "x"}).status_code == 404


def _appeal(api: Api, case_id: str, email: str = "probe@example.org") -> object:
    body = {"case_id": case_id, "appellant": {"name": "P", "email": email}, "statement": "Put it back."}
    return api.client.post("/v1/appeals", json=body)


def test_an_appeal_gets_one_answer_for_unknown_and_for_not_removed(api: Api) -> None:
    real_but_open = _filed(api)["id"]
    unknown, open_case = _appeal(api, "STN-ZZZZ-ZZZZ"), _appeal(api, real_but_open)
    assert unknown.status_code == open_case.status_code == 404  # type: ignore[attr-defined]
    assert unknown.json() == open_case.json()  # type: ignore[attr-defined]


def test_failed_appeal_probes_are_rate_limited(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_REQUESTS_PER_CONTACT", "3")
    monkeypatch.setenv("STANCH_REQUESTS_PER_ADDRESS", "100")
    answers = [_appeal(api, f"STN-{k:04d}-AAAA").status_code for k in range(5)]  # type: ignore[attr-defined]
    assert answers == [404, 404, 404, 429, 429]
