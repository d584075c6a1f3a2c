"""In Debian's chromium against the real server: copies on a removed case's review list, one removed and
one rejected by a reviewer (the rejected one does not come back when matched again), and a video's
keyframe preview shown blurred and greyscale, then unblurred, with its audit event."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from browser_harness import BrowserSession
from PIL import Image
from sqlalchemy import select

from stanch.desk.cases import find_request
from stanch.desk.decisions import decide
from stanch.desk.locate import LocatedItem, attach_item, hash_bytes
from stanch.desk.spool import preview_source
from stanch.signals import hash_media, signals_record
from stanch.store import create_bank, utcnow
from stanch.store.audit_models import AuditEvent
from stanch.store.desk_models import RequestItem
from stanch.store.outbox_models import OutboxMessage
from tests.api.conftest import encoded, picture
from tests.desk.test_copy_review import generated_video
from tests.web.test_flow import PASSWORD, Server, screenshot
from tests.web.test_flow import server as flow_server
from tests.web.test_pages import file_case

pytestmark = pytest.mark.browser
site = pytest.fixture(scope="module", name="site")(flow_server.__wrapped__)
"""The real app served by uvicorn on a fresh SQLite file (test_flow's server, for this module)."""


def _jpeg(seed: int, quality: int) -> bytes:
    return encoded(picture(seed), "JPEG", quality=quality)


def _copy(item_id: str, media: bytes) -> LocatedItem:
    return LocatedItem(item_id, signals_record(hash_media(media)), preview_source(media))


def _sign_in(browser: BrowserSession, site: Server) -> Any:
    page = browser.browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.goto(f"{site.url}/desk")
    page.get_by_label("Email address").fill("reviewer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def _removed_case_with_two_copies_to_review(site: Server) -> str:
    db = site.db
    with db.write() as session:
        create_bank(session, "cases", auto_remove="none")  # every copy goes to a reviewer
    receipt = file_case(db, locations=["https://example.org/post/own"])
    original = encoded(picture(21))
    with db.write() as session:
        request = find_request(session, receipt.id)
        attach_item(session, request, LocatedItem("post/own", hash_bytes(original), preview_source(original)),
                    origin="located", actor="system", now=utcnow())
        decide(session, request, "remove", None, actor="user:reviewer@example.org", now=utcnow())
    with db.write() as session:
        request = find_request(session, receipt.id)
        for item_id, quality in (("post/copy-a", 90), ("post/copy-b", 60)):
            row = attach_item(session, request, _copy(item_id, _jpeg(21, quality)), origin="copy",
                              actor="system", now=utcnow())
            assert row.review == "pending" and row.spool_id is not None
    return receipt.id


def test_a_reviewer_removes_one_copy_and_rejects_another_for_good(browser: BrowserSession,
                                                                  site: Server) -> None:
    case = _removed_case_with_two_copies_to_review(site)
    page = _sign_in(browser, site)
    copies = page.locator("#copies tbody tr")
    assert copies.count() == 2 and {copies.nth(i).locator("td").nth(1).inner_text() for i in range(2)} == {
        "post/copy-a", "post/copy-b"}
    screenshot(page, "queue-copies")
    page.locator("#copies a").first.click()
    page.get_by_role("heading", name="Copies to review").wait_for()
    first = page.get_by_role("region", name="Copy post/copy-a")
    assert "Why it matched\nPDQ (picture), view original, distance" in first.inner_text()
    assert first.locator("img.blurred").count() == 1  # the copy, blurred, beside the case's own item...
    assert "The case's own item:" in first.inner_text()  # ...whose preview went at the case's decision
    assert "No preview" in first.inner_text()
    screenshot(page, "case-copies-to-review")
    first.get_by_role("button", name="Remove copy post/copy-a").click()
    page.get_by_text("Copy removed").wait_for()
    second = page.get_by_role("region", name="Copy post/copy-b")
    second.get_by_role("button", name="Reject copy post/copy-b").click()
    page.get_by_text("a reason is required to reject a copy").wait_for()  # refused, nothing decided
    second = page.get_by_role("region", name="Copy post/copy-b")
    second.get_by_label("Reason (required to reject)").fill("a different person's holiday photo")
    second.get_by_role("button", name="Reject copy post/copy-b").click()
    page.get_by_text("Copy rejected").wait_for()
    assert page.get_by_text("No copy waits for review.").is_visible()
    assert "rejected by a reviewer: a different person's holiday photo" in page.inner_text("main")
    screenshot(page, "case-copies-decided")

    with site.db.read() as session:
        removals = [json.loads(m.payload)["item_id"] for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "remove_item"))]
        spools = dict(session.execute(select(RequestItem.item_id, RequestItem.spool_id)
                                      .where(RequestItem.origin == "copy")).all())
    assert "post/copy-a" in removals and "post/copy-b" not in removals
    assert spools == {"post/copy-a": None, "post/copy-b": None}  # both previews deleted at the decision

    with site.db.write() as session:  # the rejected copy turns up again under another id
        again = attach_item(session, find_request(session, case), _copy("post/copy-b-again", _jpeg(21, 60)),
                            origin="copy", actor="system", now=utcnow())
        assert again.item_id == "post/copy-b" and again.review == "rejected"
    page.reload()
    assert page.get_by_text("No copy waits for review.").is_visible()
    assert "post/copy-b-again" not in page.inner_text("main")
    page.goto(f"{site.url}/desk")
    assert page.get_by_text("No copy waits for review.").is_visible()
    page.context.close()


def test_a_video_keyframe_is_blurred_then_unblurred_and_audited(browser: BrowserSession,
                                                                site: Server) -> None:
    video = generated_video(frames=60, size=(320, 240))
    receipt = file_case(site.db, locations=["https://example.org/video/1"])
    with site.db.write() as session:
        row = attach_item(session, find_request(session, receipt.id),
                          LocatedItem("video/1.mp4", signals_record(hash_media(video, purpose="bank")),
                                      preview_source(video)),
                          origin="located", actor="system", now=utcnow())
        assert row.preview_frames == 6
    page = _sign_in(browser, site)
    page.goto(f"{site.url}/desk/cases/{receipt.id}")
    frames = page.get_by_label("Keyframes of video video/1.mp4").locator("img.blurred")
    assert frames.count() == 6
    source = frames.nth(2).get_attribute("src")
    shown = page.request.get(f"{site.url}{source}")
    with Image.open(io.BytesIO(shown.body())) as blurred:
        assert blurred.mode == "L"  # greyscale
        detail = np.abs(np.diff(np.asarray(blurred, float), axis=1)).mean()
    assert detail < 2.0  # and blurred: neighbouring pixels barely differ
    screenshot(page, "video-keyframes-blurred")
    page.get_by_role("button", name="Unblur video/1.mp4 frame 3").click()
    clear = page.locator('img[alt="Unblurred preview of video/1.mp4 frame 3"]')
    assert clear.get_attribute("src").startswith("data:image/jpeg;base64,")
    assert page.get_by_label("Keyframes of video video/1.mp4").locator("img.blurred").count() == 5
    screenshot(page, "video-keyframe-unblurred")
    with site.db.read() as session:
        events = [json.loads(e.details) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "item.unblur"))]
    assert {"item_id": "video/1.mp4", "frame": 2} in events
    page.context.close()
