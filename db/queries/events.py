"""Annotation events: the raw work. Reads that rollups cannot answer, re-review flags, and
moving work from one person to another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Select,
    Table,
    and_,
    case,
    cast,
    column,
    delete,
    func,
    literal,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import REGCLASS, aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    AnnotationEvent,
    Annotator,
    DailyRollup,
    GuidelineVersion,
    Project,
    RereviewRequest,
)
from db.queries.shared import among, batched, load_frame
from db.scope import EVERYONE, PeopleScope


def count_events(session: Session) -> int:
    """All annotation events."""
    return int(session.scalar(select(func.count(AnnotationEvent.id))) or 0)


_PG_CLASS = table("pg_class", column("oid"), column("reltuples"), column("relpages"))


def estimate_event_count(session: Session) -> int | None:
    """PostgreSQL's own estimate of the annotation events (the planner's row counts of
    every partition, as ANALYZE and autovacuum last left them), read without touching the
    events; None on SQLite or while a partition holding data was never analysed."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    tree = func.pg_partition_tree(
        cast(literal(AnnotationEvent.__tablename__), REGCLASS)
    ).table_valued("relid", "isleaf")
    row = session.execute(
        select(
            func.sum(func.greatest(_PG_CLASS.c.reltuples, 0)),
            func.bool_and(or_(_PG_CLASS.c.reltuples >= 0, _PG_CLASS.c.relpages == 0)),
        )
        .select_from(tree.join(_PG_CLASS, _PG_CLASS.c.oid == tree.c.relid))
        .where(tree.c.isleaf)
    ).one()
    total, analysed = row
    if total is None or not analysed:
        return None
    return round(float(total))


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
    return load_frame(
        session,
        select(
            repeats.c.annotator_id,
            repeats.c.project_id,
            func.count().label("n_repeated_items"),
            func.sum(case((repeats.c.labels == 1, 1), else_=0)).label("n_consistent_items"),
        ).group_by(repeats.c.annotator_id, repeats.c.project_id),
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


def list_wrong_gold_events(
    session: Session, *, annotator_id: int, since: dt.datetime, limit: int
) -> list[tuple[AnnotationEvent, str]]:
    """Golden items the person labeled differently from gold since ``since``, newest first."""
    return _with_project_slug(
        session,
        AnnotationEvent.annotator_id == annotator_id,
        AnnotationEvent.submitted_at >= since,
        AnnotationEvent.is_gold.is_(True),
        AnnotationEvent.skipped.is_(False),
        AnnotationEvent.label.is_not(None),
        or_(
            AnnotationEvent.gold_label.is_(None),
            AnnotationEvent.label != AnnotationEvent.gold_label,
        ),
        limit=limit,
    )


def list_events_by_id(
    session: Session, *, annotator_id: int, event_ids: Sequence[int]
) -> list[tuple[AnnotationEvent, str]]:
    """The person's own events among ``event_ids``, with project slug, newest first."""
    return _with_project_slug(
        session,
        AnnotationEvent.annotator_id == annotator_id,
        AnnotationEvent.id.in_(list(event_ids)),
    )


def _with_project_slug(
    session: Session, *conditions: ColumnElement[bool], limit: int | None = None
) -> list[tuple[AnnotationEvent, str]]:
    """Events meeting every condition, newest first, each with its project's slug."""
    query = (
        select(AnnotationEvent, Project.slug)
        .join(Project, Project.id == AnnotationEvent.project_id)
        .where(*conditions)
        .order_by(AnnotationEvent.submitted_at.desc(), AnnotationEvent.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query).all()]


def count_events_by_guideline_version(
    session: Session, *, project_id: int, scope: PeopleScope = EVERYONE
) -> dict[int | None, tuple[int, int]]:
    """Guideline version id (None: none recorded) -> (annotations, flagged for re-review)
    of the people in ``scope``."""
    rows = session.execute(
        select(
            AnnotationEvent.guideline_version_id,
            func.count(AnnotationEvent.id),
            func.count(AnnotationEvent.rereview_request_id),
        )
        .where(
            AnnotationEvent.project_id == project_id,
            AnnotationEvent.skipped.is_(False),
            scope.where(AnnotationEvent.annotator_id),
        )
        .group_by(AnnotationEvent.guideline_version_id)
    ).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def count_version_work(
    session: Session,
    *,
    project_id: int,
    superseded_at: Mapping[int, dt.datetime],
    scope: PeopleScope = EVERYONE,
) -> dict[int | None, tuple[int, int, int]]:
    """Guideline version id (None: none recorded) -> (annotations, flagged for re-review,
    annotations made at or after ``superseded_at[version id]``), in one pass over the
    project's answered events by the people in ``scope``."""
    after = (
        case(
            *(
                (
                    and_(
                        AnnotationEvent.guideline_version_id == version_id,
                        AnnotationEvent.submitted_at >= moment,
                    ),
                    1,
                )
                for version_id, moment in superseded_at.items()
            ),
            else_=0,
        )
        if superseded_at
        else literal(0)
    )
    rows = session.execute(
        select(
            AnnotationEvent.guideline_version_id,
            func.count(AnnotationEvent.id),
            func.count(AnnotationEvent.rereview_request_id),
            func.coalesce(func.sum(after), 0),
        )
        .where(
            AnnotationEvent.project_id == project_id,
            AnnotationEvent.skipped.is_(False),
            scope.where(AnnotationEvent.annotator_id),
        )
        .group_by(AnnotationEvent.guideline_version_id)
    ).all()
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}


def count_events_after(
    session: Session,
    *,
    project_id: int,
    guideline_version_id: int,
    after: dt.datetime,
    scope: PeopleScope = EVERYONE,
) -> int:
    """Annotations by the people in ``scope`` made under a version at or after ``after``
    (when a newer one applied)."""
    return int(
        session.scalar(
            select(func.count(AnnotationEvent.id)).where(
                AnnotationEvent.project_id == project_id,
                AnnotationEvent.guideline_version_id == guideline_version_id,
                AnnotationEvent.skipped.is_(False),
                AnnotationEvent.submitted_at >= after,
                scope.where(AnnotationEvent.annotator_id),
            )
        )
        or 0
    )


def list_events_under_version(
    session: Session,
    *,
    project_id: int,
    guideline_version_id: int,
    limit: int,
    scope: PeopleScope = EVERYONE,
) -> list[tuple[AnnotationEvent, str]]:
    """Newest annotations of people inside ``scope`` made under one guideline version,
    with the annotator's name."""
    people = scope.where(AnnotationEvent.annotator_id)
    if not scope.everyone and not scope.nobody:
        # The scope's people as their ids: PostgreSQL then reads the project's newest
        # events first and stops at ``limit``. As a subquery it read every event of each
        # of them, in every month, to keep those of this project (a team of 150 people
        # who mostly work elsewhere: 1.3-1.6 s at 10M events instead of 0.1 s).
        ids = session.scalars(select(Annotator.id).where(scope.where(Annotator.id))).all()
        people = among(AnnotationEvent.annotator_id, ids)
    return [
        (row[0], row[1])
        for row in session.execute(
            select(AnnotationEvent, Annotator.display_name)
            .join(Annotator, Annotator.id == AnnotationEvent.annotator_id)
            .where(
                and_(
                    AnnotationEvent.project_id == project_id,
                    AnnotationEvent.guideline_version_id == guideline_version_id,
                    AnnotationEvent.skipped.is_(False),
                    people,
                )
            )
            .order_by(AnnotationEvent.submitted_at.desc(), AnnotationEvent.id.desc())
            .limit(limit)
        ).all()
    ]


def reassign_events(session: Session, *, from_annotator_id: int, to_annotator_id: int) -> int:
    """Move the work done or reviewed by one annotator to another; returns events moved.

    The events are re-inserted with new ids rather than updated in place, so the
    incremental rollup (which follows event ids) folds them in under their new
    annotator; the old annotator's rollup rows are removed.
    """
    events: Table = AnnotationEvent.__table__  # type: ignore[assignment]
    rollups: Table = DailyRollup.__table__  # type: ignore[assignment]
    columns = [column.name for column in events.columns if column.name != "id"]
    moved = select(
        events.c.id,
        *(
            case(
                (events.c[name] == from_annotator_id, to_annotator_id), else_=events.c[name]
            ).label(name)
            if name in ("annotator_id", "reviewer_id")
            else events.c[name]
            for name in columns
        ),
    ).where(
        or_(
            events.c.annotator_id == from_annotator_id,
            events.c.reviewer_id == from_annotator_id,
        )
    )
    dialect = session.get_bind().dialect
    # Only integer ids are rendered inline; the natural key is unique, so the old rows
    # must leave before their copies arrive.
    body = moved.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    session.execute(text("DROP TABLE IF EXISTS moved_events"))
    session.execute(text(f"CREATE TEMPORARY TABLE moved_events AS {body}"))
    count = int(session.scalar(text("SELECT count(*) FROM moved_events")) or 0)
    names = ", ".join(f'"{name}"' for name in columns)
    session.execute(text("DELETE FROM annotation_events WHERE id IN (SELECT id FROM moved_events)"))
    session.execute(
        text(
            f"INSERT INTO annotation_events ({names}) SELECT {names} FROM moved_events ORDER BY id"
        )
    )
    session.execute(text("DROP TABLE moved_events"))
    session.execute(delete(rollups).where(rollups.c.annotator_id == from_annotator_id))
    return count


def load_review_candidates(
    session: Session,
    *,
    project_id: int,
    start: dt.datetime,
    end: dt.datetime,
    scope: PeopleScope = EVERYONE,
) -> dict[int, np.ndarray]:
    """Annotator id -> the ids, ascending, of their unreviewed, answered, non-golden
    events of a project submitted in [start, end); people inside ``scope`` only.

    On PostgreSQL each person's ids come as one array: a window of a busy project holds
    hundreds of thousands of events, and a row each costs several times the query."""
    event = AnnotationEvent
    conditions = (
        event.project_id == project_id,
        event.submitted_at >= start,
        event.submitted_at < end,
        event.skipped.is_(False),
        event.is_gold.is_(False),
        event.review_outcome.is_(None),
        scope.where(event.annotator_id),
    )
    if session.get_bind().dialect.name == "postgresql":
        ids = func.array_agg(aggregate_order_by(event.id, event.id))
        rows = session.execute(
            select(event.annotator_id, ids).where(*conditions).group_by(event.annotator_id)
        ).all()
        return {int(person): np.asarray(found, dtype=np.int64) for person, found in rows}
    grouped: dict[int, list[int]] = {}
    for person, event_id in session.execute(
        select(event.annotator_id, event.id).where(*conditions).order_by(event.id)
    ):
        grouped.setdefault(int(person), []).append(int(event_id))
    return {person: np.asarray(found, dtype=np.int64) for person, found in grouped.items()}


EXPORT_COLUMNS = [
    "external_id",
    "item_id",
    "annotator",
    "label",
    "submitted_at",
    "guideline_version",
]


def load_event_export_frame(
    session: Session, *, event_ids: Sequence[int], by_email: bool = True
) -> pd.DataFrame:
    """The item list a labeling platform needs, one row per event (EXPORT_COLUMNS), by id;
    the annotator is named by email (when ``by_email``), or by name."""
    person = (
        func.coalesce(Annotator.email, Annotator.display_name)
        if by_email
        else Annotator.display_name
    )
    rows: list[Any] = []
    for chunk in batched(event_ids):
        rows += session.execute(
            select(
                AnnotationEvent.external_id,
                AnnotationEvent.item_id,
                person,
                AnnotationEvent.label,
                AnnotationEvent.submitted_at,
                GuidelineVersion.version,
            )
            .join(Annotator, Annotator.id == AnnotationEvent.annotator_id)
            .outerjoin(
                GuidelineVersion, GuidelineVersion.id == AnnotationEvent.guideline_version_id
            )
            .where(AnnotationEvent.id.in_(list(chunk)))
            .order_by(AnnotationEvent.id)
        ).all()
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


@dataclass(frozen=True)
class EventSelection:
    """Answered events of a project; each field given narrows it further."""

    project_id: int
    annotator_ids: Sequence[int] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    guideline_version_id: int | None = None
    scope: PeopleScope = EVERYONE

    def ids(self) -> Select[int]:
        """SELECT of the ids of the selected events of people inside the scope."""
        query = select(AnnotationEvent.id).where(
            AnnotationEvent.project_id == self.project_id,
            AnnotationEvent.skipped.is_(False),
            self.scope.where(AnnotationEvent.annotator_id),
        )
        if self.annotator_ids is not None:
            query = query.where(AnnotationEvent.annotator_id.in_(list(self.annotator_ids)))
        if self.start is not None:
            query = query.where(AnnotationEvent.submitted_at >= self.start)
        if self.end is not None:
            query = query.where(AnnotationEvent.submitted_at < self.end)
        if self.guideline_version_id is not None:
            query = query.where(AnnotationEvent.guideline_version_id == self.guideline_version_id)
        return query


def list_selected_event_ids(session: Session, *, selection: EventSelection) -> list[int]:
    """Ids of the selected events, ascending."""
    return list(session.scalars(selection.ids().order_by(AnnotationEvent.id)))


def load_selected_event_frame(session: Session, *, selection: EventSelection) -> pd.DataFrame:
    """One row per selected event: id, who did and reviewed it, when, for how long and
    with what outcome (what pricing needs), and rereview_request_id."""
    columns = [
        "id",
        "annotator_id",
        "project_id",
        "submitted_at",
        "active_seconds",
        "skipped",
        "label",
        "reviewer_id",
        "review_outcome",
        "review_seconds",
        "reviewed_at",
        "rereview_request_id",
    ]
    rows = session.execute(
        select(*(getattr(AnnotationEvent, name) for name in columns)).where(
            AnnotationEvent.id.in_(selection.ids().scalar_subquery())
        )
    ).all()
    return pd.DataFrame(rows, columns=columns)


def flag_for_rereview(session: Session, *, selection: EventSelection, request_id: int) -> None:
    """Mark the selected events as under the re-review request ``request_id``."""
    session.execute(
        update(AnnotationEvent)
        .where(AnnotationEvent.id.in_(selection.ids().scalar_subquery()))
        .values(rereview_request_id=request_id)
        .execution_options(synchronize_session=False)
    )


def count_rereview_outcome(session: Session, *, request: RereviewRequest) -> tuple[int, int]:
    """(came back, corrected) of the events a re-review request marked.

    An event has come back when its item got a newer answered event after the request;
    it was corrected when that newer label differs from its own.
    """
    marked = AnnotationEvent.__table__.alias("marked")
    later = AnnotationEvent.__table__.alias("later")
    # One pass over the project's answered events since the request: the newest per item.
    newest = (
        select(
            later.c.item_id,
            later.c.label,
            func.row_number()
            .over(partition_by=later.c.item_id, order_by=later.c.submitted_at.desc())
            .label("rank"),
        )
        .where(
            later.c.project_id == request.project_id,
            later.c.submitted_at > request.created_at,
            later.c.skipped.is_(False),
        )
        .subquery()
    )
    outcome = (
        select(marked.c.label.label("old"), newest.c.label.label("new"))
        .select_from(
            marked.outerjoin(newest, and_(newest.c.item_id == marked.c.item_id, newest.c.rank == 1))
        )
        .where(
            marked.c.rereview_request_id == request.id,
            marked.c.project_id == request.project_id,
        )
        .subquery()
    )
    returned, corrected = session.execute(
        select(
            func.count(outcome.c.new),
            func.count().filter(outcome.c.new.is_not(None), outcome.c.new != outcome.c.old),
        )
    ).one()
    return int(returned), int(corrected)


def list_rereview_requests(session: Session, *, project_id: int) -> list[RereviewRequest]:
    """A project's re-review requests, newest first."""
    return list(
        session.scalars(
            select(RereviewRequest)
            .where(RereviewRequest.project_id == project_id)
            .order_by(RereviewRequest.id.desc())
        )
    )
