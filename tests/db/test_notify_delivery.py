"""Notices reach a real SMTP server and a real webhook receiver on loopback: content,
signature, scope per role, retries with backoff, no duplicates, rate limit."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Alert, AuditEntry, JobRun, NotificationDelivery
from ops import rollups
from ops.alerts import evaluate_alerts
from ops.auth import principal_for
from ops.jobs import run_job
from ops.notify.channels import add_webhook
from ops.notify.deliveries import DeliveryFilter, list_deliveries
from ops.notify.delivery import CLAIM_LEASE, send_again, send_test
from ops.notify.preferences import save_preference
from ops.notify.transport import verify_signature
from ops.permissions import SYSTEM, Principal
from ops.settings import get_settings
from tests.db.conftest import PUBLIC_URL
from tests.db.notify_helpers import SmtpSink, WebhookReceiver, World, build_world, free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-shared-with-the-receiver"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def setup_world(factory: sessionmaker[Session], when: dt.datetime) -> World:
    with factory() as session, session.begin():
        return build_world(session, now=when)


def raise_alerts(factory: sessionmaker[Session], when: dt.datetime) -> list[Alert]:
    with factory() as session, session.begin():
        rollups.rebuild(session)
        evaluate_alerts(session, now=when)
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def add_channel(factory: sessionmaker[Session], url: str, name: str = "ops-chat") -> None:
    with factory() as session, session.begin():
        add_webhook(session, SYSTEM, name=name, url=url, secret=SECRET)


def subscribe(
    factory: sessionmaker[Session],
    world: World,
    who: str,
    channel: str,
    *,
    rules: tuple[str, ...] = ("quality_vs_speed", "gold_below_target"),
    digest: bool = False,
    address: str = "",
) -> Principal:
    principal = principal_for(world.users[who])
    with factory() as session, session.begin():
        save_preference(
            session,
            principal,
            channel=channel,
            address=address
            or (f"{world.users[who].username}@ops.example" if channel == "email" else ""),
            immediate_rules=rules,
            digest=digest,
        )
    return principal


def deliveries(factory: sessionmaker[Session]) -> list[NotificationDelivery]:
    with factory() as session:
        return list(session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def test_webhook_notices_are_signed_and_reach_only_those_who_may_see_the_alert(
    notify_env: dict[str, str], fresh_factory: sessionmaker[Session], receiver: WebhookReceiver
) -> None:
    when = now()
    world = setup_world(fresh_factory, when)
    add_channel(fresh_factory, receiver.url)
    for who in ("ops", "lead_a", "lead_b"):
        subscribe(fresh_factory, world, who, "ops-chat")
    [alert] = raise_alerts(fresh_factory, when)
    assert (alert.rule, alert.annotator_id, alert.severity) == (
        "quality_vs_speed",
        world.careless.id,
        "critical",
    )

    outcome = run_job("notify", factory=fresh_factory, now=when)

    assert (outcome.status, outcome.rows) == ("succeeded", 2)
    by_recipient = {request.document["recipient"]: request for request in receiver.requests}
    # The other team's lead may not see the alert, so hears nothing of it.
    assert set(by_recipient) == {"olga", "lee"}
    for request in receiver.requests:
        headers = {key.lower(): value for key, value in request.headers.items()}
        assert verify_signature(
            SECRET, headers["x-annops-timestamp"], request.body, headers["x-annops-signature"]
        )
        assert not verify_signature(
            "another-secret-entirely",
            headers["x-annops-timestamp"],
            request.body,
            headers["x-annops-signature"],
        )
        document = request.document
        assert document["delivery_id"] == headers["x-annops-delivery"]
        assert (
            document["alert"]["id"] == alert.id and document["alert"]["rule"] == "quality_vs_speed"
        )
        assert document["link"] == f"{PUBLIC_URL}/alerts?alert={alert.id}"
        assert document["text"].startswith("[critical] Fast but inaccurate: Rex Turner (weld-qa)")
        assert "Gold accuracy: 60.0%" in document["text"]
        assert f"{PUBLIC_URL}/alerts?alert={alert.id}" in document["text"]
    # A second run finds nothing new to send.
    assert run_job("notify", factory=fresh_factory, now=when).rows == 0
    assert len(receiver.requests) == 2
    assert {(row.recipient, row.status, row.attempts) for row in deliveries(fresh_factory)} == {
        ("olga", "sent", 1),
        ("lee", "sent", 1),
    }


def test_email_notice_says_what_and_links_to_the_alert(
    notify_env: dict[str, str], fresh_factory: sessionmaker[Session], smtp: SmtpSink
) -> None:
    when = now()
    world = setup_world(fresh_factory, when)
    subscribe(fresh_factory, world, "ops", "email", address="olga@ops.example")
    [alert] = raise_alerts(fresh_factory, when)

    assert run_job("notify", factory=fresh_factory, now=when).rows == 1

    [message] = smtp.to("olga@ops.example")
    assert message["From"] == "annops@ops.example"
    assert message["Subject"] == "[critical] Fast but inaccurate: Rex Turner (weld-qa)"
    [row] = deliveries(fresh_factory)
    assert message["Message-ID"] == f"<{row.delivery_key}@ops.example>"
    body = message.get_content()
    assert "Subject: rex@annotators.example (Rex Turner)" in body
    assert f"Open it in annops: {PUBLIC_URL}/alerts?alert={alert.id}" in body
    assert f"{PUBLIC_URL}/notification_settings" in body
    assert message.get_content_type() == "text/plain"
    assert (row.status, row.alert_id, row.kind, row.address) == (
        "sent",
        alert.id,
        "alert",
        "olga@ops.example",
    )


def test_retried_with_backoff_until_the_receiver_recovers(
    notify_env: dict[str, str], fresh_factory: sessionmaker[Session], receiver: WebhookReceiver
) -> None:
    when = now()
    world = setup_world(fresh_factory, when)
    add_channel(fresh_factory, receiver.url)
    subscribe(fresh_factory, world, "ops", "ops-chat")
    raise_alerts(fresh_factory, when)
    receiver.statuses = [500, 503]

    assert run_job("notify", factory=fresh_factory, now=when).rows == 0
    [row] = deliveries(fresh_factory)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "attempt 1: webhook answered HTTP 500 Internal Server Error"
    assert row.next_attempt_at == when + dt.timedelta(seconds=60)
    # Not due yet: nothing is sent.
    run_job("notify", factory=fresh_factory, now=when + dt.timedelta(seconds=30))
    assert len(receiver.requests) == 1

    second = when + dt.timedelta(seconds=61)
    run_job("notify", factory=fresh_factory, now=second)
    [row] = deliveries(fresh_factory)
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.next_attempt_at == second + dt.timedelta(seconds=120)

    assert (
        run_job("notify", factory=fresh_factory, now=second + dt.timedelta(seconds=121)).rows == 1
    )
    [row] = deliveries(fresh_factory)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    # Three attempts at one message, one delivery id: a receiver can tell them apart.
    assert len({request.headers["X-Annops-Delivery"] for request in receiver.requests}) == 1
    assert len(receiver.requests) == 3


def test_permanent_errors_and_used_up_attempts_fail(
    notify_env: dict[str, str],
    fresh_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANNOPS_NOTIFY_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    when = now()
    world = setup_world(fresh_factory, when)
    add_channel(fresh_factory, receiver.url)
    subscribe(fresh_factory, world, "ops", "ops-chat")
    subscribe(fresh_factory, world, "lead_a", "ops-chat")
    raise_alerts(fresh_factory, when)
    receiver.statuses = [404, 500]

    run_job("notify", factory=fresh_factory, now=when)
    run_job("notify", factory=fresh_factory, now=when + dt.timedelta(minutes=5))
    run_job("notify", factory=fresh_factory, now=when + dt.timedelta(minutes=10))

    first, second = deliveries(fresh_factory)
    assert (first.status, first.attempts) == ("failed", 1)
    assert first.last_error == "permanent error: webhook answered HTTP 404 Not Found"
    # The other waited for the next run after the channel failed, then was retried.
    assert (second.status, second.attempts) == ("sent", 2)
    # Sent again by an admin, it gets the full number of attempts, and no more.
    receiver.statuses = [500, 500]
    admin = principal_for(world.users["admin"])
    later = when + dt.timedelta(minutes=15)
    assert send_again(admin, first.id, factory=fresh_factory, now=later).status == "retrying"
    run_job("notify", factory=fresh_factory, now=later + dt.timedelta(minutes=5))
    run_job("notify", factory=fresh_factory, now=later + dt.timedelta(minutes=10))
    first = deliveries(fresh_factory)[0]
    assert (first.status, first.attempts) == ("failed", 2)
    assert first.last_error == "attempt 2: webhook answered HTTP 500 Internal Server Error"
    assert len(receiver.requests) == 5


def test_a_dead_channel_holds_back_only_its_own_messages(
    notify_env: dict[str, str], fresh_factory: sessionmaker[Session], smtp: SmtpSink
) -> None:
    when = now()
    world = setup_world(fresh_factory, when)
    # Nobody listens on this port: every attempt is refused.
    add_channel(fresh_factory, f"http://127.0.0.1:{free_port()}/hook", name="dead-chat")
    for who in ("ops", "lead_a"):
        subscribe(fresh_factory, world, who, "dead-chat")
        subscribe(fresh_factory, world, who, "email")
    raise_alerts(fresh_factory, when)

    outcome = run_job("notify", factory=fresh_factory, now=when)

    assert outcome.status == "succeeded" and outcome.rows == 2
    assert {message["To"] for message in smtp.messages} == {"olga@ops.example", "lee@ops.example"}
    webhook_rows = [row for row in deliveries(fresh_factory) if row.address is None]
    assert sorted(row.attempts for row in webhook_rows) == [0, 1]
    assert all(row.status == "pending" for row in webhook_rows)
    tried = next(row for row in webhook_rows if row.attempts == 1)
    assert tried.last_error is not None and "webhook unreachable" in tried.last_error
    with fresh_factory() as session:
        [alerts_run] = session.scalars(select(JobRun).where(JobRun.job == "notify")).all()[:1]
    assert alerts_run.status == "succeeded"


def test_rate_limit_holds_notices_beyond_the_hourly_limit(
    notify_env: dict[str, str],
    fresh_factory: sessionmaker[Session],
    smtp: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANNOPS_NOTIFY_RATE_LIMIT_PER_HOUR", "2")
    get_settings.cache_clear()
    when = now()
    world = setup_world(fresh_factory, when)
    subscribe(fresh_factory, world, "ops", "email", rules=("deadline_risk",))
    subscribe(fresh_factory, world, "lead_a", "email", rules=("deadline_risk",))
    with fresh_factory() as session, session.begin():
        for number in range(3):
            session.add(
                Alert(
                    rule="deadline_risk",
                    subject_key=f"project:{world.project.id}:{number}",
                    project_id=world.project.id,
                    window_start=when.date(),
                    window_end=when.date(),
                    severity="warning",
                    title="Deadline at risk at current throughput",
                    evidence={"late_by_days": number + 1},
                )
            )

    assert run_job("notify", factory=fresh_factory, now=when).rows == 2
    rows = deliveries(fresh_factory)
    assert [row.status for row in rows] == ["sent", "sent", "pending"]
    held = rows[2]
    assert held.attempts == 0 and held.next_attempt_at == when + dt.timedelta(hours=1)
    assert held.last_error is not None and held.last_error.startswith("held back: 2 notices")
    # Project alerts are not about the lead's team: the lead got none of them.
    assert smtp.to("lee@ops.example") == []

    run_job("notify", factory=fresh_factory, now=when + dt.timedelta(minutes=30))
    assert len(smtp.to("olga@ops.example")) == 2
    run_job("notify", factory=fresh_factory, now=when + dt.timedelta(minutes=61))
    assert len(smtp.to("olga@ops.example")) == 3
    assert [row.status for row in deliveries(fresh_factory)] == ["sent"] * 3


def test_a_worker_killed_mid_delivery_does_not_send_twice(
    notify_env: dict[str, str],
    fresh_database_url: str,
    fresh_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
) -> None:
    when = now()
    world = setup_world(fresh_factory, when)
    add_channel(fresh_factory, receiver.url)
    subscribe(fresh_factory, world, "ops", "ops-chat")
    raise_alerts(fresh_factory, when)
    receiver.hold = True
    worker = subprocess.Popen(
        [sys.executable, "-c", "from ops.jobs import run_job; run_job('notify')"],
        cwd=ROOT,
        env={**os.environ, **notify_env, "ANNOPS_DATABASE_URL": fresh_database_url},
    )
    try:
        assert receiver.got_request.wait(60), "the worker never sent the notice"
        # The message has arrived; the worker dies before it hears back and confirms.
        worker.kill()
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    receiver.hold = False
    receiver.release.set()
    [row] = deliveries(fresh_factory)
    assert (row.status, row.attempts) == ("sending", 1)

    # The next worker, soon after and well after the claim's lease: neither sends it again.
    restarted = now()
    assert run_job("notify", factory=fresh_factory, now=restarted).status == "succeeded"
    assert deliveries(fresh_factory)[0].status == "sending"
    later = restarted + CLAIM_LEASE + dt.timedelta(seconds=1)
    assert run_job("notify", factory=fresh_factory, now=later).status == "succeeded"
    time.sleep(0.2)
    assert len(receiver.requests) == 1
    [row] = deliveries(fresh_factory)
    assert (row.status, row.attempts) == ("unconfirmed", 1)
    assert row.last_error is not None and "not sent again automatically" in row.last_error

    # An admin who decides to send it again gets the same delivery id on the wire.
    admin = principal_for(world.users["admin"])
    assert send_again(admin, row.id, factory=fresh_factory).status == "sent"
    assert [request.headers["X-Annops-Delivery"] for request in receiver.requests] == [
        row.delivery_key,
        row.delivery_key,
    ]
    with fresh_factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "notify.resend")
        ).one()
    assert entry.before is not None and entry.before["status"] == "unconfirmed"
    assert entry.actor == "ada-admin"


def test_test_messages_go_out_at_once_and_are_logged_and_audited(
    notify_env: dict[str, str],
    fresh_factory: sessionmaker[Session],
    smtp: SmtpSink,
    receiver: WebhookReceiver,
) -> None:
    when = now()
    world = setup_world(fresh_factory, when)
    add_channel(fresh_factory, receiver.url)
    admin = principal_for(world.users["admin"])

    assert send_test(admin, "ops-chat", factory=fresh_factory).status == "sent"
    assert (
        send_test(admin, "email", address="it@ops.example", factory=fresh_factory).status == "sent"
    )
    receiver.statuses = [500]
    failed = send_test(admin, "ops-chat", factory=fresh_factory)

    assert (failed.status, failed.error) == (
        "failed",
        "attempt 1: webhook answered HTTP 500 Internal Server Error",
    )
    assert receiver.requests[0].document["kind"] == "test"
    assert (
        "test message from annops, sent by ada-admin" in smtp.to("it@ops.example")[0].get_content()
    )
    with fresh_factory() as session:
        log = list_deliveries(session, admin, DeliveryFilter(kind="test"))
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "notify.test").order_by(AuditEntry.id)
        ).all()
    assert [(row.channel, row.status) for row in log] == [
        ("ops-chat", "failed"),
        ("email", "sent"),
        ("ops-chat", "sent"),
    ]
    assert [entry.after["status"] for entry in audits if entry.after] == ["sent", "sent", "failed"]
    with pytest.raises(Exception, match="may not"):
        send_test(principal_for(world.users["ops"]), "ops-chat", factory=fresh_factory)
