"""Agreement figures the nightly job stores per project and window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, func, select
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


def list_latest_agreement_annotators(
    session: Session,
) -> list[tuple[int, dt.date, list[dict[str, Any]]]]:
    """(project id, window end, per-annotator figures) of each project's most recent
    stored agreement, in one query and without the pair and item documents."""
    latest = (
        select(
            ProjectAgreement.project_id,
            func.max(ProjectAgreement.window_end).label("window_end"),
        )
        .group_by(ProjectAgreement.project_id)
        .subquery()
    )
    rows = session.execute(
        select(
            ProjectAgreement.project_id, ProjectAgreement.window_end, ProjectAgreement.annotators
        )
        .join(
            latest,
            and_(
                latest.c.project_id == ProjectAgreement.project_id,
                latest.c.window_end == ProjectAgreement.window_end,
            ),
        )
        .order_by(ProjectAgreement.project_id)
    ).all()
    return [(int(project_id), end, list(people or [])) for project_id, end, people in rows]
