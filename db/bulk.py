"""Set-based bulk loading: COPY on PostgreSQL, batched executemany on SQLite.

Never an ORM object per row: callers hand over a DataFrame whose columns are
table columns, and rows go to the database in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import ForeignKeyConstraint, Table, UniqueConstraint, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

SQLITE_BATCH = 20_000
COPY_BATCH = 200_000


def insert_frames(session: Session, table: Table, frames: Iterable[pd.DataFrame]) -> int:
    """Append every frame's rows to ``table``; returns rows written."""
    total = 0
    connection = session.connection()
    driver = connection.connection.driver_connection
    postgres = connection.dialect.name == "postgresql"
    for frame in frames:
        if frame.empty:
            continue
        if postgres:
            _copy_frame(driver, table, frame)
        else:
            _executemany_frame(driver, table, frame)
        total += len(frame)
    return total


def insert_frame(session: Session, table: Table, frame: pd.DataFrame) -> int:
    """Append one frame's rows to ``table``."""
    return insert_frames(session, table, [frame])


def _copy_frame(driver: object, table: Table, frame: pd.DataFrame) -> None:
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    # Arrow's CSV writer is several times faster than pandas'. Every value is quoted, so
    # an unquoted empty field can only mean NULL and an empty string stays an empty string.
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN WITH (FORMAT csv)'
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    cursor = driver.cursor()  # type: ignore[attr-defined]
    with cursor.copy(statement) as copy:
        for start in range(0, len(frame), COPY_BATCH):
            chunk = pa.Table.from_pandas(
                frame.iloc[start : start + COPY_BATCH], preserve_index=False
            )
            buffer = io.BytesIO()
            pa_csv.write_csv(chunk, buffer, options)
            copy.write(buffer.getbuffer())
    cursor.close()


def _sqlite_values(series: pd.Series) -> list[object]:
    """Column values as SQLAlchemy stores them on SQLite (naive-UTC text timestamps)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        text = series.dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        return [None if pd.isna(v) else v for v in text]
    if pd.api.types.is_bool_dtype(series.dtype):
        return [int(v) for v in series]
    if pd.api.types.is_integer_dtype(series.dtype) and not isinstance(
        series.dtype, pd.api.extensions.ExtensionDtype
    ):
        return series.astype(object).tolist()
    values = series.astype(object).tolist()
    return [_sqlite_scalar(v) for v in values]


def _sqlite_scalar(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _executemany_frame(driver: object, table: Table, frame: pd.DataFrame) -> None:
    columns = list(frame.columns)
    placeholders = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{name}"' for name in columns)
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})'
    cursor = driver.cursor()  # type: ignore[attr-defined]
    for start in range(0, len(frame), SQLITE_BATCH):
        chunk = frame.iloc[start : start + SQLITE_BATCH]
        values = [_sqlite_values(chunk[name]) for name in columns]
        cursor.executemany(statement, zip(*values, strict=True))
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
