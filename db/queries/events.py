"""Annotation events: the raw work, read for analyses that rollups cannot answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Table, and_, case, delete, func, or_, select, text
from sqlalchemy.orm import Session

from db.models import (
    AnnotationEvent,
    Annotator,
    DailyRollup,
    Project,
)


def count_events(session: Session) -> int:
    """All annotation events."""
    return int(session.scalar(select(func.count(AnnotationEvent.id))) or 0)


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
    return [
        (row[0], row[1])
        for row in session.execute(
            select(AnnotationEvent, Project.slug)
            .join(Project, Project.id == AnnotationEvent.project_id)
            .where(
                AnnotationEvent.annotator_id == annotator_id,
                AnnotationEvent.submitted_at >= since,
                AnnotationEvent.is_gold.is_(True),
                AnnotationEvent.skipped.is_(False),
                AnnotationEvent.label.is_not(None),
                or_(
                    AnnotationEvent.gold_label.is_(None),
                    AnnotationEvent.label != AnnotationEvent.gold_label,
                ),
            )
            .order_by(AnnotationEvent.submitted_at.desc(), AnnotationEvent.id.desc())
            .limit(limit)
        ).all()
    ]


def list_events_by_id(
    session: Session, *, annotator_id: int, event_ids: Sequence[int]
) -> list[tuple[AnnotationEvent, str]]:
    """The person's own events among ``event_ids``, with project slug."""
    return [
        (row[0], row[1])
        for row in session.execute(
            select(AnnotationEvent, Project.slug)
            .join(Project, Project.id == AnnotationEvent.project_id)
            .where(
                AnnotationEvent.annotator_id == annotator_id,
                AnnotationEvent.id.in_(list(event_ids)),
            )
            .order_by(AnnotationEvent.submitted_at.desc(), AnnotationEvent.id.desc())
        ).all()
    ]


def count_events_by_guideline_version(
    session: Session, *, project_id: int
) -> dict[int | None, tuple[int, int]]:
    """Guideline version id (None: none recorded) -> (annotations, flagged for re-review)."""
    rows = session.execute(
        select(
            AnnotationEvent.guideline_version_id,
            func.count(AnnotationEvent.id),
            func.count(AnnotationEvent.rereview_request_id),
        )
        .where(AnnotationEvent.project_id == project_id, AnnotationEvent.skipped.is_(False))
        .group_by(AnnotationEvent.guideline_version_id)
    ).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def count_events_after(
    session: Session, *, project_id: int, guideline_version_id: int, after: dt.datetime
) -> int:
    """Annotations made under a version at or after ``after`` (when a newer one applied)."""
    return int(
        session.scalar(
            select(func.count(AnnotationEvent.id)).where(
                AnnotationEvent.project_id == project_id,
                AnnotationEvent.guideline_version_id == guideline_version_id,
                AnnotationEvent.skipped.is_(False),
                AnnotationEvent.submitted_at >= after,
            )
        )
        or 0
    )


def list_events_under_version(
    session: Session, *, project_id: int, guideline_version_id: int, limit: int
) -> list[tuple[AnnotationEvent, str]]:
    """Newest annotations made under one guideline version, with the annotator's name."""
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
