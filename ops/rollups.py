"""Daily rollups (annotator x project x UTC day): full rebuild and incremental refresh.

Both are set-based INSERT ... SELECT statements. The incremental run recomputes
only the (annotator, project, day) keys touched by events that arrived since the
last run, so late events for past days are folded in and its cost follows new
work rather than history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    Select,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    AnnotationEvent,
    DailyRollup,
    JobState,
    PayRate,
    PayRateCorrection,
    UTCDateTime,
    utcnow,
)

WATERMARK_JOB = "rollup"
# Pay rates and rate corrections already reflected in the rollup costs (ids).
PAY_RATE_MARK = "last_pay_rate_id"
CORRECTION_MARK = "last_correction_id"

_keys_metadata = MetaData()
ROLLUP_KEYS = Table(
    "rollup_keys",
    _keys_metadata,
    Column("annotator_id", Integer, nullable=False),
    Column("project_id", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("day_start", UTCDateTime, nullable=False),
    Column("day_end", UTCDateTime, nullable=False),
    prefixes=["TEMPORARY"],
)

ROLLUP_COLUMNS = (
    "annotator_id",
    "project_id",
    "day",
    "annotations",
    "skipped",
    "active_seconds",
    "gold_answered",
    "gold_correct",
    "escalations",
    "reviewed",
    "accepted",
    "cost_minor",
    "review_cost_minor",
    "currency",
)


def utc_day(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column, in SQL."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    # SQLite stores naive UTC text; date() takes its first ten characters' meaning.
    return func.date(column)


def _rate_periods(name: str) -> Any:
    """Pay rates with the moment each stopped being in effect."""
    return select(
        PayRate.annotator_id,
        PayRate.basis,
        PayRate.amount_minor,
        PayRate.currency,
        PayRate.effective_from,
        func.lead(PayRate.effective_from)
        .over(partition_by=PayRate.annotator_id, order_by=PayRate.effective_from)
        .label("effective_to"),
    ).cte(name)


def _in_period(rate: Any, person: Any, moment: Any) -> ColumnElement[bool]:
    return and_(
        rate.c.annotator_id == person,
        moment >= rate.c.effective_from,
        or_(rate.c.effective_to.is_(None), moment < rate.c.effective_to),
    )


# Costs are summed as exact integers in minor units x milliseconds per hour, so the
# total does not depend on summation order (floats do, and round() then flips at .5).
COST_SCALE = 3_600_000


def _cost(rate: Any, seconds: Any, counts: ColumnElement[bool]) -> ColumnElement[int]:
    """Cost of one event at ``rate`` in minor units x COST_SCALE: hourly or per item."""
    milliseconds = cast(func.round(func.coalesce(seconds, 0.0) * 1000), BigInteger)
    return case(
        (rate.c.basis == "hourly", milliseconds * rate.c.amount_minor),
        (and_(rate.c.basis == "per_item", counts), rate.c.amount_minor * COST_SCALE),
        else_=0,
    )


def as_int(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows of the group meet ``condition``."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _rounded_sum(expression: ColumnElement[int]) -> ColumnElement[int]:
    """Sum of scaled costs back in minor units, rounded half up once per rollup row."""
    total = cast(func.coalesce(func.sum(expression), 0), BigInteger)
    # Integer division on both databases: (total + half) / scale, truncated.
    return cast((total + COST_SCALE // 2).self_group().op("/")(COST_SCALE), BigInteger)


def aggregate_select(dialect: str, *, keys: Table | None = None) -> Select[Any]:
    """SELECT of rollup rows from events, optionally limited to the keys in ``keys``."""
    event = AnnotationEvent.__table__
    work_rate = _rate_periods("work_rate")
    review_rate = _rate_periods("review_rate")
    day = utc_day(event.c.submitted_at, dialect)
    answered = and_(event.c.skipped == False, event.c.label.is_not(None))  # noqa: E712
    reviewed = event.c.review_outcome.is_not(None)
    source = event.outerjoin(
        work_rate, _in_period(work_rate, event.c.annotator_id, event.c.submitted_at)
    ).outerjoin(review_rate, _in_period(review_rate, event.c.reviewer_id, event.c.reviewed_at))
    if keys is not None:
        source = source.join(
            keys,
            and_(
                keys.c.annotator_id == event.c.annotator_id,
                keys.c.project_id == event.c.project_id,
                event.c.submitted_at >= keys.c.day_start,
                event.c.submitted_at < keys.c.day_end,
            ),
        )
    return (
        select(
            event.c.annotator_id,
            event.c.project_id,
            day.label("day"),
            as_int(answered).label("annotations"),
            as_int(event.c.skipped == True).label("skipped"),  # noqa: E712
            func.coalesce(func.sum(event.c.active_seconds), 0.0).label("active_seconds"),
            as_int(and_(event.c.is_gold == True, answered)).label("gold_answered"),  # noqa: E712
            as_int(
                and_(event.c.is_gold == True, answered, event.c.label == event.c.gold_label)  # noqa: E712
            ).label("gold_correct"),
            as_int(event.c.escalated == True).label("escalations"),  # noqa: E712
            as_int(reviewed).label("reviewed"),
            as_int(event.c.review_outcome == "accepted").label("accepted"),
            _rounded_sum(_cost(work_rate, event.c.active_seconds, answered)).label("cost_minor"),
            _rounded_sum(
                case((reviewed, _cost(review_rate, event.c.review_seconds, reviewed)), else_=0)
            ).label("review_cost_minor"),
            func.max(work_rate.c.currency).label("currency"),
        )
        .select_from(source)
        .group_by(event.c.annotator_id, event.c.project_id, day)
    )


def _max_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(AnnotationEvent.id))) or 0)


def _max_pay_marks(session: Session) -> tuple[int, int]:
    return (
        int(session.scalar(select(func.max(PayRate.id))) or 0),
        int(session.scalar(select(func.max(PayRateCorrection.id))) or 0),
    )


def _state(session: Session) -> dict[str, int]:
    state = session.get(JobState, WATERMARK_JOB)
    return {key: int(value) for key, value in state.state.items()} if state else {}


def _set_state(session: Session, values: dict[str, int]) -> None:
    state = session.get(JobState, WATERMARK_JOB)
    if state is None:
        session.add(JobState(job=WATERMARK_JOB, state=values))
    else:
        state.state = {**state.state, **values}
        state.updated_at = utcnow()


def _set_watermark(session: Session, event_id: int) -> None:
    _set_state(session, {"last_event_id": event_id})


def watermark(session: Session) -> int:
    """Id of the last event folded into the rollups."""
    state = session.get(JobState, WATERMARK_JOB)
    return int(state.state.get("last_event_id", 0)) if state else 0


def rebuild(session: Session) -> int:
    """Recompute every rollup row from all events; returns rows written."""
    dialect = session.get_bind().dialect.name
    high = _max_event_id(session)
    high_rate, high_fix = _max_pay_marks(session)
    session.execute(delete(DailyRollup))
    session.execute(
        insert(DailyRollup).from_select(list(ROLLUP_COLUMNS), aggregate_select(dialect))
    )
    # Every row now has the rates as they are, so no rate change is pending either.
    _set_state(
        session, {"last_event_id": high, PAY_RATE_MARK: high_rate, CORRECTION_MARK: high_fix}
    )
    # INSERT ... SELECT reports no row count on SQLite; count what is there.
    return int(session.scalar(select(func.count()).select_from(DailyRollup)) or 0)


def refresh(session: Session) -> int:
    """Fold events newer than the watermark into the rollups; returns rows rewritten."""
    dialect = session.get_bind().dialect.name
    low = watermark(session)
    high = _max_event_id(session)
    if high <= low:
        return 0
    event = AnnotationEvent.__table__
    day = utc_day(event.c.submitted_at, dialect)
    touched = session.execute(
        select(event.c.annotator_id, event.c.project_id, day)
        .where(event.c.id > low, event.c.id <= high)
        .distinct()
    ).all()
    rewritten = _rewrite(session, touched)
    _set_watermark(session, high)
    return rewritten


def reprice(session: Session) -> int:
    """Re-cost the rollup rows that pay rates added or corrected since the last run change.

    A rate entered late or corrected changes the cost of work already rolled up; each
    such rate's person has their work (and their reviews) from the rate's effective
    moment on recomputed. Returns rows rewritten.
    """
    dialect = session.get_bind().dialect.name
    state = _state(session)
    low_rate, low_fix = state.get(PAY_RATE_MARK, 0), state.get(CORRECTION_MARK, 0)
    high_rate, high_fix = _max_pay_marks(session)
    changes = session.execute(
        select(PayRate.annotator_id, PayRate.effective_from).where(
            PayRate.id > low_rate, PayRate.id <= high_rate
        )
    ).all()
    corrections = session.execute(
        select(PayRate.annotator_id, PayRate.effective_from, PayRateCorrection.before)
        .join(PayRate, PayRate.id == PayRateCorrection.pay_rate_id)
        .where(PayRateCorrection.id > low_fix, PayRateCorrection.id <= high_fix)
    ).all()
    since: dict[int, dt.datetime] = {}
    for annotator_id, effective_from in changes:
        since[annotator_id] = min(since.get(annotator_id, effective_from), effective_from)
    for annotator_id, effective_from, before in corrections:
        # A corrected start moves cost between this rate and the one before it.
        earliest = min(effective_from, _moment(before.get("effective_from")) or effective_from)
        since[annotator_id] = min(since.get(annotator_id, earliest), earliest)
    touched: set[tuple[Any, Any, Any]] = set()
    event = AnnotationEvent.__table__
    day = utc_day(event.c.submitted_at, dialect)
    for annotator_id, moment in since.items():
        touched.update(
            session.execute(
                select(event.c.annotator_id, event.c.project_id, day)
                .where(
                    or_(
                        and_(event.c.annotator_id == annotator_id, event.c.submitted_at >= moment),
                        and_(event.c.reviewer_id == annotator_id, event.c.reviewed_at >= moment),
                    )
                )
                .distinct()
            ).all()
        )
    rewritten = _rewrite(session, sorted(touched, key=str)) if touched else 0
    _set_state(session, {PAY_RATE_MARK: high_rate, CORRECTION_MARK: high_fix})
    return rewritten


def _rewrite(session: Session, touched: Sequence[Any]) -> int:
    """Recompute the rollup rows of the given (annotator, project, day) keys from events."""
    dialect = session.get_bind().dialect.name
    keys = []
    for annotator_id, project_id, value in touched:
        day_value = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        start = dt.datetime.combine(day_value, dt.time(), tzinfo=dt.UTC)
        keys.append(
            {
                "annotator_id": annotator_id,
                "project_id": project_id,
                "day": day_value,
                "day_start": start,
                "day_end": start + dt.timedelta(days=1),
            }
        )
    connection = session.connection()
    ROLLUP_KEYS.create(connection, checkfirst=True)
    try:
        session.execute(delete(ROLLUP_KEYS))
        session.execute(insert(ROLLUP_KEYS), keys)
        session.execute(
            delete(DailyRollup).where(
                tuple_(DailyRollup.annotator_id, DailyRollup.project_id, DailyRollup.day).in_(
                    select(ROLLUP_KEYS.c.annotator_id, ROLLUP_KEYS.c.project_id, ROLLUP_KEYS.c.day)
                )
            )
        )
        session.execute(
            insert(DailyRollup).from_select(
                list(ROLLUP_COLUMNS), aggregate_select(dialect, keys=ROLLUP_KEYS)
            )
        )
    finally:
        ROLLUP_KEYS.drop(connection, checkfirst=True)
    return len(keys)


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


__all__ = ["aggregate_select", "rebuild", "refresh", "reprice", "watermark"]
