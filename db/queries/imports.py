"""Imports: lineage batches, golden items, the import lock, and the staging of events.

An import writes its validated rows into a temporary table (COPY on PostgreSQL,
batched executemany on SQLite), then a handful of set-based statements merge
them into ``annotation_events``: repeated keys within the file are found, gold
from earlier imports is applied, the references the rows make are checked once
per distinct value, the months they fall in get their partitions, replaced work is
removed, and one ``INSERT ... SELECT`` adds the rows whose natural key is not stored
yet (on PostgreSQL, a large import's rows go into tables of their own that then join
their months; see ``insert_staged``). All of it runs in the caller's transaction, under
the import lock, so a failure anywhere leaves the database as it was and no two imports
add the same key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import TableClause

from db.bulk import insert_rows
from db.models import (
    AnnotationEvent,
    Annotator,
    GoldItem,
    GuidelineVersion,
    ImportBatch,
    Project,
    UTCDateTime,
)
from db.partitions import (
    attach_load_tables,
    create_load_tables,
    ensure_event_partitions,
    is_partitioned,
)
from db.queries.shared import batched


def get_latest_import(session: Session) -> ImportBatch | None:
    """The most recent import batch."""
    return session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(1)).first()


def list_gold_items(
    session: Session, *, project_id: int, item_ids: list[str]
) -> dict[str, GoldItem]:
    """item id -> golden item, for the given items of a project."""
    found: dict[str, GoldItem] = {}
    for chunk in batched(item_ids):
        for gold in session.scalars(
            select(GoldItem).where(GoldItem.project_id == project_id, GoldItem.item_id.in_(chunk))
        ):
            found[gold.item_id] = gold
    return found


@dataclass(frozen=True)
class NewGoldItem:
    """A golden item an import adds: its item, expected label and reference annotation."""

    item_id: str
    gold_label: str | None
    external_id: str
    set_by: str | None
    source_updated_at: dt.datetime | None


def add_gold_items(
    session: Session,
    *,
    project_id: int,
    import_batch_id: int,
    items: list[NewGoldItem],
    created_at: dt.datetime,
) -> int:
    """Store golden items not stored yet in one bulk insert; returns items added."""
    size = len(items)
    rows = pa.table(
        {
            "project_id": pa.array([project_id] * size, pa.int32()),
            "item_id": pa.array([item.item_id for item in items], pa.string()),
            "gold_label": pa.array([item.gold_label for item in items], pa.string()),
            "external_id": pa.array([item.external_id for item in items], pa.string()),
            "set_by": pa.array([item.set_by for item in items], pa.string()),
            "source_updated_at": pa.array([item.source_updated_at for item in items], TIMESTAMP),
            "import_batch_id": pa.array([import_batch_id] * size, pa.int32()),
            "created_at": pa.array([created_at] * size, TIMESTAMP),
        }
    )
    return insert_rows(session, GOLD, rows, binary=True)


def list_gold_reference_ids(session: Session, *, project_id: int) -> list[str]:
    """External ids of the annotations that set a project's golden items."""
    return [
        str(external_id)
        for external_id in session.scalars(
            select(GoldItem.external_id).where(
                GoldItem.project_id == project_id, GoldItem.external_id.is_not(None)
            )
        )
    ]


def list_import_batches(
    session: Session, *, limit: int = 200, project_id: int | None = None
) -> list[tuple[ImportBatch, str | None]]:
    """Recent import batches, newest first, with their project's slug."""
    query = (
        select(ImportBatch, Project.slug)
        .outerjoin(Project, Project.id == ImportBatch.project_id)
        .order_by(ImportBatch.id.desc())
        .limit(limit)
    )
    if project_id is not None:
        query = query.where(ImportBatch.project_id == project_id)
    return [(batch, slug) for batch, slug in session.execute(query)]


# --- staging ----------------------------------------------------------------------------

STAGING_TABLE = "staged_events"
# Set in a connection's info while its staging table has an index of the natural keys.
_KEYS_INDEXED = "annops_staged_keys_indexed"
# An import of at least this many rows loads them as a segment of their own on PostgreSQL
# (tables of its own, indexed in one sort each; db/partitions.py); a smaller one inserts
# into the months' base tables, where a few index insertions cost less than new tables.
SEGMENT_MIN_ROWS = 50_000
# Memory for one sort or hash of the import's statements (PostgreSQL's default is 4MB).
STAGING_WORK_MEM = "256MB"

TIMESTAMP = pa.timestamp("us", tz="UTC")

_metadata = MetaData()
# Where an import puts its checked rows before they are merged: ``seq`` orders rows as
# they were read, ``row_number`` is where the row came from in the file (for messages and
# rejects), ``replaces`` marks a newer version of a stored event.
STAGED = Table(
    STAGING_TABLE,
    _metadata,
    Column("seq", BigInteger, nullable=False),
    Column("row_number", BigInteger, nullable=False),
    Column("project_id", Integer, nullable=False),
    Column("item_id", String(200), nullable=False),
    Column("annotator_id", Integer, nullable=False),
    Column("label", Text),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("active_seconds", Float, nullable=False),
    Column("skipped", Boolean, nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("guideline_version_id", Integer),
    Column("external_id", String(200), nullable=False),
    Column("source_updated_at", UTCDateTime),
    Column("is_gold", Boolean, nullable=False),
    Column("gold_label", Text),
    Column("reviewer_id", Integer),
    Column("review_outcome", String(20)),
    Column("review_seconds", Float),
    Column("reviewed_at", UTCDateTime),
    Column("rereview_request_id", Integer),
    Column("replaces", Boolean, nullable=False),
    prefixes=["TEMPORARY"],
)

# Columns copied from the staging table into annotation_events, in order.
EVENT_COLUMNS: tuple[str, ...] = tuple(
    column.name for column in STAGED.columns if column.name not in ("seq", "row_number", "replaces")
)

_ARROW_TYPES: dict[type[Any], pa.DataType] = {
    BigInteger: pa.int64(),
    Integer: pa.int32(),
    String: pa.string(),
    Text: pa.string(),
    Float: pa.float64(),
    Boolean: pa.bool_(),
    UTCDateTime: TIMESTAMP,
}
# The Arrow schema callers hand to ``stage``: the staging table's columns, in order.
STAGED_SCHEMA = pa.schema(
    [(column.name, _ARROW_TYPES[type(column.type)]) for column in STAGED.columns]
)

EVENTS: Table = AnnotationEvent.__table__  # type: ignore[assignment]
GOLD: Table = GoldItem.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class RepeatedKey:
    """A staged row whose natural key already appeared on an earlier row of the file."""

    seq: int
    row_number: int
    first_row_number: int
    external_id: str


@dataclass(frozen=True)
class MergeCounts:
    """What the merge did: new events, replaced events, rows already stored unchanged."""

    inserted: int
    updated: int
    duplicate: int


@contextmanager
def staging_table(session: Session) -> Iterator[Table]:
    """A fresh, empty staging table for the life of the block, in the caller's transaction.

    On an error the caller's rollback removes it; on success it is dropped here. On
    PostgreSQL the transaction's sorts and hashes get STAGING_WORK_MEM, so the set-based
    statements over a million staged rows run in memory instead of spilling to disk, and
    its statements are not compiled to machine code: each runs once over rows it has
    never seen, and the compilation their cost estimates call for took longer than it
    saved (0.2 s of a 0.7 s statement; a 1M-row import 7.4-7.8 s without, 7.8-9.6 s with,
    alternating runs at 10M events).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{STAGING_WORK_MEM}'")
        connection.exec_driver_sql("SET LOCAL jit = off")
    STAGED.drop(connection, checkfirst=True)
    connection.info.pop(_KEYS_INDEXED, None)
    STAGED.create(connection)
    yield STAGED
    STAGED.drop(connection, checkfirst=True)
    connection.info.pop(_KEYS_INDEXED, None)


def index_staged_keys(session: Session) -> None:
    """On PostgreSQL, index the staged rows' natural keys and gather their statistics, once
    per staging table.

    For the statements that match staged rows with a project's stored events by key:
    the planner then knows how many rows are staged, and whichever side it reads first,
    the other is found through an index. Every month and segment of annotation_events has
    its own index, so probing all of them once per staged row is what this avoids.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql" or connection.info.get(_KEYS_INDEXED):
        return
    connection.exec_driver_sql(
        f"CREATE INDEX {STAGING_TABLE}_key ON {STAGING_TABLE} (project_id, external_id)"
    )
    connection.exec_driver_sql(f"ANALYZE {STAGING_TABLE}")
    connection.info[_KEYS_INDEXED] = True


def stage(session: Session, *, rows: pa.Table) -> int:
    """Append validated rows (``STAGED_SCHEMA``) to the staging table; returns rows written."""
    typed = rows.select(STAGED_SCHEMA.names).cast(STAGED_SCHEMA)
    return insert_rows(session, STAGED, typed, binary=True)


def find_repeated_keys(session: Session, *, limit: int | None = None) -> list[RepeatedKey]:
    """Staged rows whose (project, external id) repeats an earlier row, in file order."""
    first = (
        select(
            STAGED.c.project_id,
            STAGED.c.external_id,
            func.min(STAGED.c.seq).label("first_seq"),
        )
        .group_by(STAGED.c.project_id, STAGED.c.external_id)
        .having(func.count() > 1)
        .subquery()
    )
    first_row = STAGED.alias("first_row")
    query = (
        select(STAGED.c.seq, STAGED.c.row_number, first_row.c.row_number, STAGED.c.external_id)
        .join(
            first,
            and_(
                first.c.project_id == STAGED.c.project_id,
                first.c.external_id == STAGED.c.external_id,
            ),
        )
        .join(first_row, first_row.c.seq == first.c.first_seq)
        .where(STAGED.c.seq != first.c.first_seq)
        .order_by(STAGED.c.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return [RepeatedKey(*row) for row in session.execute(query)]


def drop_staged(session: Session, *, seqs: list[int]) -> None:
    """Remove staged rows by their ``seq``."""
    for start in range(0, len(seqs), 10_000):
        session.execute(delete(STAGED).where(STAGED.c.seq.in_(seqs[start : start + 10_000])))


def apply_known_gold(session: Session) -> int:
    """Mark staged rows on items already known to be golden; returns rows marked."""
    gold = GOLD
    match = and_(gold.c.project_id == STAGED.c.project_id, gold.c.item_id == STAGED.c.item_id)
    result = session.execute(
        update(STAGED)
        .where(STAGED.c.is_gold == False, exists().where(match))  # noqa: E712
        .values(
            is_gold=True,
            gold_label=select(gold.c.gold_label).where(match).scalar_subquery(),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_gold_reference_events(session: Session, *, import_batch_id: int) -> int:
    """Delete events that turned out to be the reference annotation of a golden item.

    A JSON_MIN or CSV export carries no ground-truth flag, so such an annotation may
    have been stored as regular work before a full export named it as the gold.
    """
    return _delete_events_named_in(session, GOLD, GOLD.c.import_batch_id == import_batch_id)


def replaces_stored(
    source_updated_at: ColumnElement[Any],
    is_gold: ColumnElement[Any],
    gold_label: ColumnElement[Any],
) -> ColumnElement[bool]:
    """Whether a row with these values is a newer version of the stored event of the same
    key it is compared with: a later ``source_updated_at``, or a changed gold."""
    event = EVENTS
    return (
        (source_updated_at > event.c.source_updated_at)
        | (event.c.source_updated_at.is_(None) & source_updated_at.is_not(None))
        | (is_gold != event.c.is_gold)
        | gold_label.is_distinct_from(event.c.gold_label)
    )


def stores_events_of(session: Session, *, project_ids: set[int]) -> bool:
    """True when any of these projects stores an event; one index probe per partition."""
    if not project_ids:
        return False
    found = session.scalar(
        select(literal(1))
        .select_from(EVENTS)
        .where(EVENTS.c.project_id.in_(sorted(project_ids)))
        .limit(1)
    )
    return found is not None


def mark_replacements(session: Session, *, project_ids: set[int] | None = None) -> int:
    """Flag staged rows that are a newer version of a stored event; returns their number.

    Newer means a later ``source_updated_at``, or a changed gold. The stored event's
    link to a re-review request carries over to its replacement. ``project_ids``, the
    projects the staged rows belong to, lets a project that stores no events yet (the
    first import of a new project) skip the lookup of every staged key; on PostgreSQL
    they also make it one join between the staged rows and those projects' events,
    with the staged keys indexed (``index_staged_keys``).
    """
    if project_ids is not None and not stores_events_of(session, project_ids=project_ids):
        return 0
    event = EVENTS
    newer = replaces_stored(STAGED.c.source_updated_at, STAGED.c.is_gold, STAGED.c.gold_label)
    if session.get_bind().dialect.name == "postgresql" and project_ids:
        index_staged_keys(session)
        joined = session.execute(
            update(STAGED)
            .where(
                event.c.project_id.in_(sorted(project_ids)),
                event.c.project_id == STAGED.c.project_id,
                event.c.external_id == STAGED.c.external_id,
                newer,
            )
            .values(replaces=True, rereview_request_id=event.c.rereview_request_id)
        )
        return int(joined.rowcount)  # type: ignore[attr-defined]
    same_key = and_(
        event.c.project_id == STAGED.c.project_id,
        event.c.external_id == STAGED.c.external_id,
    )
    result = session.execute(
        update(STAGED)
        .where(exists().where(same_key, newer))
        .values(
            replaces=True,
            rereview_request_id=select(event.c.rereview_request_id)
            .where(same_key)
            .scalar_subquery(),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_replaced_events(session: Session) -> int:
    """Delete the stored events that flagged staged rows replace; returns events deleted."""
    return _delete_events_named_in(session, STAGED, STAGED.c.replaces == True)  # noqa: E712


def _delete_events_named_in(session: Session, source: Table, condition: ColumnElement[bool]) -> int:
    """Delete the events whose (project, external id) a row of ``source`` meeting
    ``condition`` names; returns events deleted."""
    event = EVENTS
    ids = (
        select(event.c.id)
        .select_from(source)
        .join(
            event,
            and_(
                event.c.project_id == source.c.project_id,
                event.c.external_id == source.c.external_id,
            ),
        )
        .where(condition)
    )
    result = session.execute(delete(event).where(event.c.id.in_(ids)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def insert_staged(
    session: Session,
    *,
    import_batch_id: int,
    project_ids: set[int] | None = None,
    months: set[dt.date] | None = None,
) -> int:
    """Add every staged row whose natural key is not stored yet, in file order; returns
    events inserted. ``project_ids``, the projects the staged rows belong to, lets the
    lookup of stored keys read only those projects' events.

    With ``months`` (PostgreSQL, the months the rows fall in), the rows go into tables of
    their own, one per month, whose indexes are built once they are full and which then
    join their months as the batch's segment (db/partitions.py); otherwise into
    annotation_events, an index insertion per row and index.
    """
    event = EVENTS
    stored = (
        select(literal(1))
        .select_from(event)
        .where(
            event.c.project_id == STAGED.c.project_id,
            event.c.external_id == STAGED.c.external_id,
        )
    )
    if project_ids is not None:
        stored = stored.where(event.c.project_id.in_(sorted(project_ids)))
    columns = [*EVENT_COLUMNS, "import_batch_id"]
    values = [*(STAGED.c[name] for name in EVENT_COLUMNS), literal(import_batch_id)]
    target: TableClause = event
    if months:
        load = create_load_tables(session, months=months, segment=import_batch_id)
        columns.append("segment")
        values.append(literal(import_batch_id))
        target = table(load, *(column(name) for name in columns))
    source = select(*values).where(~stored.exists()).order_by(STAGED.c.seq)
    statement = insert(target).from_select(columns, source)
    # An INSERT's row count is kept only when asked for.
    result = session.connection().execute(statement.execution_options(preserve_rowcount=True))
    if months:
        attach_load_tables(session, segment=import_batch_id)
    return int(result.rowcount)


class MissingReference(Exception):
    """Staged rows point to projects, people or guideline versions that do not exist."""


# Staged column -> the table its values must be ids of.
REFERENCES: dict[str, type[Project | Annotator | GuidelineVersion]] = {
    "project_id": Project,
    "annotator_id": Annotator,
    "reviewer_id": Annotator,
    "guideline_version_id": GuidelineVersion,
}


def check_references(session: Session, *, references: dict[str, set[int]]) -> None:
    """Raise MissingReference unless every id exists; locks the rows found against
    deletion for the rest of the transaction, as a foreign key would, but once per
    distinct id instead of once per event."""
    missing: list[str] = []
    for name, ids in references.items():
        if not ids:
            continue
        model = REFERENCES[name]
        found: set[int] = set()
        wanted = sorted(ids)
        for chunk in batched(wanted):
            found.update(
                session.scalars(
                    select(model.id).where(model.id.in_(chunk)).with_for_update(key_share=True)
                )
            )
        absent = sorted(ids - found)
        if absent:
            shown = ", ".join(str(value) for value in absent[:5])
            missing.append(f"{name} {shown}{' …' if len(absent) > 5 else ''}")
    if missing:
        raise MissingReference("no such " + "; no such ".join(missing))


def lock_imports(session: Session) -> None:
    """Serialise imports on PostgreSQL for the rest of the transaction.

    Two imports creating the same unknown identity at once would otherwise race on
    its unique key; SQLite already allows one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('annops.import'))"))


@dataclass(frozen=True)
class StagedRows:
    """What the staging table holds, as the importer counted it while staging: how many
    rows, the distinct ids of each REFERENCES column, and the first days of the UTC months
    the rows were submitted in. The ids and months may also cover rows staged and then
    dropped; checking or partitioning for them is harmless."""

    rows: int
    references: dict[str, set[int]]
    months: set[dt.date]


def merge(
    session: Session,
    *,
    import_batch_id: int,
    replace_newer: bool,
    staged: StagedRows,
) -> MergeCounts:
    """Move the staged rows, which ``staged`` describes, into annotation_events; see the
    module docstring."""
    references = staged.references
    check_references(session, references=references)
    ensure_event_partitions(session, months=staged.months)
    replaced = 0
    if replace_newer:
        replaced = mark_replacements(session, project_ids=references["project_id"])
        if replaced:
            delete_replaced_events(session)
    segments = staged.rows >= SEGMENT_MIN_ROWS and is_partitioned(session)
    inserted = insert_staged(
        session,
        import_batch_id=import_batch_id,
        project_ids=references["project_id"],
        months=staged.months if segments else None,
    )
    return MergeCounts(
        inserted=inserted - replaced, updated=replaced, duplicate=staged.rows - inserted
    )


def count_staged_gold(session: Session) -> tuple[int, int]:
    """(rows on golden items, distinct golden items) among the staged rows; one pass."""
    items = (
        select(func.count().label("rows"))
        .select_from(STAGED)
        .where(STAGED.c.is_gold == True)  # noqa: E712
        .group_by(STAGED.c.project_id, STAGED.c.item_id)
        .subquery()
    )
    rows, count = session.execute(select(func.sum(items.c.rows), func.count())).one()
    return int(rows or 0), int(count or 0)
