"""Assignments of people to projects and reassignment decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    Annotator,
    Assignment,
    Project,
    QualificationResult,
    ReassignmentDecision,
    TrainingRecord,
)
from db.queries.shared import among


def running_on(today: dt.date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Conditions of an assignment that runs on ``today``."""
    return (
        Assignment.starts_on <= today,
        or_(Assignment.ends_on.is_(None), Assignment.ends_on >= today),
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
        .where(among(TrainingRecord.annotator_id, people))
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
        ).where(among(QualificationResult.annotator_id, people))
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


def load_current_assignment_frame(
    session: Session, *, annotator_ids: Sequence[int], today: dt.date
) -> pd.DataFrame:
    """Assignments running today for the given people, with the project slug."""
    rows = session.execute(
        select(Assignment.annotator_id, Assignment.project_id, Project.slug, Assignment.role)
        .join(Project, Project.id == Assignment.project_id)
        .where(among(Assignment.annotator_id, annotator_ids), *running_on(today))
        .order_by(Assignment.annotator_id, Project.slug)
    ).all()
    return pd.DataFrame(rows, columns=["annotator_id", "project_id", "project", "role"])


def list_assignments(session: Session, *, annotator_id: int) -> list[tuple[Assignment, str]]:
    """One person's assignments, newest start first, with project slug."""
    return [
        (row[0], row[1])
        for row in session.execute(
            select(Assignment, Project.slug)
            .join(Project, Project.id == Assignment.project_id)
            .where(Assignment.annotator_id == annotator_id)
            .order_by(Assignment.starts_on.desc(), Assignment.id.desc())
        ).all()
    ]


def get_current_assignment(
    session: Session, *, annotator_id: int, project_id: int, today: dt.date
) -> Assignment | None:
    """The person's assignment to the project running today, or None."""
    return session.scalars(
        select(Assignment)
        .where(
            Assignment.annotator_id == annotator_id,
            Assignment.project_id == project_id,
            *running_on(today),
        )
        .order_by(Assignment.starts_on.desc())
    ).first()


def list_reassignment_decisions(
    session: Session, *, annotator_id: int
) -> list[ReassignmentDecision]:
    """Reassignment decisions about one person, newest first."""
    return list(
        session.scalars(
            select(ReassignmentDecision)
            .where(ReassignmentDecision.annotator_id == annotator_id)
            .order_by(ReassignmentDecision.decided_at.desc(), ReassignmentDecision.id.desc())
        )
    )
