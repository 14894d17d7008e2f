"""Reads for team scorecards: rollup sums per person and day, gold confusion counts, the
labels a project uses and open alerts per person, each limited to a people scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    ROLLUP_FLOAT_MEASURES,
    ROLLUP_MEASURES,
    Alert,
    Annotator,
    DailyRollup,
    GoldConfusionRollup,
    Project,
)
from db.queries.alerts import ACTIVE_STATUSES
from db.queries.shared import among, load_frame
from db.scope import PeopleScope

# The window sums of a scorecard row, from the daily rollups: every measure but skips.
SCORECARD_MEASURES = tuple(name for name in ROLLUP_MEASURES if name != "skipped")


def load_scorecard_frame(
    session: Session, *, scope: PeopleScope, since: dt.date, week_starts: Sequence[dt.date]
) -> pd.DataFrame:
    """One row per person of the scope who is not archived or merged, by name: id, name,
    tier, status, SCORECARD_MEASURES summed over days from ``since`` on (all projects),
    and golden answers and correct ones in each week of ``week_starts`` (Monday to
    Sunday), as gold_answered_<i> and gold_correct_<i>; 0 where there was no work."""
    weeks = [(monday, monday + dt.timedelta(days=6)) for monday in week_starts]

    def summed(column: Any, condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, column), else_=0))

    in_window = DailyRollup.day >= since
    week_columns = [
        f"{measure}_{index}"
        for index in range(len(weeks))
        for measure in ("gold_answered", "gold_correct")
    ]
    # Two reads joined here rather than one outer join: an outer join of the people to
    # the grouped sums can be planned as one aggregation per person when the planner
    # underestimates the people.
    sums = load_frame(
        session,
        select(
            DailyRollup.annotator_id,
            *(
                summed(getattr(DailyRollup, name), in_window).label(name)
                for name in SCORECARD_MEASURES
            ),
            *(
                summed(
                    getattr(DailyRollup, measure), DailyRollup.day.between(monday, sunday)
                ).label(f"{measure}_{index}")
                for index, (monday, sunday) in enumerate(weeks)
                for measure in ("gold_answered", "gold_correct")
            ),
        )
        .where(DailyRollup.day >= min([since, *week_starts]), scope.where(DailyRollup.annotator_id))
        .group_by(DailyRollup.annotator_id),
    )
    people = load_frame(
        session,
        select(
            Annotator.id.label("annotator_id"),
            Annotator.display_name.label("name"),
            Annotator.tier,
            Annotator.status,
        )
        .where(
            scope.where(Annotator.id),
            Annotator.archived_at.is_(None),
            Annotator.merged_into_id.is_(None),
        )
        .order_by(Annotator.display_name, Annotator.id),
    )
    measures = [*SCORECARD_MEASURES, *week_columns]
    by_person = sums.set_index("annotator_id").reindex(people["annotator_id"].tolist())
    frame = people.assign(**{name: by_person[name].fillna(0).to_numpy() for name in measures})
    return frame.astype(
        {name: float if name in ROLLUP_FLOAT_MEASURES else "int64" for name in measures}
    )


def get_scoped_annotator(
    session: Session, *, scope: PeopleScope, annotator_id: int
) -> Annotator | None:
    """The person with ``annotator_id`` if the scope covers them and they are not merged."""
    return session.scalars(
        select(Annotator).where(
            Annotator.id == annotator_id,
            scope.where(Annotator.id),
            Annotator.merged_into_id.is_(None),
        )
    ).first()


def load_person_daily_frame(
    session: Session, *, scope: PeopleScope, since: dt.date, annotator_id: int | None = None
) -> pd.DataFrame:
    """One row per annotator x day from ``since`` on (all projects): rollup sums."""
    query = (
        select(
            DailyRollup.annotator_id,
            DailyRollup.day,
            *(
                func.coalesce(func.sum(getattr(DailyRollup, name)), 0).label(name)
                for name in ROLLUP_MEASURES
            ),
        )
        .where(DailyRollup.day >= since, scope.where(DailyRollup.annotator_id))
        .group_by(DailyRollup.annotator_id, DailyRollup.day)
        .order_by(DailyRollup.annotator_id, DailyRollup.day)
    )
    if annotator_id is not None:
        query = query.where(DailyRollup.annotator_id == annotator_id)
    frame = pd.DataFrame(
        session.execute(query).all(), columns=["annotator_id", "day", *ROLLUP_MEASURES]
    )
    return frame.astype(
        {name: float if name in ROLLUP_FLOAT_MEASURES else "int64" for name in ROLLUP_MEASURES}
    )


def load_person_project_frame(
    session: Session, *, annotator_id: int, since: dt.date
) -> pd.DataFrame:
    """One row per project one person worked on since ``since``: slug, name, annotations,
    gold answers; most gold answers first."""
    query = (
        select(
            Project.slug,
            Project.name,
            func.sum(DailyRollup.annotations).label("annotations"),
            func.sum(DailyRollup.gold_answered).label("gold_answered"),
        )
        .join(Project, Project.id == DailyRollup.project_id)
        .where(DailyRollup.annotator_id == annotator_id, DailyRollup.day >= since)
        .group_by(Project.slug, Project.name)
        .order_by(func.sum(DailyRollup.gold_answered).desc(), Project.slug)
    )
    return pd.DataFrame(
        session.execute(query).all(), columns=["slug", "name", "annotations", "gold_answered"]
    )


def load_confusion_frame(
    session: Session,
    *,
    scope: PeopleScope,
    project_id: int,
    since: dt.date,
    annotator_id: int | None = None,
) -> pd.DataFrame:
    """Golden answers per (gold label, label given) in a project from ``since`` on, summed
    over the scope's people (or one of them): gold_label, label, answered."""
    query = (
        select(
            GoldConfusionRollup.gold_label,
            GoldConfusionRollup.label,
            func.sum(GoldConfusionRollup.answered).label("answered"),
        )
        .where(
            GoldConfusionRollup.project_id == project_id,
            GoldConfusionRollup.day >= since,
            scope.where(GoldConfusionRollup.annotator_id),
        )
        .group_by(GoldConfusionRollup.gold_label, GoldConfusionRollup.label)
        .order_by(GoldConfusionRollup.gold_label, GoldConfusionRollup.label)
    )
    if annotator_id is not None:
        query = query.where(GoldConfusionRollup.annotator_id == annotator_id)
    frame = pd.DataFrame(session.execute(query).all(), columns=["gold_label", "label", "answered"])
    return frame.astype({"answered": "int64"})


def list_project_labels(session: Session, *, project_id: int) -> list[str]:
    """Every label a project's golden items expect or its people gave them, sorted."""
    # One pass over the project's rows, grouped by the pair, rather than one per column.
    pairs = session.execute(
        select(GoldConfusionRollup.gold_label, GoldConfusionRollup.label)
        .where(GoldConfusionRollup.project_id == project_id)
        .group_by(GoldConfusionRollup.gold_label, GoldConfusionRollup.label)
    ).all()
    return sorted({str(name) for pair in pairs for name in pair})


def count_open_alerts_by_annotator(
    session: Session, *, scope: PeopleScope, annotator_ids: Sequence[int]
) -> dict[int, int]:
    """Open or acknowledged alerts about each of the people, by annotator id."""
    rows = session.execute(
        select(Alert.annotator_id, func.count())
        .where(
            among(Alert.annotator_id, annotator_ids),
            scope.where(Alert.annotator_id),
            or_(*(Alert.status == status for status in ACTIVE_STATUSES)),
        )
        .group_by(Alert.annotator_id)
    ).all()
    return {int(annotator_id or 0): int(count) for annotator_id, count in rows}


def list_scope_project_activity(
    session: Session, *, scope: PeopleScope, since: dt.date
) -> list[tuple[str, int]]:
    """(project slug, annotations) of the scope's people from ``since`` on, busiest first."""
    rows = session.execute(
        select(Project.slug, func.sum(DailyRollup.annotations))
        .join(Project, Project.id == DailyRollup.project_id)
        .where(DailyRollup.day >= since, scope.where(DailyRollup.annotator_id))
        .group_by(Project.slug)
        .order_by(func.sum(DailyRollup.annotations).desc(), Project.slug)
    ).all()
    return [(str(slug), int(total or 0)) for slug, total in rows]
