"""Assignments of people to projects, reassignment decisions, staffing proposals, and
what staffing a project reads about the pool (capacity, time off, qualifications)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    Annotator,
    AnnotatorSkill,
    AnnotatorTimeOff,
    Assignment,
    Project,
    QualificationResult,
    ReassignmentDecision,
    StaffingProposal,
    Team,
    TrainingRecord,
)
from db.queries.shared import among, load_frame, rows_frame
from db.scope import PeopleScope


def running_on(today: dt.date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Conditions of an assignment that runs on ``today`` (``ends_on`` is the first day off)."""
    return (
        Assignment.starts_on <= today,
        or_(Assignment.ends_on.is_(None), Assignment.ends_on > today),
    )


def list_assignment_compliance(session: Session, *, now: dt.datetime) -> list[dict[str, Any]]:
    """Active assignments with the person's expired trainings and qualification for the task."""
    today = now.date()
    active = session.execute(
        select(Assignment.id, Assignment.annotator_id, Assignment.project_id, Project.task_type)
        .join(Project, Project.id == Assignment.project_id)
        .join(Annotator, Annotator.id == Assignment.annotator_id)
        .where(
            *running_on(today),
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
    return rows_frame(rows, ["annotator_id", "project_id", "project", "role"])


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


# --- staffing a project: the pool in scope, with what ranks or excludes each person -------


def load_staffing_pool_frame(session: Session, *, scope: PeopleScope) -> pd.DataFrame:
    """People in ``scope`` who are in the pool (not archived, not merged), with team name
    and weekly capacity hours (NaN where not recorded)."""
    return load_frame(
        session,
        select(
            Annotator.id.label("annotator_id"),
            Annotator.display_name,
            Annotator.tier,
            Annotator.status,
            Annotator.employment_type,
            Team.name.label("team"),
            Annotator.weekly_capacity_hours,
        )
        .outerjoin(Team, Team.id == Annotator.team_id)
        .where(
            Annotator.archived_at.is_(None),
            Annotator.merged_into_id.is_(None),
            scope.where(Annotator.id),
        )
        .order_by(Annotator.display_name, Annotator.id),
    )


def load_best_qualification_frame(
    session: Session, *, scope: PeopleScope, task_type: str
) -> pd.DataFrame:
    """One row per person in ``scope`` tested on ``task_type``: best score, and whether any
    attempt reached its pass mark."""
    passed = case((QualificationResult.score >= QualificationResult.pass_mark, 1), else_=0)
    return load_frame(
        session,
        select(
            QualificationResult.annotator_id,
            func.max(QualificationResult.score).label("best_score"),
            func.max(passed).label("passed"),
        )
        .where(
            QualificationResult.task_type == task_type,
            scope.where(QualificationResult.annotator_id),
        )
        .group_by(QualificationResult.annotator_id),
    )


def load_expired_training_frame(
    session: Session, *, scope: PeopleScope, now: dt.datetime, project_id: int
) -> pd.DataFrame:
    """Trainings of people in ``scope`` whose latest record of their kind has expired, for
    the project or for no project in particular: annotator_id, kind, expires_at."""
    latest = (
        select(
            TrainingRecord.annotator_id,
            TrainingRecord.kind,
            TrainingRecord.project_id,
            func.max(TrainingRecord.expires_at).label("expires_at"),
        )
        .where(
            scope.where(TrainingRecord.annotator_id),
            or_(TrainingRecord.project_id.is_(None), TrainingRecord.project_id == project_id),
        )
        .group_by(TrainingRecord.annotator_id, TrainingRecord.kind, TrainingRecord.project_id)
        .subquery()
    )
    return load_frame(
        session,
        select(latest.c.annotator_id, latest.c.kind, latest.c.expires_at)
        .where(latest.c.expires_at < now)
        .order_by(latest.c.annotator_id, latest.c.kind),
    )


def load_scoped_skill_frame(session: Session, *, scope: PeopleScope) -> pd.DataFrame:
    """Skills, domains and languages of the people in ``scope``: annotator_id, kind, name."""
    return load_frame(
        session,
        select(AnnotatorSkill.annotator_id, AnnotatorSkill.kind, AnnotatorSkill.name).where(
            scope.where(AnnotatorSkill.annotator_id)
        ),
    )


def load_time_off_frame(
    session: Session, *, scope: PeopleScope, since: dt.date, until: dt.date
) -> pd.DataFrame:
    """Time off of people in ``scope`` overlapping the days [since, until]."""
    return load_frame(
        session,
        select(
            AnnotatorTimeOff.id,
            AnnotatorTimeOff.annotator_id,
            AnnotatorTimeOff.starts_on,
            AnnotatorTimeOff.ends_on,
            AnnotatorTimeOff.kind,
        )
        .where(
            scope.where(AnnotatorTimeOff.annotator_id),
            AnnotatorTimeOff.starts_on <= until,
            AnnotatorTimeOff.ends_on >= since,
        )
        .order_by(AnnotatorTimeOff.annotator_id, AnnotatorTimeOff.starts_on),
    )


def list_time_off(session: Session, *, annotator_id: int) -> list[AnnotatorTimeOff]:
    """One person's time off, latest first."""
    return list(
        session.scalars(
            select(AnnotatorTimeOff)
            .where(AnnotatorTimeOff.annotator_id == annotator_id)
            .order_by(AnnotatorTimeOff.starts_on.desc(), AnnotatorTimeOff.id.desc())
        )
    )


def load_running_assignment_frame(
    session: Session, *, scope: PeopleScope, today: dt.date
) -> pd.DataFrame:
    """Assignments running today of people in ``scope``: annotator_id, project_id, slug, role."""
    return load_frame(
        session,
        select(
            Assignment.annotator_id,
            Assignment.project_id,
            Project.slug.label("project"),
            Assignment.role,
        )
        .join(Project, Project.id == Assignment.project_id)
        .where(scope.where(Assignment.annotator_id), *running_on(today))
        .order_by(Assignment.annotator_id, Project.slug),
    )


def count_running_assignments(session: Session, *, project_id: int, today: dt.date) -> int:
    """People assigned to the project today (as annotator or reviewer)."""
    return int(
        session.scalar(
            select(func.count(func.distinct(Assignment.annotator_id))).where(
                Assignment.project_id == project_id, *running_on(today)
            )
        )
        or 0
    )


def list_project_ids_staffed_by(
    session: Session, *, scope: PeopleScope, today: dt.date
) -> list[int]:
    """Projects on which someone in ``scope`` has an assignment running today."""
    return [
        int(project_id)
        for project_id in session.scalars(
            select(Assignment.project_id)
            .where(scope.where(Assignment.annotator_id), *running_on(today))
            .distinct()
        )
    ]


# --- proposals -------------------------------------------------------------------------------


def load_proposal_frame(
    session: Session,
    *,
    scope: PeopleScope,
    statuses: Sequence[str] = (),
    project_id: int | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Staffing proposals about people in ``scope``, newest first, with names and slugs."""
    joins = aliased(Project, name="joins")
    leaves = aliased(Project, name="leaves")
    query = (
        select(
            StaffingProposal.id,
            StaffingProposal.annotator_id,
            Annotator.display_name.label("annotator"),
            StaffingProposal.project_id,
            joins.slug.label("project"),
            StaffingProposal.from_project_id,
            leaves.slug.label("from_project"),
            StaffingProposal.role,
            StaffingProposal.reason_category,
            StaffingProposal.notes,
            StaffingProposal.status,
            StaffingProposal.proposed_by,
            StaffingProposal.proposed_at,
            StaffingProposal.decided_by,
            StaffingProposal.decided_at,
            StaffingProposal.decision_note,
        )
        .join(Annotator, Annotator.id == StaffingProposal.annotator_id)
        .outerjoin(joins, joins.id == StaffingProposal.project_id)
        .outerjoin(leaves, leaves.id == StaffingProposal.from_project_id)
        .where(scope.where(StaffingProposal.annotator_id))
        .order_by(StaffingProposal.proposed_at.desc(), StaffingProposal.id.desc())
        .limit(limit)
    )
    if statuses:
        query = query.where(StaffingProposal.status.in_(list(statuses)))
    if project_id is not None:
        query = query.where(
            or_(
                StaffingProposal.project_id == project_id,
                StaffingProposal.from_project_id == project_id,
            )
        )
    return load_frame(session, query)


def get_pending_proposal(
    session: Session, *, annotator_id: int, project_id: int | None, from_project_id: int | None
) -> StaffingProposal | None:
    """A pending proposal that puts the person on ``project_id`` or, for a proposal that only
    takes them off ``from_project_id``, a pending one of that; None when there is none."""
    target: ColumnElement[bool] = (
        StaffingProposal.project_id == project_id
        if project_id is not None
        else and_(
            StaffingProposal.project_id.is_(None),
            StaffingProposal.from_project_id == from_project_id,
        )
    )
    return session.scalars(
        select(StaffingProposal).where(
            StaffingProposal.annotator_id == annotator_id,
            target,
            StaffingProposal.status == "pending",
        )
    ).first()


def list_current_initial_training(
    session: Session, *, scope: PeopleScope, now: dt.datetime, project_id: int
) -> list[int]:
    """People in ``scope`` with an initial training, general or for the project, that has
    not expired at ``now``."""
    return [
        int(annotator_id)
        for annotator_id in session.scalars(
            select(TrainingRecord.annotator_id)
            .where(
                scope.where(TrainingRecord.annotator_id),
                TrainingRecord.kind == "initial",
                or_(TrainingRecord.project_id.is_(None), TrainingRecord.project_id == project_id),
                or_(TrainingRecord.expires_at.is_(None), TrainingRecord.expires_at >= now),
            )
            .distinct()
        )
    ]
