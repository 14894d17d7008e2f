"""Alerts and their history."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    Alert,
    Annotator,
)


def count_open_alerts(session: Session, *, team_id: int | None = None) -> int:
    """Alerts still open or acknowledged."""
    query = select(func.count(Alert.id)).where(Alert.status.in_(("open", "acknowledged")))
    if team_id is not None:
        query = query.join(Annotator, Annotator.id == Alert.annotator_id).where(
            Annotator.team_id == team_id
        )
    return int(session.scalar(query) or 0)


def count_open_alerts_of(session: Session, *, annotator_ids: Sequence[int]) -> dict[int, int]:
    """Open or acknowledged alerts per annotator."""
    rows = session.execute(
        select(Alert.annotator_id, func.count(Alert.id))
        .where(
            Alert.annotator_id.in_(list(annotator_ids)),
            Alert.status.in_(("open", "acknowledged")),
        )
        .group_by(Alert.annotator_id)
    ).all()
    return {int(row[0] or 0): int(row[1]) for row in rows}
