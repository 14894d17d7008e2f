"""The pool: annotators, teams, platform identities, skills and tier history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    AnnotationEvent,
    Annotator,
    AnnotatorIdentity,
    AnnotatorSkill,
    Assignment,
    QualificationResult,
    Team,
    TierChange,
)
from db.queries.shared import among, batched, load_frame
from db.queries.staffing import running_on
from db.scope import EVERYONE, PeopleScope


def count_annotators(
    session: Session, *, status: str | None = None, scope: PeopleScope = EVERYONE
) -> int:
    """Annotators inside ``scope`` not archived, optionally of one status."""
    query = select(func.count(Annotator.id)).where(
        Annotator.archived_at.is_(None), scope.where(Annotator.id)
    )
    if status is not None:
        query = query.where(Annotator.status == status)
    return int(session.scalar(query) or 0)


def load_annotator_name_frame(
    session: Session, *, annotator_ids: list[int] | None = None, scope: PeopleScope = EVERYONE
) -> pd.DataFrame:
    """One row per annotator inside ``scope`` (of some ids, when given): id, email,
    display_name, team_id."""
    query = select(Annotator.id, Annotator.email, Annotator.display_name, Annotator.team_id)
    query = query.where(scope.where(Annotator.id))
    if annotator_ids is not None:
        query = query.where(among(Annotator.id, annotator_ids))
    return load_frame(session, query.order_by(Annotator.id)).set_index("id")


def list_identity_matches(
    session: Session, *, platform: str, external_ids: list[str]
) -> dict[str, int]:
    """external id -> annotator id for the identities of ``platform`` that exist."""
    found: dict[str, int] = {}
    for chunk in batched(external_ids):
        rows = session.execute(
            select(AnnotatorIdentity.external_id, AnnotatorIdentity.annotator_id).where(
                AnnotatorIdentity.platform == platform,
                AnnotatorIdentity.external_id.in_(chunk),
            )
        )
        found.update({str(key): int(value) for key, value in rows})
    return found


def list_annotators_by_email(
    session: Session,
    *,
    emails: list[str],
    include_archived: bool = False,
    scope: PeopleScope = EVERYONE,
) -> dict[str, int]:
    """lower-cased email -> annotator id, for annotators inside ``scope`` not archived
    (unless asked)."""
    found: dict[str, int] = {}
    lowered = sorted({email.lower() for email in emails})
    for chunk in batched(lowered):
        query = select(func.lower(Annotator.email), Annotator.id).where(
            func.lower(Annotator.email).in_(chunk), scope.where(Annotator.id)
        )
        if not include_archived:
            query = query.where(Annotator.archived_at.is_(None))
        rows = session.execute(query)
        found.update({str(key): int(value) for key, value in rows})
    return found


@dataclass(frozen=True)
class UnlinkedIdentity:
    """An identity an import could not match to a person, with the work it carries."""

    identity_id: int
    annotator_id: int
    display_name: str
    platform: str
    external_id: str
    email: str | None
    events: int
    first_submitted_at: dt.datetime | None
    last_submitted_at: dt.datetime | None


def list_unlinked_identities(session: Session) -> list[UnlinkedIdentity]:
    """Identities whose annotator an import created and nobody has linked yet."""
    placeholders = select(Annotator.id).where(
        Annotator.is_linked == False,  # noqa: E712
        Annotator.merged_into_id.is_(None),
        Annotator.archived_at.is_(None),
    )
    # Only the placeholders' events are counted (through the events' annotator index),
    # never every event of the pool.
    work = (
        select(
            AnnotationEvent.annotator_id,
            func.count().label("events"),
            func.min(AnnotationEvent.submitted_at).label("first"),
            func.max(AnnotationEvent.submitted_at).label("last"),
        )
        .where(AnnotationEvent.annotator_id.in_(placeholders))
        .group_by(AnnotationEvent.annotator_id)
        .subquery()
    )
    rows = session.execute(
        select(
            AnnotatorIdentity.id,
            Annotator.id,
            Annotator.display_name,
            AnnotatorIdentity.platform,
            AnnotatorIdentity.external_id,
            AnnotatorIdentity.email,
            func.coalesce(work.c.events, 0),
            work.c.first,
            work.c.last,
        )
        .join(Annotator, Annotator.id == AnnotatorIdentity.annotator_id)
        .outerjoin(work, work.c.annotator_id == Annotator.id)
        .where(
            Annotator.is_linked == False,  # noqa: E712
            Annotator.merged_into_id.is_(None),
            Annotator.archived_at.is_(None),
        )
        .order_by(AnnotatorIdentity.platform, AnnotatorIdentity.external_id)
    ).all()
    return [UnlinkedIdentity(*row) for row in rows]


@dataclass(frozen=True)
class LinkableAnnotator:
    """A linked person an identity can be linked to."""

    annotator_id: int
    display_name: str
    email: str | None


def list_linked_annotators(session: Session) -> list[LinkableAnnotator]:
    """Annotators an identity can be linked to: linked and not archived, by name."""
    rows = session.execute(
        select(Annotator.id, Annotator.display_name, Annotator.email)
        .where(
            Annotator.is_linked == True,  # noqa: E712
            Annotator.archived_at.is_(None),
            Annotator.merged_into_id.is_(None),
        )
        .order_by(Annotator.display_name)
    ).all()
    return [LinkableAnnotator(int(row[0]), row[1], row[2]) for row in rows]


def list_annotator_choices(
    session: Session,
    *,
    scope: PeopleScope = EVERYONE,
    include_archived: bool = False,
    statuses: Sequence[str] = (),
) -> list[tuple[int, str]]:
    """(id, display_name) of the annotators inside ``scope`` (with one of ``statuses``, when
    given) by name, as list_pool_annotators lists them; merged placeholders never."""
    query = (
        select(Annotator.id, Annotator.display_name)
        .where(Annotator.merged_into_id.is_(None), scope.where(Annotator.id))
        .order_by(Annotator.display_name, Annotator.id)
    )
    if not include_archived:
        query = query.where(Annotator.archived_at.is_(None))
    if statuses:
        query = query.where(Annotator.status.in_(list(statuses)))
    return [(int(person_id), str(name)) for person_id, name in session.execute(query)]


class PoolFilters(TypedDict, total=False):
    """The filters of a pool query, each optional (see _pool_conditions for defaults)."""

    scope: PeopleScope
    team_id: int | None
    include_archived: bool
    search: str | None
    search_email: bool
    tiers: Sequence[str]
    statuses: Sequence[str]
    skill: str | None
    domain: str | None
    language: str | None
    qualified_task_type: str | None
    project_id: int | None


def list_pool_annotators(
    session: Session, *, today: dt.date, **filters: Unpack[PoolFilters]
) -> list[Annotator]:
    """Annotators inside ``scope`` matching every given filter, by name; merged
    placeholders never."""
    query = select(Annotator).where(*_pool_conditions(today=today, **filters))
    return list(session.scalars(query.order_by(Annotator.display_name, Annotator.id)))


def list_pool_annotator_ids(
    session: Session, *, today: dt.date, **filters: Unpack[PoolFilters]
) -> list[int]:
    """Ids of the people list_pool_annotators returns, in its order."""
    query = select(Annotator.id).where(*_pool_conditions(today=today, **filters))
    return [int(i) for i in session.scalars(query.order_by(Annotator.display_name, Annotator.id))]


def _pool_conditions(
    *,
    today: dt.date,
    scope: PeopleScope = EVERYONE,
    team_id: int | None = None,
    include_archived: bool = False,
    search: str | None = None,
    search_email: bool = False,
    tiers: Sequence[str] = (),
    statuses: Sequence[str] = (),
    skill: str | None = None,
    domain: str | None = None,
    language: str | None = None,
    qualified_task_type: str | None = None,
    project_id: int | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a pool query with these filters."""
    conditions: list[ColumnElement[bool]] = [
        Annotator.merged_into_id.is_(None),
        scope.where(Annotator.id),
    ]
    if not include_archived:
        conditions.append(Annotator.archived_at.is_(None))
    if team_id is not None:
        conditions.append(Annotator.team_id == team_id)
    if search:
        pattern = f"%{search.strip().lower()}%"
        matches: ColumnElement[bool] = func.lower(Annotator.display_name).like(pattern)
        if search_email:
            matches = or_(matches, func.lower(Annotator.email).like(pattern))
        conditions.append(matches)
    if tiers:
        conditions.append(Annotator.tier.in_(list(tiers)))
    if statuses:
        conditions.append(Annotator.status.in_(list(statuses)))
    for kind, name in (("skill", skill), ("domain", domain), ("language", language)):
        if name:
            conditions.append(
                Annotator.id.in_(
                    select(AnnotatorSkill.annotator_id).where(
                        AnnotatorSkill.kind == kind, AnnotatorSkill.name == name
                    )
                )
            )
    if qualified_task_type:
        conditions.append(
            Annotator.id.in_(
                select(QualificationResult.annotator_id).where(
                    QualificationResult.task_type == qualified_task_type,
                    QualificationResult.score >= QualificationResult.pass_mark,
                )
            )
        )
    if project_id is not None:
        conditions.append(
            Annotator.id.in_(
                select(Assignment.annotator_id).where(
                    Assignment.project_id == project_id, *running_on(today)
                )
            )
        )
    return conditions


def list_teams(session: Session) -> list[Team]:
    """Teams by name."""
    return list(session.scalars(select(Team).order_by(Team.name)))


def get_team(session: Session, *, team_id: int) -> Team | None:
    """The team with ``team_id``, or None."""
    return session.get(Team, team_id)


def list_teams_named(session: Session, *, name: str) -> list[Team]:
    """The teams whose name is ``name`` (trimmed) whatever the case, oldest first.

    Team names are unique and looked up by ``str.casefold``: SQLite's lower() folds ASCII
    letters only, so the comparison is made here, over the few teams there are. More than
    one only in data from before the database refused names that differ only in case."""
    folded = name.strip().casefold()
    return [
        team
        for team in session.scalars(select(Team).order_by(Team.id))
        if team.name.casefold() == folded
    ]


def get_team_by_name(session: Session, *, name: str) -> Team | None:
    """The team named ``name`` (trimmed) whatever the case, or None; of names that differ
    only in case, the one stored exactly as given."""
    matches = list_teams_named(session, name=name)
    exact = name.strip()
    return next((team for team in matches if team.name == exact), next(iter(matches), None))


def count_people_per_team(session: Session) -> dict[int, int]:
    """team id -> annotators in it who are not archived (teams without any left out)."""
    rows = session.execute(
        select(Annotator.team_id, func.count())
        .where(Annotator.team_id.is_not(None), Annotator.archived_at.is_(None))
        .group_by(Annotator.team_id)
    )
    return {team_id: count for team_id, count in rows if team_id is not None}


def get_annotator(session: Session, *, annotator_id: int) -> Annotator | None:
    """The annotator with ``annotator_id``, or None."""
    return session.get(Annotator, annotator_id)


def get_annotator_by_email(session: Session, *, email: str) -> Annotator | None:
    """The annotator with this email (case-insensitive), or None."""
    return session.scalars(
        select(Annotator).where(func.lower(Annotator.email) == email.strip().lower())
    ).first()


def load_skill_frame(session: Session, *, annotator_ids: Sequence[int]) -> pd.DataFrame:
    """One row per skill, domain or language of the given people."""
    rows = session.execute(
        select(
            AnnotatorSkill.annotator_id,
            AnnotatorSkill.kind,
            AnnotatorSkill.name,
            AnnotatorSkill.level,
        )
        .where(among(AnnotatorSkill.annotator_id, annotator_ids))
        .order_by(AnnotatorSkill.annotator_id, AnnotatorSkill.kind, AnnotatorSkill.name)
    ).all()
    return pd.DataFrame(rows, columns=["annotator_id", "kind", "name", "level"])


def list_skills(session: Session, *, annotator_id: int) -> list[AnnotatorSkill]:
    """One person's skills, domains and languages."""
    return list(
        session.scalars(
            select(AnnotatorSkill)
            .where(AnnotatorSkill.annotator_id == annotator_id)
            .order_by(AnnotatorSkill.kind, AnnotatorSkill.name)
        )
    )


def list_skill_names(session: Session, *, kind: str) -> list[str]:
    """Distinct names of one kind of skill across the pool."""
    return list(
        session.scalars(
            select(AnnotatorSkill.name)
            .where(AnnotatorSkill.kind == kind)
            .distinct()
            .order_by(AnnotatorSkill.name)
        )
    )


def list_identities(session: Session, *, annotator_ids: Sequence[int]) -> list[AnnotatorIdentity]:
    """Platform identities of the given people."""
    return list(
        session.scalars(
            select(AnnotatorIdentity)
            .where(among(AnnotatorIdentity.annotator_id, annotator_ids))
            .order_by(AnnotatorIdentity.platform, AnnotatorIdentity.external_id)
        )
    )


def get_identity(session: Session, *, platform: str, external_id: str) -> AnnotatorIdentity | None:
    """The identity of ``external_id`` on ``platform``, or None."""
    return session.scalars(
        select(AnnotatorIdentity).where(
            AnnotatorIdentity.platform == platform, AnnotatorIdentity.external_id == external_id
        )
    ).first()


def list_annotators_by_id(
    session: Session, *, annotator_ids: Sequence[int], scope: PeopleScope = EVERYONE
) -> list[Annotator]:
    """The annotators with the given ids, as far as ``scope`` reaches."""
    return list(
        session.scalars(
            select(Annotator).where(
                Annotator.id.in_(list(annotator_ids)), scope.where(Annotator.id)
            )
        )
    )


def load_tier_since(session: Session, *, annotator_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """Since when each person holds their current tier: the last change into it, or the
    moment they joined the pool when it never changed."""
    ids = list(annotator_ids)
    changed = dict(
        session.execute(
            select(TierChange.annotator_id, func.max(TierChange.effective_at))
            .join(Annotator, Annotator.id == TierChange.annotator_id)
            .where(among(TierChange.annotator_id, ids), TierChange.to_tier == Annotator.tier)
            .group_by(TierChange.annotator_id)
        ).all()
    )
    joined = dict(
        session.execute(
            select(Annotator.id, Annotator.created_at).where(among(Annotator.id, ids))
        ).all()
    )
    return {
        int(person): changed.get(person) or joined[person] for person in ids if person in joined
    }


def list_tier_changes(session: Session, *, annotator_id: int) -> list[TierChange]:
    """One person's tier history, newest first."""
    return list(
        session.scalars(
            select(TierChange)
            .where(TierChange.annotator_id == annotator_id)
            .order_by(TierChange.effective_at.desc(), TierChange.id.desc())
        )
    )
