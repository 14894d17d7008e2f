"""Queries on the audit log; there are none that change it."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry


def list_audit_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: dt.datetime | None = None,
    before: dt.datetime | None = None,
    limit: int = 1000,
) -> list[AuditEntry]:
    """Entries matching every given filter, newest first; ``before`` is exclusive."""
    query = select(AuditEntry)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if entity_type is not None:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if before is not None:
        query = query.where(AuditEntry.at < before)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return list(session.scalars(query))


def list_audit_values(
    session: Session, *, column: Literal["actor", "action", "entity_type"]
) -> list[str]:
    """The distinct values of one column of the log, sorted."""
    attribute = getattr(AuditEntry, column)
    return list(session.scalars(select(attribute).distinct().order_by(attribute)))


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
