"""Who is available: each person's weekly capacity in hours and their time off.

Both are edited on the annotator profile; every change is permission-checked, scoped
(a lead edits only their own team) and audited.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from db.models import AnnotatorTimeOff, utcnow
from db.queries import staffing as staffing_queries
from db.scope import PeopleScope
from ops import audit
from ops.errors import NotFound, ValidationError
from ops.permissions import Principal
from ops.workforce.common import (
    check_version,
    flush_or_conflict,
    load_annotator,
    require_active,
)

# A week has at most this many hours anyone can be asked to work.
MAX_WEEKLY_HOURS = 80.0
# Time off further ahead than this is more likely a typo than a plan.
MAX_TIME_OFF_DAYS = 366
WORKING_DAYS = 5  # Monday to Friday


@dataclass(frozen=True)
class TimeOff:
    """One stretch of days off, both ends included."""

    id: int
    starts_on: dt.date
    ends_on: dt.date
    kind: str
    created_by: str | None


@dataclass(frozen=True)
class Availability:
    """A person's weekly capacity (None: not recorded) and their time off, latest first."""

    weekly_capacity_hours: float | None
    time_off: tuple[TimeOff, ...]
    version_id: int


def get_availability(session: Session, principal: Principal, annotator_id: int) -> Availability:
    """Capacity and time off of a person the principal may see."""
    annotator = load_annotator(session, principal, annotator_id, fresh=True)
    return Availability(
        weekly_capacity_hours=annotator.weekly_capacity_hours,
        time_off=tuple(
            TimeOff(row.id, row.starts_on, row.ends_on, row.kind, row.created_by)
            for row in staffing_queries.list_time_off(session, annotator_id=annotator.id)
        ),
        version_id=annotator.version_id,
    )


def set_weekly_capacity(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    hours: float | None,
    expected_version: int,
) -> None:
    """Record how many hours a week the person can work; None clears it."""
    annotator = load_annotator(session, actor, annotator_id, action="availability.edit", fresh=True)
    require_active(annotator)
    check_version(annotator, expected_version, annotator.display_name)
    if hours is not None and not 0 <= hours <= MAX_WEEKLY_HOURS:
        raise ValidationError(
            f"Weekly capacity must be between 0 and {MAX_WEEKLY_HOURS:g} hours, not {hours:g}.",
            field="weekly_capacity_hours",
        )
    before = {"weekly_capacity_hours": annotator.weekly_capacity_hours}
    annotator.weekly_capacity_hours = hours
    annotator.updated_by = actor.username
    annotator.updated_at = utcnow()
    flush_or_conflict(session, annotator.display_name)
    audit.record(
        session,
        actor,
        "annotator.capacity",
        annotator,
        before=before,
        after={"weekly_capacity_hours": hours},
    )


def add_time_off(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    starts_on: dt.date,
    ends_on: dt.date,
    kind: str = "time off",
    today: dt.date | None = None,
) -> AnnotatorTimeOff:
    """Record days the person is not available, both ends included."""
    annotator = load_annotator(session, actor, annotator_id, action="availability.edit", fresh=True)
    require_active(annotator)
    today = today or utcnow().date()
    if ends_on < starts_on:
        raise ValidationError(
            f"The last day off ({ends_on}) is before the first ({starts_on}).", field="ends_on"
        )
    if (ends_on - today).days > MAX_TIME_OFF_DAYS:
        raise ValidationError(
            f"Time off ends more than a year ahead ({ends_on}); check the year.",
            field="ends_on",
        )
    kind = (kind or "").strip() or "time off"
    if len(kind) > 40:
        raise ValidationError("Say what kind of time off in 40 characters or fewer.", field="kind")
    overlapping = staffing_queries.load_time_off_frame(
        session,
        scope=_one(annotator.id),
        since=starts_on,
        until=ends_on,
    )
    if not overlapping.empty:
        first = overlapping.iloc[0]
        raise ValidationError(
            f"{annotator.display_name} already has time off from {first['starts_on']} to "
            f"{first['ends_on']}; change that instead.",
            field="starts_on",
        )
    row = AnnotatorTimeOff(
        annotator_id=annotator.id,
        starts_on=starts_on,
        ends_on=ends_on,
        kind=kind,
        created_by=actor.username,
    )
    session.add(row)
    audit.record(session, actor, "annotator.time_off.add", row)
    return row


def remove_time_off(session: Session, actor: Principal, time_off_id: int) -> None:
    """Delete a recorded stretch of time off (the audit log keeps what it was)."""
    row = session.get(AnnotatorTimeOff, time_off_id)
    if row is None:
        raise NotFound(f"No time off {time_off_id}.")
    annotator = load_annotator(session, actor, row.annotator_id, action="availability.edit")
    require_active(annotator)
    before = audit.snapshot(row)
    audit.record(session, actor, "annotator.time_off.remove", row, before=before)
    session.delete(row)
    session.flush()


def _one(annotator_id: int) -> PeopleScope:
    return PeopleScope("self", annotator_id=annotator_id)


def working_days(since: dt.date, until: dt.date) -> list[dt.date]:
    """Monday-to-Friday days in [since, until]."""
    return list(_working_days(since, until))


@functools.lru_cache(maxsize=64)
def _working_days(since: dt.date, until: dt.date) -> tuple[dt.date, ...]:
    # Remembered: a staffing plan asks for the same week once per person.
    if until < since:
        return ()
    days = (since + dt.timedelta(days=offset) for offset in range((until - since).days + 1))
    return tuple(day for day in days if day.weekday() < WORKING_DAYS)


def capacity_left_this_week(
    *,
    weekly_hours: float | None,
    worked_hours: float,
    time_off: list[tuple[dt.date, dt.date]],
    today: dt.date,
) -> float | None:
    """Hours the person can still give this week: their weekly capacity, less the working
    days of the week they are off, less the hours already worked this week. None when no
    capacity is recorded."""
    if weekly_hours is None or np.isnan(weekly_hours):
        return None
    monday = today - dt.timedelta(days=today.weekday())
    week = working_days(monday, monday + dt.timedelta(days=WORKING_DAYS - 1))
    off = {day for day in week for start, end in time_off if start <= day <= end}
    available = weekly_hours * (len(week) - len(off)) / WORKING_DAYS
    return max(0.0, available - worked_hours)
