"""The audit log: who changed what, with the record before and after."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from db.models import AuditEntry, Base
from ops.permissions import Principal


def snapshot(row: Base) -> dict[str, Any]:
    """The column values of a model row as JSON-safe data."""
    mapper = inspect(type(row))
    return {column.key: _jsonable(getattr(row, column.key)) for column in mapper.column_attrs}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def record(
    session: Session,
    actor: Principal,
    action: str,
    entity: Base | tuple[str, str | int | None],
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry in the caller's transaction, so it commits with the change."""
    if isinstance(entity, tuple):
        entity_type, entity_id = entity
    else:
        session.flush()
        entity_type = type(entity).__tablename__
        identity = inspect(entity).identity
        entity_id = identity[0] if identity else None
        if after is None:
            after = snapshot(entity)
    entry = AuditEntry(
        actor=actor.username,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    return entry
