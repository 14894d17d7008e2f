"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from ops.settings import get_settings

POSTGRES_URL = os.environ.get("ANNOPS_TEST_DATABASE_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL,
                reason="ANNOPS_TEST_DATABASE_URL is not set; PostgreSQL tests not run",
            ),
        ],
    ),
]


def postgres_only(fixture: str) -> pytest.MarkDecorator:
    """Run a test on PostgreSQL alone, through the database ``fixture`` it uses (directly or
    by way of ``session``): for what SQLite does not have (partitions, planner statistics,
    JIT), instead of a SQLite run that would only skip."""
    return pytest.mark.parametrize(fixture, [BACKENDS[1]], indirect=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Where PostgreSQL is required (CI), a missing database URL is an error, not a skip."""
    if os.environ.get("ANNOPS_REQUIRE_POSTGRES") and not POSTGRES_URL:
        raise pytest.UsageError(
            "ANNOPS_REQUIRE_POSTGRES is set but ANNOPS_TEST_DATABASE_URL is not: "
            "the PostgreSQL tests would be skipped"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests run only when a marker expression names them (``-m slow``)."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow; run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def create_scratch_database(tmp_path_factory: pytest.TempPathFactory, backend: str) -> str:
    """A new, empty database of ``backend``; its URL."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "annops.db"
        return f"sqlite:///{path}"
    assert POSTGRES_URL is not None
    name = f"annops_t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_scratch_database(url: str) -> None:
    """Remove a database made by create_scratch_database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    assert POSTGRES_URL is not None
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per backend for the whole run."""
    url = create_scratch_database(tmp_path_factory, request.param)
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_scratch_database(url)


@pytest.fixture
def session(migrated_engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, even if it commits."""
    with migrated_engine.connect() as connection:
        outer = connection.begin()
        factory = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        with factory() as db_session:
            yield db_session
        outer.rollback()


@pytest.fixture(params=BACKENDS)
def fresh_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """An empty, migrated database of its own, set as ANNOPS_DATABASE_URL."""
    url = create_scratch_database(tmp_path_factory, request.param)
    upgrade(url)
    monkeypatch.setenv("ANNOPS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    from ops.database import engine_for

    if engine_for.cache_info().currsize:
        engine_for(url).dispose()
    engine_for.cache_clear()
    drop_scratch_database(url)


@pytest.fixture
def fresh_factory(fresh_database_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a fresh database."""
    engine = make_engine(fresh_database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheaper argon2 parameters in tests; the scheme and variant stay argon2id."""
    from passlib.context import CryptContext

    from ops import auth

    context = CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=1024,
        argon2__rounds=1,
        argon2__parallelism=1,
    )
    monkeypatch.setattr(auth, "password_context", lambda: context)
    auth._DUMMY_HASH.cache_clear()
