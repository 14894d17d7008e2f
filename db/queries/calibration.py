"""Calibration sessions: items, participants' labels and results."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    CalibrationItem,
    CalibrationLabel,
    CalibrationResult,
    CalibrationSession,
    Project,
)
from db.queries.shared import among, load_frame


def load_calibration_result_frame(
    session: Session, *, annotator_ids: Sequence[int]
) -> pd.DataFrame:
    """Per-person calibration results with their session, newest session first."""
    return load_frame(
        session,
        select(
            CalibrationResult.annotator_id,
            CalibrationSession.id.label("session_id"),
            CalibrationSession.name.label("session"),
            Project.slug.label("project"),
            CalibrationSession.held_at,
            CalibrationResult.agreement,
            CalibrationResult.n_items,
            CalibrationSession.group_agreement,
        )
        .join(CalibrationSession, CalibrationSession.id == CalibrationResult.session_id)
        .outerjoin(Project, Project.id == CalibrationSession.project_id)
        .where(
            among(CalibrationResult.annotator_id, annotator_ids),
            CalibrationSession.archived_at.is_(None),
        )
        .order_by(CalibrationSession.held_at.desc(), CalibrationSession.id.desc()),
    )


def list_calibration_sessions(
    session: Session, *, project_id: int | None = None, include_archived: bool = False
) -> list[tuple[CalibrationSession, str | None, int]]:
    """Sessions newest first, with project slug and number of participants."""
    participants = (
        select(CalibrationResult.session_id, func.count(CalibrationResult.annotator_id).label("n"))
        .group_by(CalibrationResult.session_id)
        .subquery()
    )
    query = (
        select(CalibrationSession, Project.slug, func.coalesce(participants.c.n, 0))
        .outerjoin(Project, Project.id == CalibrationSession.project_id)
        .outerjoin(participants, participants.c.session_id == CalibrationSession.id)
        .order_by(CalibrationSession.held_at.desc(), CalibrationSession.id.desc())
    )
    if project_id is not None:
        query = query.where(CalibrationSession.project_id == project_id)
    if not include_archived:
        query = query.where(CalibrationSession.archived_at.is_(None))
    return [(row[0], row[1], int(row[2])) for row in session.execute(query).all()]


def list_calibration_items(session: Session, *, session_id: int) -> list[CalibrationItem]:
    """The items of one calibration session, in item order."""
    return list(
        session.scalars(
            select(CalibrationItem)
            .where(CalibrationItem.session_id == session_id)
            .order_by(CalibrationItem.item_id)
        )
    )


def load_calibration_label_frame(session: Session, *, session_id: int) -> pd.DataFrame:
    """Participants' labels in one session: item_id, annotator_id, label."""
    rows = session.execute(
        select(CalibrationLabel.item_id, CalibrationLabel.annotator_id, CalibrationLabel.label)
        .where(CalibrationLabel.session_id == session_id)
        .order_by(CalibrationLabel.annotator_id, CalibrationLabel.item_id)
    ).all()
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def list_calibration_labels(
    session: Session, *, session_id: int, annotator_id: int
) -> list[CalibrationLabel]:
    """One participant's labels in one session."""
    return list(
        session.scalars(
            select(CalibrationLabel).where(
                CalibrationLabel.session_id == session_id,
                CalibrationLabel.annotator_id == annotator_id,
            )
        )
    )


def list_calibration_results(session: Session, *, session_id: int) -> list[CalibrationResult]:
    """Per-person results of one session."""
    return list(
        session.scalars(select(CalibrationResult).where(CalibrationResult.session_id == session_id))
    )


def load_calibration_labels_of(session: Session, *, session_ids: Sequence[int]) -> pd.DataFrame:
    """Labels of several sessions: session_id, item_id, annotator_id, label."""
    rows = session.execute(
        select(
            CalibrationLabel.session_id,
            CalibrationLabel.item_id,
            CalibrationLabel.annotator_id,
            CalibrationLabel.label,
        ).where(CalibrationLabel.session_id.in_(list(session_ids)))
    ).all()
    return pd.DataFrame(rows, columns=["session_id", "item_id", "annotator_id", "label"])
