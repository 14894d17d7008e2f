"""Completion, cost and staffing forecasts: worked examples and the properties they keep."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.metrics.forecast import (
    RANGE_Z,
    days_to_finish,
    forecast_completion,
    forecast_cost_at_completion,
    people_needed,
)

TODAY = dt.date(2026, 3, 20)


@pytest.mark.parametrize(
    ("remaining", "per_day", "expected"),
    [(0, 10.0, 0), (-5, 10.0, 0), (100, 10.0, 10), (101, 10.0, 11), (100, 0.0, None)],
)
def test_days_to_finish(remaining: int, per_day: float, expected: int | None) -> None:
    assert days_to_finish(remaining, per_day) == expected


def test_a_steady_project_finishes_on_one_day_with_no_range() -> None:
    forecast = forecast_completion([50] * 14, remaining=500, today=TODAY)
    assert forecast.per_day == 50 and forecast.per_day_sd == 0
    assert forecast.finish == forecast.finish_early == forecast.finish_late
    assert forecast.finish == TODAY + dt.timedelta(days=10)


def test_an_uneven_project_has_a_range_around_the_mean_finish() -> None:
    counts = [0, 100] * 7  # mean 50 a day, standard deviation about 52
    forecast = forecast_completion(counts, remaining=500, today=TODAY)
    assert forecast.finish == TODAY + dt.timedelta(days=10)
    assert forecast.finish_early is not None and forecast.finish_late is not None
    assert forecast.finish_early < forecast.finish < forecast.finish_late
    # The late bound is the first day on which the pessimistic total reaches the volume.
    days = (forecast.finish_late - TODAY).days
    sd = float(np.std(counts, ddof=1))
    assert days * 50 - RANGE_Z * sd * days**0.5 >= 500
    assert (days - 1) * 50 - RANGE_Z * sd * (days - 1) ** 0.5 < 500


def test_scale_stands_for_more_people_assigned() -> None:
    alone = forecast_completion([40] * 14, remaining=800, today=TODAY)
    doubled = forecast_completion([40] * 14, remaining=800, today=TODAY, scale=2.0)
    assert (alone.days_needed, doubled.days_needed) == (20, 10)


def test_no_work_means_no_finish_date() -> None:
    forecast = forecast_completion([0] * 14, remaining=10, today=TODAY)
    assert (
        forecast.finish is None and forecast.finish_early is None and forecast.days_needed is None
    )


@given(
    counts=st.lists(st.integers(0, 500), min_size=2, max_size=30),
    remaining=st.integers(1, 100_000),
)
def test_the_range_always_brackets_the_central_finish(counts: list[int], remaining: int) -> None:
    forecast = forecast_completion(counts, remaining=remaining, today=TODAY)
    if forecast.finish is None:
        assert forecast.finish_early is None and forecast.finish_late is None
        return
    assert forecast.finish_early is not None and forecast.finish_late is not None
    assert forecast.finish_early <= forecast.finish <= forecast.finish_late


@pytest.mark.parametrize(
    ("spent", "done", "target", "expected"),
    [
        (50_000, 500, 1_000, 100_000),
        (50_000, 0, 1_000, None),
        (50_000, 500, None, None),
        (50_000, 1_200, 1_000, 50_000),  # done already: what was spent
    ],
)
def test_cost_at_completion(
    spent: int, done: int, target: int | None, expected: int | None
) -> None:
    assert (
        forecast_cost_at_completion(spent_minor=spent, done=done, volume_target=target) == expected
    )


@pytest.mark.parametrize(
    ("remaining", "days_left", "rate", "expected"),
    [
        (1_000, 10, 20.0, 6),  # 1000 / 10 / 20 = 5 people, 6 with the 20% buffer
        (0, 10, 20.0, 0),
        (1_000, 0, 20.0, None),
        (1_000, 10, 0.0, None),
    ],
)
def test_people_needed(remaining: int, days_left: int, rate: float, expected: int | None) -> None:
    assert (
        people_needed(remaining=remaining, days_left=days_left, per_person_per_day=rate) == expected
    )
