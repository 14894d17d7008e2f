"""Agreement figures the nightly job stores per project and window."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import ProjectAgreement
from db.queries.shared import rows_frame


def get_latest_project_agreement(session: Session, *, project_id: int) -> ProjectAgreement | None:
    """The most recent stored agreement figures of a project."""
    return session.scalars(
        select(ProjectAgreement)
        .where(ProjectAgreement.project_id == project_id)
        .order_by(ProjectAgreement.window_end.desc())
        .limit(1)
    ).first()


def load_agreement_history_frame(
    session: Session, *, project_id: int, limit: int = 60
) -> pd.DataFrame:
    """A project's stored project-level figures, oldest window first (the latest ``limit``):
    window_end, alpha, fleiss_kappa; without the per-pair and per-person lists."""
    latest = (
        select(ProjectAgreement.window_end, ProjectAgreement.alpha, ProjectAgreement.fleiss_kappa)
        .where(ProjectAgreement.project_id == project_id)
        .order_by(ProjectAgreement.window_end.desc())
        .limit(limit)
    ).subquery()
    rows = session.execute(select(latest).order_by(latest.c.window_end)).all()
    return rows_frame(rows, ["window_end", "alpha", "fleiss_kappa"])


def delete_project_agreement(session: Session, *, project_id: int, window_end: dt.date) -> None:
    """Remove the stored figures of a project for the window ending on ``window_end``."""
    session.execute(
        delete(ProjectAgreement).where(
            ProjectAgreement.project_id == project_id, ProjectAgreement.window_end == window_end
        )
    )
