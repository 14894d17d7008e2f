"""Reads behind the reports, the Quality page and the agreement job."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from db.models import AnnotationEvent, Annotator, DailyRollup, ProjectAgreement

ROLLUP_TOTALS = (
    "annotations",
    "skipped",
    "active_seconds",
    "gold_answered",
    "gold_correct",
    "escalations",
    "reviewed",
    "accepted",
    "cost_minor",
    "review_cost_minor",
)


def load_label_frame(
    session: Session, *, project_id: int, start: dt.datetime, end: dt.datetime
) -> pd.DataFrame:
    """One row per labelled (not skipped) event submitted in [start, end): a rating frame.

    Columns item_id, annotator_id, label and gold (the gold label on golden items, else None).
    """
    event = AnnotationEvent
    rows = session.execute(
        select(
            event.item_id,
            event.annotator_id,
            event.label,
            case((event.is_gold == True, event.gold_label), else_=None),  # noqa: E712
        ).where(
            event.project_id == project_id,
            event.submitted_at >= start,
            event.submitted_at < end,
            event.skipped == False,  # noqa: E712
            event.label.is_not(None),
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label", "gold"], dtype=object)
    frame["annotator_id"] = frame["annotator_id"].astype("int64")
    return frame


def load_annotator_totals_frame(
    session: Session,
    *,
    project_id: int,
    since: dt.date | None = None,
    annotator_ids: list[int] | None = None,
) -> pd.DataFrame:
    """One row per annotator x pay currency: rollup sums of a project from ``since`` on.

    Money in integer minor units; currency is None for work no pay rate covered.
    """
    sums = [
        func.coalesce(func.sum(getattr(DailyRollup, name)), 0).label(name) for name in ROLLUP_TOTALS
    ]
    query = (
        select(DailyRollup.annotator_id, DailyRollup.currency, *sums)
        .where(DailyRollup.project_id == project_id)
        .group_by(DailyRollup.annotator_id, DailyRollup.currency)
        .order_by(DailyRollup.annotator_id, DailyRollup.currency)
    )
    if since is not None:
        query = query.where(DailyRollup.day >= since)
    if annotator_ids is not None:
        query = query.where(DailyRollup.annotator_id.in_(annotator_ids))
    frame = pd.DataFrame(
        session.execute(query).all(), columns=["annotator_id", "currency", *ROLLUP_TOTALS]
    )
    return _typed_totals(frame)


def load_active_seconds_frame(
    session: Session,
    *,
    project_id: int,
    since: dt.datetime | None = None,
    annotator_ids: list[int] | None = None,
) -> pd.DataFrame:
    """One row per event of a project from ``since`` on: annotator_id, active_seconds, skipped."""
    query = select(
        AnnotationEvent.annotator_id, AnnotationEvent.active_seconds, AnnotationEvent.skipped
    ).where(AnnotationEvent.project_id == project_id)
    if since is not None:
        query = query.where(AnnotationEvent.submitted_at >= since)
    if annotator_ids is not None:
        query = query.where(AnnotationEvent.annotator_id.in_(annotator_ids))
    frame = pd.DataFrame(
        session.execute(query).all(), columns=["annotator_id", "active_seconds", "skipped"]
    )
    return frame.astype({"annotator_id": "int64", "active_seconds": float, "skipped": bool})


def load_daily_spend_frame(session: Session, *, project_id: int | None = None) -> pd.DataFrame:
    """One row per project x day x pay currency: spend (minor units), annotations, accepted."""
    query = (
        select(
            DailyRollup.project_id,
            DailyRollup.day,
            DailyRollup.currency,
            func.coalesce(func.sum(DailyRollup.cost_minor), 0),
            func.coalesce(func.sum(DailyRollup.review_cost_minor), 0),
            func.coalesce(func.sum(DailyRollup.annotations), 0),
            func.coalesce(func.sum(DailyRollup.accepted), 0),
        )
        .group_by(DailyRollup.project_id, DailyRollup.day, DailyRollup.currency)
        .order_by(DailyRollup.project_id, DailyRollup.day)
    )
    if project_id is not None:
        query = query.where(DailyRollup.project_id == project_id)
    columns = [
        "project_id",
        "day",
        "currency",
        "cost_minor",
        "review_cost_minor",
        "annotations",
        "accepted",
    ]
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    return frame.astype(
        dict.fromkeys(("cost_minor", "review_cost_minor", "annotations", "accepted"), "int64")
    )


def list_annotator_names(
    session: Session, *, annotator_ids: list[int] | None = None, team_id: int | None = None
) -> pd.DataFrame:
    """One row per annotator (of some ids or of a team): id, email, display_name, team_id."""
    query = select(Annotator.id, Annotator.email, Annotator.display_name, Annotator.team_id)
    if annotator_ids is not None:
        query = query.where(Annotator.id.in_(annotator_ids))
    if team_id is not None:
        query = query.where(Annotator.team_id == team_id)
    frame = pd.DataFrame(
        session.execute(query.order_by(Annotator.id)).all(),
        columns=["id", "email", "display_name", "team_id"],
    )
    return frame.set_index("id")


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


def get_project_agreement(
    session: Session, *, project_id: int, window_end: dt.date
) -> ProjectAgreement | None:
    """The stored figures of a project for the window ending on ``window_end``."""
    return session.scalars(
        select(ProjectAgreement).where(
            and_(
                ProjectAgreement.project_id == project_id,
                ProjectAgreement.window_end == window_end,
            )
        )
    ).one_or_none()


def _typed_totals(frame: pd.DataFrame) -> pd.DataFrame:
    types = {name: "int64" for name in ROLLUP_TOTALS if name != "active_seconds"}
    types["active_seconds"] = "float64"
    types["annotator_id"] = "int64"
    return frame.astype(types)
