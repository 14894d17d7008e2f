"""Signatures, escaping, backoff, masking and notice text: pure functions, no database."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest

from ops.alerts.triage import AlertRow
from ops.notify.channels import mask_secret, mask_url
from ops.notify.delivery import MAX_RETRY_DELAY, retry_delay
from ops.notify.messages import alert_notice, describe_evidence, one_line
from ops.notify.transport import (
    OutgoingMessage,
    email_message,
    sign,
    slack_escape,
    verify_signature,
    webhook_body,
)
from ops.settings import Settings

BODY = b'{"text":"hello"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"k" * 16, b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign("k" * 16, "1700000000", BODY) == "sha256=" + expected


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now", "valid"),
    [
        ("right-secret-123", "1700000000", BODY, 1700000000, True),
        ("right-secret-123", "1700000000", BODY, 1700000299, True),
        ("wrong-secret-123", "1700000000", BODY, 1700000000, False),
        ("right-secret-123", "1700000000", BODY + b" ", 1700000000, False),
        ("right-secret-123", "1700000001", BODY, 1700000000, False),
        # A replay long after the fact is refused even with a good signature.
        ("right-secret-123", "1700000000", BODY, 1700000301, False),
        ("right-secret-123", "soon", BODY, 1700000000, False),
    ],
)
def test_verification_as_a_receiver_does_it(
    secret: str, timestamp: str, body: bytes, now: float, valid: bool
) -> None:
    signature = sign("right-secret-123", "1700000000", BODY)
    assert verify_signature(secret, timestamp, body, signature, now=now) is valid


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", "plain"),
        ("<!channel> ping", "&lt;!channel&gt; ping"),
        ("R&D <@U123>", "R&amp;D &lt;@U123&gt;"),
    ],
)
def test_slack_text_cannot_mention_or_link(text: str, escaped: str) -> None:
    assert slack_escape(text) == escaped


def test_webhook_body_has_a_slack_text_and_the_facts() -> None:
    message = OutgoingMessage(
        delivery_key="abc",
        kind="alert",
        recipient="olga",
        address="@olga",
        subject="[critical] Fast but inaccurate: <Rex>",
        body="details",
        link="http://x/alerts?alert=1",
        details={"alert": {"id": 1}},
    )
    document = json.loads(webhook_body(message))
    assert document["text"] == "[critical] Fast but inaccurate: &lt;Rex&gt;\ndetails"
    assert document["subject"] == "[critical] Fast but inaccurate: <Rex>"
    assert (document["delivery_id"], document["mention"], document["alert"]) == (
        "abc",
        "@olga",
        {"id": 1},
    )


def test_email_is_plain_text_with_the_delivery_id_as_message_id() -> None:
    settings = Settings(smtp_host="mail", smtp_sender="annops@ops.example")
    message = OutgoingMessage("k1", "alert", "olga", "olga@ops.example", "Hi", "<b>x</b>", "l")
    email = email_message(settings, message)
    assert email["Message-ID"] == "<k1@ops.example>" and email["X-Annops-Delivery"] == "k1"
    assert email.get_content_type() == "text/plain"
    assert email.get_content().strip() == "<b>x</b>"


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 60), (2, 120), (3, 240), (5, 960), (40, MAX_RETRY_DELAY.total_seconds())],
)
def test_retry_delay_doubles_and_is_capped(attempts: int, seconds: float) -> None:
    settings = Settings(notify_retry_seconds=60)
    assert retry_delay(attempts, settings) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("secret", "hint"),
    [(None, ""), ("short", "••••"), ("0123456789abcdef-WXYZ", "••••WXYZ")],
)
def test_secrets_are_masked(secret: str | None, hint: str) -> None:
    assert mask_secret(secret) == hint


def test_webhook_urls_keep_host_and_hide_the_token_path() -> None:
    url = "https://hooks.slack.com/services/T000/B000/XXXXXXXXabcd"
    assert mask_url(url) == "https://hooks.slack.com/…abcd"
    assert "XXXXXXXX" not in mask_url(url)


def test_subjects_are_one_line() -> None:
    assert one_line("a\r\nb\t c") == "a b c"
    assert one_line("x" * 300) == "x" * 199 + "…"


def test_an_alert_notice_reads_as_the_numbers_behind_it() -> None:
    row = AlertRow(
        id=7,
        rule="quality_vs_speed",
        title="Fast but inaccurate",
        severity="critical",
        status="open",
        project="weld-qa",
        subject="rex@annotators.example",
        annotator="Rex\nTurner",
        annotator_id=3,
        window_start=dt.date(2026, 3, 18),
        window_end=dt.date(2026, 3, 31),
        parent_alert_id=None,
        evidence={"gold_accuracy": 0.6, "target": 0.9, "first_seen": "x", "gold_answered": 50},
        assignee=None,
        created_at=dt.datetime(2026, 3, 31, 6, tzinfo=dt.UTC),
    )
    message = alert_notice(row)
    assert message.subject == "[critical] Fast but inaccurate: Rex Turner (weld-qa)"
    assert "  Gold accuracy: 60.0%" in message.body and "  Target: 90.0%" in message.body
    # The sentence the Alerts page shows, on one line even where a name had a line break.
    assert (
        "Rex Turner had a gold accuracy of 60.0% on 50 golden items in weld-qa over "
        "18–31 Mar 2026, credibly below the target of 90.0%" in message.body
    )
    assert "first seen" not in message.body.lower() and "_" not in message.body.split("http")[0]
    assert message.link.endswith("/alerts?alert=7")
    assert describe_evidence({"likely_causes": ["guidelines", "data"]}) == [
        "Check first: guidelines; data"
    ]
