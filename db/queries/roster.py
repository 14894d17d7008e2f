"""Reads for the pool's roster: one set-based query per part of a row, each for everyone
inside a people scope at once (no list of ids, no query per person)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db.models import (
    Annotator,
    AnnotatorIdentity,
    AnnotatorSkill,
    Assignment,
    Project,
    QualificationResult,
    Team,
)
from db.queries.staffing import running_on
from db.scope import PeopleScope


@dataclass(frozen=True)
class RosterPerson:
    """The stored fields of one person the roster shows."""

    annotator_id: int
    display_name: str
    team: str
    tier: str
    status: str
    employment_type: str
    email: str | None
    phone: str | None
    archived: bool


def _roster_ids(scope: PeopleScope) -> Select[int]:
    """Ids of the people of the roster inside ``scope``: archived included, merged never."""
    return select(Annotator.id).where(Annotator.merged_into_id.is_(None), scope.where(Annotator.id))


def list_roster_people(session: Session, *, scope: PeopleScope) -> list[RosterPerson]:
    """Everyone of the roster inside ``scope`` (archived included, merged placeholders
    never), by name."""
    rows = session.execute(
        select(
            Annotator.id,
            Annotator.display_name,
            Team.name,
            Annotator.tier,
            Annotator.status,
            Annotator.employment_type,
            Annotator.email,
            Annotator.phone,
            Annotator.archived_at.is_not(None),
        )
        .outerjoin(Team, Team.id == Annotator.team_id)
        .where(Annotator.merged_into_id.is_(None), scope.where(Annotator.id))
        .order_by(Annotator.display_name, Annotator.id)
    ).all()
    return [
        RosterPerson(
            annotator_id=int(row[0]),
            display_name=row[1],
            team=row[2] or "",
            tier=row[3],
            status=row[4],
            employment_type=row[5],
            email=row[6],
            phone=row[7],
            archived=bool(row[8]),
        )
        for row in rows
    ]


def list_roster_skills(session: Session, *, scope: PeopleScope) -> list[tuple[int, str, str]]:
    """(annotator id, kind, name) of every skill, domain and language of the roster's
    people inside ``scope``, by person, kind and name."""
    rows = session.execute(
        select(AnnotatorSkill.annotator_id, AnnotatorSkill.kind, AnnotatorSkill.name)
        .where(AnnotatorSkill.annotator_id.in_(_roster_ids(scope)))
        .order_by(AnnotatorSkill.annotator_id, AnnotatorSkill.kind, AnnotatorSkill.name)
    ).all()
    return [(int(person), str(kind), str(name)) for person, kind, name in rows]


def list_roster_qualified_task_types(
    session: Session, *, scope: PeopleScope
) -> list[tuple[int, str]]:
    """(annotator id, task type) for each task type a person of the roster inside
    ``scope`` passed a qualification test for, by person and task type."""
    rows = session.execute(
        select(QualificationResult.annotator_id, QualificationResult.task_type)
        .where(
            QualificationResult.annotator_id.in_(_roster_ids(scope)),
            QualificationResult.score >= QualificationResult.pass_mark,
        )
        .distinct()
        .order_by(QualificationResult.annotator_id, QualificationResult.task_type)
    ).all()
    return [(int(person), str(task_type)) for person, task_type in rows]


def list_roster_current_projects(
    session: Session, *, scope: PeopleScope, today: dt.date
) -> list[tuple[int, str]]:
    """(annotator id, project slug) of each assignment running on ``today`` of the
    roster's people inside ``scope``, by person and slug."""
    rows = session.execute(
        select(Assignment.annotator_id, Project.slug)
        .join(Project, Project.id == Assignment.project_id)
        .where(Assignment.annotator_id.in_(_roster_ids(scope)), *running_on(today))
        .order_by(Assignment.annotator_id, Project.slug)
    ).all()
    return [(int(person), str(slug)) for person, slug in rows]


def list_roster_identities(session: Session, *, scope: PeopleScope) -> list[tuple[int, str]]:
    """(annotator id, 'platform:external id') of the roster's people inside ``scope``, by
    platform and external id."""
    rows = session.execute(
        select(
            AnnotatorIdentity.annotator_id,
            AnnotatorIdentity.platform,
            AnnotatorIdentity.external_id,
        )
        .where(AnnotatorIdentity.annotator_id.in_(_roster_ids(scope)))
        .order_by(AnnotatorIdentity.platform, AnnotatorIdentity.external_id)
    ).all()
    return [(int(person), f"{platform}:{external_id}") for person, platform, external_id in rows]
