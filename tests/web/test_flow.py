"""The whole journey in Debian's chromium against the real server (uvicorn, SQLite in a temporary folder):
a person files a request with a picture hashed in the browser (no request carries the picture), a
reviewer signs in and removes, the person sees the outcome. Also: the /report form by keyboard alone,
and the quick exit."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import uvicorn
from browser_harness import BrowserSession
from sqlalchemy import select

from stanch.api.app import create_app
from stanch.desk.cases import find_request
from stanch.desk.users import create_user
from stanch.store import Database, open_database
from stanch.store.desk_models import RequestEntry
from stanch.store.models import EntryHash
from tests.web.test_pages import file_case

pytestmark = pytest.mark.browser

PASSWORD = "reviewer password for the flow"
PICTURE = Path("pdq/reg-test-input/pen-and-coaster.png")
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = "STANCH_SCREENSHOTS"
"""Set to a folder to keep screenshots of the pages the flow passes through (for looking at them)."""


@dataclass
class Server:
    url: str
    db: Database


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real app served by uvicorn on 127.0.0.1 in a thread, on a fresh SQLite file."""
    folder = tmp_path_factory.mktemp("flow")
    db = open_database(f"sqlite:///{folder / 'stanch.db'}")
    with db.write() as session:
        create_user(session, "reviewer@example.org", "reviewer", PASSWORD)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(db=db, poll_interval=0.2), host="127.0.0.1", port=port,
                            log_level="warning")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not runner.started:
        assert time.monotonic() < deadline, "the server did not start within 60 s"
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", db)
    runner.should_exit = True
    thread.join(timeout=30)
    db.dispose()


def screenshot(page: Any, name: str) -> None:
    folder = os.environ.get(SCREENSHOTS)
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _fill_report(page: Any, base_url: str, relationship: str, name: str, email: str, link: str, media: Path,
                 *, hashed_within_ms: int) -> None:
    """Fill in /report as a person would, choose ``media`` and wait until the page has hashed it; the
    form is then ready to send."""
    page.goto(f"{base_url}/report")
    page.get_by_label(relationship, exact=False).check()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your email address").fill(email)
    page.get_by_label("Web addresses (links) of the pictures or videos").fill(link)
    page.set_input_files("#files", str(media))
    page.wait_for_function("() => document.getElementById('files-status').textContent.includes('ready')",
                           timeout=hashed_within_ms)
    page.get_by_label("I state in good faith", exact=False).check()
    page.get_by_label("Type your full name as your signature").fill(name)


def test_request_hashed_in_browser_reviewed_and_followed(
    browser: BrowserSession, server: Server, conformance: Path
) -> None:
    picture = conformance / PICTURE
    data = picture.read_bytes()
    middle = data[len(data) // 2 : len(data) // 2 + 64]
    context = browser.browser.new_context(viewport=PHONE)
    page = context.new_page()
    sent: list[tuple[str, str, bytes | None]] = []
    page.on("request", lambda request: sent.append((request.url, request.method, request.post_data_buffer)))

    _fill_report(page, server.url, "I am the person shown", "Robin Example", "robin@example.org",
                 "https://example.org/post/1", picture, hashed_within_ms=60_000)
    assert page.locator("#file-list img").get_attribute("src").startswith("blob:")
    screenshot(page, "report")
    page.get_by_role("button", name="Send my request").click()
    case = page.locator("#case-id").inner_text()
    token = page.locator("#case-token").inner_text()
    screenshot(page, "receipt")
    number_box, code_box = (page.locator(box).bounding_box() for box in ("#case-id", "#case-token"))
    assert number_box["y"] + number_box["height"] <= code_box["y"], "the number's box overlaps the code's"
    context.close()

    bodies = [(url, body) for url, _, body in sent if body]
    assert bodies, "the form was not posted"
    for url, body in bodies:
        assert middle not in body and len(body) < len(data) // 4, f"{url} carried the picture's bytes"
    here = urlparse(server.url).netloc
    assert all(urlparse(url).netloc == here for url, _, _ in sent if url.startswith("http"))
    posted = next(body for url, body in bodies if url.endswith("/report"))
    assert b"hashes=" in posted and b"%22pdq%22" in posted

    with server.db.read() as session:
        hashes = json.loads(find_request(session, case).hashes)
    assert len(hashes) == 1 and hashes[0]["kind"] == "image" and len(hashes[0]["pdq"]) == 64
    sent_views = {view["name"] for view in hashes[0]["pdq_variants"]}
    assert _has_window_views(sent_views), sent_views

    desk = browser.browser.new_context(viewport={"width": 1200, "height": 900})
    page = desk.new_page()
    page.goto(f"{server.url}/desk")
    page.get_by_label("Email address").fill("reviewer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    first = page.locator("#queue tbody tr").first.locator("a")
    assert first.inner_text() == case
    first.click()
    page.get_by_role("heading", name=f"Case {case}").wait_for()
    screenshot(page, "case")
    page.set_viewport_size(PHONE)
    screenshot(page, "case-phone")
    page.get_by_label("Remove the content and every copy found").check()
    page.get_by_role("button", name="Record decision").click()
    page.get_by_text("Removed. The removal went out").wait_for()
    desk.close()
    assert sent_views <= banked_roles(server.db, case, indexed=False), "the bank views were not banked"
    assert _has_window_views(banked_roles(server.db, case, indexed=True))

    person = browser.browser.new_context(viewport=PHONE)
    page = person.new_page()
    page.goto(f"{server.url}/status")
    page.get_by_label("Case number").fill(case)
    page.get_by_label("Secret code").fill(token)
    page.get_by_role("button", name="Show my request").click()
    assert page.locator("#state").inner_text() == "Removed"
    screenshot(page, "status")
    person.close()


def _has_window_views(views: set[str]) -> bool:
    """Whether a picture's bank views include the mirror and anchored, spare and crop windows (which of
    them depends on the picture: windows narrower than 30 % of a side are not hashed)."""
    return "mirrored" in views and all(
        any(view.startswith(kind) for view in views) for kind in ("anchored", "spare", "crop")
    )


def banked_roles(db: Database, case: str, *, indexed: bool) -> set[str]:
    """The names of the hashes banked for ``case`` (only those matching looks up, when ``indexed``)."""
    with db.read() as session:
        request_id = find_request(session, case).id
        query = (select(EntryHash.role).join(RequestEntry, RequestEntry.entry_id == EntryHash.entry_id)
                 .where(RequestEntry.request_id == request_id))
        if indexed:
            query = query.where(EntryHash.indexed)
        return set(session.scalars(query))


def test_report_form_by_keyboard_alone(browser: BrowserSession, server: Server) -> None:
    context = browser.browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/report")
    reached: list[dict[str, Any]] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("""() => {
            const el = document.activeElement;
            const labelled = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
                || ['A', 'BUTTON', 'SUMMARY'].includes(el.tagName) && el.textContent.trim() !== '';
            return {id: el.id, tag: el.tagName, name: el.name || '', labelled: Boolean(labelled)};
        }"""))
    ids = {entry["id"] for entry in reached}
    for control in ["quick-exit", "name", "email", "phone", "locations", "files", "explanation", "good_faith",
                    "signature", "send"]:
        assert control in ids, f"Tab never reaches #{control}"
    assert any(entry["name"] == "relationship" for entry in reached)
    assert any(entry["tag"] == "SUMMARY" for entry in reached)
    unlabelled = [entry for entry in reached if entry["tag"] != "BODY" and not entry["labelled"]]
    assert unlabelled == []
    context.close()


def test_quick_exit_leaves_without_a_way_back(browser: BrowserSession, server: Server) -> None:
    context = browser.browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(server.url) else None)
    page.route("https://www.bbc.co.uk/**", lambda route: route.fulfill(body="<p>Weather</p>",
                                                                         content_type="text/html"))
    page.goto(f"{server.url}/status")
    page.goto(f"{server.url}/report")
    assert outside == []
    page.keyboard.press("Escape")
    page.wait_for_url("https://www.bbc.co.uk/weather")
    page.go_back()
    assert not page.url.endswith("/report")

    page.goto(f"{server.url}/report")
    page.get_by_role("button", name="Leave this site quickly").click()
    page.wait_for_url("https://www.bbc.co.uk/weather")
    context.close()


def test_dropped_picture_is_hashed_on_the_page_and_nothing_is_sent(
    browser: BrowserSession, server: Server
) -> None:
    context = browser.browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/report")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    page.evaluate("""async () => {
        const canvas = document.createElement('canvas');
        canvas.width = 200; canvas.height = 150;
        const g = canvas.getContext('2d');
        for (let i = 0; i < 40; i++) {
            g.fillStyle = `hsl(${i * 37 % 360}, 60%, ${30 + i % 5 * 10}%)`;
            g.fillRect((i * 53) % 180, (i * 29) % 130, 40, 30);
        }
        const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
        const transfer = new DataTransfer();
        transfer.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
        const zone = document.getElementById('drop-zone');
        const drop = new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true });
        zone.dispatchEvent(drop);
    }""")
    page.wait_for_function("() => document.getElementById('files-status').textContent.includes('ready')",
                           timeout=60_000)
    records = json.loads(page.locator("#hashes").input_value())
    assert len(records) == 1 and records[0]["kind"] == "image" and len(records[0]["pdq_dihedral"]) == 8
    page.get_by_role("button", name="Remove dropped.png").click()
    assert json.loads(page.locator("#hashes").input_value()) == []
    assert [url for url in sent if not url.startswith(("blob:", f"{server.url}/static/"))] == []
    context.close()


def test_video_is_hashed_on_the_page_and_accepted_with_the_request(
    browser: BrowserSession, server: Server, conformance: Path
) -> None:
    video = conformance / "vpdq" / "sample-videos" / "chair-19-sd-bar.mp4"
    data = video.read_bytes()
    context = browser.browser.new_context(viewport=PHONE)
    page = context.new_page()
    bodies: list[bytes] = []
    page.on("request", lambda request: bodies.append(request.post_data_buffer or b""))
    _fill_report(page, server.url, "I am acting for the person shown", "Sam Example", "sam@example.org",
                 "https://example.org/v/9", video, hashed_within_ms=120_000)
    page.get_by_role("button", name="Send my request").click()
    case = page.locator("#case-id").inner_text()
    context.close()
    assert all(data[4096:4160] not in body and len(body) < len(data) // 4 for body in bodies)
    with server.db.read() as session:
        (record,) = json.loads(find_request(session, case).hashes)
    assert record["kind"] == "video" and record["duration"] > 0 and len(record["vpdq"]) >= 1


def test_transparency_page_fits_1280_pixels_and_draws_bars_of_normal_width(
    browser: BrowserSession, server: Server
) -> None:
    file_case(server.db)  # at least one month of figures, whichever test ran before
    context = browser.browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/transparency")
    screenshot(page, "transparency")
    table = page.locator(".table-scroll")
    fits = table.evaluate("region => region.scrollWidth <= region.clientWidth")
    assert fits, "the figures table is cut off (it scrolls) at 1280 px"
    assert page.locator("th", has_text="Reinstated").count() == 1
    widths = page.locator("svg.chart rect").evaluate_all(
        "bars => bars.map(bar => bar.getBoundingClientRect().width)")
    assert widths and max(widths) <= 80, widths
    context.close()

