"""Notification queries: channels, each user's preferences and the delivery outbox.

Keyword-only functions built with select() and bound parameters, like db.queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from db.models import (
    NotificationChannel,
    NotificationDelivery,
    NotificationPreference,
    User,
)

# Deliveries that went out, or may have: what the rate limit counts.
ATTEMPTED_STATUSES = ("sending", "sent", "unconfirmed")


# --- channels ------------------------------------------------------------------------------


def get_channel(session: Session, *, name: str) -> NotificationChannel | None:
    """The channel called ``name``, or None."""
    return session.scalars(
        select(NotificationChannel).where(NotificationChannel.name == name)
    ).one_or_none()


def list_channels(session: Session) -> list[NotificationChannel]:
    """Every channel, the email channel first, then webhooks by name."""
    return list(
        session.scalars(
            select(NotificationChannel).order_by(
                case((NotificationChannel.kind == "email", 0), else_=1), NotificationChannel.name
            )
        )
    )


# --- preferences ---------------------------------------------------------------------------


def list_preferences_of(session: Session, *, user_id: int) -> list[NotificationPreference]:
    """One user's preferences, one per channel they ever saved."""
    return list(
        session.scalars(
            select(NotificationPreference)
            .where(NotificationPreference.user_id == user_id)
            .order_by(NotificationPreference.channel_id)
        )
    )


def get_preference(
    session: Session, *, user_id: int, channel_id: int
) -> NotificationPreference | None:
    """The user's preference on one channel, or None."""
    return session.scalars(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.channel_id == channel_id,
        )
    ).one_or_none()


def list_subscriptions(
    session: Session, *, immediate: bool = False, digest: bool = False
) -> list[tuple[NotificationPreference, User, NotificationChannel]]:
    """Preferences of active users on enabled channels that ask for notices or a digest."""
    query = (
        select(NotificationPreference, User, NotificationChannel)
        .join(User, User.id == NotificationPreference.user_id)
        .join(NotificationChannel, NotificationChannel.id == NotificationPreference.channel_id)
        .where(User.is_active.is_(True), NotificationChannel.enabled.is_(True))
        .order_by(User.username, NotificationChannel.name)
    )
    if digest:
        query = query.where(NotificationPreference.digest.is_(True))
    rows = [(pref, user, channel) for pref, user, channel in session.execute(query)]
    if immediate:
        # The rule list is a JSON document: filtered here, the same way on both databases.
        rows = [row for row in rows if row[0].immediate_rules]
    return rows


# --- the outbox ----------------------------------------------------------------------------


def list_notified_alert_ids(
    session: Session, *, user_id: int, channel_id: int, alert_ids: Sequence[int]
) -> set[int]:
    """Which of ``alert_ids`` already have a notice to the user on the channel."""
    if not alert_ids:
        return set()
    found = session.scalars(
        select(NotificationDelivery.alert_id).where(
            NotificationDelivery.user_id == user_id,
            NotificationDelivery.channel_id == channel_id,
            NotificationDelivery.alert_id.in_(list(alert_ids)),
        )
    )
    return {alert_id for alert_id in found if alert_id is not None}


def get_digest(
    session: Session, *, user_id: int, channel_id: int, day: dt.date
) -> NotificationDelivery | None:
    """The user's digest of ``day`` on the channel, or None."""
    return session.scalars(
        select(NotificationDelivery).where(
            NotificationDelivery.user_id == user_id,
            NotificationDelivery.channel_id == channel_id,
            NotificationDelivery.digest_day == day,
        )
    ).one_or_none()


def get_latest_digest(
    session: Session, *, user_id: int, channel_id: int, before: dt.date
) -> NotificationDelivery | None:
    """The user's newest digest on the channel for a day before ``before``, or None."""
    return session.scalars(
        select(NotificationDelivery)
        .where(
            NotificationDelivery.user_id == user_id,
            NotificationDelivery.channel_id == channel_id,
            NotificationDelivery.digest_day < before,
        )
        .order_by(NotificationDelivery.digest_day.desc())
        .limit(1)
    ).first()


def list_stale_claims(
    session: Session, *, claimed_before: dt.datetime
) -> list[NotificationDelivery]:
    """Deliveries claimed for sending before ``claimed_before`` and never confirmed."""
    return list(
        session.scalars(
            select(NotificationDelivery)
            .where(
                NotificationDelivery.status == "sending",
                NotificationDelivery.claimed_at < claimed_before,
            )
            .order_by(NotificationDelivery.id)
        )
    )


def list_due_delivery_ids(
    session: Session,
    *,
    now: dt.datetime,
    limit: int,
    ids: Sequence[int] | None = None,
) -> list[int]:
    """Pending deliveries whose next attempt is due, oldest first (only ``ids`` if given)."""
    query = (
        select(NotificationDelivery.id)
        .where(
            NotificationDelivery.status == "pending",
            NotificationDelivery.next_attempt_at <= now,
        )
        .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(NotificationDelivery.id.in_(list(ids)))
    return list(session.scalars(query))


def get_delivery(session: Session, *, delivery_id: int) -> NotificationDelivery | None:
    """One delivery as it is in the database now."""
    return session.get(NotificationDelivery, delivery_id, populate_existing=True)


def claim_delivery(session: Session, *, delivery_id: int, now: dt.datetime, worker: str) -> bool:
    """Mark a pending delivery as being sent by ``worker``; False if someone else has it.

    The status test in the UPDATE makes the claim atomic: of two senders, one wins.
    """
    result = session.execute(
        update(NotificationDelivery)
        .where(NotificationDelivery.id == delivery_id, NotificationDelivery.status == "pending")
        .values(
            status="sending",
            attempts=NotificationDelivery.attempts + 1,
            claimed_at=now,
            claimed_by=worker,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_delivery(
    session: Session, *, delivery_id: int, worker: str, values: dict[str, Any]
) -> bool:
    """Record the outcome of a send, only if the delivery is still this worker's claim."""
    result = session.execute(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.id == delivery_id,
            NotificationDelivery.status == "sending",
            NotificationDelivery.claimed_by == worker,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def recent_alert_sends(
    session: Session, *, user_id: int, channel_id: int, since: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """Alert notices to the user on the channel attempted since ``since``: count, oldest."""
    count, oldest = session.execute(
        select(
            func.count(NotificationDelivery.id), func.min(NotificationDelivery.claimed_at)
        ).where(
            NotificationDelivery.user_id == user_id,
            NotificationDelivery.channel_id == channel_id,
            NotificationDelivery.kind == "alert",
            NotificationDelivery.status.in_(ATTEMPTED_STATUSES),
            NotificationDelivery.claimed_at >= since,
        )
    ).one()
    return int(count or 0), oldest


def list_deliveries(
    session: Session,
    *,
    status: str | None = None,
    channel_id: int | None = None,
    kind: str | None = None,
    recipient: str | None = None,
    alert_id: int | None = None,
    limit: int = 200,
) -> list[NotificationDelivery]:
    """The delivery log, newest first, narrowed by any filter given."""
    query = select(NotificationDelivery).order_by(NotificationDelivery.id.desc()).limit(limit)
    if status is not None:
        query = query.where(NotificationDelivery.status == status)
    if channel_id is not None:
        query = query.where(NotificationDelivery.channel_id == channel_id)
    if kind is not None:
        query = query.where(NotificationDelivery.kind == kind)
    if recipient is not None:
        query = query.where(NotificationDelivery.recipient == recipient)
    if alert_id is not None:
        query = query.where(NotificationDelivery.alert_id == alert_id)
    return list(session.scalars(query))
