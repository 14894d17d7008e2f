"""Throughput and workflow rates from annotation events.

Events are one row per piece of submitted work with columns named as in the
annotation event model: submitted_at (tz-aware), active_seconds, skipped,
escalated, review_outcome ('accepted' | 'corrected' | 'rejected' | None), plus the
grouping columns passed as ``by`` (annotator_id, project_id, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SECONDS_PER_HOUR = 3600.0
DEFAULT_GROUPING: tuple[str, ...] = ("annotator_id",)


def compute_annotations_per_active_hour(
    events: pd.DataFrame, *, by: Sequence[str] = DEFAULT_GROUPING
) -> pd.Series:
    """One row per group: submitted annotations per active hour; NaN without active time."""
    # Time spent on an item before skipping it is still working time, so it stays in the
    # denominator while the skipped item is not counted as an annotation.
    grouped = _annotate(events).groupby(list(_check_by(events, by)), sort=True)
    annotations = grouped["_submitted"].sum().astype(np.float64)
    hours = grouped["active_seconds"].sum().astype(np.float64) / SECONDS_PER_HOUR
    return _divide(annotations, hours).rename("annotations_per_active_hour")


def count_daily_annotations(
    events: pd.DataFrame, *, by: Sequence[str] = DEFAULT_GROUPING
) -> pd.DataFrame:
    """One row per group per UTC day with events: annotations (count), active_seconds (seconds)."""
    keys = [*_check_by(events, by), "day"]
    frame = _annotate(events).assign(day=_utc_day(events["submitted_at"]))
    grouped = frame.groupby(keys, sort=True)
    return pd.DataFrame(
        {
            "annotations": grouped["_submitted"].sum().astype(np.int64),
            "active_seconds": grouped["active_seconds"].sum().astype(np.float64),
        }
    )


def compute_annotations_per_day(
    events: pd.DataFrame, *, by: Sequence[str] = DEFAULT_GROUPING
) -> pd.Series:
    """One row per group: mean submitted annotations per UTC day on which it had any event."""
    daily = count_daily_annotations(events, by=by)
    levels = list(_check_by(events, by))
    per_day = daily.groupby(level=levels, sort=True)["annotations"].mean()
    return per_day.astype(np.float64).rename("annotations_per_day")


def compute_escalation_rate(
    events: pd.DataFrame, *, by: Sequence[str] = DEFAULT_GROUPING
) -> pd.Series:
    """One row per group: escalated events / all events (fraction)."""
    grouped = _annotate(events).groupby(list(_check_by(events, by)), sort=True)
    return grouped["_escalated"].mean().astype(np.float64).rename("escalation_rate")


def compute_skip_rate(events: pd.DataFrame, *, by: Sequence[str] = DEFAULT_GROUPING) -> pd.Series:
    """One row per group: skipped events / all events (fraction)."""
    grouped = _annotate(events).groupby(list(_check_by(events, by)), sort=True)
    return grouped["_skipped"].mean().astype(np.float64).rename("skip_rate")


def compute_review_acceptance_rate(
    events: pd.DataFrame, *, by: Sequence[str] = DEFAULT_GROUPING
) -> pd.Series:
    """One row per group: accepted / reviewed events (fraction); NaN where none was reviewed."""
    grouped = _annotate(events).groupby(list(_check_by(events, by)), sort=True)
    accepted = grouped["_accepted"].sum().astype(np.float64)
    reviewed = grouped["_reviewed"].sum().astype(np.float64)
    return _divide(accepted, reviewed).rename("review_acceptance_rate")


def compute_median_seconds(
    events: pd.DataFrame,
    *,
    by: Sequence[str] = DEFAULT_GROUPING,
    column: str = "active_seconds",
) -> pd.Series:
    """One row per group: median seconds per submitted (not skipped) annotation."""
    frame = _annotate(events)
    submitted = frame[frame["_submitted"]]
    keys = list(_check_by(events, by))
    median = submitted.groupby(keys, sort=True)[column].median().astype(np.float64)
    # Groups whose every event was skipped still get a row, with no median.
    every_group = frame.groupby(keys, sort=True).size().index
    return median.reindex(every_group).rename(f"median_{column}")


def summarise_throughput(
    events: pd.DataFrame, *, by: Sequence[str] = DEFAULT_GROUPING
) -> pd.DataFrame:
    """One row per group: events, annotations, active_hours and every throughput rate above."""
    frame = _annotate(events)
    grouped = frame.groupby(list(_check_by(events, by)), sort=True)
    summary = pd.DataFrame(
        {
            "events": grouped.size().astype(np.int64),
            "annotations": grouped["_submitted"].sum().astype(np.int64),
            "active_hours": grouped["active_seconds"].sum().astype(np.float64) / SECONDS_PER_HOUR,
        }
    )
    return summary.join(
        [
            compute_annotations_per_active_hour(events, by=by),
            compute_annotations_per_day(events, by=by),
            compute_escalation_rate(events, by=by),
            compute_skip_rate(events, by=by),
            compute_review_acceptance_rate(events, by=by),
            compute_median_seconds(events, by=by),
        ]
    )


def _check_by(events: pd.DataFrame, by: Sequence[str]) -> Sequence[str]:
    if isinstance(by, str):
        raise TypeError("by must be a sequence of column names, e.g. ('annotator_id',)")
    if not by:
        raise ValueError("by needs at least one grouping column")
    missing = [column for column in by if column not in events.columns]
    if missing:
        raise ValueError(f"events frame has no column(s) {', '.join(missing)} to group by")
    return by


def _annotate(events: pd.DataFrame) -> pd.DataFrame:
    # Missing flag columns mean the source never recorded them: nothing skipped or escalated.
    skipped = _flag(events, "skipped")
    escalated = _flag(events, "escalated")
    outcome = (
        events["review_outcome"]
        if "review_outcome" in events.columns
        else pd.Series(None, index=events.index, dtype=object)
    )
    active = (
        events["active_seconds"].astype(np.float64).fillna(0.0)
        if "active_seconds" in events.columns
        else pd.Series(0.0, index=events.index)
    )
    return events.assign(
        active_seconds=active,
        _skipped=skipped,
        _escalated=escalated,
        _submitted=~skipped,
        _reviewed=outcome.notna().to_numpy(),
        _accepted=(outcome == "accepted").to_numpy(),
    )


def _flag(events: pd.DataFrame, column: str) -> pd.Series:
    if column not in events.columns:
        return pd.Series(False, index=events.index)
    return events[column].astype("boolean").fillna(False).astype(bool)


def _utc_day(timestamps: pd.Series) -> pd.Series:
    if not isinstance(timestamps.dtype, pd.DatetimeTZDtype):
        raise ValueError("submitted_at must be timezone-aware (UTC); got naive timestamps")
    days: pd.Series = timestamps.dt.tz_convert("UTC").dt.normalize()
    return days


def _divide(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    result = np.full(len(numerator), np.nan)
    np.divide(
        numerator.to_numpy(dtype=np.float64),
        denominator.to_numpy(dtype=np.float64),
        out=result,
        where=denominator.to_numpy(dtype=np.float64) > 0,
    )
    return pd.Series(result, index=numerator.index)
