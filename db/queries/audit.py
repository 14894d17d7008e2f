"""The audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry


def get_latest_audit(
    session: Session, *, entity_type: str, entity_id: str, action: str
) -> AuditEntry | None:
    """The newest audit entry of ``action`` on one entity."""
    return session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == entity_type,
            AuditEntry.entity_id == entity_id,
            AuditEntry.action == action,
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()
