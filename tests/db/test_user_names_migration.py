"""Migration 0005 lower-cases existing user names and stops on names that differ only in case."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db.engine import make_engine
from db.migrate import downgrade, upgrade


def add_users(url: str, *names: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        for name in names:
            connection.execute(
                text(
                    "INSERT INTO users (username, role, password_hash, is_active, failed_logins, "
                    "created_at) VALUES (:name, 'ops', 'x', true, 0, CURRENT_TIMESTAMP)"
                ),
                {"name": name},
            )
    engine.dispose()


def usernames(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        names = list(connection.execute(text("SELECT username FROM users ORDER BY id")).scalars())
    engine.dispose()
    return names


def test_names_become_lower_case(fresh_database_url: str) -> None:
    downgrade(fresh_database_url, "0004")
    add_users(fresh_database_url, "Alice.Smith", "bob")
    upgrade(fresh_database_url)
    assert usernames(fresh_database_url) == ["alice.smith", "bob"]


def test_names_that_differ_only_in_case_stop_the_upgrade(fresh_database_url: str) -> None:
    downgrade(fresh_database_url, "0004")
    add_users(fresh_database_url, "Case", "case", "other")
    with pytest.raises(RuntimeError, match="differ only in case: case. Rename"):
        upgrade(fresh_database_url)
    assert usernames(fresh_database_url) == ["Case", "case", "other"]
