"""From a planted annotator to a message in people's inboxes: one worker cycle, the digests
at their hour and once a day, and ``annops notify`` on the command line."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from db.models import Alert, JobRun, NotificationDelivery, Project
from ops import jobs, rollups
from ops.alerts import evaluate_alerts
from ops.auth import principal_for
from ops.cli import app
from ops.jobs import run_job
from ops.notify.channels import add_webhook
from ops.notify.deliveries import DeliveryFilter, list_deliveries
from ops.notify.preferences import save_preference
from ops.workforce.feedback import give_feedback
from tests.db.conftest import PUBLIC_URL
from tests.db.notify_helpers import SmtpSink, WebhookReceiver, World, build_world

SECRET = "shared-secret-of-the-ops-chat"
runner = CliRunner()


def setup_world(factory: sessionmaker[Session], when: dt.datetime) -> World:
    with factory() as session, session.begin():
        return build_world(session, now=when)


def coach_rex(factory: sessionmaker[Session], world: World) -> None:
    with factory() as session, session.begin():
        give_feedback(
            session,
            principal_for(world.users["lead_a"]),
            world.careless.id,
            category="accuracy",
            text="Check every weld seam against the guideline before you submit.",
        )


def prefer(
    factory: sessionmaker[Session],
    world: World,
    who: str,
    channel: str,
    *,
    rules: tuple[str, ...] = (),
    digest: bool = False,
) -> None:
    user = world.users[who]
    with factory() as session, session.begin():
        save_preference(
            session,
            principal_for(user),
            channel=channel,
            address=f"{user.username}@ops.example" if channel == "email" else "",
            immediate_rules=rules,
            digest=digest,
        )


def test_a_fast_but_inaccurate_annotator_reaches_ops_within_one_worker_cycle(
    notify_env: dict[str, str],
    fresh_factory: sessionmaker[Session],
    smtp: SmtpSink,
    receiver: WebhookReceiver,
) -> None:
    when = dt.datetime.now(dt.UTC)
    world = setup_world(fresh_factory, when)
    admin = principal_for(world.users["admin"])
    with fresh_factory() as session, session.begin():
        add_webhook(session, admin, name="ops-chat", url=receiver.url, secret=SECRET)
    # The ops manager asks for fast-but-inaccurate notices on the chat and by email.
    prefer(fresh_factory, world, "ops", "ops-chat", rules=("quality_vs_speed",))
    prefer(fresh_factory, world, "ops", "email", rules=("quality_vs_speed",))

    jobs.scheduled_rollup()

    with fresh_factory() as session:
        runs = [
            (run.job, run.status) for run in session.scalars(select(JobRun).order_by(JobRun.id))
        ]
        [alert] = session.scalars(select(Alert)).all()
    assert runs == [("rollup", "succeeded"), ("alerts", "succeeded"), ("notify", "succeeded")]
    assert (alert.rule, alert.annotator_id) == ("quality_vs_speed", world.careless.id)
    [request] = receiver.requests
    assert request.document["alert"]["id"] == alert.id
    assert request.document["text"].startswith("[critical] Fast but inaccurate: Rex Turner")
    [email] = smtp.messages
    assert email["To"] == "olga@ops.example"
    assert f"{PUBLIC_URL}/alerts?alert={alert.id}" in email.get_content()
    # Another cycle sends nothing again.
    jobs.scheduled_rollup()
    assert len(receiver.requests) == 1 and len(smtp.messages) == 1

    # The digests: the lead of Rex's team reads of him; finance does not. With a budget,
    # finance always has something to read, even on the first day of a month.
    with fresh_factory() as session, session.begin():
        project = session.get(Project, world.project.id)
        assert project is not None
        project.budget_minor = 5_000_00
    prefer(fresh_factory, world, "lead_a", "email", digest=True)
    prefer(fresh_factory, world, "finance", "email", digest=True)
    result = runner.invoke(app, ["notify", "digest"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["fin on email: sent", "lee on email: sent"]
    [lead_digest] = smtp.to("lee@ops.example")
    [finance_digest] = smtp.to("fin@ops.example")
    assert f"#{alert.id} [critical] Fast but inaccurate: Rex Turner" in lead_digest.get_content()
    assert "Rex" not in finance_digest.get_content()
    assert "Fast but inaccurate" not in finance_digest.get_content()

    with fresh_factory() as session:
        log = list_deliveries(session, admin)
        for_alert = list_deliveries(session, admin, DeliveryFilter(alert_id=alert.id))
    assert sorted((row.recipient, row.channel, row.status) for row in for_alert) == [
        ("olga", "email", "sent"),
        ("olga", "ops-chat", "sent"),
    ]
    assert sorted((row.kind, row.recipient, row.status) for row in log) == [
        ("alert", "olga", "sent"),
        ("alert", "olga", "sent"),
        ("digest", "fin", "sent"),
        ("digest", "lee", "sent"),
    ]


def test_digests_go_out_from_their_hour_once_a_day(
    notify_env: dict[str, str], fresh_factory: sessionmaker[Session], smtp: SmtpSink
) -> None:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    world = setup_world(fresh_factory, today)
    coach_rex(fresh_factory, world)
    for who in ("ops", "lead_a", "lead_b", "finance", "annotator"):
        prefer(fresh_factory, world, who, "email", digest=True)
    with fresh_factory() as session, session.begin():
        project = session.get(Project, world.project.id)
        assert project is not None
        project.budget_minor = 5_000_00
        rollups.rebuild(session)
        evaluate_alerts(session, now=today)

    run_job("notify", factory=fresh_factory, now=today.replace(hour=6, minute=59))
    assert smtp.messages == []
    run_job("notify", factory=fresh_factory, now=today.replace(hour=7, minute=5))
    got = {message["To"]: message for message in smtp.messages}
    # Lead B's team has nothing to report: no empty digest goes out.
    assert set(got) == {
        "olga@ops.example",
        "lee@ops.example",
        "fin@ops.example",
        "rex@ops.example",
    }
    run_job("notify", factory=fresh_factory, now=today.replace(hour=9))
    assert len(smtp.messages) == 4
    with fresh_factory() as session:
        skipped = session.scalars(
            select(NotificationDelivery.recipient).where(NotificationDelivery.status == "skipped")
        ).all()
    assert skipped == ["lou"]
    # An alert raised at noon is news for the next morning's digest.
    with fresh_factory() as session, session.begin():
        for alert in session.scalars(select(Alert)):
            alert.created_at = today.replace(hour=12)
    run_job("notify", factory=fresh_factory, now=today.replace(hour=7) + dt.timedelta(days=1))
    assert len(smtp.to("olga@ops.example")) == 2
    second = smtp.to("olga@ops.example")[1].get_content()
    assert f"what is new since {today:%Y-%m-%d} 07:05 UTC" in second


def test_notify_cli_tests_channels_and_prints_digests_without_sending(
    notify_env: dict[str, str],
    fresh_factory: sessionmaker[Session],
    smtp: SmtpSink,
    receiver: WebhookReceiver,
) -> None:
    world = setup_world(fresh_factory, dt.datetime.now(dt.UTC))
    with fresh_factory() as session, session.begin():
        add_webhook(
            session,
            principal_for(world.users["admin"]),
            name="ops-chat",
            url=receiver.url,
            secret=SECRET,
        )
    coach_rex(fresh_factory, world)
    prefer(fresh_factory, world, "annotator", "email", digest=True)

    unknown = runner.invoke(app, ["notify", "test", "--channel", "slack"])
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: No channel 'slack'; channels: email, ops-chat.\n"
    missing = runner.invoke(app, ["notify", "test"])
    assert missing.exit_code == 2 and "Missing option '--channel'" in missing.stderr

    webhook = runner.invoke(app, ["notify", "test", "--channel", "ops-chat"])
    assert webhook.exit_code == 0, webhook.output
    assert webhook.stdout.startswith("sent a test message on ops-chat (delivery ")
    assert receiver.requests[0].document["kind"] == "test"
    mail = runner.invoke(app, ["notify", "test", "--channel", "email", "--to", "it@ops.example"])
    assert mail.stdout.startswith("sent a test message on email to it@ops.example")
    receiver.statuses = [502]
    broken = runner.invoke(app, ["notify", "test", "--channel", "ops-chat"])
    assert broken.exit_code == 1
    assert broken.stderr == (
        "error: the test message on ops-chat was not sent: "
        "attempt 1: webhook answered HTTP 502 Bad Gateway\n"
    )

    dry = runner.invoke(app, ["notify", "digest", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert lines[0] == "== to rex (annotator) on email <rex@ops.example>"
    assert lines[1].startswith("Subject: annops digest ")
    with fresh_factory() as session:
        digests = session.scalar(select(func.count()).where(NotificationDelivery.kind == "digest"))
    assert digests == 0 and len(smtp.messages) == 1

    assert runner.invoke(app, ["notify", "digest"]).stdout == "rex on email: sent\n"
    again = runner.invoke(app, ["notify", "digest"])
    assert again.stdout == "no digests due: nobody asked for one, or today's have gone out\n"
