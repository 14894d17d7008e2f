"""Channels an admin keeps and the settings each user keeps: validated, audited, scoped."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry, NotificationPreference
from ops.auth import principal_for
from ops.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from ops.notify.channels import add_webhook, list_channels, set_enabled, update_webhook
from ops.notify.preferences import my_preferences, save_preference
from ops.permissions import SYSTEM, Principal
from ops.settings import get_settings
from tests.factories import make_user

SECRET = "0123456789abcdef-first"
URL = "https://hooks.example.org/services/T1/B1/tokenABCD"


@pytest.fixture
def smtp_configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ANNOPS_SMTP_HOST", "mail.internal")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def audits(session: Session, action: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


@pytest.mark.parametrize(
    ("name", "url", "secret", "field"),
    [
        ("email", URL, SECRET, "name"),
        ("Ops Chat", URL, SECRET, "name"),
        ("", URL, SECRET, "name"),
        ("ops-chat", "ftp://hooks.example.org/x", SECRET, "url"),
        ("ops-chat", "hooks.example.org/x", SECRET, "url"),
        ("ops-chat", URL, "too-short", "secret"),
    ],
)
def test_a_webhook_needs_a_name_an_http_url_and_a_real_secret(
    session: Session, name: str, url: str, secret: str, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        add_webhook(session, SYSTEM, name=name, url=url, secret=secret)
    assert refused.value.field == field


def test_webhooks_are_added_changed_and_switched_off_with_masked_audit(session: Session) -> None:
    channel = add_webhook(session, SYSTEM, name="Ops-Chat", url=URL, secret=SECRET)
    assert channel.name == "ops-chat"
    with pytest.raises(ValidationError, match="already exists"):
        add_webhook(session, SYSTEM, name="ops-chat", url=URL, secret=SECRET)
    version = channel.version_id
    update_webhook(
        session,
        SYSTEM,
        "ops-chat",
        expected_version=version,
        new_name="ops-alerts",
        secret="0123456789abcdef-second",
    )
    assert (channel.name, channel.url, channel.secret) == (
        "ops-alerts",
        URL,
        "0123456789abcdef-second",
    )
    with pytest.raises(ConflictError, match="was changed by system"):
        update_webhook(session, SYSTEM, "ops-alerts", expected_version=version, enabled=False)
    set_enabled(session, SYSTEM, "ops-alerts", False)
    views = {view.name: view for view in list_channels(session, SYSTEM)}
    assert views["ops-alerts"].secret_hint == "••••cond"
    assert views["ops-alerts"].target == "https://hooks.example.org/…ABCD"
    assert not views["ops-alerts"].enabled and not views["ops-alerts"].usable
    # Nobody has used email yet; it is listed all the same, and off without SMTP.
    assert views["email"].id is None and not views["email"].usable
    [created] = audits(session, "notify.channel.create")
    [updated] = audits(session, "notify.channel.update")
    [disabled] = audits(session, "notify.channel.disable")
    assert updated.before == {
        "name": "ops-chat",
        "kind": "webhook",
        "url": "https://hooks.example.org/…ABCD",
        "secret": "••••irst",
        "enabled": True,
    }
    assert updated.after is not None and updated.after["secret"] == "••••cond"
    assert disabled.after is not None and disabled.after["enabled"] is False
    for entry in (created, updated, disabled):
        text = json.dumps([entry.before, entry.after])
        assert "0123456789abcdef" not in text and "tokenABCD" not in text
    with pytest.raises(NotFound, match="No channel 'nope'; channels: email, ops-alerts."):
        set_enabled(session, SYSTEM, "nope", True)


@pytest.mark.parametrize("role", ["ops", "lead", "finance", "annotator"])
def test_only_admins_manage_channels(session: Session, role: str) -> None:
    who = Principal(username=role, role=role)
    with pytest.raises(PermissionDenied):
        add_webhook(session, who, name="mine", url=URL, secret=SECRET)
    with pytest.raises(PermissionDenied):
        list_channels(session, who)
    with pytest.raises(PermissionDenied):
        set_enabled(session, who, "email", False)


def test_each_user_keeps_their_own_settings_audited(
    session: Session, smtp_configured: None
) -> None:
    olga = principal_for(make_user(session, username="olga", role="ops"))
    add_webhook(session, SYSTEM, name="ops-chat", url=URL, secret=SECRET)
    with pytest.raises(ValidationError, match="Give the email address") as refused:
        save_preference(session, olga, channel="email", digest=True)
    assert refused.value.field == "address"
    before = dt.datetime.now(dt.UTC)
    pref = save_preference(
        session,
        olga,
        channel="email",
        address=" olga@ops.example ",
        immediate_rules=["drift", "quality_vs_speed"],
    )
    since = pref.immediate_since
    assert since is not None and since >= before
    # The stored order is the rules' own, whatever order they were picked in.
    assert (pref.address, pref.immediate_rules, pref.digest) == (
        "olga@ops.example",
        ["quality_vs_speed", "drift"],
        False,
    )
    save_preference(
        session,
        olga,
        channel="email",
        address="olga@ops.example",
        immediate_rules=["drift"],
        digest=True,
        expected_version=pref.version_id,
    )
    # Still subscribed: notices keep covering alerts since the first choice.
    assert pref.immediate_since == since and pref.immediate_rules == ["drift"]
    with pytest.raises(ConflictError):
        save_preference(session, olga, channel="email", address="o@x.org", expected_version=1)
    view = my_preferences(session, olga)
    assert [(c.channel, c.immediate_rules, c.digest) for c in view.channels] == [
        ("email", ("drift",), True),
        ("ops-chat", (), False),
    ]
    # Email switched off by an admin: kept on Olga's page, marked off, and closed to changes.
    set_enabled(session, SYSTEM, "email", False)
    assert [(c.channel, c.usable) for c in my_preferences(session, olga).channels] == [
        ("email", False),
        ("ops-chat", True),
    ]
    with pytest.raises(ValidationError, match="The channel email is off"):
        save_preference(session, olga, channel="email", address="olga@ops.example")
    entries = audits(session, "notify.preferences")
    assert [entry.actor for entry in entries] == ["olga", "olga"]
    assert entries[0].before is None and entries[1].before is not None
    assert entries[1].after == {
        "user_id": olga.user_id,
        "channel": "email",
        "address": "olga@ops.example",
        "immediate_rules": ["drift"],
        "digest": True,
    }


def test_rules_are_offered_only_to_roles_that_see_alerts(session: Session) -> None:
    add_webhook(session, SYSTEM, name="ops-chat", url=URL, secret=SECRET)
    finance = principal_for(make_user(session, username="fin", role="finance"))
    lead = principal_for(make_user(session, username="lee", role="lead"))
    assert my_preferences(session, finance).rule_choices == ()
    assert "quality_vs_speed" in dict(my_preferences(session, lead).rule_choices)
    with pytest.raises(ValidationError, match="it sees no alerts"):
        save_preference(session, finance, channel="ops-chat", immediate_rules=["budget_burn"])
    with pytest.raises(ValidationError, match="may not get notices of made_up"):
        save_preference(session, lead, channel="ops-chat", immediate_rules=["made_up"])
    save_preference(session, finance, channel="ops-chat", digest=True)
    # Email is off without SMTP: nobody may choose it, and it is not offered.
    with pytest.raises(ValidationError, match="The channel email is off"):
        save_preference(session, lead, channel="email", address="lee@x.org", digest=True)
    assert [c.channel for c in my_preferences(session, lead).channels] == ["ops-chat"]
    set_enabled(session, SYSTEM, "ops-chat", False)
    # A channel switched off stays listed for those who used it, marked as off.
    [kept] = my_preferences(session, finance).channels
    assert (kept.channel, kept.usable, kept.digest) == ("ops-chat", False, True)
    assert my_preferences(session, lead).channels == ()
    with pytest.raises(ValidationError, match="log in as one"):
        save_preference(session, SYSTEM, channel="ops-chat", digest=True)
    assert session.scalars(select(NotificationPreference.user_id)).all() == [finance.user_id]
