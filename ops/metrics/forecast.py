"""Forecasts of a project: completion date from daily throughput, cost at completion,
and the people a deadline needs. Pure functions; the alert rules and the Projects page
both use them, so a forecast says the same thing wherever it is shown.

Completion date: the remaining volume divided by the mean daily throughput of the
recent days (calendar days, days without work counted as zero). Its uncertainty treats
each coming day's output as an independent draw like one of those recent days: after
``d`` days the work done is about normal with mean ``d * mean`` and standard deviation
``sqrt(d) * sd``, so the earliest and latest likely finish are the first days on which
``d * mean +/- z * sqrt(d) * sd`` reaches the remaining volume (z = 1.2816 for an 80%
range). Days are not really independent (a slow week tends to stay slow), so the range
is a floor on the real uncertainty, not a promise.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

# Two-sided 80% range of a normal distribution.
RANGE_Z = 1.2816
RANGE_LABEL = "80% range"
# Extra people on top of the bare arithmetic, for sick days, ramp-up and review rework.
STAFFING_BUFFER = 0.2


@dataclass(frozen=True)
class CompletionForecast:
    """When the remaining volume is done at a daily rate; dates None when it never is."""

    remaining: int
    per_day: float
    per_day_sd: float
    days_needed: int | None
    finish: dt.date | None
    finish_early: dt.date | None
    finish_late: dt.date | None


def days_to_finish(remaining: float, per_day: float) -> int | None:
    """Whole days until ``remaining`` is done at ``per_day``; 0 when nothing remains."""
    if remaining <= 0:
        return 0
    if per_day <= 0:
        return None
    return math.ceil(remaining / per_day)


def _days_at_bound(remaining: float, per_day: float, spread: float) -> int | None:
    """First whole day d with d * per_day + spread * sqrt(d) >= remaining (spread may be < 0)."""
    if remaining <= 0:
        return 0
    if per_day <= 0:
        return None
    # Solve per_day * x^2 + spread * x - remaining = 0 for x = sqrt(d), positive root.
    root = (-spread + math.sqrt(spread * spread + 4 * per_day * remaining)) / (2 * per_day)
    return max(1, math.ceil(root * root - 1e-9))


def forecast_completion(
    daily_counts: npt.ArrayLike, *, remaining: int, today: dt.date, scale: float = 1.0
) -> CompletionForecast:
    """Finish date and its 80% range from one number per recent calendar day.

    ``scale`` multiplies the daily rate and its spread, e.g. by people assigned now over
    people who did the recent work.
    """
    counts = np.asarray(daily_counts, dtype=float)
    per_day = float(counts.mean()) * scale if counts.size else 0.0
    sd = float(counts.std(ddof=1)) * scale if counts.size > 1 else 0.0
    days = days_to_finish(remaining, per_day)
    early = _days_at_bound(remaining, per_day, RANGE_Z * sd)
    late = _days_at_bound(remaining, per_day, -RANGE_Z * sd)

    def on(offset: int | None) -> dt.date | None:
        return None if offset is None else today + dt.timedelta(days=offset)

    return CompletionForecast(
        remaining=max(remaining, 0),
        per_day=per_day,
        per_day_sd=sd,
        days_needed=days,
        finish=on(days),
        finish_early=on(early),
        finish_late=on(late),
    )


def forecast_cost_at_completion(
    *, spent_minor: int, done: int, volume_target: int | None
) -> int | None:
    """Spend so far plus the remaining volume at the cost per annotation so far (minor units).

    None without a volume target or any work done.
    """
    if not volume_target or done <= 0:
        return None
    if done >= volume_target:
        return spent_minor
    return round(spent_minor / done * volume_target)


def people_needed(
    *,
    remaining: int,
    days_left: int,
    per_person_per_day: float,
    buffer: float = STAFFING_BUFFER,
) -> int | None:
    """People needed to finish ``remaining`` in ``days_left`` at one person's daily rate,
    with ``buffer`` extra; None when there is no time left or no rate to go by."""
    if remaining <= 0:
        return 0
    if days_left <= 0 or per_person_per_day <= 0:
        return None
    return math.ceil(remaining / days_left / per_person_per_day * (1 + buffer))


def projection_band(
    *, done: int, target: int, per_day: float, per_day_sd: float, today: dt.date, days: int
) -> pd.DataFrame:
    """One row per day from today: the cumulative volume expected, and its 80% range,
    each capped at the target. Columns day, expected, low, high."""
    offsets = np.arange(0, max(days, 0) + 1, dtype=float)
    spread = RANGE_Z * per_day_sd * np.sqrt(offsets)
    expected = done + per_day * offsets
    return pd.DataFrame(
        {
            "day": [today + dt.timedelta(days=int(offset)) for offset in offsets],
            "expected": np.minimum(expected, target),
            "low": np.clip(expected - spread, done, target),
            "high": np.minimum(expected + spread, target),
        }
    )
