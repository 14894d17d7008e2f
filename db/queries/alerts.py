"""Alerts and their history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from db.models import Alert, AlertAction, Annotator, Project
from db.queries.shared import among

# An alert in one of these still wants someone's attention.
ACTIVE_STATUSES = ("open", "acknowledged")


Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


def _of_team(query: Query, team_id: int | None) -> Query:
    """Only alerts about people of ``team_id`` (no project-wide ones); all when None."""
    if team_id is None:
        return query
    return query.join(Annotator, Annotator.id == Alert.annotator_id).where(
        Annotator.team_id == team_id
    )


def count_open_alerts(session: Session, *, team_id: int | None = None) -> int:
    """Alerts still open or acknowledged."""
    query = select(func.count(Alert.id)).where(Alert.status.in_(ACTIVE_STATUSES))
    return int(session.scalar(_of_team(query, team_id)) or 0)


def count_open_alerts_of(session: Session, *, annotator_ids: Sequence[int]) -> dict[int, int]:
    """Open or acknowledged alerts per annotator."""
    rows = session.execute(
        select(Alert.annotator_id, func.count(Alert.id))
        .where(
            among(Alert.annotator_id, annotator_ids),
            Alert.status.in_(ACTIVE_STATUSES),
        )
        .group_by(Alert.annotator_id)
    ).all()
    return {int(row[0] or 0): int(row[1]) for row in rows}


def get_alert(session: Session, *, alert_id: int, team_id: int | None = None) -> Alert | None:
    """The alert with ``alert_id`` (about a person of ``team_id``, when given), or None."""
    return session.scalars(_of_team(select(Alert), team_id).where(Alert.id == alert_id)).first()


def get_alert_for_window(
    session: Session, *, rule: str, subject_key: str, start: dt.date, end: dt.date
) -> Alert | None:
    """The alert of ``rule`` on a subject still active, or one whose window overlaps
    [start, end]; the latest window first."""
    return session.scalars(
        select(Alert)
        .where(
            Alert.rule == rule,
            Alert.subject_key == subject_key,
            or_(
                Alert.status.in_(ACTIVE_STATUSES),
                and_(Alert.window_end >= start, Alert.window_start <= end),
            ),
        )
        .order_by(Alert.window_end.desc())
        .limit(1)
    ).first()


def list_alerts(
    session: Session,
    *,
    team_id: int | None = None,
    project_slug: str | None = None,
    status: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    include_children: bool = False,
) -> list[tuple[Alert, str | None]]:
    """Alerts matching every given filter, newest window first, with their project's slug."""
    query = (
        select(Alert, Project.slug)
        .outerjoin(Project, Project.id == Alert.project_id)
        .order_by(Alert.window_end.desc(), Alert.id.desc())
    )
    query = _of_team(query, team_id)
    if project_slug:
        query = query.where(Project.slug == project_slug)
    if status:
        query = query.where(Alert.status == status)
    if rule:
        query = query.where(Alert.rule == rule)
    if severity:
        query = query.where(Alert.severity == severity)
    if not include_children:
        query = query.where(Alert.parent_alert_id.is_(None))
    return [(row[0], row[1]) for row in session.execute(query).all()]


def list_alert_actions(session: Session, *, alert_id: int) -> list[AlertAction]:
    """What happened to an alert, oldest first."""
    return list(
        session.scalars(
            select(AlertAction).where(AlertAction.alert_id == alert_id).order_by(AlertAction.id)
        )
    )


def list_child_alerts(session: Session, *, alert_id: int) -> list[Alert]:
    """The alerts linked under a project-level alert."""
    return list(session.scalars(select(Alert).where(Alert.parent_alert_id == alert_id)))
