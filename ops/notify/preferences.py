"""Each user's own notification settings: per channel, an address, immediate notices for
the alert rules their role may see, and a daily digest."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.models import NotificationChannel, NotificationPreference, utcnow
from db.queries import notifications as nq
from ops import audit
from ops.alerts.rules import RULE_TITLES
from ops.errors import ValidationError
from ops.identities import EMAIL_PATTERN
from ops.notify import channels
from ops.notify.digests import section_titles
from ops.permissions import Principal, require
from ops.settings import get_settings
from ops.workforce.common import check_version, flush_or_conflict

MAX_ADDRESS_LENGTH = 320


@dataclass(frozen=True)
class ChannelPreference:
    """One channel as its user sees it: what they chose there, and whether it is on."""

    channel: str
    kind: str
    usable: bool
    address: str
    immediate_rules: tuple[str, ...]
    digest: bool
    version_id: int | None


@dataclass(frozen=True)
class PreferencesView:
    """Everything the notification settings page shows the logged-in user."""

    rule_choices: tuple[tuple[str, str], ...]
    digest_sections: tuple[str, ...]
    channels: tuple[ChannelPreference, ...]


def rule_choices(principal: Principal) -> tuple[str, ...]:
    """The alert rules a user may ask to hear about: all of them where the role sees alerts.

    Which alerts of a rule reach them is decided when one is raised, by listing alerts as
    them; a lead choosing a rule hears only about their own team's alerts of it.
    """
    return tuple(RULE_TITLES) if principal.can("alerts.view") else ()


def my_preferences(session: Session, principal: Principal) -> PreferencesView:
    """The logged-in user's settings on every channel that is on (and those they used)."""
    require(principal, "notify.preferences")
    user_id = _user_id(principal)
    settings = get_settings()
    saved = {pref.channel_id: pref for pref in nq.list_preferences_of(session, user_id=user_id)}
    rows = nq.list_channels(session)
    if not any(row.kind == channels.EMAIL for row in rows):
        rows.insert(0, NotificationChannel(name=channels.EMAIL, kind=channels.EMAIL, enabled=True))
    views = []
    for row in rows:
        pref = saved.get(row.id) if row.id is not None else None
        if not channels.usable(row, settings) and pref is None:
            continue
        views.append(
            ChannelPreference(
                channel=row.name,
                kind=row.kind,
                usable=channels.usable(row, settings),
                address=(pref.address or "") if pref else "",
                immediate_rules=tuple(pref.immediate_rules) if pref else (),
                digest=pref.digest if pref else False,
                version_id=pref.version_id if pref else None,
            )
        )
    return PreferencesView(
        rule_choices=tuple((rule, RULE_TITLES[rule]) for rule in rule_choices(principal)),
        digest_sections=section_titles(principal),
        channels=tuple(views),
    )


def save_preference(
    session: Session,
    principal: Principal,
    *,
    channel: str,
    address: str = "",
    immediate_rules: tuple[str, ...] | list[str] = (),
    digest: bool = False,
    expected_version: int | None = None,
) -> NotificationPreference:
    """Store the user's choice on one channel; only the user changes their own settings."""
    require(principal, "notify.preferences")
    user_id = _user_id(principal)
    target = channels.get_channel(session, channel)
    if not channels.usable(target):
        raise ValidationError(
            f"The channel {target.name} is off; ask an admin to turn it on.", field="channel"
        )
    allowed = rule_choices(principal)
    unknown = [rule for rule in immediate_rules if rule not in allowed]
    if unknown:
        raise ValidationError(
            f"Your role may not get notices of {', '.join(sorted(unknown))}"
            + ("." if allowed else ": it sees no alerts; the daily digest is for you."),
            field="immediate_rules",
        )
    rules = [rule for rule in RULE_TITLES if rule in immediate_rules]
    address = address.strip()
    wants_something = bool(rules) or digest
    if target.kind == channels.EMAIL and wants_something and not EMAIL_PATTERN.match(address):
        raise ValidationError(
            "Give the email address to send to, e.g. name@example.org.", field="address"
        )
    if len(address) > MAX_ADDRESS_LENGTH or any(char in address for char in "\r\n"):
        raise ValidationError("Give one address on one line.", field="address")
    pref = nq.get_preference(session, user_id=user_id, channel_id=target.id)
    now = utcnow()
    if pref is None:
        before = None
        pref = NotificationPreference(user_id=user_id, channel_id=target.id)
        session.add(pref)
    else:
        if expected_version is not None:
            check_version(pref, expected_version, f"Your settings for {target.name}")
        before = _record(pref, target)
    if rules and not (pref.immediate_rules or []):
        # Notices start with alerts raised from now on, not the ones already there.
        pref.immediate_since = now
    pref.address = address or None
    pref.immediate_rules = rules
    pref.digest = digest
    pref.updated_by = principal.username
    pref.updated_at = now
    flush_or_conflict(session, f"Your settings for {target.name}")
    audit.record(
        session,
        principal,
        "notify.preferences",
        pref,
        before=before,
        after=_record(pref, target),
    )
    return pref


def _record(pref: NotificationPreference, channel: NotificationChannel) -> dict[str, object]:
    return {
        "user_id": pref.user_id,
        "channel": channel.name,
        "address": pref.address,
        "immediate_rules": list(pref.immediate_rules or []),
        "digest": pref.digest,
    }


def _user_id(principal: Principal) -> int:
    if principal.user_id is None:
        raise ValidationError(
            "Notification settings belong to a user account; log in as one.", field="user"
        )
    return principal.user_id
