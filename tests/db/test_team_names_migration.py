"""Migration 0014 makes team names unique whatever their case, and stops on names that
already differ only in case."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db.engine import make_engine, make_session_factory, transaction
from db.migrate import downgrade, upgrade
from ops.permissions import SYSTEM
from ops.teams import rename_team


def add_teams(url: str, *names: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for name in names:
                connection.execute(
                    text("INSERT INTO teams (name, created_at) VALUES (:name, CURRENT_TIMESTAMP)"),
                    {"name": name},
                )
    finally:
        engine.dispose()


def team_names(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        names = list(connection.execute(text("SELECT name FROM teams ORDER BY id")).scalars())
    engine.dispose()
    return names


def test_names_that_differ_only_in_case_stop_the_upgrade_until_renamed(
    fresh_database_url: str,
) -> None:
    downgrade(fresh_database_url, "0013")
    add_teams(fresh_database_url, "Night shift", "Day", "night SHIFT", "DAY", "NIGHT Shift", "x")
    with pytest.raises(RuntimeError) as error:
        upgrade(fresh_database_url)
    assert (
        "differ only in case: 'Day' and 'DAY'; "
        "'Night shift', 'night SHIFT' and 'NIGHT Shift'. Rename all but one of each"
    ) in str(error.value)
    assert team_names(fresh_database_url) == [
        "Night shift",
        "Day",
        "night SHIFT",
        "DAY",
        "NIGHT Shift",
        "x",
    ]
    # As the message says: rename by the exact name, which picks that team of the look-alikes.
    engine = make_engine(fresh_database_url)
    factory = make_session_factory(engine)
    for old, new in [("night SHIFT", "Night shift 2"), ("NIGHT Shift", "Night shift 3")]:
        with transaction(factory) as session:
            assert rename_team(session, SYSTEM, old_name=old, new_name=new).name == new
    with transaction(factory) as session:
        rename_team(session, SYSTEM, old_name="DAY", new_name="Day 2")
    engine.dispose()
    upgrade(fresh_database_url)
    assert team_names(fresh_database_url) == [
        "Night shift",
        "Day",
        "Night shift 2",
        "Day 2",
        "Night shift 3",
        "x",
    ]


def test_the_index_refuses_a_name_in_another_case_and_goes_with_a_downgrade(
    fresh_database_url: str,
) -> None:
    add_teams(fresh_database_url, "Night shift")
    with pytest.raises(IntegrityError):
        add_teams(fresh_database_url, "night SHIFT")
    add_teams(fresh_database_url, "Night shift 2")
    downgrade(fresh_database_url, "0013")
    add_teams(fresh_database_url, "night SHIFT")
    assert team_names(fresh_database_url) == ["Night shift", "Night shift 2", "night SHIFT"]
    with pytest.raises(IntegrityError):  # the exact name stays unique without the index
        add_teams(fresh_database_url, "Night shift")
