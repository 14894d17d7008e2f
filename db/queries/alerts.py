"""Alerts and their history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from db.models import Alert, AlertAction, Project
from db.scope import EVERYONE, PeopleScope

# An alert in one of these still wants someone's attention.
ACTIVE_STATUSES = ("open", "acknowledged")


Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


def _in_scope(query: Query, scope: PeopleScope) -> Query:
    """Only alerts about people inside ``scope``; project-wide ones only for everyone."""
    if scope.everyone:
        return query
    return query.where(Alert.annotator_id.is_not(None), scope.where(Alert.annotator_id))


def _filtered(
    query: Query,
    *,
    scope: PeopleScope,
    project_slug: str | None,
    statuses: Sequence[str],
    rule: str | None,
    severity: str | None,
    include_children: bool,
) -> Query:
    """The one filter that both the list and the count of alerts apply."""
    query = _in_scope(query, scope)
    if project_slug:
        query = query.where(Project.slug == project_slug)
    if statuses:
        query = query.where(Alert.status.in_(list(statuses)))
    if rule:
        query = query.where(Alert.rule == rule)
    if severity:
        query = query.where(Alert.severity == severity)
    # Alerts linked under a project alert are listed under it; a scope that may not see
    # project alerts gets its people's linked alerts on their own.
    if not include_children and scope.everyone:
        query = query.where(Alert.parent_alert_id.is_(None))
    return query


def count_alerts(
    session: Session,
    *,
    scope: PeopleScope = EVERYONE,
    project_slug: str | None = None,
    statuses: Sequence[str] = (),
    rule: str | None = None,
    severity: str | None = None,
    include_children: bool = False,
) -> int:
    """How many alerts ``list_alerts`` returns for the same filters."""
    query = select(func.count(Alert.id)).outerjoin(Project, Project.id == Alert.project_id)
    query = _filtered(
        query,
        scope=scope,
        project_slug=project_slug,
        statuses=statuses,
        rule=rule,
        severity=severity,
        include_children=include_children,
    )
    return int(session.scalar(query) or 0)


def count_open_alerts_of(session: Session, *, annotator_ids: Sequence[int]) -> dict[int, int]:
    """Open or acknowledged alerts per annotator."""
    rows = session.execute(
        select(Alert.annotator_id, func.count(Alert.id))
        .where(
            Alert.annotator_id.in_(list(annotator_ids)),
            Alert.status.in_(ACTIVE_STATUSES),
        )
        .group_by(Alert.annotator_id)
    ).all()
    return {int(row[0] or 0): int(row[1]) for row in rows}


def get_alert(session: Session, *, alert_id: int, scope: PeopleScope = EVERYONE) -> Alert | None:
    """The alert with ``alert_id`` if it is inside ``scope``, or None."""
    return session.scalars(_in_scope(select(Alert), scope).where(Alert.id == alert_id)).first()


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
    scope: PeopleScope = EVERYONE,
    project_slug: str | None = None,
    statuses: Sequence[str] = (),
    rule: str | None = None,
    severity: str | None = None,
    include_children: bool = False,
) -> list[tuple[Alert, str | None]]:
    """Alerts inside ``scope`` matching every given filter, newest window first, with
    their project's slug."""
    query = (
        select(Alert, Project.slug)
        .outerjoin(Project, Project.id == Alert.project_id)
        .order_by(Alert.window_end.desc(), Alert.id.desc())
    )
    query = _filtered(
        query,
        scope=scope,
        project_slug=project_slug,
        statuses=statuses,
        rule=rule,
        severity=severity,
        include_children=include_children,
    )
    return [(row[0], row[1]) for row in session.execute(query).all()]


def list_alert_actions(session: Session, *, alert_id: int) -> list[AlertAction]:
    """What happened to an alert, oldest first."""
    return list(
        session.scalars(
            select(AlertAction).where(AlertAction.alert_id == alert_id).order_by(AlertAction.id)
        )
    )


def list_child_alerts(
    session: Session, *, alert_id: int, scope: PeopleScope = EVERYONE
) -> list[Alert]:
    """The alerts inside ``scope`` linked under a project-level alert."""
    query = _in_scope(select(Alert), scope).where(Alert.parent_alert_id == alert_id)
    return list(session.scalars(query.order_by(Alert.id)))
