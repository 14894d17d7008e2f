"""Read queries: keyword-only, built with select() and bound parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    Alert,
    AnnotationEvent,
    Annotator,
    DailyRollup,
    ImportBatch,
    Project,
    TrainingRecord,
    User,
)


def get_project(session: Session, *, slug: str) -> Project | None:
    """The project with ``slug``, or None."""
    return session.scalars(select(Project).where(Project.slug == slug)).one_or_none()


def list_projects(session: Session, *, include_archived: bool = False) -> list[Project]:
    """Projects by slug."""
    query = select(Project).order_by(Project.slug)
    if not include_archived:
        query = query.where(Project.status != "archived")
    return list(session.scalars(query))


def get_user(session: Session, *, username: str) -> User | None:
    """The user named ``username``, or None."""
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def count_rows(session: Session, *, model: Any) -> int:
    """Rows in the table of ``model``."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def count_annotators(
    session: Session, *, status: str | None = None, team_id: int | None = None
) -> int:
    """Annotators not archived, optionally of one status and team."""
    query = select(func.count(Annotator.id)).where(Annotator.archived_at.is_(None))
    if status is not None:
        query = query.where(Annotator.status == status)
    if team_id is not None:
        query = query.where(Annotator.team_id == team_id)
    return int(session.scalar(query) or 0)


def sum_rollups(
    session: Session,
    *,
    since: dt.date,
    until: dt.date | None = None,
    project_id: int | None = None,
    annotator_ids: list[int] | None = None,
    team_id: int | None = None,
) -> dict[str, float]:
    """Totals of the daily rollups in [since, until]."""
    query = select(
        func.coalesce(func.sum(DailyRollup.annotations), 0),
        func.coalesce(func.sum(DailyRollup.active_seconds), 0.0),
        func.coalesce(func.sum(DailyRollup.gold_answered), 0),
        func.coalesce(func.sum(DailyRollup.gold_correct), 0),
        func.coalesce(func.sum(DailyRollup.cost_minor + DailyRollup.review_cost_minor), 0),
        func.coalesce(func.sum(DailyRollup.reviewed), 0),
        func.coalesce(func.sum(DailyRollup.accepted), 0),
        func.count(func.distinct(DailyRollup.annotator_id)),
    ).where(DailyRollup.day >= since)
    if until is not None:
        query = query.where(DailyRollup.day <= until)
    if project_id is not None:
        query = query.where(DailyRollup.project_id == project_id)
    if annotator_ids is not None:
        query = query.where(DailyRollup.annotator_id.in_(annotator_ids))
    if team_id is not None:
        query = query.join(Annotator, Annotator.id == DailyRollup.annotator_id).where(
            Annotator.team_id == team_id
        )
    row = session.execute(query).one()
    keys = (
        "annotations",
        "active_seconds",
        "gold_answered",
        "gold_correct",
        "spend_minor",
        "reviewed",
        "accepted",
        "annotators",
    )
    return {
        key: float(value) if key == "active_seconds" else int(value)
        for key, value in zip(keys, row, strict=True)
    }


def count_open_alerts(session: Session, *, team_id: int | None = None) -> int:
    """Alerts still open or acknowledged."""
    query = select(func.count(Alert.id)).where(Alert.status.in_(("open", "acknowledged")))
    if team_id is not None:
        query = query.join(Annotator, Annotator.id == Alert.annotator_id).where(
            Annotator.team_id == team_id
        )
    return int(session.scalar(query) or 0)


def count_expired_training(
    session: Session, *, now: dt.datetime, team_id: int | None = None
) -> int:
    """Active annotators with a training whose latest record of its kind has expired."""
    latest = (
        select(
            TrainingRecord.annotator_id,
            func.max(TrainingRecord.expires_at).label("expires_at"),
        )
        .group_by(TrainingRecord.annotator_id, TrainingRecord.kind, TrainingRecord.project_id)
        .subquery()
    )
    query = (
        select(func.count(func.distinct(latest.c.annotator_id)))
        .select_from(latest)
        .join(Annotator, Annotator.id == latest.c.annotator_id)
        .where(latest.c.expires_at < now, Annotator.status == "active")
    )
    if team_id is not None:
        query = query.where(Annotator.team_id == team_id)
    return int(session.scalar(query) or 0)


def get_latest_import(session: Session) -> ImportBatch | None:
    """The most recent import batch."""
    return session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(1)).first()


def count_events(session: Session) -> int:
    """All annotation events."""
    return int(session.scalar(select(func.count(AnnotationEvent.id))) or 0)
