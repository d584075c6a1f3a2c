"""The desk's exchange page: admins only, status and quarantine shown, credentials never, fetch-now
with the CSRF token (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from stanch.api.app import create_app
from stanch.desk.users import create_user
from stanch.exchange.live.sources import add_source
from stanch.store import Database, create_bank
from stanch.store.audit_models import AuditEvent
from tests.exchange.stopncii_standin import CREDENTIALS, FUNCTION_KEY, SUBSCRIPTION_KEY, pdq, stopncii_standin
from tests.web.test_pages import PASSWORD, Site


@pytest.fixture
def site(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("STANCH_EXCHANGE_FETCH", "0")
    monkeypatch.setenv("TEST_STOPNCII_KEYS", CREDENTIALS)
    with database.write() as session:
        create_user(session, "reviewer@example.org", "reviewer", PASSWORD)
        create_user(session, "admin@example.org", "admin", PASSWORD)
    with TestClient(create_app(db=database, poll_interval=0.05)) as client:
        yield Site(client, database)


def test_admins_see_sources_and_fetch_now(site: Site) -> None:
    with stopncii_standin() as standin:
        for i in range(3):
            standin.put("ImagePDQ", pdq(i))
        standin.put("ImagePDQ", "broken")
        with site.db.write() as session:
            create_bank(session, "ncii")
            add_source(session, "stopncii", type="stopncii", bank="ncii",
                       credentials_env="TEST_STOPNCII_KEYS", base_url=standin.url)
        site.sign_in("reviewer@example.org")
        assert site.client.get("/desk/exchanges").status_code == 403
        site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
        site.sign_in("admin@example.org")
        page = site.client.get("/desk/exchanges")
        assert page.status_code == 200 and "environment variable TEST_STOPNCII_KEYS" in page.text
        assert site.client.post("/desk/exchanges/stopncii/fetch", data={"csrf": "x" * 43}).status_code == 403
        token = site.csrf("/desk/exchanges")
        fetched = site.client.post("/desk/exchanges/stopncii/fetch", data={"csrf": token})
    assert fetched.status_code == 200
    assert "stopncii: 1 pages, 3 added, 0 withdrawn, 1 quarantined." in fetched.text
    assert "3, 0, 1" in fetched.text  # the counts row
    for secret in (FUNCTION_KEY, SUBSCRIPTION_KEY):
        assert secret not in page.text and secret not in fetched.text
    with site.db.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert "exchange.fetch" in actions
