"""Admin changes through the API are audit events: a bank created, an entry withdrawn (DELETE)."""

from __future__ import annotations

from stanch.desk.audit import event_record, events, verify
from tests.api.conftest import Api


def test_api_bank_creation_and_withdrawal_are_audited(api: Api) -> None:
    api.create_bank("ncii")
    added = api.post("/v1/banks/ncii/entries", "bank", json={"pdq": "f" * 64})
    entry = added.json()["id"]
    path = f"/v1/banks/ncii/entries/{entry}?reason=mistake"
    withdrawn = api.client.delete(path, headers=api.headers("bank"))
    assert withdrawn.status_code == 200
    with api.db.read() as session:
        assert verify(session).ok
        audited = [event_record(e) for e in events(session)]
    assert [(e["action"], e["subject_id"]) for e in audited] == [("bank.create", "ncii"),
                                                                 ("entry.withdraw", str(entry))]
    assert audited[1]["details"] == {"bank": "ncii", "reason": "mistake"}
    assert audited[1]["actor"].startswith("key:")
