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
    DateTime,
    Integer,
    MetaData,
    Select,
    Table,
    Time,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
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
from db.queries.imports import lock_imports

WATERMARK_JOB = "rollup"
# Pay rates and rate corrections already reflected in the rollup costs (ids).
PAY_RATE_MARK = "last_pay_rate_id"
CORRECTION_MARK = "last_correction_id"
# A refresh touching more than this share of the rollup rows (and more than a few
# hundred of them) rebuilds them all instead.
REBUILD_SHARE = 0.25
REBUILD_MIN_KEYS = 500

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


def rate_boundaries(session: Session) -> list[dt.time]:
    """Times of day (UTC), other than midnight, at which some pay rate starts; sorted."""
    starts = session.scalars(select(PayRate.effective_from).distinct()).all()
    return sorted({start.time() for start in starts} - {dt.time()})


def _time_of_day(column: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Time)
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff'; the time is the text after the date.
    return func.substr(column, 12)


def _bucket(column: Any, dialect: str, boundaries: Sequence[dt.time]) -> ColumnElement[Any]:
    """Which part of its day ``column`` falls in, the day cut at every rate boundary."""
    if not boundaries:
        return literal_column("0")
    time_of_day = _time_of_day(column, dialect)
    cuts = [
        boundary if dialect == "postgresql" else boundary.strftime("%H:%M:%S.%f")
        for boundary in boundaries
    ]
    return case(
        *[(time_of_day >= cut, len(cuts) - index) for index, cut in enumerate(reversed(cuts))],
        else_=0,
    )


def _bucket_start(
    day: Any, bucket: Any, dialect: str, boundaries: Sequence[dt.time]
) -> ColumnElement[Any]:
    """The moment a part of a day begins, comparable with rate start times."""
    offsets = [dt.timedelta()] + [
        dt.timedelta(hours=b.hour, minutes=b.minute, seconds=b.second, microseconds=b.microsecond)
        for b in boundaries
    ]
    if dialect == "postgresql":
        start = cast(day, DateTime())
        shifted = (
            start
            if not boundaries
            else start + case(*[(bucket == index, offset) for index, offset in enumerate(offsets)])
        )
        return func.timezone("UTC", shifted)

    def moment(offset: dt.timedelta) -> ColumnElement[Any]:
        whole = int(offset.total_seconds())
        text = func.strftime("%Y-%m-%d %H:%M:%S", day, f"+{whole} seconds")
        return text + f".{offset.microseconds:06d}"

    if not boundaries:
        return moment(offsets[0])
    return case(*[(bucket == index, moment(offset)) for index, offset in enumerate(offsets)])


def _milliseconds(seconds: Any) -> ColumnElement[int]:
    return cast(func.round(func.coalesce(seconds, 0.0) * 1000), BigInteger)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many events of the group meet ``condition`` (an aggregate FILTER, cheaper than
    summing a CASE)."""
    return func.count().filter(condition)


def _rounded_sum(expression: ColumnElement[int]) -> ColumnElement[int]:
    """Sum of scaled costs back in minor units, rounded half up once per rollup row."""
    total = cast(func.coalesce(func.sum(expression), 0), BigInteger)
    # Integer division on both databases: (total + half) / scale, truncated.
    return cast((total + COST_SCALE // 2).self_group().op("/")(COST_SCALE), BigInteger)


def aggregate_select(
    dialect: str, *, keys: Table | None = None, boundaries: Sequence[dt.time] = ()
) -> Select[Any]:
    """SELECT of rollup rows from events, optionally limited to the keys in ``keys``.

    ``boundaries`` must hold every time of day at which a pay rate starts (other than
    midnight): see rate_boundaries.
    """
    # Events are first summed per person, project, day and reviewer, and per part of
    # the day between rate boundaries; within one such part nobody's rate changes, so
    # each part is priced once at the rate in effect when it begins. The rate lookups
    # then join a few thousand sums instead of every event, and the costs are the same
    # exact integers a price per event would give (rate x the sum of milliseconds).
    event = AnnotationEvent.__table__
    day = utc_day(event.c.submitted_at, dialect)
    answered = and_(event.c.skipped == False, event.c.label.is_not(None))  # noqa: E712
    reviewed = event.c.review_outcome.is_not(None)
    work_bucket = _bucket(event.c.submitted_at, dialect, boundaries)
    # Grouped by reviewer and review day as recorded; only reviewed events add review
    # time and counts, so an unreviewed event that names a reviewer costs nothing.
    reviewer = event.c.reviewer_id
    review_day = utc_day(event.c.reviewed_at, dialect)
    review_bucket = _bucket(event.c.reviewed_at, dialect, boundaries)
    buckets = [work_bucket, review_bucket] if boundaries else []
    source: Any = event
    if keys is not None:
        source = event.join(
            keys,
            and_(
                keys.c.annotator_id == event.c.annotator_id,
                keys.c.project_id == event.c.project_id,
                # The day as an equality lets many keys hash-join; the range lets a few
                # keys use the (annotator, submitted_at) index.
                keys.c.day == day,
                event.c.submitted_at >= keys.c.day_start,
                event.c.submitted_at < keys.c.day_end,
            ),
        )
    parts = (
        select(
            event.c.annotator_id,
            event.c.project_id,
            day.label("day"),
            work_bucket.label("work_bucket"),
            reviewer.label("reviewer_id"),
            review_day.label("review_day"),
            review_bucket.label("review_bucket"),
            _count(answered).label("annotations"),
            _count(event.c.skipped == True).label("skipped"),  # noqa: E712
            func.coalesce(func.sum(event.c.active_seconds), 0.0).label("active_seconds"),
            _count(and_(event.c.is_gold == True, answered)).label("gold_answered"),  # noqa: E712
            _count(
                and_(event.c.is_gold == True, answered, event.c.label == event.c.gold_label)  # noqa: E712
            ).label("gold_correct"),
            _count(event.c.escalated == True).label("escalations"),  # noqa: E712
            _count(reviewed).label("reviewed"),
            _count(event.c.review_outcome == "accepted").label("accepted"),
            # Hourly pay covers all active time, skipped items included.
            func.coalesce(func.sum(_milliseconds(event.c.active_seconds)), 0).label("work_ms"),
            func.coalesce(
                func.sum(_milliseconds(event.c.review_seconds)).filter(reviewed), 0
            ).label("review_ms"),
        )
        .select_from(source)
        .group_by(event.c.annotator_id, event.c.project_id, day, reviewer, review_day, *buckets)
        .subquery("parts")
    )
    work_rate = _rate_periods("work_rate")
    review_rate = _rate_periods("review_rate")
    work_start = _bucket_start(parts.c.day, parts.c.work_bucket, dialect, boundaries)
    review_start = _bucket_start(parts.c.review_day, parts.c.review_bucket, dialect, boundaries)
    priced = parts.outerjoin(
        work_rate, _in_period(work_rate, parts.c.annotator_id, work_start)
    ).outerjoin(review_rate, _in_period(review_rate, parts.c.reviewer_id, review_start))
    work_cost = case(
        (work_rate.c.basis == "hourly", parts.c.work_ms * work_rate.c.amount_minor),
        (
            work_rate.c.basis == "per_item",
            parts.c.annotations * work_rate.c.amount_minor * COST_SCALE,
        ),
        else_=0,
    )
    review_cost = case(
        (review_rate.c.basis == "hourly", parts.c.review_ms * review_rate.c.amount_minor),
        (
            review_rate.c.basis == "per_item",
            parts.c.reviewed * review_rate.c.amount_minor * COST_SCALE,
        ),
        else_=0,
    )
    totals = [
        func.coalesce(func.sum(parts.c[name]), 0).label(name)
        for name in (
            "annotations",
            "skipped",
            "active_seconds",
            "gold_answered",
            "gold_correct",
            "escalations",
            "reviewed",
            "accepted",
        )
    ]
    return (
        select(
            parts.c.annotator_id,
            parts.c.project_id,
            parts.c.day,
            *totals,
            _rounded_sum(work_cost).label("cost_minor"),
            _rounded_sum(review_cost).label("review_cost_minor"),
            func.max(work_rate.c.currency).label("currency"),
        )
        .select_from(priced)
        .group_by(parts.c.annotator_id, parts.c.project_id, parts.c.day)
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


def prepare_aggregation(session: Session) -> None:
    """PostgreSQL settings for the rollup queries, for this transaction only."""
    if session.get_bind().dialect.name != "postgresql":
        return
    # The planner overestimates the groups of the first GROUP BY by two orders of
    # magnitude (several expressions, no joint statistics). That switches on JIT
    # optimisation, which then costs more than the aggregation itself, and makes a hash
    # aggregate look too big for work_mem, so it sorts a million rows instead. The real
    # hash table holds a few thousand groups.
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    # A refresh touches a few (annotator, day) ranges: read them through the index.
    session.execute(text("SET LOCAL random_page_cost = 1.1"))


def rebuild(session: Session) -> int:
    """Recompute every rollup row from all events; returns rows written."""
    dialect = session.get_bind().dialect.name
    prepare_aggregation(session)
    high = _max_event_id(session)
    high_rate, high_fix = _max_pay_marks(session)
    session.execute(delete(DailyRollup))
    session.execute(
        insert(DailyRollup).from_select(
            list(ROLLUP_COLUMNS),
            aggregate_select(dialect, boundaries=rate_boundaries(session)),
        )
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
    # Imports hold this lock until they commit. Waiting for it means no import is half
    # way, so no event id below the new watermark can still appear later.
    lock_imports(session)
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
    existing = int(session.scalar(select(func.count()).select_from(DailyRollup)) or 0)
    if len(touched) > max(REBUILD_MIN_KEYS, REBUILD_SHARE * existing):
        # Late work spread over most of history: recomputing everything is cheaper
        # than finding the events of each touched key.
        return rebuild(session)
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
    prepare_aggregation(session)
    connection = session.connection()
    ROLLUP_KEYS.create(connection, checkfirst=True)
    try:
        session.execute(delete(ROLLUP_KEYS))
        session.execute(insert(ROLLUP_KEYS), keys)
        if dialect == "postgresql":
            # Without statistics the planner guesses the key count and picks loops.
            session.execute(text("ANALYZE rollup_keys"))
        session.execute(
            delete(DailyRollup).where(
                tuple_(DailyRollup.annotator_id, DailyRollup.project_id, DailyRollup.day).in_(
                    select(ROLLUP_KEYS.c.annotator_id, ROLLUP_KEYS.c.project_id, ROLLUP_KEYS.c.day)
                )
            )
        )
        session.execute(
            insert(DailyRollup).from_select(
                list(ROLLUP_COLUMNS),
                aggregate_select(dialect, keys=ROLLUP_KEYS, boundaries=rate_boundaries(session)),
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
