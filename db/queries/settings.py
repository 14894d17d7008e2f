"""Application settings stored in the database."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.models import AppSetting


def get_setting(session: Session, *, key: str) -> AppSetting | None:
    """The app setting ``key``, or None."""
    return session.get(AppSetting, key)
