"""The delivery log an admin reads: every message, its status, attempts and last error."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.models import DELIVERY_KINDS, DELIVERY_STATUSES
from db.queries import notifications as nq
from ops.errors import ValidationError
from ops.permissions import Principal, require

LOG_LIMIT = 200
STATUSES = DELIVERY_STATUSES
KINDS = DELIVERY_KINDS


@dataclass(frozen=True)
class DeliveryFilter:
    """Which messages to list; any field left None matches everything."""

    status: str | None = None
    channel: str | None = None
    kind: str | None = None
    recipient: str | None = None
    alert_id: int | None = None
    limit: int = LOG_LIMIT


@dataclass(frozen=True)
class DeliveryRow:
    """One message in the log."""

    id: int
    created_at: dt.datetime
    kind: str
    recipient: str
    channel: str
    address: str | None
    alert_id: int | None
    subject: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    delivery_key: str


def list_deliveries(
    session: Session, principal: Principal, delivery_filter: DeliveryFilter = DeliveryFilter()
) -> list[DeliveryRow]:
    """The newest messages first, narrowed by the filter; admins only."""
    require(principal, "notify.admin")
    if delivery_filter.status is not None and delivery_filter.status not in DELIVERY_STATUSES:
        raise ValidationError(
            f"Unknown status {delivery_filter.status!r}; use one of "
            f"{', '.join(DELIVERY_STATUSES)}.",
            field="status",
        )
    if delivery_filter.kind is not None and delivery_filter.kind not in DELIVERY_KINDS:
        raise ValidationError(
            f"Unknown kind {delivery_filter.kind!r}; use one of {', '.join(DELIVERY_KINDS)}.",
            field="kind",
        )
    names = {channel.id: channel.name for channel in nq.list_channels(session)}
    channel_id = None
    if delivery_filter.channel is not None:
        ids = [key for key, name in names.items() if name == delivery_filter.channel]
        if not ids:
            return []
        channel_id = ids[0]
    rows = nq.list_deliveries(
        session,
        status=delivery_filter.status,
        channel_id=channel_id,
        kind=delivery_filter.kind,
        recipient=delivery_filter.recipient,
        alert_id=delivery_filter.alert_id,
        limit=delivery_filter.limit,
    )
    return [
        DeliveryRow(
            id=row.id,
            created_at=row.created_at,
            kind=row.kind,
            recipient=row.recipient,
            channel=names.get(row.channel_id, str(row.channel_id)),
            address=row.address,
            alert_id=row.alert_id,
            subject=row.subject,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            sent_at=row.sent_at,
            delivery_key=row.delivery_key,
        )
        for row in rows
    ]
