"""Programmatic Alembic: upgrade, downgrade and drift check for a database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


class MigrationRefused(RuntimeError):
    """A migration found data it cannot carry over as it stands; the message names the rows
    and says what to change before running the upgrade again. It refuses before changing
    anything."""


def alembic_config(url: str) -> Config:
    """An Alembic config for the annops migrations pointed at ``url``."""
    config = Config(str(ALEMBIC_INI))
    # ConfigParser treats % as interpolation; URLs may contain escaped characters.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Create or migrate the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise if the models and the migrations have drifted apart."""
    command.check(alembic_config(url))
