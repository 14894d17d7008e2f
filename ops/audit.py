"""The audit log: who changed what, with the record before and after; read by admins only.

Entries are only ever added, in the transaction of the change they describe. Nothing in
annops updates or deletes one, and the database refuses it too (a trigger).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from db.models import AuditEntry, Base
from db.queries import audit as queries
from ops.exports import FORMULA_STARTS as FORMULA_STARTS
from ops.exports import safe_cell
from ops.permissions import Principal, require

# Columns that never reach the log, whatever a caller snapshots.
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "handoff_hash"})
# Entries about signing in and out rather than about changing data.
ACCESS_ACTIONS = ("login", "login.failed", "user.locked", "logout")


def snapshot(row: Base) -> dict[str, Any]:
    """The column values of a model row as JSON-safe data, secrets left out."""
    mapper = inspect(type(row))
    return {
        column.key: jsonable(getattr(row, column.key))
        for column in mapper.column_attrs
        if column.key not in SECRET_COLUMNS
    }


def jsonable(value: Any) -> Any:
    """``value`` as something JSON can hold: dates as ISO text, decimals as text."""
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
        actor=actor.username[:120],
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_without_secrets(before),
        after=_without_secrets(after),
    )
    session.add(entry)
    return entry


def _without_secrets(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: value for key, value in values.items() if key not in SECRET_COLUMNS}


# --- reading the log -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show; None means any. ``since`` and ``until`` are inclusive UTC days."""

    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    limit: int = 1000


@dataclass(frozen=True)
class AuditRow:
    """One entry of the log."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AuditChoices:
    """The values the filters offer: every actor, action and entity type in the log."""

    actors: list[str]
    actions: list[str]
    entity_types: list[str]


@dataclass(frozen=True)
class FieldChange:
    """One field of an entry: its value before and after, as text ("" when absent)."""

    field: str
    before: str
    after: str
    changed: bool


def audit_log(session: Session, principal: Principal, audit_filter: AuditFilter) -> list[AuditRow]:
    """Entries matching ``audit_filter``, newest first, at most ``limit`` of them."""
    require(principal, "audit.view")
    since = (
        None
        if audit_filter.since is None
        else dt.datetime.combine(audit_filter.since, dt.time(), tzinfo=dt.UTC)
    )
    before = (
        None
        if audit_filter.until is None
        else dt.datetime.combine(
            audit_filter.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC
        )
    )
    entries = queries.list_audit_entries(
        session,
        actor=audit_filter.actor,
        action=audit_filter.action,
        entity_type=audit_filter.entity_type,
        entity_id=audit_filter.entity_id or None,
        since=since,
        before=before,
        limit=audit_filter.limit,
    )
    return [
        AuditRow(
            id=entry.id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            before=entry.before,
            after=entry.after,
        )
        for entry in entries
    ]


def audit_choices(session: Session, principal: Principal) -> AuditChoices:
    """Every actor, action and entity type that occurs in the log, sorted."""
    require(principal, "audit.view")
    return AuditChoices(
        actors=queries.list_audit_values(session, column="actor"),
        actions=queries.list_audit_values(session, column="action"),
        entity_types=queries.list_audit_values(session, column="entity_type"),
    )


def changes(row: AuditRow) -> list[FieldChange]:
    """The entry's fields side by side, before and after; changed ones first."""
    before = row.before or {}
    after = row.after or {}
    fields = list(dict.fromkeys([*before, *after]))
    listed = [
        FieldChange(
            field=field,
            before=_as_text(before[field]) if field in before else "",
            after=_as_text(after[field]) if field in after else "",
            changed=field not in before or field not in after or before[field] != after[field],
        )
        for field in fields
    ]
    return sorted(listed, key=lambda change: not change.changed)


def summary(row: AuditRow, *, limit: int = 4) -> str:
    """The changed fields in one line: "role: ops → lead; enabled: true → false"."""
    changed = [change for change in changes(row) if change.changed]
    parts = [
        f"{change.field}: {change.before or '·'} → {change.after or '·'}"
        if change.before
        else f"{change.field}: {change.after}"
        for change in changed[:limit]
    ]
    if len(changed) > limit:
        parts.append(f"and {len(changed) - limit} more")
    return "; ".join(parts)


def _as_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def audit_csv(rows: list[AuditRow]) -> str:
    """The entries as CSV, one row each, before and after as JSON; formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "at", "actor", "action", "entity_type", "entity_id", "before", "after"])
    for row in rows:
        writer.writerow(
            safe_cell(value)
            for value in (
                row.id,
                row.at.isoformat(),
                row.actor,
                row.action,
                row.entity_type,
                row.entity_id or "",
                "" if row.before is None else json.dumps(row.before, sort_keys=True),
                "" if row.after is None else json.dumps(row.after, sort_keys=True),
            )
        )
    return buffer.getvalue()
