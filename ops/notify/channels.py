"""Notification channels: the email channel (SMTP from the settings) and admins' webhooks.

A webhook's secret signs every request; it is stored because signing needs it, and it
is never shown back in full: pages, the audit log and the CLI see a masked hint.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import NotificationChannel, utcnow
from db.queries import notifications as nq
from ops import audit
from ops.errors import NotFound, ValidationError
from ops.permissions import Principal, require
from ops.settings import Settings, get_settings
from ops.workforce.common import check_version, flush_or_conflict

EMAIL = "email"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 200
MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class SmtpStatus:
    """Whether email can go out, from the ``ANNOPS_SMTP_*`` settings; never the password."""

    configured: bool
    host: str | None
    port: int
    starttls: bool
    user: str | None
    sender: str
    message: str


@dataclass(frozen=True)
class ChannelView:
    """A channel as an admin sees it: where it points, with the secret masked."""

    id: int | None
    name: str
    kind: str
    target: str
    secret_hint: str
    enabled: bool
    usable: bool
    version_id: int | None


def smtp_status(settings: Settings | None = None) -> SmtpStatus:
    """The SMTP configuration as a sentence an admin can act on."""
    settings = settings or get_settings()
    if not settings.smtp_host:
        return SmtpStatus(
            False,
            None,
            settings.smtp_port,
            settings.smtp_starttls,
            None,
            settings.smtp_sender,
            "Email is off: set ANNOPS_SMTP_HOST (and ANNOPS_SMTP_PORT, _STARTTLS, _USER, "
            "_PASSWORD, _SENDER) for the worker and the dashboard.",
        )
    login = f", login {settings.smtp_user}" if settings.smtp_user else ", no login"
    tls = "STARTTLS" if settings.smtp_starttls else "no TLS"
    return SmtpStatus(
        True,
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_starttls,
        settings.smtp_user,
        settings.smtp_sender,
        f"Email goes through {settings.smtp_host}:{settings.smtp_port} ({tls}{login}) "
        f"from {settings.smtp_sender}.",
    )


def mask_secret(secret: str | None) -> str:
    """A hint that tells two secrets apart without giving one away."""
    if not secret:
        return ""
    return "••••" + secret[-4:] if len(secret) >= MIN_SECRET_LENGTH else "••••"


def mask_url(url: str | None) -> str:
    """Scheme and host of a webhook URL; its path often is a credential (Slack's is)."""
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url)
    tail = parts.path[-4:] if len(parts.path) > 8 else ""
    return f"{parts.scheme}://{parts.netloc}/…{tail}"


def list_channels(
    session: Session, principal: Principal, *, settings: Settings | None = None
) -> list[ChannelView]:
    """Every channel with its target and masked secret; email is listed even before use."""
    require(principal, "notify.admin")
    settings = settings or get_settings()
    smtp = smtp_status(settings)
    rows = nq.list_channels(session)
    views = [_view(row, smtp) for row in rows]
    if not any(row.kind == EMAIL for row in rows):
        views.insert(
            0,
            ChannelView(None, EMAIL, "email", _smtp_target(smtp), "", True, smtp.configured, None),
        )
    return views


def _smtp_target(smtp: SmtpStatus) -> str:
    return f"SMTP {smtp.host}:{smtp.port}" if smtp.configured else "SMTP not configured"


def _view(channel: NotificationChannel, smtp: SmtpStatus) -> ChannelView:
    if channel.kind == EMAIL:
        return ChannelView(
            channel.id,
            channel.name,
            channel.kind,
            _smtp_target(smtp),
            "",
            channel.enabled,
            channel.enabled and smtp.configured,
            channel.version_id,
        )
    return ChannelView(
        channel.id,
        channel.name,
        channel.kind,
        mask_url(channel.url),
        mask_secret(channel.secret),
        channel.enabled,
        channel.enabled,
        channel.version_id,
    )


def usable(channel: NotificationChannel, settings: Settings | None = None) -> bool:
    """True when messages can go out on the channel now."""
    if not channel.enabled:
        return False
    return channel.kind != EMAIL or bool((settings or get_settings()).smtp_host)


def email_channel(session: Session) -> NotificationChannel:
    """The email channel's row, made on first use (it has nothing to configure here)."""
    channel = nq.get_channel(session, name=EMAIL)
    if channel is not None:
        return channel
    try:
        with session.begin_nested():
            channel = NotificationChannel(name=EMAIL, kind=EMAIL, enabled=True, updated_by="system")
            session.add(channel)
    except IntegrityError:
        # Someone else made it at the same moment.
        channel = nq.get_channel(session, name=EMAIL)
        assert channel is not None
    return channel


def get_channel(session: Session, name: str) -> NotificationChannel:
    """The channel called ``name``; NotFound names the channels there are."""
    if name == EMAIL:
        return email_channel(session)
    channel = nq.get_channel(session, name=name)
    if channel is None:
        names = [EMAIL, *(row.name for row in nq.list_channels(session) if row.kind != EMAIL)]
        raise NotFound(f"No channel {name!r}; channels: {', '.join(names)}.")
    return channel


def _public(channel: NotificationChannel) -> dict[str, Any]:
    """What the audit log keeps of a channel: never the secret or the URL's path."""
    return {
        "name": channel.name,
        "kind": channel.kind,
        "url": mask_url(channel.url),
        "secret": mask_secret(channel.secret),
        "enabled": channel.enabled,
    }


def _clean_name(name: str) -> str:
    name = name.strip().lower()
    if name == EMAIL:
        raise ValidationError("The name email is the email channel's; pick another.", field="name")
    if not NAME_PATTERN.match(name):
        raise ValidationError(
            "Name a channel with 1-60 lower-case letters, digits, - or _ (e.g. ops-slack).",
            field="name",
        )
    return name


def _clean_url(url: str) -> str:
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(
            "Give the webhook's full http:// or https:// URL "
            "(e.g. a Slack or Mattermost incoming-webhook URL).",
            field="url",
        )
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(f"Keep the URL under {MAX_URL_LENGTH} characters.", field="url")
    return url


def _clean_secret(secret: str) -> str:
    secret = secret.strip()
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise ValidationError(
            f"The secret must be {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters; "
            "give the receiver the same one to check signatures with.",
            field="secret",
        )
    return secret


def _unique_name(session: Session, name: str, own_id: int | None) -> None:
    existing = nq.get_channel(session, name=name)
    if existing is not None and existing.id != own_id:
        raise ValidationError(f"A channel named {name!r} already exists.", field="name")


def add_webhook(
    session: Session, actor: Principal, *, name: str, url: str, secret: str, enabled: bool = True
) -> NotificationChannel:
    """A new webhook channel; the secret is what receivers verify signatures with."""
    require(actor, "notify.admin")
    name = _clean_name(name)
    _unique_name(session, name, None)
    channel = NotificationChannel(
        name=name,
        kind="webhook",
        url=_clean_url(url),
        secret=_clean_secret(secret),
        enabled=enabled,
        updated_by=actor.username,
    )
    session.add(channel)
    session.flush()
    audit.record(session, actor, "notify.channel.create", channel, after=_public(channel))
    return channel


def update_webhook(
    session: Session,
    actor: Principal,
    name: str,
    *,
    expected_version: int,
    new_name: str | None = None,
    url: str | None = None,
    secret: str | None = None,
    enabled: bool | None = None,
) -> NotificationChannel:
    """Change a webhook; a URL or secret left empty keeps the stored one."""
    require(actor, "notify.admin")
    channel = get_channel(session, name)
    if channel.kind != "webhook":
        raise ValidationError("Only webhook channels are edited here.", field="name")
    check_version(channel, expected_version, f"Channel {channel.name}")
    before = _public(channel)
    if new_name is not None and new_name.strip().lower() != channel.name:
        cleaned = _clean_name(new_name)
        _unique_name(session, cleaned, channel.id)
        channel.name = cleaned
    if url:
        channel.url = _clean_url(url)
    if secret:
        channel.secret = _clean_secret(secret)
    if enabled is not None:
        channel.enabled = enabled
    channel.updated_by = actor.username
    channel.updated_at = utcnow()
    flush_or_conflict(session, f"Channel {channel.name}")
    after = _public(channel)
    if secret and before["secret"] == after["secret"]:
        after["secret_changed"] = True  # same last four characters, new secret
    audit.record(session, actor, "notify.channel.update", channel, before=before, after=after)
    return channel


def set_enabled(
    session: Session, actor: Principal, name: str, enabled: bool
) -> NotificationChannel:
    """Switch a channel on or off; off, nothing new goes out on it."""
    require(actor, "notify.admin")
    channel = get_channel(session, name)
    before = _public(channel)
    if channel.enabled == enabled:
        return channel
    channel.enabled = enabled
    channel.updated_by = actor.username
    channel.updated_at = utcnow()
    flush_or_conflict(session, f"Channel {channel.name}")
    action = "notify.channel.enable" if enabled else "notify.channel.disable"
    audit.record(session, actor, action, channel, before=before, after=_public(channel))
    return channel
