"""Locks that keep scheduled work single: PostgreSQL advisory locks, a file lock on SQLite.

A job run holds a transaction-level lock named after the job, so two runs of one job
never overlap whoever starts them. The worker holds a session-level leader lock on a
connection of its own: the server drops it the moment that connection dies, which is
how a standby notices that the leader is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Integer, cast, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from db.engine import make_engine

# The two int4 keys of pg_advisory_lock(int, int): a namespace for annops, then the lock.
JOB_LOCKS = 0x616E6A62  # "anjb"
LEADER_LOCKS = 0x616E6C64  # "anld"
WORKER_LEADER = 1


def lock_key(name: str) -> int:
    """A stable int4 key for a lock name."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def try_transaction_lock(session: Session, name: str) -> bool:
    """Hold the lock ``name`` until the session's transaction ends; False if taken.

    SQLite has a single writer, which serialises job transactions on its own, so there
    it always succeeds.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = session.scalar(
        select(
            func.pg_try_advisory_xact_lock(cast(JOB_LOCKS, Integer), cast(lock_key(name), Integer))
        )
    )
    return bool(taken)


def begin_as_writer(session: Session) -> None:
    """On SQLite, start the session's transaction as the database's writer (BEGIN
    IMMEDIATE), waiting for the busy timeout if another connection writes; elsewhere, or
    once the transaction has begun, nothing.

    A SQLite transaction that reads first and writes later cannot wait to become the
    writer: if another connection has written since its first read, its first write fails
    at once with "database is locked". A job reads before it writes, and another job may
    write meanwhile.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class LeaderLock(Protocol):
    """The right to run the scheduler: one holder at a time across processes."""

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it afterwards."""

    def still_held(self) -> bool:
        """True while the lock is certainly still this process's."""

    def release(self) -> None:
        """Give the lock up (also safe when not held)."""


class PostgresLeaderLock:
    """A session-level advisory lock on a dedicated connection."""

    def __init__(self, url: str) -> None:
        # Its own engine without a pool: the lock's connection is never shared or recycled.
        self._engine = make_engine(url, poolclass=NullPool)
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self._connection is None:
                self._connection = self._engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            taken = self._connection.scalar(
                select(
                    func.pg_try_advisory_lock(
                        cast(LEADER_LOCKS, Integer), cast(WORKER_LEADER, Integer)
                    )
                )
            )
        except DBAPIError:
            self._drop_connection()
            return False
        return bool(taken)

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            held = self._connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND classid = :namespace AND objid = :key"
                ),
                {"namespace": LEADER_LOCKS, "key": WORKER_LEADER},
            )
        except DBAPIError:
            self._drop_connection()
            return False
        return bool(held)

    def release(self) -> None:
        # Closing the session releases every session-level lock it holds.
        self._drop_connection()
        self._engine.dispose()

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.close()
            self._connection = None


class FileLeaderLock:
    """An exclusive flock on a file next to a SQLite database; the OS drops it with the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._handle is not None:
            return True
        handle = self.path.open("a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def still_held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class ProcessLeaderLock:
    """For a database only this process can see (in-memory SQLite): always its own."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


def leader_lock_for(url: str) -> LeaderLock:
    """The leader lock that fits the database at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLeaderLock(url)
    database = parsed.database
    if not database or database == ":memory:":
        return ProcessLeaderLock()
    return FileLeaderLock(Path(f"{database}.worker-lock"))
