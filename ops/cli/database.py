"""``annops init-db``: create or migrate the database schema."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url

from db import migrate
from ops.cli.output import user_errors
from ops.settings import get_settings


def init_db() -> None:
    """Create or migrate the database to the newest schema."""
    url = get_settings().database_url
    with user_errors():
        migrate.upgrade(url)
    shown = make_url(url).render_as_string(hide_password=True)
    typer.echo(f"database at {shown} is at the newest schema")
