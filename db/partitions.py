"""Monthly partitions of annotation_events on PostgreSQL.

annotation_events is partitioned by range of ``submitted_at``, one partition per UTC
month (``annotation_events_2026_11``), plus a default partition that catches work
outside every month created so far. Writers that add events in bulk (the import, the
demo) first make sure the months they write have a partition of their own; a row that
arrives some other way lands in the default partition, and is moved into its month's
partition when that month is created. Each partition has its own small copies of the
parent's indexes, and a query with a time window only reads the months it names.

SQLite keeps annotation_events as a plain table: everything here does nothing there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

PARENT = "annotation_events"
DEFAULT_PARTITION = f"{PARENT}_default"
# The names of the partitions, for tools that compare the schema with the models.
PARTITION_NAME = re.compile(rf"^{PARENT}_(\d{{4}}_\d{{2}}|default)$")

_LIST_PARTITIONS = text(
    "SELECT child.relname FROM pg_inherits "
    "JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid "
    "JOIN pg_class AS parent ON parent.oid = pg_inherits.inhparent "
    "JOIN pg_namespace ON pg_namespace.oid = parent.relnamespace "
    "WHERE parent.relname = :parent AND parent.relkind = 'p' "
    "AND pg_namespace.nspname = current_schema()"
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


def is_partitioned(session: Session) -> bool:
    """True when annotation_events is a partitioned table (PostgreSQL after migration 0008)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind = session.execute(
        text(
            "SELECT relkind FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace "
            "WHERE relname = :parent AND nspname = current_schema()"
        ),
        {"parent": PARENT},
    ).scalar()
    return kind == "p"


def list_partitions(session: Session) -> set[str]:
    """Names of annotation_events' partitions; empty where it is not partitioned."""
    if session.get_bind().dialect.name != "postgresql":
        return set()
    return set(session.execute(_LIST_PARTITIONS, {"parent": PARENT}).scalars())


def create_partition_sql(month: dt.date) -> list[str]:
    """The statements that add ``month``'s partition, moving its rows out of the default
    partition first (a new partition may not cover rows the default one holds)."""
    name = partition_name(month)
    start = f"'{month:%Y-%m-%d} 00:00:00+00'"
    end = f"'{next_month(month):%Y-%m-%d} 00:00:00+00'"
    moving = f"{PARENT}_moving"
    window = f"submitted_at >= {start} AND submitted_at < {end}"
    return [
        f"CREATE TEMPORARY TABLE {moving} ON COMMIT DROP AS "
        f"SELECT * FROM {DEFAULT_PARTITION} WHERE {window}",
        f"DELETE FROM {DEFAULT_PARTITION} WHERE {window}",
        f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ({start}) TO ({end})",
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
