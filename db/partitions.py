"""Monthly partitions of annotation_events on PostgreSQL, and the segments inside them.

annotation_events is partitioned by range of ``submitted_at``, one partition per UTC
month (``annotation_events_2026_11``), plus a default partition that catches work
outside every month created so far. Writers that add events in bulk (the import, the
demo) first make sure the months they write have a partition of their own; a row that
arrives some other way lands in the default partition, and is moved into its month's
partition when that month is created. A query with a time window only reads the months
it names.

Each month is itself partitioned by range of ``segment``, a storage column no query
reads by: the month's base table (``annotation_events_2026_11_base``, segment 0) holds
what was written row by row, and a large import loads its rows for the month into a
table of its own (``annotation_events_2026_11_b123``, segment = the import batch's id),
builds that table's indexes in one sort each and attaches it. Adding a million rows to
a month that already holds millions then costs about as much as loading them into an
empty table, instead of an index insertion per row and index. The storage job folds a
month's segments back into its base once the month has too many or is over
(``compact_month``), so the number of tables stays small.

SQLite keeps annotation_events as a plain table: everything here does nothing there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

PARENT = "annotation_events"
DEFAULT_PARTITION = f"{PARENT}_default"
# The segment of everything not loaded as a segment of its own.
BASE_SEGMENT = 0
# The names of the partitions and their segments, for tools that compare the schema
# with the models.
PARTITION_NAME = re.compile(rf"^{PARENT}_(\d{{4}}_\d{{2}}(_base|_b\d+)?|default|load_\d+)$")
# Memory for building a segment's indexes (PostgreSQL's default is 64MB).
INDEX_BUILD_MEM = "256MB"

_LIST_PARTITIONS = text(
    "SELECT child.relname FROM pg_inherits "
    "JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid "
    "JOIN pg_class AS parent ON parent.oid = pg_inherits.inhparent "
    "JOIN pg_namespace ON pg_namespace.oid = parent.relnamespace "
    "WHERE parent.relname = :parent AND parent.relkind = 'p' "
    "AND pg_namespace.nspname = current_schema()"
)

_COLUMNS = text(
    "SELECT attname FROM pg_attribute JOIN pg_class ON pg_class.oid = attrelid "
    "JOIN pg_namespace ON pg_namespace.oid = relnamespace "
    "WHERE relname = :table AND nspname = current_schema() AND attnum > 0 "
    "AND NOT attisdropped ORDER BY attnum"
)


def month_of(moment: dt.datetime | dt.date) -> dt.date:
    """The first day of the UTC month of ``moment``."""
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return dt.date(moment.year, moment.month, 1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"{PARENT}_{month:%Y_%m}"


def base_name(month: dt.date) -> str:
    """The table of ``month``'s rows written row by row (and of its folded segments)."""
    return f"{partition_name(month)}_base"


def segment_name(month: dt.date, segment: int) -> str:
    """The table of ``month``'s rows loaded as ``segment`` (an import batch's id)."""
    return f"{partition_name(month)}_b{segment}"


def _bounds(month: dt.date) -> tuple[str, str]:
    return (
        f"'{month:%Y-%m-%d} 00:00:00+00'",
        f"'{next_month(month):%Y-%m-%d} 00:00:00+00'",
    )


def is_partitioned(session: Session) -> bool:
    """True when annotation_events is a partitioned table (PostgreSQL after migration 0008)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return _kind(session, PARENT) == "p"


def _kind(session: Session, table: str) -> str | None:
    kind = session.execute(
        text(
            "SELECT relkind FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace "
            "WHERE relname = :table AND nspname = current_schema()"
        ),
        {"table": table},
    ).scalar()
    return None if kind is None else str(kind)


def list_partitions(session: Session) -> set[str]:
    """Names of annotation_events' partitions (its months and the default one); empty
    where it is not partitioned."""
    if session.get_bind().dialect.name != "postgresql":
        return set()
    return set(session.execute(_LIST_PARTITIONS, {"parent": PARENT}).scalars())


def list_segments(session: Session, month: dt.date) -> list[str]:
    """The tables of ``month``'s partition (its base and its segments), by name."""
    return sorted(session.execute(_LIST_PARTITIONS, {"parent": partition_name(month)}).scalars())


def create_partition_sql(month: dt.date) -> list[str]:
    """The statements that add ``month``'s partition and its base table, moving the
    month's rows out of the default partition first (a new partition may not cover rows
    the default one holds)."""
    name = partition_name(month)
    start, end = _bounds(month)
    moving = f"{PARENT}_moving"
    window = f"submitted_at >= {start} AND submitted_at < {end}"
    return [
        f"CREATE TEMPORARY TABLE {moving} ON COMMIT DROP AS "
        f"SELECT * FROM {DEFAULT_PARTITION} WHERE {window}",
        f"DELETE FROM {DEFAULT_PARTITION} WHERE {window}",
        f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ({start}) TO ({end}) "
        "PARTITION BY RANGE (segment)",
        f"CREATE TABLE {base_name(month)} PARTITION OF {name} "
        f"FOR VALUES FROM ({BASE_SEGMENT}) TO ({BASE_SEGMENT + 1})",
        f"UPDATE {moving} SET segment = {BASE_SEGMENT}",
        f"INSERT INTO {PARENT} SELECT * FROM {moving}",
        f"DROP TABLE {moving}",
    ]


def ensure_event_partitions(session: Session, *, months: Iterable[dt.date]) -> list[str]:
    """Create the missing partitions of ``months`` in the caller's transaction; returns
    the names created. Does nothing where annotation_events is not partitioned.

    Creating a partition locks annotation_events until the transaction ends, so callers
    do it once per bulk write, for the months they are about to write.
    """
    wanted = {month_of(month) for month in months}
    if not wanted or not is_partitioned(session):
        return []
    existing = list_partitions(session)
    created = []
    for month in sorted(wanted):
        name = partition_name(month)
        if name in existing:
            continue
        connection = session.connection()
        for statement in create_partition_sql(month):
            connection.exec_driver_sql(statement)
        created.append(name)
    return created


# --- segments -------------------------------------------------------------------------


def load_table_name(segment: int) -> str:
    return f"{PARENT}_load_{segment}"


def create_load_tables(session: Session, *, months: Iterable[dt.date], segment: int) -> str:
    """Empty, unindexed tables for ``segment``'s rows of each of ``months``, under one
    partitioned table (returned) that routes rows to them: the rows' ids come from the
    events' sequence in the order they are inserted. Each table carries the checks that
    prove its rows belong to its month and segment, so attaching it reads none of them.
    """
    load = load_table_name(segment)
    connection = session.connection()
    connection.exec_driver_sql(
        f"CREATE TABLE {load} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (submitted_at)"
    )
    for month in sorted({month_of(month) for month in months}):
        start, end = _bounds(month)
        name = segment_name(month, segment)
        connection.exec_driver_sql(
            f"CREATE TABLE {name} PARTITION OF {load} FOR VALUES FROM ({start}) TO ({end})"
        )
        connection.exec_driver_sql(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds CHECK ("
            f"submitted_at >= {start} AND submitted_at < {end} "
            f"AND segment >= {segment} AND segment < {segment + 1})"
        )
    return load


def attach_load_tables(session: Session, *, segment: int) -> list[str]:
    """Move each non-empty table of ``segment``'s load into its month, building its
    indexes there in one sort each and analysing it; drops the empty ones and the load
    table. Returns the tables attached."""
    load = load_table_name(segment)
    connection = session.connection()
    connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEM}'")
    attached = []
    for name in sorted(session.execute(_LIST_PARTITIONS, {"parent": load}).scalars()):
        connection.exec_driver_sql(f"ALTER TABLE {load} DETACH PARTITION {name}")
        empty = connection.exec_driver_sql(f"SELECT 1 FROM {name} LIMIT 1").first() is None
        if empty:
            connection.exec_driver_sql(f"DROP TABLE {name}")
            continue
        month = _month_of_segment(name)
        connection.exec_driver_sql(
            f"ALTER TABLE {partition_name(month)} ATTACH PARTITION {name} "
            f"FOR VALUES FROM ({segment}) TO ({segment + 1})"
        )
        connection.exec_driver_sql(f"ANALYZE {name}")
        attached.append(name)
    connection.exec_driver_sql(f"DROP TABLE {load}")
    return attached


def _month_of_segment(name: str) -> dt.date:
    match = re.fullmatch(rf"{PARENT}_(\d{{4}})_(\d{{2}})_(base|b\d+)", name)
    if match is None:
        raise ValueError(f"{name} is not a month's table")
    return dt.date(int(match[1]), int(match[2]), 1)


# --- folding segments -------------------------------------------------------------------

# A month with more tables than this has its segments folded into its base.
MAX_SEGMENTS = 8


@dataclass(frozen=True)
class MonthStorage:
    """One month's partition: its tables and whether the storage job should fold them."""

    month: dt.date
    tables: int

    def due(self, today: dt.date) -> bool:
        """Fold when the month has many segments, or any segment once it is over."""
        return self.tables > MAX_SEGMENTS or (self.tables > 1 and next_month(self.month) <= today)


def list_month_storage(session: Session) -> list[MonthStorage]:
    """Every month partition and how many tables it holds, oldest first."""
    found = []
    for name in list_partitions(session):
        match = re.fullmatch(rf"{PARENT}_(\d{{4}})_(\d{{2}})", name)
        if match is None or _kind(session, name) != "p":
            continue
        month = dt.date(int(match[1]), int(match[2]), 1)
        found.append(MonthStorage(month=month, tables=len(list_segments(session, month))))
    return sorted(found, key=lambda storage: storage.month)


def compact_month(session: Session, month: dt.date) -> int:
    """Fold every table of ``month`` into one new base table, in the caller's
    transaction; returns the rows it holds.

    Writers of the month wait from the start (the month is locked in SHARE mode), readers
    only while the old tables are swapped for the new one at the end: the new table's
    indexes are built before, so attaching it only adopts them. Rows keep their ids and
    segments; the new base covers every segment up to the highest one folded, so later
    segments of the month still attach beside it.
    """
    name = partition_name(month)
    tables = list_segments(session, month)
    connection = session.connection()
    connection.exec_driver_sql(f"LOCK TABLE {name} IN SHARE MODE")
    connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEM}'")
    top = int(
        connection.exec_driver_sql(f"SELECT coalesce(max(segment), 0) FROM {name}").scalar_one()
    )
    top = max(top, _highest_bound(session, tables))
    merged = f"{name}_merged"
    start, end = _bounds(month)
    columns = ", ".join(session.execute(_COLUMNS, {"table": PARENT}).scalars())
    connection.exec_driver_sql(
        f"CREATE TABLE {merged} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    rows = connection.exec_driver_sql(
        f"INSERT INTO {merged} ({columns}) SELECT {columns} FROM {name} ORDER BY id"
    ).rowcount
    connection.exec_driver_sql(
        f"ALTER TABLE {merged} ADD CONSTRAINT {base_name(month)}_bounds CHECK ("
        f"submitted_at >= {start} AND submitted_at < {end} "
        f"AND segment >= {BASE_SEGMENT} AND segment < {top + 1})"
    )
    _build_indexes_like_parent(session, merged)
    connection.exec_driver_sql(f"ANALYZE {merged}")
    for table in tables:
        connection.exec_driver_sql(f"ALTER TABLE {name} DETACH PARTITION {table}")
        connection.exec_driver_sql(f"DROP TABLE {table}")
    connection.exec_driver_sql(f"ALTER TABLE {merged} RENAME TO {base_name(month)}")
    # The indexes were named after the table they were built on.
    for index in session.execute(
        text("SELECT indexname FROM pg_indexes WHERE tablename = :table"),
        {"table": base_name(month)},
    ).scalars():
        if f"{merged}_" in index:
            renamed = str(index).replace(f"{merged}_", f"{base_name(month)}_", 1)
            connection.exec_driver_sql(f'ALTER INDEX "{index}" RENAME TO "{renamed}"')
    connection.exec_driver_sql(
        f"ALTER TABLE {name} ATTACH PARTITION {base_name(month)} "
        f"FOR VALUES FROM ({BASE_SEGMENT}) TO ({top + 1})"
    )
    return int(rows)


def _build_indexes_like_parent(session: Session, table: str) -> None:
    """Give ``table`` the indexes and primary key of annotation_events, so that attaching
    it as a partition adopts them instead of building them under the attach's lock."""
    definitions = session.execute(
        text(
            "SELECT pg_get_indexdef(indexrelid), indisprimary FROM pg_index "
            "WHERE indrelid = CAST(:parent AS regclass)"
        ),
        {"parent": PARENT},
    ).all()
    connection = session.connection()
    for definition, primary in definitions:
        method = str(definition).split(" USING ", 1)[1]  # e.g. "btree (project_id, ...)"
        if primary:
            columns = method[method.index("(") :]
            connection.exec_driver_sql(f"ALTER TABLE {table} ADD PRIMARY KEY {columns}")
        else:
            connection.exec_driver_sql(f"CREATE INDEX ON {table} USING {method}")


def _highest_bound(session: Session, tables: list[str]) -> int:
    """The highest segment the bounds of ``tables`` admit (a base may cover empty ones)."""
    if not tables:
        return BASE_SEGMENT
    bounds = session.execute(
        text(
            "SELECT pg_get_expr(relpartbound, pg_class.oid) FROM pg_class "
            "JOIN pg_namespace ON pg_namespace.oid = relnamespace "
            "WHERE relname = ANY(:tables) AND nspname = current_schema()"
        ),
        {"tables": tables},
    ).scalars()
    top = BASE_SEGMENT
    for bound in bounds:
        match = re.search(r"TO \('?(\d+)'?\)", str(bound))
        if match is not None:
            top = max(top, int(match[1]) - 1)
    return top
