"""Notifications (admin) and My notifications (every role), and the link a notice carries."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import Alert, AuditEntry, NotificationPreference, User
from ops.errors import PermissionDenied
from ops.notify.channels import add_webhook, list_channels
from ops.notify.deliveries import list_deliveries
from ops.notify.delivery import send_test
from ops.permissions import SYSTEM, Principal
from tests.db.notify_helpers import WebhookReceiver
from tests.pages.conftest import ROLES, log_in
from tests.pages.workforce_helpers import database, frame_with, open_page, texts

SECRET = "a-very-secret-signing-key"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    endpoint = WebhookReceiver().start()
    yield endpoint
    endpoint.stop()


def ensure_webhook(url: str, name: str, target: str) -> None:
    with database(url) as session:
        if not any(view.name == name for view in list_channels(session, SYSTEM)):
            add_webhook(session, SYSTEM, name=name, url=target, secret=SECRET)


def click(app: AppTest, label: str) -> AppTest:
    [button] = [button for button in app.button if button.label == label]
    button.click()
    return app.run()


def test_admin_adds_a_webhook_whose_secret_is_never_shown_back(app: AppTest, demo_url: str) -> None:
    open_page(app, "admin", "notifications")
    assert not app.exception, app.exception
    assert "Email is off: set ANNOPS_SMTP_HOST" in app.warning[0].value
    app.text_input(key="notify-add-0-name").input("ops-chat")
    app.text_input(key="notify-add-0-url").input("not a url")
    app.text_input(key="notify-add-0-secret").input(SECRET)
    click(app, "Add webhook")
    assert "Give the webhook's full http:// or https:// URL" in texts(app)
    app.text_input(key="notify-add-0-url").input("https://hooks.example.org/services/T0/B0/wxyz")
    click(app, "Add webhook")
    assert not app.exception, app.exception
    assert "Webhook added" in texts(app)
    channels = frame_with(app, "goes to").set_index("name")
    assert channels.loc["ops-chat", "goes to"] == "https://hooks.example.org/…wxyz"
    assert channels.loc["ops-chat", "secret"] == "••••-key"
    assert SECRET not in texts(app) and SECRET not in channels.to_string()
    with database(demo_url) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "notify.channel.create")
        ).one()
    assert entry.actor == "admin" and SECRET not in json.dumps(entry.after)
    assert "/services/" not in json.dumps(entry.after)


def test_admin_sends_a_test_and_reads_it_in_the_delivery_log(
    app: AppTest, demo_url: str, receiver: WebhookReceiver
) -> None:
    ensure_webhook(demo_url, "test-chat", receiver.url)
    open_page(app, "admin", "notifications")
    app.selectbox(key="notify-test-channel").set_value("test-chat")
    app.button(key="notify-test-send").click()
    app.run()
    assert not app.exception, app.exception
    assert "Test message sent (delivery" in texts(app)
    assert receiver.requests[0].document["kind"] == "test"
    app.selectbox(key="notify-log-kind").set_value("test")
    app.run()
    log = frame_with(app, "delivery_key")
    assert (log.iloc[0]["channel"], log.iloc[0]["status"], log.iloc[0]["recipient"]) == (
        "test-chat",
        "sent",
        "admin",
    )


@pytest.mark.parametrize("role", ["ops", "lead", "finance", "annotator"])
def test_other_roles_cannot_reach_notifications(app: AppTest, demo_url: str, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/notifications.py")
    who = Principal(username=role, role=role)
    with database(demo_url) as session:
        for read in (list_channels, list_deliveries):
            with pytest.raises(PermissionDenied):
                read(session, who)
        with pytest.raises(PermissionDenied):
            add_webhook(session, who, name="mine", url="https://x.example", secret=SECRET)
    with pytest.raises(PermissionDenied):
        send_test(who, "email")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sets_its_own_notifications(
    app: AppTest, demo_url: str, role: str, receiver: WebhookReceiver
) -> None:
    ensure_webhook(demo_url, "team-chat", receiver.url)
    open_page(app, role, "notification_settings")
    assert not app.exception, app.exception
    assert app.title[0].value == "My notifications"
    sees_alerts = role in ("admin", "ops", "lead")
    form = "prefs-team-chat-0-0"
    rules = [widget for widget in app.multiselect if widget.form_id == form]
    assert bool(rules) == sees_alerts
    if not sees_alerts:
        assert "Your role sees no alerts" in texts(app)
    else:
        rules[0].select("quality_vs_speed")
    app.text_input(key=f"{form}-address").input(f"@{role}")
    app.checkbox(key=f"{form}-digest").check()
    [save] = [button for button in app.button if button.form_id == form]
    save.click()
    app.run()
    assert not app.exception, app.exception
    assert "Saved your settings for team-chat." in texts(app)
    with database(demo_url) as session:
        user_id = session.scalar(select(User.id).where(User.username == role))
        [pref] = session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        ).all()
    assert (pref.address, pref.digest) == (f"@{role}", True)
    assert pref.immediate_rules == (["quality_vs_speed"] if sees_alerts else [])


def test_a_notice_link_opens_its_alert_whatever_its_status(app: AppTest, demo_url: str) -> None:
    with database(demo_url) as session:
        alert = session.scalars(
            select(Alert).where(Alert.parent_alert_id.is_(None)).order_by(Alert.id.desc())
        ).first()
        assert alert is not None
        alert.status = "dismissed"
    log_in(app, "ops")
    app.switch_page("pages/alerts.py")
    app.query_params["alert"] = str(alert.id)
    app.run()
    assert not app.exception, app.exception
    assert app.selectbox(key="alerts_status").value == "any"
    assert app.subheader[0].value.startswith(f"#{alert.id} · ")
