"""The application's engine and session factory, made on first use from the settings."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from ops.settings import get_settings


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """One pooled engine per database URL for the life of the process."""
    return make_engine(url)


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    """A session factory for ``url``, defaulting to ``ANNOPS_DATABASE_URL``."""
    return make_session_factory(engine_for(url or get_settings().database_url))
