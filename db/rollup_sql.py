"""The SQL that builds the daily rollups (annotator x project x UTC day) from events.

Both a full rebuild and a refresh of some keys are set-based INSERT ... SELECT
statements built here for the session's dialect (PostgreSQL or SQLite); which keys
to refresh, and when, is decided in ops.rollups.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    Table,
    Text,
    Time,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CompoundSelect, FromClause

from db.models import (
    PROJECT_SPEND_MEASURES,
    ROLLUP_COSTS,
    ROLLUP_MEASURES,
    AnnotationEvent,
    DailyRollup,
    GoldConfusionRollup,
    PayRate,
    PayRateCorrection,
    ProjectDaySpend,
    UTCDateTime,
)
from db.queries.imports import (
    GOLD,
    STAGED,
    index_staged_keys,
    replaces_stored,
    stores_events_of,
)
from db.swap import Replacement, replace_all_rows

_keys_metadata = MetaData()


def _row_key() -> list[Column[Any]]:
    """The (annotator, project, day) columns of a rollup row, for a temporary table."""
    return [
        Column("annotator_id", Integer, nullable=False),
        Column("project_id", Integer, nullable=False),
        Column("day", Date, nullable=False),
    ]


ROLLUP_KEYS = Table(
    "rollup_keys",
    _keys_metadata,
    *_row_key(),
    Column("day_start", UTCDateTime, nullable=False),
    Column("day_end", UTCDateTime, nullable=False),
    # No rollup row yet and not named: every event of the key is new (see fill_rollup_keys).
    Column("fresh", Boolean, nullable=False),
    PrimaryKeyConstraint("annotator_id", "project_id", "day"),
    prefixes=["TEMPORARY"],
)
# The event sums of parts_select for the keys of ROLLUP_KEYS, held for pricing: with
# their real row count known the planner hash-joins them to the rate periods.
ROLLUP_PARTS = Table(
    "rollup_parts",
    _keys_metadata,
    *_row_key(),
    Column("work_bucket", Integer, nullable=False),
    Column("reviewer_id", Integer),
    Column("review_day", Date, nullable=False),
    Column("review_bucket", Integer, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in ROLLUP_MEASURES),
    Column("work_ms", BigInteger, nullable=False),
    Column("review_ms", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
)

# The columns an INSERT ... SELECT of aggregate_select fills, in its order.
ROLLUP_COLUMNS = ("annotator_id", "project_id", "day", *ROLLUP_MEASURES, *ROLLUP_COSTS, "currency")


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


def _milliseconds(seconds: Any, dialect: str) -> ColumnElement[int]:
    """Seconds as whole milliseconds, half up: floor(x * 1000 + 0.5) in float64.

    round() does not do: PostgreSQL rounds a double's halves to even, SQLite away from
    zero. Seconds are never negative, so SQLite's truncating CAST is a floor.
    """
    shifted = func.coalesce(seconds, 0.0) * 1000 + 0.5
    if dialect == "postgresql":
        return cast(func.floor(shifted), BigInteger)
    return cast(shifted, BigInteger)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many events of the group meet ``condition`` (an aggregate FILTER, cheaper than
    summing a CASE)."""
    return func.count().filter(condition)


def _rounded_sum(expression: ColumnElement[int]) -> ColumnElement[int]:
    """Sum of scaled costs back in minor units, rounded half up once per rollup row."""
    total = cast(func.coalesce(func.sum(expression), 0), BigInteger)
    # Integer division on both databases: (total + half) / scale, truncated.
    return cast((total + COST_SCALE // 2).self_group().op("/")(COST_SCALE), BigInteger)


def _limited_to(event: FromClause, keys: Table | None, day: ColumnElement[Any]) -> Any:
    """``event``, joined to the (annotator, project, day) ``keys`` when there are any."""
    if keys is None:
        return event
    return event.join(
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


# The event columns the rollup SELECTs read.
_READ_COLUMNS = (
    "annotator_id",
    "project_id",
    "submitted_at",
    "label",
    "skipped",
    "active_seconds",
    "is_gold",
    "gold_label",
    "escalated",
    "reviewer_id",
    "review_outcome",
    "review_seconds",
    "reviewed_at",
)


# A project's events between two moments: what a keyed rollup read may read whole.
Window = tuple[int, dt.datetime, dt.datetime]
# Looking up one key through the (annotator, submitted_at) index costs about as much as
# reading this many events of a project's window in one pass (0.05-0.5 ms against 1-2 µs
# at 10M events): it reads the person's work of that day in every project.
ROWS_PER_KEY_LOOKUP = 50


def _events(
    dialect: str,
    keys: Table | None,
    *,
    probed_only: bool = False,
    windows: Sequence[Window] = (),
) -> FromClause:
    """The events the rollup SELECTs read: all of them, or those of the ``keys`` (only
    of those not marked fresh with ``probed_only``). These are looked up key by key
    through the (annotator, submitted_at) index, which also reads the person's work of
    that day in every other project; with ``windows`` (see keyed_windows), the events
    of those windows are read once instead and matched to the keys by hashing."""
    event = AnnotationEvent.__table__
    if keys is None:
        return event
    columns = [event.c[name] for name in _READ_COLUMNS]
    if windows:
        within = or_(
            *(
                and_(
                    event.c.project_id == project_id,
                    event.c.submitted_at >= start,
                    event.c.submitted_at < end,
                )
                for project_id, start, end in windows
            )
        )
        # Materialised, the window has no index to look keys up in: the planner hashes.
        windowed = select(*columns).where(within).cte("windowed_events").prefix_with("MATERIALIZED")
        day = utc_day(windowed.c.submitted_at, dialect)
        matched = windowed.join(
            keys,
            and_(
                keys.c.annotator_id == windowed.c.annotator_id,
                keys.c.project_id == windowed.c.project_id,
                keys.c.day == day,
            ),
        )
        read = select(*windowed.c).select_from(matched)
    else:
        day = utc_day(event.c.submitted_at, dialect)
        read = select(*columns).select_from(_limited_to(event, keys, day))
    if probed_only:
        read = read.where(keys.c.fresh == False)  # noqa: E712
    return read.subquery("keyed_events")


def keyed_windows(session: Session, *, after_id: int | None) -> list[Window]:
    """On PostgreSQL, the windows (per project, its first to its last day) of the keys
    in ROLLUP_KEYS that are looked up (with ``after_id``, those not marked fresh; see
    _per_key), when reading those windows whole costs less than
    looking the keys up one by one; else none.

    An import that replaces work in a project it holds much of (a later export of the
    same Label Studio project) touches most of the project's people and days: read key
    by key, 9,000 keys took 4.9 s at 10M events, mostly on the people's work in other
    projects. The events a window holds are estimated from the daily rollups.
    """
    if session.get_bind().dialect.name != "postgresql":
        return []
    keys = ROLLUP_KEYS
    query = select(
        keys.c.project_id,
        func.min(keys.c.day).label("first_day"),
        func.max(keys.c.day).label("last_day"),
        func.min(keys.c.day_start).label("start"),
        func.max(keys.c.day_end).label("end"),
        func.count().label("n_keys"),
    ).group_by(keys.c.project_id)
    if after_id is not None:
        query = query.where(keys.c.fresh == False)  # noqa: E712
    spans = query.subquery("spans")
    found = session.execute(select(spans)).all()
    if not found:
        return []
    rollup: Table = DailyRollup.__table__  # type: ignore[assignment]
    in_windows = session.scalar(
        select(_rolled_up_events()).select_from(
            rollup.join(
                spans,
                and_(
                    rollup.c.project_id == spans.c.project_id,
                    rollup.c.day >= spans.c.first_day,
                    rollup.c.day <= spans.c.last_day,
                ),
            )
        )
    )
    looked_up = sum(int(row.n_keys) for row in found)
    if int(in_windows or 0) > ROWS_PER_KEY_LOOKUP * looked_up:
        return []
    return [(int(row.project_id), row.start, row.end) for row in found]


def _per_key(
    dialect: str,
    keys: Table | None,
    after_id: int | None,
    grouped: Callable[[FromClause], Select[Any]],
    windows: Sequence[Window] = (),
) -> Select[Any] | CompoundSelect[Any]:
    """``grouped`` (a SELECT grouped by annotator_id, project_id and day, and maybe
    more) over the events of the ``keys``.

    With ``after_id``, the keys marked fresh hold no event up to that id: their rows are
    grouped from the events after it (read in one pass, not key by key) and then kept
    where their key is a fresh one. Grouped first, the planner knows how many events it
    sums (it cannot estimate a join of events to keys on three columns, and from the one
    row it guesses it would sort a million events instead of hashing them). Only the
    other keys' events are read key by key, or by ``windows`` (see _events).
    """
    if keys is None or after_id is None:
        return grouped(_events(dialect, keys, windows=windows))
    probed = grouped(_events(dialect, keys, probed_only=True, windows=windows))
    event = AnnotationEvent.__table__
    new = select(*(event.c[name] for name in _READ_COLUMNS)).where(event.c.id > after_id)
    sums = grouped(new.subquery("new_events")).subquery("new_sums")
    fresh = select(*sums.c).where(
        exists().where(
            keys.c.fresh == True,  # noqa: E712
            keys.c.annotator_id == sums.c.annotator_id,
            keys.c.project_id == sums.c.project_id,
            keys.c.day == sums.c.day,
        )
    )
    return union_all(probed, fresh)


def parts_select(
    dialect: str,
    *,
    keys: Table | None = None,
    boundaries: Sequence[dt.time] = (),
    after_id: int | None = None,
    windows: Sequence[Window] = (),
) -> Select[Any] | CompoundSelect[Any]:
    """SELECT of event sums per person, project, day, reviewer, review day and part of the
    day between rate boundaries (the columns of ROLLUP_PARTS), optionally limited to the
    keys in ``keys`` (see _per_key for ``after_id`` and ``windows``): what
    aggregate_select prices."""
    return _per_key(
        dialect,
        keys,
        after_id,
        lambda event: _parts_of(dialect, event, boundaries),
        windows,
    )


def _parts_of(dialect: str, event: FromClause, boundaries: Sequence[dt.time]) -> Select[Any]:
    day = utc_day(event.c.submitted_at, dialect)
    answered = and_(event.c.skipped == False, event.c.label.is_not(None))  # noqa: E712
    reviewed = event.c.review_outcome.is_not(None)
    work_bucket = _bucket(event.c.submitted_at, dialect, boundaries)
    # Grouped by reviewer and review day as recorded (the submission's, if the review
    # time is unknown); only reviewed events add review time and counts, so an unreviewed
    # event that names a reviewer costs nothing.
    reviewer = event.c.reviewer_id
    review_moment = func.coalesce(event.c.reviewed_at, event.c.submitted_at)
    review_day = utc_day(review_moment, dialect)
    review_bucket = _bucket(review_moment, dialect, boundaries)
    active_ms = func.coalesce(func.sum(_milliseconds(event.c.active_seconds, dialect)), 0)
    buckets = [work_bucket, review_bucket] if boundaries else []
    # What each measure of ROLLUP_MEASURES counts or sums over the events of a row.
    measures: dict[str, ColumnElement[Any]] = {
        "annotations": _count(answered),
        "skipped": _count(event.c.skipped == True),  # noqa: E712
        # Summed in whole milliseconds (exact, so in any order the same), seconds at the end.
        "active_seconds": active_ms,
        "gold_answered": _count(and_(event.c.is_gold == True, answered)),  # noqa: E712
        "gold_correct": _count(
            and_(event.c.is_gold == True, answered, event.c.label == event.c.gold_label)  # noqa: E712
        ),
        "escalations": _count(event.c.escalated == True),  # noqa: E712
        "reviewed": _count(reviewed),
        "accepted": _count(event.c.review_outcome == "accepted"),
    }
    return (
        select(
            event.c.annotator_id,
            event.c.project_id,
            day.label("day"),
            work_bucket.label("work_bucket"),
            reviewer.label("reviewer_id"),
            review_day.label("review_day"),
            review_bucket.label("review_bucket"),
            *(measures[name].label(name) for name in ROLLUP_MEASURES),
            # Hourly pay covers all active time, skipped items included.
            active_ms.label("work_ms"),
            func.coalesce(
                func.sum(_milliseconds(event.c.review_seconds, dialect)).filter(reviewed), 0
            ).label("review_ms"),
        )
        .select_from(event)
        .group_by(event.c.annotator_id, event.c.project_id, day, reviewer, review_day, *buckets)
    )


def aggregate_select(
    dialect: str,
    *,
    keys: Table | None = None,
    boundaries: Sequence[dt.time] = (),
    parts: FromClause | None = None,
) -> Select[Any]:
    """SELECT of rollup rows from events, optionally limited to the keys in ``keys``, or
    from the event sums already in ``parts`` (a table shaped like ROLLUP_PARTS).

    Costs follow the one pricing rule written out in the README ("How cost is
    computed"); the pandas pricing (ops.metrics.cost) implements the same rule and a
    property test (tests/db/test_pricing_rule.py) holds the two to the same minor unit.

    ``boundaries`` must hold every time of day at which a pay rate starts (other than
    midnight): see rate_boundaries.
    """
    # Events are first summed per person, project, day and reviewer, and per part of
    # the day between rate boundaries; within one such part nobody's rate changes, so
    # each part is priced once at the rate in effect when it begins. The rate lookups
    # then join a few thousand sums instead of every event, and the costs are the same
    # exact integers a price per event would give (rate x the sum of milliseconds).
    if parts is None:
        parts = parts_select(dialect, keys=keys, boundaries=boundaries).subquery("parts")
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
    # Only reviews done say what currency a row's review cost is in.
    review_currency = case((parts.c.reviewed > 0, review_rate.c.currency))
    row_key = (parts.c.annotator_id, parts.c.project_id, parts.c.day)
    costed = (
        select(
            *row_key,
            *(parts.c[name] for name in ROLLUP_MEASURES),
            work_cost.label("work_cost"),
            review_cost.label("review_cost"),
            work_rate.c.currency.label("work_currency"),
            review_currency.label("review_currency"),
            # A row holds one currency: that of the annotator's rate for the day's work,
            # or for work without a rate that of its reviewers (see ops.metrics.cost).
            func.coalesce(
                func.max(work_rate.c.currency).over(partition_by=row_key),
                func.max(review_currency).over(partition_by=row_key),
            ).label("currency"),
        )
        .select_from(priced)
        .subquery("costed")
    )
    # Cost in another currency than the row's is left out, never added to it.
    work_in_currency = costed.c.work_currency == costed.c.currency
    review_in_currency = costed.c.review_currency == costed.c.currency
    totals = [
        func.coalesce(func.sum(costed.c[name]), 0).label(name)
        for name in ROLLUP_MEASURES
        if name != "active_seconds"
    ]
    active_seconds = (
        cast(func.coalesce(func.sum(costed.c.active_seconds), 0), Float) / 1000.0
    ).label("active_seconds")
    by_name = {column.name: column for column in [*totals, active_seconds]}
    return (
        select(
            costed.c.annotator_id,
            costed.c.project_id,
            costed.c.day,
            *(by_name[name] for name in ROLLUP_MEASURES),
            _rounded_sum(case((work_in_currency, costed.c.work_cost), else_=0)).label("cost_minor"),
            _rounded_sum(case((review_in_currency, costed.c.review_cost), else_=0)).label(
                "review_cost_minor"
            ),
            func.max(costed.c.currency).label("currency"),
        )
        .select_from(costed)
        .group_by(costed.c.annotator_id, costed.c.project_id, costed.c.day)
    )


CONFUSION_COLUMNS = ("annotator_id", "project_id", "day", "gold_label", "label", "answered")


def confusion_select(
    dialect: str,
    *,
    keys: Table | None = None,
    after_id: int | None = None,
    windows: Sequence[Window] = (),
) -> Select[Any] | CompoundSelect[Any]:
    """SELECT of gold confusion rows (CONFUSION_COLUMNS) from golden answered events,
    optionally limited to the (annotator, project, day) keys in ``keys`` (see _per_key
    for ``after_id`` and ``windows``)."""
    return _per_key(dialect, keys, after_id, lambda event: _confusion_of(dialect, event), windows)


def _confusion_of(dialect: str, event: FromClause) -> Select[Any]:
    day = utc_day(event.c.submitted_at, dialect)
    return (
        select(
            event.c.annotator_id,
            event.c.project_id,
            day.label("day"),
            event.c.gold_label,
            event.c.label,
            func.count().label("answered"),
        )
        .select_from(event)
        .where(
            event.c.is_gold == True,  # noqa: E712
            event.c.skipped == False,  # noqa: E712
            event.c.label.is_not(None),
            event.c.gold_label.is_not(None),
        )
        .group_by(event.c.annotator_id, event.c.project_id, day, event.c.gold_label, event.c.label)
    )


def get_last_event_id(session: Session) -> int:
    """The highest annotation event id; 0 without events."""
    return int(session.scalar(select(func.max(AnnotationEvent.id))) or 0)


def count_events_after(session: Session, *, after_id: int) -> int:
    """Annotation events with an id above ``after_id``."""
    return int(
        session.scalar(
            select(func.count()).select_from(AnnotationEvent).where(AnnotationEvent.id > after_id)
        )
        or 0
    )


def list_keys_an_import_may_change(
    session: Session, *, import_batch_id: int, project_id: int
) -> list[RollupKey]:
    """Keys of the stored events of ``project_id`` (the import's one project) that the
    import replaces or removes: those its staged rows hold a newer version of (as
    ``mark_replacements`` finds them, so call this once the staged gold is final) and
    the gold references it names. Stored events a staged row repeats unchanged keep
    their rows, so a re-import of the same export names none."""
    if not stores_events_of(session, project_ids={project_id}):
        return []  # a new project's first import
    index_staged_keys(session)
    event = AnnotationEvent.__table__
    named = union_all(
        select(
            STAGED.c.project_id,
            STAGED.c.external_id,
            STAGED.c.source_updated_at,
            STAGED.c.is_gold,
            STAGED.c.gold_label,
            literal(False).label("removed"),
        ),
        select(
            GOLD.c.project_id,
            GOLD.c.external_id,
            null().cast(UTCDateTime),
            null().cast(Boolean),
            null().cast(Text),
            literal(True),
        ).where(GOLD.c.import_batch_id == import_batch_id),
    ).subquery("named")
    day = utc_day(event.c.submitted_at, session.get_bind().dialect.name)
    query = (
        select(event.c.annotator_id, event.c.project_id, day)
        .join(
            named,
            and_(
                event.c.project_id == named.c.project_id,
                event.c.external_id == named.c.external_id,
            ),
        )
        # Named as a value, the project's (project_id, external_id) index is read: a new
        # project's import finds nothing at once instead of joining every stored event.
        .where(
            event.c.project_id == project_id,
            named.c.removed
            | replaces_stored(named.c.source_updated_at, named.c.is_gold, named.c.gold_label),
        )
        .distinct()
    )
    return [tuple(row) for row in session.execute(query)]


def get_last_pay_rate_ids(session: Session) -> tuple[int, int]:
    """The highest pay rate id and pay rate correction id; 0 where there are none."""
    return (
        int(session.scalar(select(func.max(PayRate.id))) or 0),
        int(session.scalar(select(func.max(PayRateCorrection.id))) or 0),
    )


def count_rollups(session: Session) -> int:
    """Rows in the daily rollups."""
    return int(session.scalar(select(func.count()).select_from(DailyRollup)) or 0)


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


def rebuild_rollups(session: Session) -> int:
    """Replace every rollup row by one computed from all events; returns rows written."""
    dialect = session.get_bind().dialect.name
    prepare_aggregation(session)
    daily = Replacement(
        table=DailyRollup.__table__,  # type: ignore[arg-type]
        columns=ROLLUP_COLUMNS,
        rows=aggregate_select(dialect, boundaries=rate_boundaries(session)),
    )
    confusion = Replacement(
        table=GoldConfusionRollup.__table__,  # type: ignore[arg-type]
        columns=CONFUSION_COLUMNS,
        rows=confusion_select(dialect),
    )
    if dialect == "postgresql":
        # Built beside the old tables and swapped in, with fresh statistics: see db/swap.py.
        replace_all_rows(session, [daily, confusion])
    else:
        for replacement in (daily, confusion):
            session.execute(delete(replacement.table))
            session.execute(
                insert(replacement.table).from_select(list(replacement.columns), replacement.rows)
            )
    refresh_project_day_spend(session)
    if dialect == "postgresql":
        # Every row is new: without fresh statistics the pages' reads are planned on
        # guesses until autovacuum comes by, and a server may run without it.
        session.execute(text(f"ANALYZE {ProjectDaySpend.__tablename__}"))
    # INSERT ... SELECT reports no row count on SQLite; count what is there.
    return count_rollups(session)


RollupKey = tuple[Any, Any, Any]


def list_pay_rate_starts(
    session: Session, *, after_id: int, up_to_id: int
) -> list[tuple[int, dt.datetime]]:
    """(annotator, effective from) of the pay rates with ids in (after_id, up_to_id]."""
    return [
        (int(annotator_id), effective_from)
        for annotator_id, effective_from in session.execute(
            select(PayRate.annotator_id, PayRate.effective_from).where(
                PayRate.id > after_id, PayRate.id <= up_to_id
            )
        )
    ]


def list_pay_rate_corrections_between(
    session: Session, *, after_id: int, up_to_id: int
) -> list[tuple[int, dt.datetime, dict[str, Any]]]:
    """(annotator, effective from, the rate before) of corrections with ids in the range."""
    return [
        (int(annotator_id), effective_from, before)
        for annotator_id, effective_from, before in session.execute(
            select(PayRate.annotator_id, PayRate.effective_from, PayRateCorrection.before)
            .join(PayRate, PayRate.id == PayRateCorrection.pay_rate_id)
            .where(PayRateCorrection.id > after_id, PayRateCorrection.id <= up_to_id)
        )
    ]


def list_work_keys_since(
    session: Session, *, annotator_id: int, since: dt.datetime
) -> list[RollupKey]:
    """Keys of the rollup rows holding a person's work, or their reviews, from ``since`` on."""
    event = AnnotationEvent.__table__
    return _keys_of_events(
        session,
        or_(
            and_(event.c.annotator_id == annotator_id, event.c.submitted_at >= since),
            and_(
                event.c.reviewer_id == annotator_id,
                func.coalesce(event.c.reviewed_at, event.c.submitted_at) >= since,
            ),
        ),
    )


def _keys_of_events(session: Session, condition: ColumnElement[bool]) -> list[RollupKey]:
    """Distinct (annotator, project, UTC day) of the events meeting ``condition``."""
    event = AnnotationEvent.__table__
    day = utc_day(event.c.submitted_at, session.get_bind().dialect.name)
    query = select(event.c.annotator_id, event.c.project_id, day).where(condition).distinct()
    return [tuple(row) for row in session.execute(query)]


def _day_bounds(day: Any, dialect: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The UTC moments a day (a DATE in SQL) begins and ends, as submitted_at stores them."""
    if dialect == "postgresql":
        midnight = cast(day, DateTime())
        return (
            func.timezone("UTC", midnight),
            func.timezone("UTC", midnight + dt.timedelta(days=1)),
        )
    # SQLite keeps naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return (
        func.date(day).op("||")(" 00:00:00.000000"),
        func.date(day, "+1 day").op("||")(" 00:00:00.000000"),
    )


@contextmanager
def rollup_keys_table(session: Session) -> Iterator[None]:
    """An empty temporary ROLLUP_KEYS for the statements inside, dropped after them.

    On an error the caller's transaction (or savepoint) rolls back, which drops it too.
    """
    connection = session.connection()
    ROLLUP_KEYS.create(connection, checkfirst=True)
    session.execute(delete(ROLLUP_KEYS))
    yield
    ROLLUP_KEYS.drop(connection)


def fill_rollup_keys(
    session: Session,
    *,
    keys: Iterable[RollupKey] = (),
    after_id: int = 0,
    up_to_id: int = 0,
) -> int:
    """Put ``keys`` and the keys of the events with ids in (after_id, up_to_id] into
    ROLLUP_KEYS (inside rollup_keys_table); returns how many keys it holds.

    The keys of events that no rollup row holds yet, and that ``keys`` does not name, are
    marked fresh: rewrite_keyed_rollups reads their events as those after ``after_id``.
    """
    dialect = session.get_bind().dialect.name
    listed: dict[RollupKey, dict[str, Any]] = {}
    for annotator_id, project_id, value in keys:
        day_value = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        start = dt.datetime.combine(day_value, dt.time(), tzinfo=dt.UTC)
        listed[(annotator_id, project_id, day_value)] = {
            "annotator_id": annotator_id,
            "project_id": project_id,
            "day": day_value,
            "day_start": start,
            "day_end": start + dt.timedelta(days=1),
            "fresh": False,
        }
    if listed:
        session.execute(insert(ROLLUP_KEYS), list(listed.values()))
    if up_to_id > after_id:
        # Found and written in one statement: an import touches hundreds of thousands
        # of keys, which need not pass through Python.
        event = AnnotationEvent.__table__
        found = (
            select(
                event.c.annotator_id,
                event.c.project_id,
                utc_day(event.c.submitted_at, dialect).label("day"),
            )
            .where(event.c.id > after_id, event.c.id <= up_to_id)
            .distinct()
            .subquery("found")
        )
        bounds = _day_bounds(found.c.day, dialect)
        # A key no rollup row holds yet had no event up to after_id: every rollup
        # refresh leaves a row for each key with events, and only removes the rows of
        # keys whose events are all gone (or names them for the next refresh).
        rolled_up = (
            select(DailyRollup.day)
            .where(
                DailyRollup.annotator_id == found.c.annotator_id,
                DailyRollup.project_id == found.c.project_id,
                DailyRollup.day == found.c.day,
            )
            .exists()
        )
        query = select(found.c.annotator_id, found.c.project_id, found.c.day, *bounds, ~rolled_up)
        if listed:
            query = query.where(
                ~select(ROLLUP_KEYS.c.day)
                .where(
                    ROLLUP_KEYS.c.annotator_id == found.c.annotator_id,
                    ROLLUP_KEYS.c.project_id == found.c.project_id,
                    ROLLUP_KEYS.c.day == found.c.day,
                )
                .exists()
            )
        session.execute(
            insert(ROLLUP_KEYS).from_select(
                ["annotator_id", "project_id", "day", "day_start", "day_end", "fresh"], query
            )
        )
    if dialect == "postgresql":
        # Without statistics the planner guesses the key count and picks loops.
        session.execute(text("ANALYZE rollup_keys"))
    return int(session.scalar(select(func.count()).select_from(ROLLUP_KEYS)) or 0)


def _rolled_up_events() -> ColumnElement[int]:
    """Events a set of rollup rows holds: answered plus skipped (events with neither a
    label nor a skip are left out, so this is a close lower bound)."""
    return func.coalesce(func.sum(DailyRollup.annotations + DailyRollup.skipped), 0)


def count_keyed_rolled_up_events(session: Session) -> int:
    """Events already rolled up under the keys of ROLLUP_KEYS (see _rolled_up_events)."""
    keys = ROLLUP_KEYS
    return int(
        session.scalar(
            select(_rolled_up_events())
            .select_from(
                DailyRollup.__table__.join(
                    keys,
                    and_(
                        keys.c.annotator_id == DailyRollup.annotator_id,
                        keys.c.project_id == DailyRollup.project_id,
                        keys.c.day == DailyRollup.day,
                    ),
                )
            )
            # Fresh keys hold no rollup row (fill_rollup_keys).
            .where(keys.c.fresh == False)  # noqa: E712
        )
        or 0
    )


def count_rolled_up_events(session: Session) -> int:
    """Events the daily rollups hold (see _rolled_up_events)."""
    return int(session.scalar(select(_rolled_up_events())) or 0)


def _keyed(table: Any) -> ColumnElement[bool]:
    """Rows of ``table`` under a key of ROLLUP_KEYS. Fresh keys are left out: no rollup
    row holds them (fill_rollup_keys), so looking them up would find nothing, and an
    import of new work makes most of its keys fresh."""
    keys = ROLLUP_KEYS
    return tuple_(table.c.annotator_id, table.c.project_id, table.c.day).in_(
        select(keys.c.annotator_id, keys.c.project_id, keys.c.day).where(
            keys.c.fresh == False  # noqa: E712
        )
    )


def rewrite_keyed_rollups(session: Session, *, after_id: int | None = None) -> int:
    """Recompute from events the rollup rows of the keys in ROLLUP_KEYS (inside
    rollup_keys_table); returns how many keys. ``after_id`` is that fill_rollup_keys was
    given: the fresh keys' events are read as the events after it."""
    dialect = session.get_bind().dialect.name
    boundaries = rate_boundaries(session)
    prepare_aggregation(session)
    connection = session.connection()
    # Before the keys' rows are deleted: the windows are estimated from them.
    windows = keyed_windows(session, after_id=after_id)
    session.execute(delete(DailyRollup).where(_keyed(DailyRollup.__table__)))
    # In two steps: the planner cannot estimate how many events a join to the keys finds
    # (it guesses one), and from one row it prices the sums with nested loops over every
    # pay rate: minutes for a few thousand keys. Stored and analysed, the sums are
    # hash-joined to the rates.
    ROLLUP_PARTS.create(connection, checkfirst=True)
    session.execute(delete(ROLLUP_PARTS))
    session.execute(
        insert(ROLLUP_PARTS).from_select(
            [column.name for column in ROLLUP_PARTS.columns],
            parts_select(
                dialect,
                keys=ROLLUP_KEYS,
                boundaries=boundaries,
                after_id=after_id,
                windows=windows,
            ),
        )
    )
    if dialect == "postgresql":
        session.execute(text("ANALYZE rollup_parts"))
    session.execute(
        insert(DailyRollup).from_select(
            list(ROLLUP_COLUMNS),
            aggregate_select(dialect, boundaries=boundaries, parts=ROLLUP_PARTS),
        )
    )
    ROLLUP_PARTS.drop(connection)
    refresh_project_day_spend(
        session, days=select(ROLLUP_KEYS.c.project_id, ROLLUP_KEYS.c.day).distinct()
    )
    session.execute(delete(GoldConfusionRollup).where(_keyed(GoldConfusionRollup.__table__)))
    session.execute(
        insert(GoldConfusionRollup).from_select(
            list(CONFUSION_COLUMNS),
            confusion_select(dialect, keys=ROLLUP_KEYS, after_id=after_id, windows=windows),
        )
    )
    return int(session.scalar(select(func.count()).select_from(ROLLUP_KEYS)) or 0)


PROJECT_SPEND_COLUMNS = ("project_id", "day", "currency", *PROJECT_SPEND_MEASURES)


def refresh_project_day_spend(
    session: Session, *, days: Select[Any] | Sequence[tuple[int, dt.date]] | None = None
) -> None:
    """Recompute from the daily rollups the project day spend rows of the (project id,
    day) pairs ``days`` selects or lists, or of every project and day without it."""
    table = ProjectDaySpend.__table__
    rollup = DailyRollup.__table__
    stale: ColumnElement[bool] = true()
    touched: ColumnElement[bool] = true()
    if days is not None:
        stale = tuple_(table.c.project_id, table.c.day).in_(days)
        touched = tuple_(rollup.c.project_id, rollup.c.day).in_(days)
    session.execute(delete(ProjectDaySpend).where(stale))
    session.execute(
        insert(ProjectDaySpend).from_select(
            list(PROJECT_SPEND_COLUMNS),
            select(
                rollup.c.project_id,
                rollup.c.day,
                rollup.c.currency,
                *(func.sum(rollup.c[name]) for name in PROJECT_SPEND_MEASURES),
            )
            .where(touched)
            .group_by(rollup.c.project_id, rollup.c.day, rollup.c.currency),
        )
    )


def rewrite_rollups(session: Session, *, keys: Sequence[RollupKey]) -> int:
    """Recompute the rollup rows of the given (annotator, project, day) keys from events."""
    with rollup_keys_table(session):
        fill_rollup_keys(session, keys=keys)
        return rewrite_keyed_rollups(session)
