"""Agreement figures the nightly job stores per project and window."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import ProjectAgreement


def get_latest_project_agreement(session: Session, *, project_id: int) -> ProjectAgreement | None:
    """The most recent stored agreement figures of a project."""
    return session.scalars(
        select(ProjectAgreement)
        .where(ProjectAgreement.project_id == project_id)
        .order_by(ProjectAgreement.window_end.desc())
        .limit(1)
    ).first()


def list_project_agreements(
    session: Session, *, project_id: int, limit: int = 60
) -> list[ProjectAgreement]:
    """Stored agreement figures of a project, oldest window first (the latest ``limit``)."""
    rows = session.scalars(
        select(ProjectAgreement)
        .where(ProjectAgreement.project_id == project_id)
        .order_by(ProjectAgreement.window_end.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def delete_project_agreement(session: Session, *, project_id: int, window_end: dt.date) -> None:
    """Remove the stored figures of a project for the window ending on ``window_end``."""
    session.execute(
        delete(ProjectAgreement).where(
            ProjectAgreement.project_id == project_id, ProjectAgreement.window_end == window_end
        )
    )
