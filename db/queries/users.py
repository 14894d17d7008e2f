"""Logins: the user accounts people sign in with."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import User


def count_users(session: Session, *, locked_at: dt.datetime | None = None) -> int:
    """User accounts; with ``locked_at``, only those locked at that moment."""
    query = select(func.count(User.id))
    if locked_at is not None:
        query = query.where(User.locked_until > locked_at)
    return int(session.scalar(query) or 0)
