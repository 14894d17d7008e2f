"""Read queries: keyword-only, built with select() and bound parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from db.models import (
    Alert,
    AnnotationEvent,
    Annotator,
    Assignment,
    DailyRollup,
    ImportBatch,
    Project,
    QualificationResult,
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


ROLLUP_SUM_COLUMNS = (
    "annotations",
    "skipped",
    "active_seconds",
    "gold_answered",
    "gold_correct",
    "escalations",
    "reviewed",
    "accepted",
)


def load_rollup_window_frame(
    session: Session, *, since: dt.date, until: dt.date, project_ids: list[int] | None = None
) -> pd.DataFrame:
    """One row per annotator x project: rollup sums over days [since, until]."""
    sums = [
        func.coalesce(func.sum(getattr(DailyRollup, name)), 0).label(name)
        for name in ROLLUP_SUM_COLUMNS
    ]
    query = (
        select(DailyRollup.annotator_id, DailyRollup.project_id, *sums)
        .where(DailyRollup.day >= since, DailyRollup.day <= until)
        .group_by(DailyRollup.annotator_id, DailyRollup.project_id)
        .order_by(DailyRollup.project_id, DailyRollup.annotator_id)
    )
    if project_ids is not None:
        query = query.where(DailyRollup.project_id.in_(project_ids))
    rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["annotator_id", "project_id", *ROLLUP_SUM_COLUMNS])
    for name in ROLLUP_SUM_COLUMNS:
        frame[name] = frame[name].astype(float if name == "active_seconds" else "int64")
    return frame


def load_repeat_consistency_frame(
    session: Session, *, start: dt.datetime, end: dt.datetime, project_ids: list[int]
) -> pd.DataFrame:
    """One row per annotator x project: items they labeled more than once, and how many
    of those got the same label every time, for events submitted in [start, end)."""
    repeats = (
        select(
            AnnotationEvent.annotator_id,
            AnnotationEvent.project_id,
            AnnotationEvent.item_id,
            func.count(func.distinct(AnnotationEvent.label)).label("labels"),
        )
        .where(
            AnnotationEvent.submitted_at >= start,
            AnnotationEvent.submitted_at < end,
            AnnotationEvent.project_id.in_(project_ids),
            AnnotationEvent.label.is_not(None),
        )
        .group_by(AnnotationEvent.annotator_id, AnnotationEvent.project_id, AnnotationEvent.item_id)
        .having(func.count() > 1)
        .subquery()
    )
    rows = session.execute(
        select(
            repeats.c.annotator_id,
            repeats.c.project_id,
            func.count().label("n_repeated_items"),
            func.sum(case((repeats.c.labels == 1, 1), else_=0)).label("n_consistent_items"),
        ).group_by(repeats.c.annotator_id, repeats.c.project_id)
    ).all()
    return pd.DataFrame(
        rows, columns=["annotator_id", "project_id", "n_repeated_items", "n_consistent_items"]
    )


def list_assignment_compliance(session: Session, *, now: dt.datetime) -> list[dict[str, Any]]:
    """Active assignments with the person's expired trainings and qualification for the task."""
    today = now.date()
    active = session.execute(
        select(Assignment.id, Assignment.annotator_id, Assignment.project_id, Project.task_type)
        .join(Project, Project.id == Assignment.project_id)
        .join(Annotator, Annotator.id == Assignment.annotator_id)
        .where(
            Assignment.starts_on <= today,
            or_(Assignment.ends_on.is_(None), Assignment.ends_on >= today),
            Annotator.status.in_(("active", "probation")),
            Annotator.archived_at.is_(None),
        )
        .order_by(Assignment.id)
    ).all()
    if not active:
        return []
    people = sorted({row.annotator_id for row in active})
    latest = (
        select(
            TrainingRecord.annotator_id,
            TrainingRecord.kind,
            TrainingRecord.project_id,
            func.max(TrainingRecord.expires_at).label("expires_at"),
        )
        .where(TrainingRecord.annotator_id.in_(people))
        .group_by(TrainingRecord.annotator_id, TrainingRecord.kind, TrainingRecord.project_id)
        .subquery()
    )
    expired: dict[int, list[dict[str, Any]]] = {}
    for annotator_id, kind, project_id, expires_at in session.execute(
        select(latest).where(latest.c.expires_at < now)
    ):
        expires = expires_at if isinstance(expires_at, dt.datetime) else None
        expired.setdefault(annotator_id, []).append(
            {
                "kind": kind,
                "project_id": project_id,
                "expired_on": expires.date().isoformat() if expires else str(expires_at)[:10],
            }
        )
    scores: dict[tuple[int, str], tuple[float, bool]] = {}
    for annotator_id, task_type, score, pass_mark in session.execute(
        select(
            QualificationResult.annotator_id,
            QualificationResult.task_type,
            QualificationResult.score,
            QualificationResult.pass_mark,
        ).where(QualificationResult.annotator_id.in_(people))
    ):
        best, passed = scores.get((annotator_id, task_type), (0.0, False))
        scores[(annotator_id, task_type)] = (max(best, score), passed or score >= pass_mark)
    result = []
    for assignment_id, annotator_id, project_id, task_type in active:
        best_score, passed = scores.get((annotator_id, task_type), (0.0, False))
        # Trainings for another project do not block this assignment.
        relevant = [
            item
            for item in expired.get(annotator_id, [])
            if item["project_id"] in (None, project_id)
        ]
        result.append(
            {
                "assignment_id": assignment_id,
                "annotator_id": annotator_id,
                "project_id": project_id,
                "task_type": task_type,
                "expired_trainings": relevant,
                "qualified": passed,
                "best_score": best_score if (annotator_id, task_type) in scores else None,
            }
        )
    return result


def load_rollup_daily_frame(
    session: Session,
    *,
    since: dt.date,
    project_id: int | None = None,
    annotator_id: int | None = None,
) -> pd.DataFrame:
    """One row per day: rollup sums for a project and/or an annotator since ``since``."""
    query = (
        select(
            DailyRollup.day,
            func.sum(DailyRollup.annotations),
            func.sum(DailyRollup.gold_answered),
            func.sum(DailyRollup.gold_correct),
            func.sum(DailyRollup.cost_minor + DailyRollup.review_cost_minor),
        )
        .where(DailyRollup.day >= since)
        .group_by(DailyRollup.day)
        .order_by(DailyRollup.day)
    )
    if project_id is not None:
        query = query.where(DailyRollup.project_id == project_id)
    if annotator_id is not None:
        query = query.where(DailyRollup.annotator_id == annotator_id)
    frame = pd.DataFrame(
        session.execute(query).all(),
        columns=["day", "annotations", "gold_answered", "gold_correct", "spend_minor"],
    )
    for name in ("annotations", "gold_answered", "gold_correct", "spend_minor"):
        frame[name] = frame[name].astype("int64")
    return frame
