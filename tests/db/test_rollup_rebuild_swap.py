"""On PostgreSQL a full rollup rebuild builds new tables and swaps them in: they keep
the old ones' names, indexes, keys, owner and privileges, and when readers hold the old
table (or something depends on it) the rows go in by delete and insert instead."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine
from db.migrate import check
from ops import rollups
from tests.conftest import postgres_only
from tests.factories import make_annotator, make_event, make_pay_rate, make_project

DAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
ROWS = "SELECT annotator_id, project_id, day, annotations, cost_minor FROM daily_rollups"
CONFUSION = "SELECT annotator_id, day, gold_label, label, answered FROM gold_confusion_rollups"


def _oid(session: Session, table: str) -> int:
    return int(session.execute(text(f"SELECT '{table}'::regclass::oid")).scalar_one())


def _add_work(session: Session) -> tuple[int, int]:
    """Two people's work over three days, some on gold; returns their ids."""
    project = make_project(session)
    people = [make_annotator(session), make_annotator(session)]
    make_pay_rate(session, people[0])
    for offset in range(3):
        for person in people:
            make_event(
                session,
                project,
                person,
                submitted_at=DAY + dt.timedelta(days=offset),
                label="cat" if offset else "dog",
                is_gold=True,
                gold_label="cat",
            )
    session.flush()
    return people[0].id, people[1].id


def _contents(session: Session) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return (
        [tuple(row) for row in session.execute(text(f"{ROWS} ORDER BY 1, 2, 3"))],
        [tuple(row) for row in session.execute(text(f"{CONFUSION} ORDER BY 1, 2, 3, 4"))],
    )


def _rolled_up(session: Session) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Add the work and roll it up; the rollup rows a rebuild must give again."""
    _add_work(session)
    rollups.refresh(session)
    return _contents(session)


def _leftovers(session: Session) -> int:
    """Tables a rebuild built and left behind."""
    return int(
        session.execute(
            text("SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_rebuilt%'")
        ).scalar_one()
    )


@postgres_only("fresh_database_url")
def test_the_swapped_tables_keep_names_keys_owner_and_privileges(
    fresh_database_url: str, fresh_factory: sessionmaker[Session]
) -> None:
    reader = f"annops_reader_{uuid.uuid4().hex[:8]}"
    with fresh_factory() as session, session.begin():
        expected = _rolled_up(session)
        people = {row[0] for row in expected[0]}
        assert len(people) == 2  # both people's work was rolled up
        first = next(iter(people))
        session.execute(text(f"CREATE ROLE {reader}"))
        session.execute(text(f"GRANT SELECT ON daily_rollups TO {reader}"))
        before = _oid(session, "daily_rollups"), _oid(session, "gold_confusion_rollups")
        owner = session.execute(
            text("SELECT relowner FROM pg_class WHERE relname = 'daily_rollups'")
        ).scalar_one()
    try:
        with fresh_factory() as session, session.begin():
            rollups.rebuild(session)
        with fresh_factory() as session:
            after = _oid(session, "daily_rollups"), _oid(session, "gold_confusion_rollups")
            assert after[0] != before[0] and after[1] != before[1]  # new tables
            assert _contents(session) == expected
            assert expected[1]  # gold answers were rolled up
            privileges = session.execute(
                text(
                    "SELECT has_table_privilege(:role, 'daily_rollups', 'SELECT'), "
                    "has_table_privilege(:role, 'daily_rollups', 'INSERT'), "
                    "(SELECT relowner FROM pg_class WHERE relname = 'daily_rollups')"
                ),
                {"role": reader},
            ).one()
            assert tuple(privileges) == (True, False, owner)
            names = set(
                session.execute(
                    text(
                        "SELECT indexname FROM pg_indexes WHERE tablename IN "
                        "('daily_rollups', 'gold_confusion_rollups')"
                    )
                ).scalars()
            )
            assert names == {
                "pk_daily_rollups",
                "ix_daily_rollups_project_day",
                "pk_gold_confusion_rollups",
                "ix_gold_confusion_rollups_project_day",
            }
            assert _leftovers(session) == 0
        # Indexes, keys, foreign keys (names, columns, ON DELETE) as the models declare them.
        check(fresh_database_url)
        # The foreign keys still hold: a rollup row for a project that doesn't exist fails.
        with fresh_factory() as session, pytest.raises(Exception, match="foreign key"):
            session.execute(
                text(
                    "INSERT INTO daily_rollups (annotator_id, project_id, day, annotations, "
                    "skipped, active_seconds, gold_answered, gold_correct, escalations, "
                    "reviewed, accepted, cost_minor, review_cost_minor) "
                    "VALUES (:person, 999999, '2026-03-02', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)"
                ),
                {"person": first},
            )
    finally:
        with fresh_factory() as session, session.begin():
            session.execute(text(f"REVOKE ALL ON daily_rollups FROM {reader}"))
            session.execute(text(f"DROP ROLE {reader}"))


@postgres_only("fresh_database_url")
def test_a_reader_holding_the_table_gets_the_rows_by_delete_and_insert(
    fresh_database_url: str, fresh_factory: sessionmaker[Session]
) -> None:
    with fresh_factory() as session, session.begin():
        expected = _rolled_up(session)
        before = _oid(session, "daily_rollups")
        session.execute(text("DELETE FROM daily_rollups"))  # the rebuild restores them
    engine: Engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as reader:
            # A page mid-transaction: it holds daily_rollups until it ends.
            reader.execute(text("SELECT count(*) FROM daily_rollups")).scalar_one()
            with fresh_factory() as session, session.begin():
                rollups.rebuild(session)
            # The reader was not blocked or cancelled and still reads.
            assert reader.execute(text("SELECT 1 FROM daily_rollups LIMIT 1")).all() is not None
            reader.rollback()
    finally:
        engine.dispose()
    with fresh_factory() as session:
        assert _oid(session, "daily_rollups") == before  # filled, not swapped
        assert _contents(session) == expected
        assert _leftovers(session) == 0


@postgres_only("fresh_database_url")
def test_a_view_on_the_table_keeps_working_after_a_rebuild(
    fresh_database_url: str, fresh_factory: sessionmaker[Session]
) -> None:
    with fresh_factory() as session, session.begin():
        expected = _rolled_up(session)
        session.execute(text("CREATE VIEW rollup_totals AS SELECT * FROM daily_rollups"))
        session.execute(text("DELETE FROM daily_rollups"))
    with fresh_factory() as session, session.begin():
        rollups.rebuild(session)
    with fresh_factory() as session:
        assert _contents(session) == expected
        viewed = session.execute(text("SELECT count(*) FROM rollup_totals")).scalar_one()
        assert viewed == len(expected[0])
