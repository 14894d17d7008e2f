"""Alembic environment: migrates the database named by the caller or by the settings."""

from __future__ import annotations

import warnings
from typing import Any

from alembic import context
from sqlalchemy.exc import SAWarning

from db.engine import make_engine
from db.models import Base
from db.partitions import PARTITION_NAME

config = context.config
target_metadata = Base.metadata

# Tables owned by libraries rather than by annops models (APScheduler's job store).
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name in FOREIGN_TABLES:
        return False
    # annotation_events' monthly partitions are part of that table, not tables of their own.
    return not (type_ == "table" and reflected and name and PARTITION_NAME.match(name))


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from ops.settings import get_settings  # the one settings object, read lazily

    return get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        # Also when a migration fails: no connection is left open behind it.
        engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        # SQLite can only alter tables by copying them; batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with warnings.catch_warnings():
        if connection.dialect.name == "sqlite":
            # SQLite's indexes on an expression (teams' lower(name)) cannot be reflected:
            # SQLAlchemy skips them and autogenerate leaves them out of its comparison, each
            # with a warning. PostgreSQL reflects and compares them.
            warnings.filterwarnings(
                "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
            )
            warnings.filterwarnings(
                "ignore", "autogenerate skipping metadata-specified expression-based index"
            )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
