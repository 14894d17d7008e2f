"""Reads of the daily rollups (annotator x project x UTC day): sums over days, as frames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from db.models import (
    ROLLUP_COSTS,
    ROLLUP_FLOAT_MEASURES,
    ROLLUP_MEASURES,
    Annotator,
    DailyRollup,
    ProjectDaySpend,
    Team,
)
from db.queries.shared import among, rows_frame
from db.scope import EVERYONE, PeopleScope


def spend_of(table: Any) -> Any:
    """Work and review cost together, in minor units, of a row with ROLLUP_COSTS."""
    return table.cost_minor + table.review_cost_minor


SPEND = spend_of(DailyRollup)


def _sums(names: Iterable[str]) -> list[Any]:
    """SUM of each named rollup column, 0 where no row matched."""
    return [func.coalesce(func.sum(getattr(DailyRollup, name)), 0).label(name) for name in names]


def _typed(frame: pd.DataFrame, names: Iterable[str]) -> pd.DataFrame:
    """Measure columns as int64, or float for seconds."""
    return frame.astype(
        {name: float if name in ROLLUP_FLOAT_MEASURES else "int64" for name in names}
    )


def sum_rollups(
    session: Session,
    *,
    since: dt.date,
    until: dt.date | None = None,
    project_id: int | None = None,
    annotator_ids: list[int] | None = None,
    scope: PeopleScope = EVERYONE,
) -> dict[str, float]:
    """Totals of the daily rollups in [since, until] of the people inside ``scope``."""
    query = select(
        *_sums(("annotations", "active_seconds", "gold_answered", "gold_correct")),
        func.coalesce(func.sum(SPEND), 0).label("spend_minor"),
        *_sums(("reviewed", "accepted")),
        func.count(func.distinct(DailyRollup.annotator_id)).label("annotators"),
    ).where(DailyRollup.day >= since)
    if until is not None:
        query = query.where(DailyRollup.day <= until)
    if project_id is not None:
        query = query.where(DailyRollup.project_id == project_id)
    if annotator_ids is not None:
        query = query.where(among(DailyRollup.annotator_id, annotator_ids))
    if not scope.everyone:
        query = query.where(scope.where(DailyRollup.annotator_id))
    row = session.execute(query).one()
    return {
        key: float(value) if key in ROLLUP_FLOAT_MEASURES else int(value)
        for key, value in row._mapping.items()
    }


def sum_rollups_by_project(
    session: Session, *, since: dt.date, until: dt.date | None = None
) -> dict[int, dict[str, float]]:
    """Project id -> totals of the daily rollups in [since, until], as sum_rollups gives
    for one project; projects without rollup rows are absent."""
    query = (
        select(
            DailyRollup.project_id,
            *_sums(("annotations", "active_seconds", "gold_answered", "gold_correct")),
            func.coalesce(func.sum(SPEND), 0).label("spend_minor"),
            *_sums(("reviewed", "accepted")),
            func.count(func.distinct(DailyRollup.annotator_id)).label("annotators"),
        )
        .where(DailyRollup.day >= since)
        .group_by(DailyRollup.project_id)
    )
    if until is not None:
        query = query.where(DailyRollup.day <= until)
    totals: dict[int, dict[str, float]] = {}
    for row in session.execute(query):
        values = dict(row._mapping)
        project_id = int(values.pop("project_id"))
        totals[project_id] = {
            key: float(value) if key in ROLLUP_FLOAT_MEASURES else int(value)
            for key, value in values.items()
        }
    return totals


@dataclass(frozen=True)
class WindowSpend:
    """A project's rollups in one pay currency over one window: spend (work and review),
    the work's own cost, and annotations, money in minor units."""

    spend_minor: int = 0
    cost_minor: int = 0
    annotations: int = 0


def sum_spend_by_project(
    session: Session, *, windows: Sequence[tuple[dt.date, dt.date | None]]
) -> dict[tuple[int, str | None], list[WindowSpend]]:
    """(project id, pay currency) -> its WindowSpend in each of ``windows`` ([since,
    until], until None for no end), in the order given. Currency None holds work no pay
    rate covered; a project and currency without rollup rows is absent.

    One pass over the project day spend rows (a row per project, day and currency, not
    per person) for every window.
    """
    spend = ProjectDaySpend
    total = spend_of(spend)
    columns: list[Any] = []
    for since, until in windows:
        inside = spend.day >= since
        if until is not None:
            inside = and_(inside, spend.day <= until)
        columns += [
            func.coalesce(func.sum(case((inside, value), else_=0)), 0)
            for value in (total, spend.cost_minor, spend.annotations)
        ]
    earliest = min(since for since, _until in windows)
    query = (
        select(spend.project_id, spend.currency, *columns)
        .where(spend.day >= earliest)
        .group_by(spend.project_id, spend.currency)
    )
    return {
        (int(row[0]), row[1]): [
            WindowSpend(*(int(value) for value in row[2 + 3 * index : 5 + 3 * index]))
            for index in range(len(windows))
        ]
        for row in session.execute(query)
    }


def load_rollup_window_frame(
    session: Session,
    *,
    since: dt.date,
    until: dt.date,
    project_ids: list[int] | None = None,
    scope: PeopleScope = EVERYONE,
) -> pd.DataFrame:
    """One row per annotator inside ``scope`` x project: rollup sums over days [since, until]."""
    query = (
        select(DailyRollup.annotator_id, DailyRollup.project_id, *_sums(ROLLUP_MEASURES))
        .where(
            DailyRollup.day >= since,
            DailyRollup.day <= until,
            scope.where(DailyRollup.annotator_id),
        )
        .group_by(DailyRollup.annotator_id, DailyRollup.project_id)
        .order_by(DailyRollup.project_id, DailyRollup.annotator_id)
    )
    if project_ids is not None:
        query = query.where(DailyRollup.project_id.in_(project_ids))
    rows = session.execute(query).all()
    frame = rows_frame(rows, ["annotator_id", "project_id", *ROLLUP_MEASURES])
    return _typed(frame, ROLLUP_MEASURES)


def load_rollup_totals_frame(
    session: Session,
    *,
    since: dt.date,
    until: dt.date | None = None,
    annotator_ids: Sequence[int],
    project_id: int | None = None,
) -> pd.DataFrame:
    """One row per annotator with work: rollup sums over days [since, until]."""
    query = (
        select(DailyRollup.annotator_id, *_sums(ROLLUP_MEASURES))
        .where(DailyRollup.day >= since, among(DailyRollup.annotator_id, annotator_ids))
        .group_by(DailyRollup.annotator_id)
    )
    if until is not None:
        query = query.where(DailyRollup.day <= until)
    if project_id is not None:
        query = query.where(DailyRollup.project_id == project_id)
    frame = rows_frame(session.execute(query).all(), ["annotator_id", *ROLLUP_MEASURES])
    return _typed(frame, ["annotator_id", *ROLLUP_MEASURES])


def load_annotator_totals_frame(
    session: Session,
    *,
    project_id: int,
    since: dt.date | None = None,
    annotator_ids: list[int] | None = None,
) -> pd.DataFrame:
    """One row per annotator x pay currency: rollup sums of a project from ``since`` on.

    Money in integer minor units; currency is None for work no pay rate covered.
    """
    totals = (*ROLLUP_MEASURES, *ROLLUP_COSTS)
    query = (
        select(DailyRollup.annotator_id, DailyRollup.currency, *_sums(totals))
        .where(DailyRollup.project_id == project_id)
        .group_by(DailyRollup.annotator_id, DailyRollup.currency)
        .order_by(DailyRollup.annotator_id, DailyRollup.currency)
    )
    if since is not None:
        query = query.where(DailyRollup.day >= since)
    if annotator_ids is not None:
        query = query.where(among(DailyRollup.annotator_id, annotator_ids))
    frame = rows_frame(session.execute(query).all(), ["annotator_id", "currency", *totals])
    return _typed(frame, ["annotator_id", *totals])


def load_rollup_daily_frame(
    session: Session,
    *,
    since: dt.date,
    project_id: int | None = None,
    annotator_id: int | None = None,
) -> pd.DataFrame:
    """One row per day: rollup sums for a project and/or an annotator since ``since``."""
    measures = ("annotations", "gold_answered", "gold_correct")
    query = (
        select(
            DailyRollup.day,
            *_sums(measures),
            func.coalesce(func.sum(SPEND), 0).label("spend_minor"),
        )
        .where(DailyRollup.day >= since)
        .group_by(DailyRollup.day)
        .order_by(DailyRollup.day)
    )
    if project_id is not None:
        query = query.where(DailyRollup.project_id == project_id)
    if annotator_id is not None:
        query = query.where(DailyRollup.annotator_id == annotator_id)
    frame = rows_frame(session.execute(query).all(), ["day", *measures, "spend_minor"])
    return _typed(frame, [*measures, "spend_minor"])


def load_weekly_rollup_frame(
    session: Session, *, annotator_id: int, since: dt.date
) -> pd.DataFrame:
    """One row per day with work by one annotator since ``since``: rollup sums."""
    measures = ("annotations", "active_seconds", "gold_answered", "gold_correct")
    rows = session.execute(
        select(DailyRollup.day, *_sums(measures))
        .where(DailyRollup.annotator_id == annotator_id, DailyRollup.day >= since)
        .group_by(DailyRollup.day)
        .order_by(DailyRollup.day)
    ).all()
    return _typed(rows_frame(rows, ["day", *measures]), measures)


def load_daily_spend_frame(
    session: Session,
    *,
    project_id: int | None = None,
    project_ids: Sequence[int] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> pd.DataFrame:
    """One row per project x day x pay currency: spend (minor units), annotations, accepted;
    of one project or those listed (all without either), days in [since, until] when
    given. Read from the project day spend rows: one per project and day, not one per
    person."""
    totals = (*ROLLUP_COSTS, "annotations", "accepted")
    spend = ProjectDaySpend
    query = (
        select(
            spend.project_id,
            spend.day,
            spend.currency,
            *(func.coalesce(func.sum(getattr(spend, name)), 0).label(name) for name in totals),
        )
        .group_by(spend.project_id, spend.day, spend.currency)
        .order_by(spend.project_id, spend.day)
    )
    if project_id is not None:
        query = query.where(spend.project_id == project_id)
    if project_ids is not None:
        query = query.where(among(spend.project_id, project_ids))
    if since is not None:
        query = query.where(spend.day >= since)
    if until is not None:
        query = query.where(spend.day <= until)
    frame = rows_frame(session.execute(query).all(), ["project_id", "day", "currency", *totals])
    return _typed(frame, totals)


def load_scoped_rollup_totals_frame(
    session: Session, *, scope: PeopleScope, since: dt.date, until: dt.date | None = None
) -> pd.DataFrame:
    """One row per annotator in ``scope`` with work in [since, until], all projects: sums."""
    measures = ("annotations", "active_seconds", "gold_answered", "gold_correct")
    query = (
        select(DailyRollup.annotator_id, *_sums(measures))
        .where(DailyRollup.day >= since, scope.where(DailyRollup.annotator_id))
        .group_by(DailyRollup.annotator_id)
    )
    if until is not None:
        query = query.where(DailyRollup.day <= until)
    frame = rows_frame(session.execute(query).all(), ["annotator_id", *measures])
    return _typed(frame, ["annotator_id", *measures])


def load_scoped_staffing_totals_frame(
    session: Session, *, scope: PeopleScope, since: dt.date, until: dt.date, week_since: dt.date
) -> pd.DataFrame:
    """One row per annotator in ``scope`` with work in [since, until], all projects: gold
    answered and correct over those days, and active seconds over [week_since, until]
    (``week_since`` no earlier than ``since``): one pass for both windows."""
    week = case((DailyRollup.day >= week_since, DailyRollup.active_seconds), else_=0.0)
    query = (
        select(
            DailyRollup.annotator_id,
            *_sums(("gold_answered", "gold_correct")),
            func.coalesce(func.sum(week), 0.0).label("week_active_seconds"),
        )
        .where(
            DailyRollup.day >= since,
            DailyRollup.day <= until,
            scope.where(DailyRollup.annotator_id),
        )
        .group_by(DailyRollup.annotator_id)
    )
    frame = rows_frame(
        session.execute(query).all(),
        ["annotator_id", "gold_answered", "gold_correct", "week_active_seconds"],
    )
    return frame.astype(
        {
            "annotator_id": "int64",
            "gold_answered": "int64",
            "gold_correct": "int64",
            "week_active_seconds": float,
        }
    )


def load_project_daily_frame(session: Session, *, project_id: int) -> pd.DataFrame:
    """One row per day with work on the project, all history: annotations, spend (minor units,
    all currencies together) and the number of people who worked that day."""
    rows = session.execute(
        select(
            DailyRollup.day,
            func.coalesce(func.sum(DailyRollup.annotations), 0).label("annotations"),
            func.coalesce(func.sum(SPEND), 0).label("spend_minor"),
            func.count(func.distinct(DailyRollup.annotator_id)).label("people"),
        )
        .where(DailyRollup.project_id == project_id)
        .group_by(DailyRollup.day)
        .order_by(DailyRollup.day)
    ).all()
    frame = rows_frame(rows, ["day", "annotations", "spend_minor", "people"])
    return frame.astype({"annotations": "int64", "spend_minor": "int64", "people": "int64"})


def count_project_contributors(
    session: Session, *, project_id: int, since: dt.date, until: dt.date
) -> int:
    """Distinct people with work on the project in [since, until]."""
    return int(
        session.scalar(
            select(func.count(func.distinct(DailyRollup.annotator_id))).where(
                DailyRollup.project_id == project_id,
                DailyRollup.day >= since,
                DailyRollup.day <= until,
            )
        )
        or 0
    )


# How spend can be broken down by who did the work (their tier, team and employment now).
SPEND_GROUPS = {
    "tier": Annotator.tier,
    "team": Team.name,
    "employment type": Annotator.employment_type,
}


def load_spend_by_groups_frame(
    session: Session,
    *,
    scope: PeopleScope,
    since: dt.date,
    until: dt.date,
    project_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One row per grouping (a key of SPEND_GROUPS) x group value x pay currency: spend
    (minor units) and annotations over [since, until], in order of grouping, then group
    value. People without a team are "no team". One pass over the rollups for all the
    groupings: the days are summed per person first, and each grouping sums those."""
    query = select(
        DailyRollup.annotator_id,
        DailyRollup.currency,
        func.sum(SPEND).label("spend_minor"),
        func.sum(DailyRollup.annotations).label("annotations"),
    ).where(
        DailyRollup.day >= since,
        DailyRollup.day <= until,
        scope.where(DailyRollup.annotator_id),
    )
    if project_ids is not None:
        query = query.where(among(DailyRollup.project_id, project_ids))
    per_person = query.group_by(DailyRollup.annotator_id, DailyRollup.currency).cte("per_person")
    parts = []
    for order, (grouping, column) in enumerate(SPEND_GROUPS.items()):
        label = func.coalesce(column, "no team") if grouping == "team" else column
        parts.append(
            select(
                literal(order).label("position"),
                literal(grouping).label("grouping"),
                label.label("group"),
                per_person.c.currency,
                func.coalesce(func.sum(per_person.c.spend_minor), 0).label("spend_minor"),
                func.coalesce(func.sum(per_person.c.annotations), 0).label("annotations"),
            )
            .select_from(per_person)
            .join(Annotator, Annotator.id == per_person.c.annotator_id)
            .outerjoin(Team, Team.id == Annotator.team_id)
            .group_by(label, per_person.c.currency)
        )
    union = union_all(*parts).subquery()
    rows = session.execute(
        select(
            union.c.grouping,
            union.c.group,
            union.c.currency,
            union.c.spend_minor,
            union.c.annotations,
        ).order_by(union.c.position, union.c.group, union.c.currency)
    ).all()
    frame = rows_frame(rows, ["grouping", "group", "currency", "spend_minor", "annotations"])
    return frame.astype({"spend_minor": "int64", "annotations": "int64"})
