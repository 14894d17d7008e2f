"""Daily rollups (annotator x project x UTC day): full rebuild and incremental refresh.

The SQL is in db.rollup_sql. The incremental run recomputes only the (annotator,
project, day) keys touched by events that arrived since the last run, so late events
for past days are folded in and its cost follows new work rather than history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from db.queries.imports import lock_imports
from db.queries.jobs import get_job_state, save_job_state
from db.rollup_sql import (
    RollupKey,
    count_events_after,
    count_keyed_rolled_up_events,
    count_rolled_up_events,
    fill_rollup_keys,
    get_last_event_id,
    get_last_pay_rate_ids,
    list_pay_rate_corrections_between,
    list_pay_rate_starts,
    list_work_keys_since,
    rebuild_rollups,
    rewrite_keyed_rollups,
    rewrite_rollups,
    rollup_keys_table,
)

WATERMARK_JOB = "rollup"
# Pay rates and rate corrections already reflected in the rollup costs (ids).
PAY_RATE_MARK = "last_pay_rate_id"
CORRECTION_MARK = "last_correction_id"
# When the rollups last took in every stored event (seconds since the epoch, UTC).
REFRESHED_MARK = "refreshed_at"
# A refresh that would re-read more than this share of all events (and more than this
# many) rebuilds every rollup instead: reading events key by key through an index costs
# more per event than one pass over all of them.
REBUILD_SHARE = 0.25
REBUILD_MIN_EVENTS = 100_000


def _state(session: Session) -> dict[str, int]:
    return {key: int(value) for key, value in get_job_state(session, job=WATERMARK_JOB).items()}


def _set_state(session: Session, values: dict[str, int]) -> None:
    save_job_state(session, job=WATERMARK_JOB, values=values)


def watermark(session: Session) -> int:
    """Id of the last event folded into the rollups."""
    return _state(session).get("last_event_id", 0)


def _now_mark() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp())


def last_refreshed(session: Session) -> dt.datetime | None:
    """When the rollups last took in every stored event; None if they never did."""
    mark = _state(session).get(REFRESHED_MARK)
    return dt.datetime.fromtimestamp(mark, dt.UTC) if mark is not None else None


def count_pending_events(session: Session) -> int:
    """Stored events the rollups do not hold yet."""
    return count_events_after(session, after_id=watermark(session))


def rebuild(session: Session) -> int:
    """Recompute every rollup row from all events; returns rows written."""
    # As in refresh: no import may be half way when the watermark is set.
    lock_imports(session)
    high = get_last_event_id(session)
    high_rate, high_fix = get_last_pay_rate_ids(session)
    written = rebuild_rollups(session)
    # Every row now has the rates as they are, so no rate change is pending either.
    _set_state(
        session,
        {
            "last_event_id": high,
            PAY_RATE_MARK: high_rate,
            CORRECTION_MARK: high_fix,
            REFRESHED_MARK: _now_mark(),
        },
    )
    return written


def should_rebuild(*, reread: int, total: int) -> bool:
    """Whether recomputing every rollup is cheaper than the touched keys: ``reread`` events
    under those keys (new ones and those already rolled up) out of ``total`` events."""
    return reread > max(REBUILD_MIN_EVENTS, REBUILD_SHARE * total)


def refresh(session: Session, *, also: Iterable[RollupKey] = ()) -> int:
    """Fold events newer than the watermark into the rollups; returns rows rewritten.

    ``also`` names further (annotator, project, day) keys to recompute: those of events
    deleted or moved, which no new event id points at.
    """
    # Imports hold this lock until they commit. Waiting for it means no import is half
    # way, so no event id below the new watermark can still appear later.
    lock_imports(session)
    low = watermark(session)
    high = get_last_event_id(session)
    extra = list(also)
    if high <= low and not extra:
        _set_state(session, {REFRESHED_MARK: _now_mark()})
        return 0
    with rollup_keys_table(session):
        fill_rollup_keys(session, keys=extra, after_id=low, up_to_id=high)
        # The cost of a refresh is the events it re-reads, not the keys it touches: an
        # import spread over thousands of people and weeks touches hundreds of thousands
        # of keys and still re-reads a small part of history.
        new = count_events_after(session, after_id=low) if high > low else 0
        reread = new + count_keyed_rolled_up_events(session)
        if should_rebuild(reread=reread, total=new + count_rolled_up_events(session)):
            return rebuild(session)
        rewritten = rewrite_keyed_rollups(session, after_id=low)
    _set_state(session, {"last_event_id": max(high, low), REFRESHED_MARK: _now_mark()})
    return rewritten


def reprice(session: Session) -> int:
    """Re-cost the rollup rows that pay rates added or corrected since the last run change.

    A rate entered late or corrected changes the cost of work already rolled up; each
    such rate's person has their work (and their reviews) from the rate's effective
    moment on recomputed. Returns rows rewritten. Waits for a running import, which
    rewrites rollups too.
    """
    lock_imports(session)
    state = _state(session)
    low_rate, low_fix = state.get(PAY_RATE_MARK, 0), state.get(CORRECTION_MARK, 0)
    high_rate, high_fix = get_last_pay_rate_ids(session)
    since: dict[int, dt.datetime] = {}
    for annotator_id, effective_from in list_pay_rate_starts(
        session, after_id=low_rate, up_to_id=high_rate
    ):
        since[annotator_id] = min(since.get(annotator_id, effective_from), effective_from)
    for annotator_id, effective_from, before in list_pay_rate_corrections_between(
        session, after_id=low_fix, up_to_id=high_fix
    ):
        # A corrected start moves cost between this rate and the one before it.
        earliest = min(effective_from, _moment(before.get("effective_from")) or effective_from)
        since[annotator_id] = min(since.get(annotator_id, earliest), earliest)
    touched: set[RollupKey] = set()
    for annotator_id, moment in since.items():
        touched.update(list_work_keys_since(session, annotator_id=annotator_id, since=moment))
    rewritten = rewrite_rollups(session, keys=sorted(touched, key=str)) if touched else 0
    _set_state(session, {PAY_RATE_MARK: high_rate, CORRECTION_MARK: high_fix})
    return rewritten


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


__all__ = [
    "count_pending_events",
    "should_rebuild",
    "last_refreshed",
    "rebuild",
    "refresh",
    "reprice",
    "watermark",
]
