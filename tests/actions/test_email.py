"""Emails to requesters: neutral, linking to the status page, never carrying the secret token; the
file, console and SMTP backends. The outbox part runs on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stanch.actions import (
    REFUSALS,
    ActionSettings,
    ConsoleMailer,
    DeliveryError,
    Dispatcher,
    Message,
    Outcome,
    SmtpMailer,
    Tally,
    default_senders,
    enqueue_email,
    list_messages,
    render,
)
from stanch.store import Database
from tests.actions.conftest import FakeClock

DEADLINE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
NEUTRAL_SUBJECTS = {"We received your request", "An update on your request"}


def read_eml(path: Path) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_the_file_backend_writes_a_neutral_email_without_the_token(database: Database, tmp_path: Path,
                                                                   clock: FakeClock) -> None:
    settings = ActionSettings(email_dir=tmp_path / "mail", public_url="https://takedown.example.org/")
    token = "tok_s3cret-never-emailed"
    with database.write() as session:
        queued = enqueue_email(session, "person@example.org", "received", case_id="C-1042", deadline=DEADLINE,
                               public_url=settings.public_url, clock=clock)
        message_id = queued.uuid
    with Dispatcher(database.engine, senders=default_senders(settings, clock), clock=clock) as sending:
        assert sending.run_once().sent == 1
    [path] = (tmp_path / "mail").iterdir()
    assert path.name == f"{message_id}.eml"
    sent = read_eml(path)
    assert sent["Subject"] == "We received your request"
    assert sent["To"] == "person@example.org"
    assert sent["Message-ID"] == f"<{message_id}@stanch>"
    body = sent.get_content()
    assert "C-1042" in body
    assert "https://takedown.example.org/status?case=C-1042" in body
    assert "Tuesday 24 November 2026, 09:00 UTC" in body
    assert token not in path.read_text() and "token=" not in body
    with database.read() as session:
        assert [m.status for m in list_messages(session)] == ["sent"]


@pytest.mark.parametrize("template", ["received", "update"])
def test_every_template_is_neutral(template: str) -> None:
    rendered = render(template, case_id="C/7 x", public_url="https://t.example", deadline=DEADLINE)
    assert rendered.subject in NEUTRAL_SUBJECTS
    assert "https://t.example/status?case=C%2F7%20x" in rendered.body
    for revealing in ("image", "photo", "video", "intimate", "nude", "sexual", "remove", "reject"):
        assert revealing not in (rendered.subject + rendered.body).lower()


def test_the_team_escalation_email_links_the_desk_and_is_neutral() -> None:
    rendered = render("escalation", case_id="C/7 x", public_url="https://t.example/", deadline=DEADLINE,
                      time_left=timedelta(hours=11, minutes=59))
    assert rendered.subject == "A case needs a decision soon"
    assert "https://t.example/desk/cases/C%2F7%20x" in rendered.body
    assert "It has 11 hours left" in rendered.body and "Tuesday 24 November 2026, 09:00 UTC" in rendered.body
    assert "status?case=" not in rendered.body
    for revealing in ("image", "photo", "video", "intimate", "nude", "sexual", "remove", "reject"):
        assert revealing not in (rendered.subject + rendered.body).lower()
    overdue = render("escalation", case_id="C-1", public_url="https://t.example", deadline=DEADLINE,
                     time_left=timedelta(minutes=-5))
    assert "deadline has passed" in overdue.body
    with pytest.raises(ValueError, match="time left"):
        render("escalation", case_id="C-1", public_url="https://t.example", deadline=DEADLINE)


def test_an_outcome_is_told_by_number_with_the_fixed_words_only() -> None:
    outcome = Outcome(locations=(Tally(1, removed=1), Tally(2, refused=2, refusals=("lawful", None)),
                                 Tally(1, put_back=1)), others=Tally(1, open=1), copies_removed=1)
    body = render("update", case_id="C-1", public_url="https://t.example", outcome=outcome).body
    assert ("- Location 1: removed.\n- Location 2: not removed: after a careful look, we found that the law "
            "allows it to stay online; the reason is on your status page.\n- Location 3: removed, then put "
            "back after an appeal.\n- Other items the platform tied to your request: still being reviewed.\n"
            "- 1 further copy found and removed.\n") in body
    for refusal in REFUSALS.values():  # every sentence an email can carry is safe in a shared inbox
        for revealing in ("image", "photo", "picture", "video", "intimate", "nude", "sexual", "consent"):
            assert revealing not in refusal.told.lower(), (refusal.told, revealing)
    with pytest.raises(ValueError, match="unknown refusal reason code 'made_up'; known: not_found"):
        render("update", case_id="C-1", public_url="https://t.example",
               outcome=Outcome(locations=(Tally(1, refused=1, refusals=("made_up",)),)))
    with pytest.raises(ValueError, match="only the 'update' email tells an outcome"):
        render("received", case_id="C-1", public_url="https://t.example", deadline=DEADLINE,
               outcome=Outcome(locations=()))


def test_templates_refuse_what_they_do_not_know() -> None:
    with pytest.raises(ValueError, match="unknown email template"):
        render("decision_details", case_id="1", public_url="https://t.example")
    with pytest.raises(ValueError, match="deadline"):
        render("received", case_id="1", public_url="https://t.example")


@pytest.mark.parametrize("address", ["not an address", "a@b", "x@example.org\r\nBcc: all@example.org", "",
                                     "a" * 250 + "@example.org"])
def test_bad_addresses_are_refused_at_enqueue(database: Database, address: str) -> None:
    with database.write() as session, pytest.raises(ValueError):
        enqueue_email(session, address, "update", case_id="1", public_url="https://t.example")
    with database.read() as session:
        assert list_messages(session) == []


def test_the_console_backend_logs_the_email(caplog: pytest.LogCaptureFixture, clock: FakeClock) -> None:
    body = render("update", case_id="C-9", public_url="https://t.example")
    message = Message("5c2e6f2a-0000-4000-8000-000000000002", "email", "update", "p@example.org",
                      {"subject": body.subject, "body": body.body}, clock(), 1)
    with caplog.at_level(logging.INFO, logger="stanch.actions.email"):
        ConsoleMailer().send(message)
    assert "An update on your request" in caplog.text and "status?case=C-9" in caplog.text
    assert "p@example.org" not in caplog.text, "a requester's address never reaches a log line"


@pytest.fixture
def plain_smtp_server() -> Iterator[int]:
    """An SMTP server that offers no STARTTLS: Stanch must refuse to send through it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, connection.makefile("rwb") as stream:
            stream.write(b"220 localhost ESMTP test\r\n")
            stream.flush()
            for line in stream:
                verb = line.split()[0].upper() if line.split() else b""
                reply = {b"EHLO": b"250-localhost\r\n250 SIZE 100000\r\n", b"QUIT": b"221 bye\r\n"}
                stream.write(reply.get(verb, b"502 not implemented\r\n"))
                stream.flush()
                if verb == b"QUIT":
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(timeout=5)
    listener.close()


def test_smtp_without_starttls_is_refused(plain_smtp_server: int, clock: FakeClock) -> None:
    mailer = SmtpMailer(f"smtp://user:pw@127.0.0.1:{plain_smtp_server}", "Stanch <no-reply@t.example>",
                        timeout=5)
    message = Message("5c2e6f2a-0000-4000-8000-000000000003", "email", "update", "p@example.org",
                      {"subject": "An update on your request", "body": "…"}, clock(), 1)
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        mailer.send(message)


def test_queuing_an_email_needs_only_the_public_url(database: Database,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A webhook misconfiguration stops the dispatcher, not every request that sends an email."""
    monkeypatch.setenv("STANCH_WEBHOOK_URL", "https://platform.example/hook")  # and no secret
    monkeypatch.setenv("STANCH_PUBLIC_URL", "https://takedown.example/")
    with database.write() as session:
        queued = enqueue_email(session, "p@example.org", "update", case_id="C-3")
    assert "https://takedown.example/status?case=C-3" in queued.payload
