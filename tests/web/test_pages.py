"""The pages through FastAPI's test client, on SQLite and PostgreSQL: sign-in, sessions, CSRF, roles,
the queue, the case page's previews and unblur, decisions, and what every page sends and refers to."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyotp
import pytest
import zxingcpp
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from sqlalchemy import select

from stanch.api.app import create_app
from stanch.desk import users
from stanch.desk.audit import events
from stanch.desk.cases import find_request
from stanch.desk.intake import Receipt, file_request, validate
from stanch.desk.locate import LocatedItem, attach_item, hash_bytes
from stanch.desk.spool import preview_source
from stanch.desk.users import create_user, enable_totp, get_user
from stanch.store import Database
from stanch.store.desk_models import TakedownRequest
from stanch.store.models import utcnow

PASSWORD = "a long enough password"
REQUESTER = {"name": "Robin Example", "email": "robin@example.org"}


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the cheapest parameters: the same code paths, a fraction of the time."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@dataclass
class Site:
    client: TestClient
    db: Database

    def token(self, path: str) -> str:
        found = re.search(r'name="form_token" value="([^"]+)"', self.client.get(path).text)
        assert found, path
        return found.group(1)

    def sign_in(self, email: str, password: str = PASSWORD, totp: str = "") -> Response:
        form = {"form_token": self.token("/desk/sign-in"), "email": email, "password": password, "totp": totp}
        return self.client.post("/desk/sign-in", data=form)

    def csrf(self, path: str = "/desk") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)
        assert found, path
        return found.group(1)


@pytest.fixture
def site(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Site]:
    monkeypatch.delenv("STANCH_CATALOG_DIR", raising=False)
    monkeypatch.delenv("STANCH_COOKIE_SECURE", raising=False)
    with database.write() as session:
        create_user(session, "reviewer@example.org", "reviewer", PASSWORD)
        create_user(session, "admin@example.org", "admin", PASSWORD)
    with TestClient(create_app(db=database, poll_interval=0.05)) as client:
        yield Site(client, database)


def file_case(db: Database, *, hours_ago: float = 0, email: str = REQUESTER["email"],
              locations: list[str] | None = None) -> Receipt:
    body = {"requester": {**REQUESTER, "email": email}, "relationship": "self", "signature": "Robin Example",
            "good_faith": True, "statement": "Shared without my consent.",
            "locations": locations or [f"https://example.org/post/{hours_ago}"]}
    with db.write() as session:
        receipt, _ = file_request(session, validate(body), now=utcnow() - timedelta(hours=hours_ago))
    return receipt


def picture_bytes(seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((320, 320), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_wrong_password_is_refused_and_sets_no_session(site: Site) -> None:
    response = site.sign_in("reviewer@example.org", "not the password at all")
    assert response.status_code == 401
    assert "not right" in response.text
    assert "stanch_session" not in response.headers.get("set-cookie", "")
    assert site.client.get("/desk", follow_redirects=False).headers["location"] == "/desk/sign-in"


def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it(site: Site) -> None:
    response = site.client.post("/desk/sign-in", data={
        "form_token": site.token("/desk/sign-in"), "email": "Reviewer@Example.org", "password": PASSWORD,
    }, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "stanch_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/desk" in cookie and "Secure" not in cookie  # plain http in tests
    assert site.client.get("/desk").status_code == 200
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
    assert site.client.get("/desk", follow_redirects=False).status_code == 303


def test_secure_cookie_when_configured(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCH_COOKIE_SECURE", "1")
    response = site.client.post("/desk/sign-in", data={
        "form_token": site.token("/desk/sign-in"), "email": "reviewer@example.org", "password": PASSWORD,
    }, follow_redirects=False)
    assert "Secure" in response.headers["set-cookie"]


def test_repeated_failures_lock_sign_in_even_with_the_right_password(site: Site) -> None:
    for _ in range(5):
        assert site.sign_in("reviewer@example.org", "wrong password guess").status_code == 401
    locked = site.sign_in("reviewer@example.org")
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.text


def test_totp_is_required_once_enabled(site: Site) -> None:
    with site.db.write() as session:
        uri = enable_totp(session, get_user(session, "reviewer@example.org"), actor="system")
    secret = re.search(r"secret=([A-Z2-7]+)", uri)
    assert secret
    without = site.sign_in("reviewer@example.org")
    assert without.status_code == 401 and "authenticator" in without.text
    assert site.sign_in("reviewer@example.org", totp="000000" if pyotp.TOTP(secret.group(1)).now() != "000000"
                        else "111111").status_code == 401
    assert site.sign_in("reviewer@example.org", totp=pyotp.TOTP(secret.group(1)).now()).status_code == 200
    assert site.client.get("/desk").url.path == "/desk"


def test_posts_without_csrf_token_are_refused_and_change_nothing(site: Site) -> None:
    receipt = file_case(site.db)
    site.sign_in("reviewer@example.org")
    refused = site.client.post(f"/desk/cases/{receipt.id}/decision", data={"decision": "remove"})
    assert refused.status_code == 403
    wrong = site.client.post(f"/desk/cases/{receipt.id}/decision",
                             data={"decision": "remove", "csrf": "x" * 43})
    assert wrong.status_code == 403
    with site.db.read() as session:
        assert find_request(session, receipt.id).status == "received"
    no_token = site.client.post("/desk/sign-in", data={"email": "reviewer@example.org", "password": PASSWORD})
    assert no_token.status_code == 403
    public = site.client.post("/report", data={"name": "x"})
    assert public.status_code == 403


def test_only_admins_manage_accounts(site: Site) -> None:
    site.sign_in("reviewer@example.org")
    assert site.client.get("/desk/users").status_code == 403
    attempt = site.client.post("/desk/users", data={"email": "new@example.org", "csrf": site.csrf()})
    assert attempt.status_code == 403
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
    site.sign_in("admin@example.org")
    assert site.client.get("/desk/users").status_code == 200
    created = site.client.post("/desk/users", data={"email": "new@example.org", "role": "reviewer",
                                                    "csrf": site.csrf()})
    assert created.status_code == 200 and "new@example.org" in created.text
    password = re.search(r'<p class="secret">([^<]+)</p>', created.text)
    assert password
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
    assert site.sign_in("new@example.org", password.group(1)).url.path == "/desk"


def test_queue_orders_by_time_left_and_marks_escalation_and_overdue(site: Site) -> None:
    fresh = file_case(site.db, hours_ago=1, email="a@example.org")
    overdue = file_case(site.db, hours_ago=50, email="b@example.org")
    at_30 = file_case(site.db, hours_ago=30, email="c@example.org")
    at_40 = file_case(site.db, hours_ago=40, email="d@example.org")
    site.sign_in("reviewer@example.org")
    page = site.client.get("/desk").text
    order = [m for m in re.findall(r'href="/desk/cases/([^"]+)"', page)]
    assert order[:4] == [overdue.id, at_40.id, at_30.id, fresh.id]
    rows = {case: page.split(f'href="/desk/cases/{case}"')[1].split("</tr>")[0] for case in order[:4]}
    assert "OVERDUE" in rows[overdue.id] and "Overdue by" in rows[overdue.id]
    assert "36 h passed" in rows[at_40.id]
    assert "24 h passed" in rows[at_30.id]
    assert "on time" in rows[fresh.id]
    assert REQUESTER["name"] not in page and "@example.org" not in page.replace("reviewer@example.org", "")


def test_case_page_shows_the_requester_and_a_blurred_greyscale_preview(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    media = picture_bytes()
    (catalog / "post-7.png").write_bytes(media)
    monkeypatch.setenv("STANCH_CATALOG_DIR", str(catalog))
    receipt = file_case(site.db, locations=["post-7.png"])
    with site.db.write() as session:
        request = find_request(session, receipt.id)
        attach_item(session, request, LocatedItem("post-7.png", hash_bytes(media)), origin="located",
                    actor="system", now=utcnow())
    site.sign_in("reviewer@example.org")
    page = site.client.get(f"/desk/cases/{receipt.id}").text
    assert REQUESTER["name"] in page and REQUESTER["email"] in page
    assert f'/desk/cases/{receipt.id}/preview?item=post-7.png' in page
    assert "data:image/jpeg" not in page

    blurred = site.client.get(f"/desk/cases/{receipt.id}/preview", params={"item": "post-7.png"})
    assert blurred.headers["content-type"] == "image/jpeg"
    shown = Image.open(io.BytesIO(blurred.content))
    assert shown.mode == "L"
    original = np.asarray(Image.open(io.BytesIO(media)).convert("L"), dtype=float)
    detail = np.abs(np.diff(np.asarray(shown, dtype=float), axis=1)).mean()
    assert detail < np.abs(np.diff(original, axis=1)).mean() / 4

    unblurred = site.client.post(f"/desk/cases/{receipt.id}/unblur",
                                 data={"item": "post-7.png", "csrf": site.csrf()})
    assert unblurred.status_code == 200 and "data:image/jpeg;base64," in unblurred.text
    with site.db.read() as session:
        actions = [(e.actor, e.action, e.details) for e in events(session, subject=("request", receipt.id))]
    assert ("user:reviewer@example.org", "item.unblur", '{"item_id":"post-7.png"}') in actions
    assert sum(action == "request.view" for _, action, _ in actions) == 2


def test_a_case_without_media_says_so(site: Site) -> None:
    receipt = file_case(site.db)
    with site.db.write() as session:
        attach_item(session, find_request(session, receipt.id), LocatedItem("remote-1", {"pdq": "f" * 64}),
                    origin="located", actor="system", now=utcnow())
    site.sign_in("reviewer@example.org")
    page = site.client.get(f"/desk/cases/{receipt.id}").text
    assert "No preview" in page and "keeps no media" in page
    preview = site.client.get(f"/desk/cases/{receipt.id}/preview", params={"item": "remote-1"})
    assert preview.status_code == 404


def _case_with_spooled_item(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, item_id: str,
                            media: bytes) -> tuple[Receipt, Path]:
    """A new case with one located item whose preview of ``media`` is spooled; its receipt and spool file."""
    monkeypatch.setenv("STANCH_SPOOL_DIR", str(tmp_path / "spool"))
    receipt = file_case(site.db)
    with site.db.write() as session:
        row = attach_item(session, find_request(session, receipt.id),
                          LocatedItem(item_id, {"pdq": "f" * 64}, preview_source(media)),
                          origin="located", actor="system", now=utcnow())
        return receipt, tmp_path / "spool" / str(row.spool_id)


def test_a_spooled_preview_is_blurred_unblurred_once_audited_and_gone_after_the_decision(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = picture_bytes()
    receipt, spooled = _case_with_spooled_item(site, tmp_path, monkeypatch, "remote-7", media)
    site.sign_in("reviewer@example.org")
    page = site.client.get(f"/desk/cases/{receipt.id}").text
    assert f"/desk/cases/{receipt.id}/preview?item=remote-7" in page and "No preview" not in page
    blurred = site.client.get(f"/desk/cases/{receipt.id}/preview", params={"item": "remote-7"})
    shown = Image.open(io.BytesIO(blurred.content))
    assert blurred.headers["content-type"] == "image/jpeg" and shown.mode == "L"
    original = np.asarray(Image.open(io.BytesIO(media)).convert("L"), dtype=float)
    assert np.abs(np.diff(np.asarray(shown, dtype=float), axis=1)).mean() < np.abs(
        np.diff(original, axis=1)).mean() / 4

    unblurred = site.client.post(f"/desk/cases/{receipt.id}/unblur", data={"item": "remote-7",
                                                                            "csrf": site.csrf()})
    assert "data:image/jpeg;base64," in unblurred.text
    with site.db.read() as session:
        actions = [(e.action, e.details) for e in events(session, subject=("request", receipt.id))]
    assert ("item.unblur", '{"item_id":"remote-7"}') in actions

    site.client.post(f"/desk/cases/{receipt.id}/decision", data={"decision": "remove", "csrf": site.csrf()})
    assert not spooled.exists()
    page = site.client.get(f"/desk/cases/{receipt.id}").text
    assert "No preview" in page and "Unblur remote-7" not in page
    preview = site.client.get(f"/desk/cases/{receipt.id}/preview", params={"item": "remote-7"})
    assert preview.status_code == 404


def test_an_altered_spool_file_shows_no_preview_not_an_error(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt, spooled = _case_with_spooled_item(site, tmp_path, monkeypatch, "remote-8", picture_bytes())
    sealed = spooled.read_bytes()
    spooled.write_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))
    site.sign_in("reviewer@example.org")
    page = site.client.get(f"/desk/cases/{receipt.id}")
    assert page.status_code == 200 and "No preview" in page.text and "expired" in page.text
    preview = site.client.get(f"/desk/cases/{receipt.id}/preview", params={"item": "remote-8"})
    assert preview.status_code == 404


def test_signed_out_people_see_no_case_or_preview(site: Site) -> None:
    receipt = file_case(site.db)
    assert site.client.get(f"/desk/cases/{receipt.id}", follow_redirects=False).status_code == 303
    assert site.client.get(f"/desk/cases/{receipt.id}/preview", params={"item": "x"}).status_code == 401


def test_decision_through_the_form_is_recorded_and_shown_to_the_requester(site: Site) -> None:
    receipt = file_case(site.db)
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{receipt.id}"
    rejected = site.client.post(f"{path}/decision", data={"decision": "reject", "csrf": site.csrf(path)})
    assert rejected.status_code == 422 and "reason is required" in rejected.text
    other = site.client.post(f"{path}/decision", data={"decision": "reject", "code": "other",
                                                       "csrf": site.csrf(path)})
    assert other.status_code == 422 and "needs a reason in your own words" in other.text
    assert '<option value="other" selected>' in other.text  # the code picked comes back with the error
    done = site.client.post(f"{path}/decision", data={"decision": "remove", "csrf": site.csrf(path)})
    assert done.status_code == 200 and "Removed." in done.text
    with site.db.read() as session:
        request = session.scalar(select(TakedownRequest).where(TakedownRequest.public_id == receipt.id))
        assert request is not None and request.status == "removed"
        assert request.decided_by == "user:reviewer@example.org"
        decisions = [e for e in events(session, subject=("request", receipt.id))
                     if e.action == "request.decision"]
    assert [e.actor for e in decisions] == ["user:reviewer@example.org"]
    assert "Yes, within 48 hours" in site.client.get("/desk").text
    status = site.client.post("/status", data={"form_token": site.token("/status"), "case": receipt.id,
                                               "token": receipt.token})
    assert status.status_code == 200 and "<strong>Removed</strong>" in status.text
    assert "If you disagree" in status.text


def test_report_form_files_a_request_with_hashes_and_never_a_file_field(site: Site) -> None:
    form = site.client.get("/report").text
    file_input = re.search(r'<input type="file"[^>]*>', form)
    assert file_input and "name=" not in file_input.group(0)
    for control in re.findall(r'<(?:input(?! type="hidden")|textarea|select)\b[^>]*\bid="([^"]+)"', form):
        wrapped = re.search(rf'<label[^>]*>\s*<input[^>]*id="{control}"', form)
        assert f'for="{control}"' in form or wrapped, f"control {control} has no label"
    record = {"kind": "image", "md5": "0" * 32, "sha256": "1" * 64, "pdq": "f" * 64, "quality": 90,
              "pdq_dihedral": ["f" * 64] * 8}
    pasted = "\n".join([json.dumps({"path": "/home/robin/private.jpg", "pdq": "e" * 64, "quality": 80}),
                        json.dumps({"path": "x", "error": "unreadable"})])
    response = site.client.post("/report", data={
        "form_token": site.token("/report"), "relationship": "authorised", "name": "Sam",
        "email": "sam@example.org", "locations": "https://example.org/a\nhttps://example.org/b\n",
        "good_faith": "yes", "signature": "Sam Example", "hashes": json.dumps([record]), "pasted": pasted,
    })
    assert response.status_code == 200
    assert "only time the secret code is shown" in response.text
    case = re.search(r'id="case-id">([^<]+)<', response.text)
    assert case
    with site.db.read() as session:
        stored = find_request(session, case.group(1))
        assert stored.relationship == "authorised"
        assert len(json.loads(stored.hashes)) == 2
        assert "private.jpg" not in stored.hashes


def test_missing_elements_are_named_next_to_their_fields_and_nothing_is_stored(site: Site) -> None:
    response = site.client.post("/report", data={"form_token": site.token("/report"), "name": "Sam"})
    assert response.status_code == 422
    for field in ("email", "locations", "signature", "good_faith", "relationship"):
        assert f'id="{field}-error"' in response.text, field
    assert 'aria-describedby="email-hint email-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    with site.db.read() as session:
        assert session.scalar(select(TakedownRequest.id)) is None


def test_report_errors_are_plain_words_listed_in_the_summary_once_each(site: Site) -> None:
    response = site.client.post("/report", data={"form_token": site.token("/report"), "name": "Sam"})
    page = response.text
    assert "The web addresses are missing" in page and "addresses is" not in page
    assert "'self'" not in page and "'authorised'" not in page and "must be true" not in page
    summary = page.split('id="form-problems"', 1)[1].split("</div>", 1)[0]
    for field in ("email", "locations", "signature", "good_faith", "relationship-self"):
        assert f'<a href="#{field}">' in summary, field
        assert f'id="{field}"' in page, field  # the link has somewhere to go
    good_faith = page.split('id="good_faith-error"', 1)[1].split("</div>", 1)[0]
    assert good_faith.count("<p>") == 1  # one box, one message (not also "the statement is missing")


PAGES = ["/report", "/status", "/appeal", "/transparency", "/desk/sign-in"]
DESK_PAGES = ["/desk", "/desk/appeals", "/desk/users", "/desk/account", "/desk/account/password"]


def test_security_headers_and_no_external_references(site: Site) -> None:
    receipt = file_case(site.db)
    site.sign_in("admin@example.org")
    for path in [*PAGES, *DESK_PAGES, f"/desk/cases/{receipt.id}", "/static/report.js", "/static/stanch.css"]:
        response = site.client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"
        if path.startswith("/static"):
            assert "http://" not in response.text and "https://" not in response.text
            continue
        html = response.text
        assert '<html lang="en">' in html and "<main" in html
        assert re.findall(r'\b(?:src|href|action)="(?:https?:)?//', html) == [], path
        assert "<script>" not in html and re.search(r"<script(?![^>]*\bsrc=)", html) is None, path
        assert " style=" not in html, path


def test_public_pages_have_a_quick_exit(site: Site) -> None:
    for path in ["/report", "/status", "/appeal", "/transparency"]:
        html = site.client.get(path).text
        assert 'id="quick-exit"' in html and "/static/quick-exit.js" in html, path


def test_appeal_is_filed_on_its_page_and_decided_by_another_reviewer(site: Site) -> None:
    receipt = file_case(site.db)
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{receipt.id}"
    site.client.post(f"{path}/decision", data={"decision": "remove", "csrf": site.csrf(path)})

    filed = site.client.post("/appeal", data={
        "form_token": site.token("/appeal"), "case_id": receipt.id, "name": "Uploader",
        "email": "uploader@example.org", "statement": "This is a picture of me, posted with my consent.",
    })
    assert filed.status_code == 200 and "only time the secret code is shown" in filed.text
    number = re.search(r'id="appeal-id">([^<]+)<', filed.text)
    secret = re.search(r'id="appeal-token">([^<]+)<', filed.text)
    assert number and secret

    assert "Another reviewer (you removed it)" in site.client.get("/desk/appeals").text
    appeal = f"/desk/appeals/{number.group(1)}"
    refused = site.client.post(f"{appeal}/decision", data={"decision": "reinstate", "reason": "Consent shown",
                                                          "csrf": site.csrf(appeal)})
    assert refused.status_code == 422 and "different reviewer" in refused.text
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})

    site.sign_in("admin@example.org")
    done = site.client.post(f"{appeal}/decision", data={"decision": "reinstate", "reason": "Consent shown",
                                                       "csrf": site.csrf(appeal)})
    assert done.status_code == 200 and "Decided." in done.text
    seen = site.client.post("/status", data={"form_token": site.token("/status"), "case": number.group(1),
                                             "token": secret.group(1)})
    assert "The content is put back" in seen.text and "Consent shown" in seen.text
    requester = site.client.post("/status", data={"form_token": site.token("/status"), "case": receipt.id,
                                                  "token": receipt.token})
    assert "put back after an appeal" in requester.text


def test_requester_adds_information_and_withdraws_on_the_status_page(site: Site) -> None:
    receipt = file_case(site.db)
    form = {"form_token": site.token("/status"), "case": receipt.id.lower(), "token": receipt.token}
    wrong = site.client.post("/status", data={**form, "token": "not the code"})
    assert wrong.status_code == 404 and "check both" in wrong.text
    added = site.client.post("/status", data={**form, "action": "add_info", "text": "It is also on page 2",
                                              "more_locations": "https://example.org/page/2"})
    assert "We added this to your request" in added.text and "https://example.org/page/2" in added.text
    gone = site.client.post("/status", data={**form, "action": "withdraw"})
    assert "Withdrawn by you" in gone.text and "Withdraw my request" not in gone.text


def test_a_video_that_cannot_be_decoded_gets_no_preview(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    monkeypatch.setenv("STANCH_CATALOG_DIR", str(tmp_path))
    receipt = file_case(site.db, locations=["clip.mp4"])
    with site.db.write() as session:
        attach_item(session, find_request(session, receipt.id), LocatedItem("clip.mp4", {"md5": "a" * 32}),
                    origin="located", actor="system", now=utcnow())
    site.sign_in("reviewer@example.org")
    page = site.client.get(f"/desk/cases/{receipt.id}").text
    assert "frames cannot be decoded" in page and "Unblur clip.mp4" not in page


def test_too_many_requests_get_a_calm_answer_and_the_first_is_kept(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANCH_REQUESTS_PER_CONTACT", "1")
    form = {"relationship": "self", "name": "Sam", "email": "sam@example.org", "good_faith": "yes",
            "signature": "Sam Example"}
    first = site.client.post("/report", data={**form, "form_token": site.token("/report"),
                                              "locations": "https://example.org/1"})
    assert first.status_code == 200
    second = site.client.post("/report", data={**form, "form_token": site.token("/report"),
                                               "locations": "https://example.org/2"})
    assert second.status_code == 429
    assert "Please wait" in second.text and "earlier requests are safe" in second.text
    with site.db.read() as session:
        assert len(list(session.scalars(select(TakedownRequest.id)))) == 1


def scanned_qr(html: str) -> str:
    """What a phone reads from the page's inline SVG QR code: the SVG's dark lines (``M``/``m`` moves and
    ``h`` runs, one module high, as segno draws them) painted at 8 pixels a module and decoded by
    zxing-cpp, a reader that shares no code with the generator."""
    svg = re.search(r'<svg viewBox="0 0 (\d+) (\d+)" class="qr">.*?</svg>', html, re.S)
    assert svg, "no inline SVG QR code on the page"
    assert "<script" not in svg.group(0) and "href" not in svg.group(0)
    lines = re.search(r'<path stroke="#000" d="([^"]+)"', svg.group(0))
    assert lines
    width, height = int(svg.group(1)), int(svg.group(2))
    modules = np.zeros((height, width), dtype=bool)
    x = y = 0.0
    for command, dx, dy in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", lines.group(1)):
        if command == "h":
            modules[int(y), int(x):int(x + float(dx))] = True
            x += float(dx)
        else:
            x, y = (float(dx), float(dy)) if command == "M" else (x + float(dx), y + float(dy))
    pixels = np.kron(np.where(modules, 0, 255).astype(np.uint8), np.ones((8, 8), dtype=np.uint8))
    found = zxingcpp.read_barcodes(pixels)
    assert len(found) == 1
    return str(found[0].text)


def test_reviewer_turns_on_two_step_sign_in_on_their_account_page(site: Site) -> None:
    site.sign_in("reviewer@example.org")
    started = site.client.post("/desk/account/totp", data={"action": "start", "csrf": site.csrf()})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text)
    assert secret and "otpauth://totp/Stanch:reviewer%40example.org" in started.text
    assert scanned_qr(started.text) == pyotp.TOTP(secret.group(1)).provisioning_uri(
        name="reviewer@example.org", issuer_name="Stanch")
    wrong = site.client.post("/desk/account/totp", data={"action": "confirm", "secret": secret.group(1),
                                                         "code": "12", "csrf": site.csrf()})
    assert wrong.status_code == 422 and "does not match" in wrong.text
    assert scanned_qr(wrong.text) == scanned_qr(started.text)
    assert site.sign_in("reviewer@example.org").status_code == 200  # still off: no code needed
    code = pyotp.TOTP(secret.group(1)).now()
    on = site.client.post("/desk/account/totp", data={"action": "confirm", "secret": secret.group(1),
                                                      "code": code, "csrf": site.csrf()})
    assert "Two-step sign-in is on." in on.text
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
    assert site.sign_in("reviewer@example.org").status_code == 401
    assert site.sign_in("reviewer@example.org", totp=pyotp.TOTP(secret.group(1)).now()).status_code == 200
    off = site.client.post("/desk/account/totp", data={"action": "off", "csrf": site.csrf()})
    assert "Two-step sign-in is off." in off.text


NEW_PASSWORD = "a brand new pass phrase"


def change_password(site: Site, current: str, new: str, repeated: str | None = None) -> Response:
    form = {"current": current, "new": new, "repeated": new if repeated is None else repeated,
            "csrf": site.csrf("/desk/account/password")}
    return site.client.post("/desk/account/password", data=form)


def other_session(site: Site, email: str = "reviewer@example.org") -> str:
    """A session of the same account in another browser."""
    with site.db.write() as session:
        return users.start_session(session, get_user(session, email))


def account_state(site: Site) -> tuple[str, list[str]]:
    with site.db.read() as session:
        return (get_user(session, "reviewer@example.org").password_hash,
                [f"{e.actor} {e.action}" for e in events(session) if e.action == "user.password"])


def test_reviewer_changes_their_password_and_every_other_session_ends(site: Site) -> None:
    site.sign_in("reviewer@example.org")
    assert 'href="/desk/account/password"' in site.client.get("/desk").text
    elsewhere, here = other_session(site), site.client.cookies["stanch_session"]
    changed = change_password(site, PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 200 and "Your password is changed" in changed.text
    assert NEW_PASSWORD not in changed.text and PASSWORD not in changed.text
    with site.db.write() as session:
        assert users.session_reviewer(session, elsewhere) is None
        assert users.session_reviewer(session, here) is None  # this browser got a new session instead
        user = get_user(session, "reviewer@example.org")
        assert user.password_hash.startswith("$argon2id$") and NEW_PASSWORD not in user.password_hash
    assert site.client.get("/desk").url.path == "/desk"
    assert account_state(site)[1] == ["user:reviewer@example.org user.password"]
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
    assert site.sign_in("reviewer@example.org").status_code == 401
    assert site.sign_in("reviewer@example.org", NEW_PASSWORD).url.path == "/desk"


@pytest.mark.parametrize(("current", "new", "repeated", "status", "message"), [
    ("not my password at all", NEW_PASSWORD, NEW_PASSWORD, 401, "Your current password is not right"),
    (PASSWORD, "too short", "too short", 422, "at least 12 characters"),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", 422, "The two new passwords differ"),
])
def test_a_refused_password_change_says_why_and_changes_nothing(
    site: Site, current: str, new: str, repeated: str, status: int, message: str
) -> None:
    site.sign_in("reviewer@example.org")
    before, elsewhere = account_state(site), other_session(site)
    refused = change_password(site, current, new, repeated)
    assert refused.status_code == status and message in refused.text and "Nothing was changed" in refused.text
    assert 'role="alert"' in refused.text
    assert re.findall(r'<input type="password"[^>]*\bvalue=', refused.text) == []  # nothing kept
    for typed in {current, new, repeated}:
        assert typed not in refused.text
    assert account_state(site) == before and before[1] == []
    with site.db.write() as session:
        assert users.session_reviewer(session, elsewhere) is not None
    assert site.client.get("/desk").url.path == "/desk"


def test_wrong_current_passwords_count_toward_the_sign_in_lockout(site: Site) -> None:
    site.sign_in("reviewer@example.org")
    for _ in range(users.MAX_FAILURES):
        assert change_password(site, "a guessed password", NEW_PASSWORD).status_code == 401
    locked = change_password(site, PASSWORD, NEW_PASSWORD)
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.text
    assert account_state(site)[1] == []
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
    assert site.sign_in("reviewer@example.org").status_code == 429


def test_a_password_change_needs_the_csrf_token(site: Site) -> None:
    site.sign_in("reviewer@example.org")
    before = account_state(site)
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeated": NEW_PASSWORD}
    assert site.client.post("/desk/account/password", data=form).status_code == 403
    assert site.client.post("/desk/account/password", data={**form, "csrf": "x" * 43}).status_code == 403
    assert account_state(site) == before
    site.client.post("/desk/sign-out", data={"csrf": site.csrf()})
    signed_out = site.client.post("/desk/account/password", data={**form, "csrf": "x" * 43},
                                  follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/desk/sign-in"
    assert site.client.get("/desk/account/password").url.path == "/desk/sign-in"
    assert account_state(site) == before


def test_public_forms_trust_the_browsers_word_on_where_a_post_came_from(site: Site) -> None:
    form = {"relationship": "self", "name": "Sam", "email": "sam@example.org", "good_faith": "yes",
            "signature": "Sam Example", "locations": "https://example.org/1"}
    site.client.cookies.clear()
    without_cookies = site.client.post("/report", data=form, headers={"Sec-Fetch-Site": "same-origin"})
    assert without_cookies.status_code == 200 and 'id="case-id"' in without_cookies.text
    token = site.token("/report")
    forged = site.client.post("/report", data={**form, "form_token": token},
                              headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403


def test_transparency_page_draws_its_charts_on_the_server(site: Site) -> None:
    assert "No requests yet" in site.client.get("/transparency").text
    receipt = file_case(site.db)
    site.sign_in("reviewer@example.org")
    path = f"/desk/cases/{receipt.id}"
    site.client.post(f"{path}/decision", data={"decision": "remove", "csrf": site.csrf(path)})
    page = site.client.get("/transparency").text
    month = utcnow().strftime("%Y-%m")
    assert page.count('<svg class="chart"') == 2 and 'role="img"' in page
    assert f">{month}</text>" in page and ">100%</text>" in page
    assert f'<th scope="row">{month}</th><td>1</td><td>1</td>' in page
