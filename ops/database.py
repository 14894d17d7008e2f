"""The application's engine and session factory, made on first use from the settings."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
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


def describe_outage(error: BaseException, *, show_url: bool = False) -> str | None:
    """One line for the person who hit ``error`` when the database could not be used or the
    connection to it was lost; None for any other error (a bug, bad data). ``show_url``
    names the database (without its password), for operators rather than page users."""
    if not isinstance(error, DBAPIError):
        return None
    if not (error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)):
        return None
    reason = _first_line(error.orig) or type(error.orig).__name__
    if error.connection_invalidated:
        return f"the connection to the database was lost ({reason}); nothing was saved, try again"
    if not show_url:
        # Where the server is stays with the operators: keep only what the server said.
        said = reason.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
        return f"cannot use the database ({said})"
    url = make_url(get_settings().database_url).render_as_string(hide_password=True)
    return f"cannot use the database {url} ({reason})"


def _first_line(error: BaseException | None) -> str:
    lines = [line.strip() for line in str(error or "").splitlines() if line.strip()]
    return lines[0] if lines else ""
