"""Set-based bulk loading: COPY on PostgreSQL, batched executemany on SQLite.

Never an ORM object per row: callers hand over an Arrow table or DataFrames whose
columns are table columns, and rows go to the database in the caller's transaction.
Rows whose Arrow types are the table's own go in PostgreSQL's binary COPY format, which
the server stores without parsing text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from pgpq import ArrowToPostgresBinaryEncoder
from sqlalchemy import ForeignKeyConstraint, Table, UniqueConstraint, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

SQLITE_BATCH = 20_000
COPY_BATCH = 200_000


def insert_rows(session: Session, table: Table, rows: pa.Table, *, binary: bool = False) -> int:
    """Append an Arrow table's rows (its columns named as ``table``'s) to ``table``;
    returns rows written.

    ``binary`` promises that each column's Arrow type is the table column's own (int32
    for INTEGER, int64 for BIGINT, float64, bool, string, UTC timestamps in microseconds):
    binary COPY sends values as they are stored and the server does no conversion.
    """
    if rows.num_rows == 0:
        return 0
    connection = session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        (_copy_binary if binary else _copy)(driver, table, rows)
    else:
        _executemany(driver, table, rows)
    return int(rows.num_rows)


def insert_frames(session: Session, table: Table, frames: Iterable[pd.DataFrame]) -> int:
    """Append every frame's rows to ``table``; returns rows written."""
    return sum(
        insert_rows(session, table, pa.Table.from_pandas(frame, preserve_index=False))
        for frame in frames
        if not frame.empty
    )


def insert_frame(session: Session, table: Table, frame: pd.DataFrame) -> int:
    """Append one frame's rows to ``table``."""
    return insert_frames(session, table, [frame])


def _column_list(rows: pa.Table) -> str:
    return ", ".join(f'"{name}"' for name in rows.column_names)


def _copy(driver: Any, table: Table, rows: pa.Table) -> None:
    statement = f'COPY "{table.name}" ({_column_list(rows)}) FROM STDIN WITH (FORMAT csv)'
    # Arrow's CSV writer is several times faster than pandas'. Every value is quoted, so
    # an unquoted empty field can only mean NULL and an empty string stays an empty string.
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, rows.num_rows, COPY_BATCH):
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(rows.slice(start, COPY_BATCH), sink, options)
            copy.write(memoryview(sink.getvalue()))


def _copy_binary(driver: Any, table: Table, rows: pa.Table) -> None:
    statement = f'COPY "{table.name}" ({_column_list(rows)}) FROM STDIN WITH (FORMAT binary)'
    encoder = ArrowToPostgresBinaryEncoder(rows.schema)
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(encoder.write_header())
        for batch in rows.to_batches(max_chunksize=COPY_BATCH):
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())


def _sqlite_column(column: pa.ChunkedArray) -> list[Any]:
    """Column values as SQLAlchemy stores them on SQLite: timestamps as naive-UTC text with
    microseconds, dates as ISO text, booleans as 0/1."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        utc = column.cast(pa.timestamp("us", tz="UTC" if kind.tz else None))
        # %S carries the fraction of the unit: 'YYYY-MM-DD HH:MM:SS.ffffff'.
        return pc.strftime(utc, "%Y-%m-%d %H:%M:%S").to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_date(kind):
        return column.cast(pa.string()).to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_boolean(kind):
        return [None if value is None else int(value) for value in column.to_pylist()]
    return column.to_pylist()  # type: ignore[no-any-return]


def _executemany(driver: Any, table: Table, rows: pa.Table) -> None:
    placeholders = ", ".join("?" for _ in rows.column_names)
    statement = f'INSERT INTO "{table.name}" ({_column_list(rows)}) VALUES ({placeholders})'
    cursor = driver.cursor()
    try:
        for start in range(0, rows.num_rows, SQLITE_BATCH):
            chunk = rows.slice(start, SQLITE_BATCH)
            columns = [_sqlite_column(chunk.column(name)) for name in chunk.column_names]
            cursor.executemany(statement, zip(*columns, strict=True))
    finally:
        cursor.close()


@contextmanager
def indexes_deferred(session: Session, table: Table) -> Iterator[None]:
    """On PostgreSQL, drop ``table``'s secondary indexes and its unique and foreign-key
    constraints for a bulk load into an empty table, and restore them once at the end:
    one sort per index and one pass per key instead of work for every row. Elsewhere,
    and for a table that already has rows, does nothing."""
    connection = session.connection()
    empty = connection.execute(select(literal(1)).select_from(table).limit(1)).first() is None
    if connection.dialect.name != "postgresql" or not empty:
        yield
        return
    # Foreign keys are checked row by row during a load; re-adding them checks all at once.
    constraints = [
        c for c in table.constraints if isinstance(c, UniqueConstraint | ForeignKeyConstraint)
    ]
    for index in table.indexes:
        index.drop(connection)
    for constraint in constraints:
        connection.execute(DropConstraint(constraint))
    yield
    for constraint in constraints:
        connection.execute(AddConstraint(constraint))
    for index in table.indexes:
        index.create(connection)
    connection.exec_driver_sql(f'ANALYZE "{table.name}"')
