"""The rollup SQL compiles for both databases, with the dialect's own date arithmetic."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Dialect, make_url

from db.models import ROLLUP_COSTS, ROLLUP_MEASURES, AnnotationEvent, DailyRollup
from db.rollup_sql import (
    ROLLUP_COLUMNS,
    ROLLUP_KEYS,
    ROLLUP_PARTS,
    aggregate_select,
    parts_select,
    utc_day,
)

DIALECTS: dict[str, Dialect] = {
    "sqlite": make_url("sqlite://").get_dialect()(),
    "postgresql": make_url("postgresql+psycopg://").get_dialect()(),
}
NOON = dt.time(12)


def compile_sql(statement: Any, dialect: str) -> tuple[str, dict[str, Any]]:
    compiled = statement.compile(dialect=DIALECTS[dialect])
    return " ".join(str(compiled).split()), dict(compiled.params)


def test_measures_and_costs_with_the_key_are_the_rollup_columns() -> None:
    columns = [column.name for column in DailyRollup.__table__.columns]
    assert sorted(ROLLUP_COLUMNS) == sorted(columns)
    assert set(ROLLUP_MEASURES).isdisjoint(ROLLUP_COSTS)


@pytest.mark.parametrize(
    ("dialect", "day"),
    [
        ("sqlite", "date(annotation_events.submitted_at)"),
        ("postgresql", "CAST(timezone(%(timezone_1)s::VARCHAR, annotation_events.submitted_at)"),
    ],
)
def test_utc_day_in_each_dialect(dialect: str, day: str) -> None:
    sql, params = compile_sql(utc_day(AnnotationEvent.__table__.c.submitted_at, dialect), dialect)
    assert sql.startswith(day)
    if dialect == "postgresql":
        assert sql.endswith("AS DATE)")
        assert params == {"timezone_1": "UTC"}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("keyed", [False, True], ids=["full", "keyed"])
@pytest.mark.parametrize("boundaries", [(), (NOON,)], ids=["whole-days", "noon-cut"])
def test_aggregate_select_compiles(
    dialect: str, keyed: bool, boundaries: tuple[dt.time, ...]
) -> None:
    select = aggregate_select(
        dialect, keys=ROLLUP_KEYS if keyed else None, boundaries=list(boundaries)
    )
    sql, params = compile_sql(select, dialect)
    assert [column.name for column in select.selected_columns] == list(ROLLUP_COLUMNS)
    # Counts are aggregate filters, not sums of CASE expressions.
    assert sql.count("count(*) FILTER (WHERE") == 7
    assert ("JOIN rollup_keys ON" in sql) is keyed
    if keyed:
        # The key's day as an equality (hash joins) and its range (the submitted_at index).
        assert "rollup_keys.day = " in sql
        assert "annotation_events.submitted_at >= rollup_keys.day_start" in sql
        assert "annotation_events.submitted_at < rollup_keys.day_end" in sql
    # Events are summed per part of the day only where a rate starts within a day.
    inner_group_by = sql.split("GROUP BY")[1].split(") AS parts")[0]
    assert ("CASE WHEN" in inner_group_by) is bool(boundaries)
    # Keyed, the events are read from the keys' events (see _events) first.
    events = "keyed_events" if keyed else "annotation_events"
    if dialect == "sqlite":
        assert "timezone(" not in sql
        assert f"date({events}.submitted_at)" in sql
        if boundaries:
            # Stored text 'YYYY-MM-DD HH:MM:SS.ffffff': the time of day starts at 12.
            assert f"substr({events}.submitted_at, ?)" in sql
            assert "12:00:00.000000" in params.values()
            assert "+43200 seconds" in params.values()
    else:
        assert "date(" not in sql
        assert "AS DATE)" in sql
        if boundaries:
            assert "AS TIME WITHOUT TIME ZONE" in sql
            assert NOON in params.values()
            assert dt.timedelta(hours=12) in params.values()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_insert_from_select_names_every_rollup_column(dialect: str) -> None:
    statement = insert(DailyRollup).from_select(
        list(ROLLUP_COLUMNS), aggregate_select(dialect, boundaries=[NOON])
    )
    sql, _params = compile_sql(statement, dialect)
    # The rate periods are common table expressions ahead of the INSERT.
    assert sql.startswith("WITH work_rate AS (")
    assert f"INSERT INTO daily_rollups ({', '.join(ROLLUP_COLUMNS)}) SELECT costed." in sql


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_parts_select_fills_the_columns_of_the_parts_table(dialect: str) -> None:
    # The keyed rewrite stores parts_select in ROLLUP_PARTS by position.
    select = parts_select(dialect, keys=ROLLUP_KEYS, boundaries=[NOON])
    assert [column.name for column in select.selected_columns] == [
        column.name for column in ROLLUP_PARTS.columns
    ]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_aggregate_select_prices_stored_parts_without_reading_events(dialect: str) -> None:
    select = aggregate_select(dialect, boundaries=[NOON], parts=ROLLUP_PARTS)
    sql, _params = compile_sql(select, dialect)
    assert [column.name for column in select.selected_columns] == list(ROLLUP_COLUMNS)
    assert "FROM rollup_parts LEFT OUTER JOIN" in sql
    assert "annotation_events" not in sql


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_fresh_keys_read_the_new_events_and_the_others_key_by_key(dialect: str) -> None:
    sql, params = compile_sql(
        parts_select(dialect, keys=ROLLUP_KEYS, boundaries=[NOON], after_id=41), dialect
    )
    assert "UNION ALL" in sql
    # Key by key through the index for keys that already hold work...
    assert "annotation_events.submitted_at >= rollup_keys.day_start" in sql
    # ...and the new events for the others.
    assert "annotation_events.id >" in sql
    assert 41 in params.values()
    assert sql.count("rollup_keys.fresh") == 2
    # The new events are summed first and the sums kept where their key is fresh, so the
    # planner sees how many events it sums (not the one row it guesses for a join).
    assert sql.count("GROUP BY") == 2
    assert "AS new_sums WHERE EXISTS" in sql
    # Without a watermark every key is read key by key.
    plain, _params = compile_sql(parts_select(dialect, keys=ROLLUP_KEYS), dialect)
    assert "UNION ALL" not in plain
    assert "rollup_keys.fresh" not in plain
