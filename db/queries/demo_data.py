"""The demo's reads and writes: whose data a database holds, bulk rows, the wipe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Table, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from db.bulk import indexes_deferred, insert_frames
from db.models import AnnotationEvent, AuditEntry, Base, ImportBatch

EVENTS_TABLE: Table = AnnotationEvent.__table__  # type: ignore[assignment]


def has_rows(session: Session, *, model: type[Base]) -> bool:
    """True when the table of ``model`` holds any row (without counting them all)."""
    return session.scalar(select(literal(1)).select_from(model).limit(1)) is not None


def count_audit_entries_not_by(session: Session, *, actor: str, except_action: str) -> int:
    """Audit entries of anyone but ``actor``, other than ``except_action`` ones."""
    query = select(func.count(AuditEntry.id)).where(
        AuditEntry.actor != actor, AuditEntry.action != except_action
    )
    return int(session.scalar(query) or 0)


def count_import_batches_not_from(session: Session, *, source: str) -> int:
    """Import batches of any source but ``source``."""
    query = select(func.count(ImportBatch.id)).where(ImportBatch.source != source)
    return int(session.scalar(query) or 0)


def insert_rows(
    session: Session, *, model: type[Base], rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert ``rows`` (attribute name to value) of ``model`` in batches; their ids, in order."""
    if not rows:
        return []
    statement = insert(model).returning(model.__table__.c.id, sort_by_parameter_order=True)
    return [int(row_id) for row_id in session.scalars(statement, list(rows))]


def insert_event_frames(session: Session, *, frames: Iterable[pd.DataFrame]) -> int:
    """Append annotation events, frame by frame; returns the rows written.

    Into an empty table on PostgreSQL, indexes and keys are built once at the end.
    """
    with indexes_deferred(session, EVENTS_TABLE):
        return insert_frames(session, EVENTS_TABLE, frames)


def delete_all_rows(session: Session) -> None:
    """Empty every annops table (the schema and its migration state stay)."""
    tables = list(reversed(Base.metadata.sorted_tables))
    if session.get_bind().dialect.name == "postgresql":
        # One TRUNCATE instead of a DELETE per row: seconds, not hours, at 50M events.
        # The names are the models' own, quoted by the dialect; nothing here comes from input.
        connection = session.connection()
        preparer = connection.dialect.identifier_preparer
        names = ", ".join(preparer.format_table(table) for table in tables)
        connection.exec_driver_sql(f"TRUNCATE {names}")
        return
    session.execute(update(AnnotationEvent).values(rereview_request_id=None))
    for table in tables:
        session.execute(delete(table))
