"""Replacing every row of a table by rows built beside it, on PostgreSQL.

Deleting every row of a table and inserting the new ones in the same transaction costs,
per row, an insertion into each index (a unique one also visits the deleted row of the
same key, still alive to everyone else) and a check of each foreign key. Rows built into
a new, bare table instead are indexed in one sort per index and their foreign keys
checked in one join each; the new table then takes the old one's place and names. For
the rollups at ten million events that halves a rebuild (docs/scaling.md).

Taking the old table's place needs its ACCESS EXCLUSIVE lock until the transaction ends.
Readers that hold the table (a page mid-query, a transaction left open) are never
waited for longer than SWAP_LOCK_TIMEOUT, so nobody deadlocks on it and a page is kept
waiting no longer than the rest of the writing transaction: if the lock is not free by
then, or the table has something a copy would lose (see _swappable), the rows already
built are moved into the old table by delete and insert, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, column, insert, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect

log = logging.getLogger(__name__)

# How long a swap waits for readers of the old table to finish before it falls back.
SWAP_LOCK_TIMEOUT = "500ms"
# Memory for building the new table's indexes (PostgreSQL's default is 64MB).
INDEX_BUILD_MEM = "256MB"
SUFFIX = "_rebuilt"

# What a copy made with CREATE TABLE ... (LIKE ...) and the statements below would not
# carry over: rows other tables point at, triggers, row security, column privileges,
# identity or serial columns (their sequence goes with the old table), publications,
# inheritance. A table with any of them is filled by delete and insert instead.
_UNSWAPPABLE = text(
    """
    SELECT
        EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = c.oid)
        OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal)
        OR c.relrowsecurity
        OR EXISTS (
            SELECT 1 FROM pg_attribute
            WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped
              AND (attacl IS NOT NULL OR attidentity <> '' OR attgenerated <> ''
                   OR pg_get_serial_sequence(c.oid::regclass::text, attname) IS NOT NULL)
        )
        OR EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = c.oid)
        OR EXISTS (SELECT 1 FROM pg_publication WHERE puballtables)
        OR EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid OR inhparent = c.oid)
    FROM pg_class AS c
    WHERE c.oid = CAST(:table AS regclass)
    """
)
_CONSTRAINTS = text(
    "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = CAST(:table AS regclass) AND contype IN ('p', 'u', 'f', 'x') "
    "ORDER BY contype, conname"
)
# Indexes that no constraint owns, with the part of their definition after USING.
_INDEXES = text(
    "SELECT pg_class.relname, indisunique, "
    "split_part(pg_get_indexdef(indexrelid), ' USING ', 2) FROM pg_index "
    "JOIN pg_class ON pg_class.oid = indexrelid "
    "WHERE indrelid = CAST(:table AS regclass) "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid) "
    "ORDER BY 1"
)
# Table privileges as (grantee or PUBLIC, privilege, grantable); a table whose
# privileges were never changed has its owner's defaults.
_GRANTS = text(
    "SELECT coalesce(quote_ident(pg_roles.rolname), 'PUBLIC'), acl.privilege_type, "
    "acl.is_grantable FROM pg_class, "
    "aclexplode(coalesce(pg_class.relacl, acldefault('r', pg_class.relowner))) AS acl "
    "LEFT JOIN pg_roles ON pg_roles.oid = acl.grantee "
    "WHERE pg_class.oid = CAST(:table AS regclass)"
)
_OWNERS = text(
    "SELECT quote_ident(pg_get_userbyid(relowner)) FROM pg_class "
    "WHERE oid = CAST(:table AS regclass)"
)


@dataclass(frozen=True)
class Replacement:
    """The new rows of ``table``: the columns ``rows`` selects, in its order."""

    table: Table
    columns: Sequence[str]
    rows: Select[Any] | CompoundSelect[Any]


def replace_all_rows(session: Session, replacements: Sequence[Replacement]) -> list[str]:
    """Replace every row of each table by its replacement's rows, in the caller's
    transaction; returns the tables swapped (the others were filled by delete and insert).
    Every table ends with fresh planner statistics: all its rows are new, and without
    them reads are planned on guesses until autovacuum comes by (a server may run
    without it).

    Every new table is built and indexed before any old one is locked, so readers wait
    only for the swaps and the rest of the caller's transaction.
    """
    connection = session.connection()
    connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEM}'")
    built = [(replacement, _build(session, replacement)) for replacement in replacements]
    swapped = []
    for replacement, swappable in built:
        name = replacement.table.name
        if swappable and _swap(session, name):
            swapped.append(name)
        else:
            _move_rows(session, replacement)
    return swapped


def _build(session: Session, replacement: Replacement) -> bool:
    """Fill the new table; when the old one can be swapped, also give the new one its
    indexes, constraints and statistics. Returns whether it can."""
    name = replacement.table.name
    new = f"{name}{SUFFIX}"
    connection = session.connection()
    swappable = not session.execute(_UNSWAPPABLE, {"table": name}).scalar_one()
    connection.exec_driver_sql(f"CREATE TABLE {new} (LIKE {name} INCLUDING ALL EXCLUDING INDEXES)")
    target = table(new, *(column(column_name) for column_name in replacement.columns))
    session.execute(insert(target).from_select(list(replacement.columns), replacement.rows))
    if not swappable:
        return False
    for conname, kind, definition in session.execute(_CONSTRAINTS, {"table": name}).all():
        # A primary key or unique constraint's index needs a name of its own until the old
        # one is gone; a foreign key's name is only unique per table.
        renamed = conname if kind == "f" else f"{conname}{SUFFIX}"
        connection.exec_driver_sql(f'ALTER TABLE {new} ADD CONSTRAINT "{renamed}" {definition}')
    for index, unique, method in session.execute(_INDEXES, {"table": name}).all():
        connection.exec_driver_sql(
            f'CREATE {"UNIQUE " if unique else ""}INDEX "{index}{SUFFIX}" ON {new} USING {method}'
        )
    connection.exec_driver_sql(f"ANALYZE {new}")
    return True


def _swap(session: Session, name: str) -> bool:
    """Put ``name``'s new table in its place, under its names, owner and privileges;
    False, with nothing changed, when the old table's lock is not free in time or the
    swap fails."""
    new = f"{name}{SUFFIX}"
    constraints = [
        str(conname)
        for conname, kind, _ in session.execute(_CONSTRAINTS, {"table": name}).all()
        if kind != "f"
    ]
    indexes = [str(index) for index, _, _ in session.execute(_INDEXES, {"table": name}).all()]
    grants = session.execute(_GRANTS, {"table": name}).all()
    owner = session.execute(_OWNERS, {"table": name}).scalar_one()
    savepoint = session.begin_nested()
    connection = session.connection()
    try:
        # SET LOCAL inside a savepoint is undone by its rollback; on success it is set back.
        previous = connection.exec_driver_sql("SHOW lock_timeout").scalar_one()
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
        connection.exec_driver_sql(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{previous}'")
        connection.exec_driver_sql(f"DROP TABLE {name}")
        connection.exec_driver_sql(f"ALTER TABLE {new} RENAME TO {name}")
        for conname in constraints:
            connection.exec_driver_sql(
                f'ALTER TABLE {name} RENAME CONSTRAINT "{conname}{SUFFIX}" TO "{conname}"'
            )
        for index in indexes:
            connection.exec_driver_sql(f'ALTER INDEX "{index}{SUFFIX}" RENAME TO "{index}"')
        if session.execute(_OWNERS, {"table": name}).scalar_one() != owner:
            connection.exec_driver_sql(f"ALTER TABLE {name} OWNER TO {owner}")
        # Exactly the old table's privileges: none of the defaults a new table gets.
        for grantee, *_ in session.execute(_GRANTS, {"table": name}).all():
            connection.exec_driver_sql(f"REVOKE ALL ON {name} FROM {grantee}")
        for grantee, privilege, grantable in grants:
            option = " WITH GRANT OPTION" if grantable else ""
            connection.exec_driver_sql(f"GRANT {privilege} ON {name} TO {grantee}{option}")
        savepoint.commit()
        return True
    except DBAPIError as error:
        savepoint.rollback()
        log.info("%s is filled by delete and insert: %s", name, error.orig)
        return False


def _move_rows(session: Session, replacement: Replacement) -> None:
    """Replace the old table's rows by those of the new table, and drop the new table."""
    name = replacement.table.name
    new = f"{name}{SUFFIX}"
    columns = ", ".join(replacement.columns)
    connection = session.connection()
    connection.exec_driver_sql(f"DELETE FROM {name}")
    connection.exec_driver_sql(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {new}")
    connection.exec_driver_sql(f"DROP TABLE {new}")
    connection.exec_driver_sql(f"ANALYZE {name}")
