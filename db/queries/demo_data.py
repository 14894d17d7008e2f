"""The demo's reads and writes: whose data a database holds, bulk rows, the wipe."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import (
    JSON,
    ColumnDefault,
    Integer,
    Table,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from db.bulk import indexes_deferred, insert_frames
from db.models import AnnotationEvent, Annotator, AuditEntry, Base, ImportBatch
from db.partitions import ensure_event_partitions

EVENTS_TABLE = Base.metadata.tables[AnnotationEvent.__tablename__]


def has_rows(session: Session, *, model: type[Base]) -> bool:
    """True when the table of ``model`` holds any row (without counting them all)."""
    return session.scalar(select(literal(1)).select_from(model).limit(1)) is not None


def count_audit_entries_not_by(
    session: Session, *, actor: str, except_actions: Sequence[str]
) -> int:
    """Audit entries of anyone but ``actor``, other than ``except_actions`` ones."""
    query = select(func.count(AuditEntry.id)).where(
        AuditEntry.actor != actor, AuditEntry.action.not_in(except_actions)
    )
    return int(session.scalar(query) or 0)


def count_import_batches_not_from(session: Session, *, source: str) -> int:
    """Import batches of any source but ``source``."""
    query = select(func.count(ImportBatch.id)).where(ImportBatch.source != source)
    return int(session.scalar(query) or 0)


def get_annotator_ids_by_email(session: Session) -> dict[str, int]:
    """Every annotator's id, by email; annotators without one are left out."""
    query = select(Annotator.email, Annotator.id).where(Annotator.email.is_not(None))
    return {str(email): int(annotator_id) for email, annotator_id in session.execute(query)}


def insert_rows(session: Session, *, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (column name to value) into the table of ``model`` in one bulk load
    (COPY on PostgreSQL); a column the rows leave out gets its default."""
    if rows:
        table = Base.metadata.tables[model.__tablename__]
        insert_frames(session, table, [_rows_frame(table, rows)])


def insert_event_frames(session: Session, *, frames: Iterable[pd.DataFrame]) -> int:
    """Append annotation events, frame by frame; returns the rows written.

    Into an empty table on PostgreSQL, indexes and keys are built once at the end; each
    frame's months get their partitions before its rows are written.
    """

    def partitioned() -> Iterator[pd.DataFrame]:
        for frame in frames:
            if not frame.empty:
                moments = pd.to_datetime(frame["submitted_at"], utc=True)
                codes = (moments.dt.year * 12 + moments.dt.month - 1).unique()
                months = {dt.date(int(code) // 12, int(code) % 12 + 1, 1) for code in codes}
                ensure_event_partitions(session, months=months)
            yield frame

    with indexes_deferred(session, EVENTS_TABLE):
        return insert_frames(session, EVENTS_TABLE, partitioned())


def delete_all_rows(session: Session) -> None:
    """Empty every annops table but the audit log, which is append-only (the schema and
    its migration state stay)."""
    tables = [
        table
        for table in reversed(Base.metadata.sorted_tables)
        if table is not AuditEntry.__table__
    ]
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


def _rows_frame(table: Table, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``rows`` as the frame db.bulk loads: Python-side defaults filled in (the ORM would
    apply them), JSON as text, integer columns with gaps as nullable integers."""
    frame = pd.DataFrame.from_records(list(rows))
    for column in table.columns:
        default = column.default
        if column.name not in frame and isinstance(default, ColumnDefault):
            value = default.arg(None) if default.is_callable else default.arg
            frame[column.name] = [value] * len(frame)
        if column.name not in frame:
            continue
        if isinstance(column.type, JSON):
            frame[column.name] = [json.dumps(value) for value in frame[column.name]]
        elif isinstance(column.type, Integer) and frame[column.name].isna().any():
            frame[column.name] = frame[column.name].astype("Int64")
    return frame


def analyze_tables(session: Session) -> None:
    """Give PostgreSQL's planner statistics of every annops table just filled.

    Autovacuum would take them in time (and a server may run without it); until then
    every read of a freshly loaded table is planned on guesses.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        session.execute(text(f'ANALYZE "{table.name}"'))
