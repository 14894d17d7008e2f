"""Shared pieces of the workforce service tests: principals and audit look-ups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry
from ops.permissions import Principal

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
OPS = Principal(username="olga", role="ops")
ADMIN = Principal(username="ada", role="admin")
FINANCE = Principal(username="finn", role="finance")


def lead_of(team_id: int | None, username: str = "lena") -> Principal:
    return Principal(username=username, role="lead", team_id=team_id)


def annotator_principal(annotator_id: int | None) -> Principal:
    return Principal(username="self", role="annotator", annotator_id=annotator_id)


def audit_entries(session: Session, action: str) -> list[AuditEntry]:
    """Audit entries of ``action``, oldest first."""
    session.flush()
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )
