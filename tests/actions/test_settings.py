"""Settings from the environment, and the retry schedule."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from stanch.actions import ActionSettings, RetryPolicy, SettingsError


def test_defaults_send_email_to_the_log_and_no_webhooks() -> None:
    settings = ActionSettings.from_env({})
    assert settings.email_backend == "console" and settings.webhook_url is None


def test_variables_are_read() -> None:
    settings = ActionSettings.from_env({
        "STANCH_WEBHOOK_URL": "https://platform.example/hooks/stanch",
        "STANCH_WEBHOOK_SECRET": "s",
        "STANCH_WEBHOOK_TIMEOUT": "2.5",
        "STANCH_EMAIL_DIR": "/tmp/mail",
        "STANCH_PUBLIC_URL": "https://takedown.example/",
    })
    assert settings.webhook_timeout == 2.5 and settings.email_backend == "file"
    assert settings.email_dir == Path("/tmp/mail") and settings.public_url == "https://takedown.example"
    smtp = ActionSettings.from_env({"STANCH_SMTP_URL": "smtps://u:p@mail.example", "STANCH_EMAIL_DIR": "/x"})
    assert smtp.email_backend == "smtp"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"STANCH_WEBHOOK_URL": "https://p.example/h"}, "STANCH_WEBHOOK_SECRET"),
        ({"STANCH_WEBHOOK_URL": "ftp://p.example/h", "STANCH_WEBHOOK_SECRET": "s"}, "STANCH_WEBHOOK_URL"),
        ({"STANCH_WEBHOOK_TIMEOUT": "soon"}, "STANCH_WEBHOOK_TIMEOUT"),
        ({"STANCH_WEBHOOK_TIMEOUT": "0"}, "STANCH_WEBHOOK_TIMEOUT"),
        ({"STANCH_SMTP_URL": "mail.example:587"}, "STANCH_SMTP_URL"),
        ({"STANCH_PUBLIC_URL": "takedown.example"}, "STANCH_PUBLIC_URL"),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        ActionSettings.from_env(environ)


def test_a_password_in_a_bad_smtp_url_is_not_repeated() -> None:
    with pytest.raises(SettingsError) as error:
        ActionSettings.from_env({"STANCH_SMTP_URL": "http://user:hunter2@mail.example"})
    assert "hunter2" not in str(error.value)


def test_backoff_doubles_with_bounded_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(minutes=5), jitter=0.25)
    delays = [policy.delay(n, lambda: 0.0).total_seconds() for n in range(1, 8)]
    assert delays == [10, 20, 40, 80, 160, 300, 300]
    assert policy.delay(2, lambda: 0.999).total_seconds() == pytest.approx(20 * 1.24975)
    assert policy.delay(1000, lambda: 0.0) == timedelta(minutes=5)
