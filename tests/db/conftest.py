"""Fixtures of the notification tests: real receivers on loopback and the settings to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.settings import get_settings
from tests.db.notify_helpers import SmtpSink, WebhookReceiver

PUBLIC_URL = "http://annops.test:8501"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    endpoint = WebhookReceiver().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def notify_env(
    fresh_database_url: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """Email through the loopback SMTP server, links to a made-up dashboard address."""
    values = {
        "ANNOPS_SMTP_HOST": "127.0.0.1",
        "ANNOPS_SMTP_PORT": str(smtp.port),
        "ANNOPS_SMTP_STARTTLS": "false",
        "ANNOPS_SMTP_SENDER": "annops@ops.example",
        "ANNOPS_PUBLIC_URL": PUBLIC_URL,
        "ANNOPS_NOTIFY_TIMEOUT_SECONDS": "5",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()
