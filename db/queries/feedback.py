"""Feedback notes given to annotators."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import FeedbackNote


def list_feedback_notes(session: Session, *, annotator_id: int) -> list[FeedbackNote]:
    """Feedback given to one person, newest first."""
    return list(
        session.scalars(
            select(FeedbackNote)
            .where(FeedbackNote.annotator_id == annotator_id)
            .order_by(FeedbackNote.created_at.desc(), FeedbackNote.id.desc())
        )
    )


def count_unread_feedback(session: Session, *, annotator_id: int) -> int:
    """Feedback notes to one person they have not acknowledged yet."""
    return int(
        session.scalar(
            select(func.count(FeedbackNote.id)).where(
                FeedbackNote.annotator_id == annotator_id,
                FeedbackNote.acknowledged_at.is_(None),
            )
        )
        or 0
    )
