"""Throughput and workflow rates on a small hand-checked event log."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from ops.metrics import (
    compute_annotations_per_active_hour,
    compute_annotations_per_day,
    compute_escalation_rate,
    compute_median_seconds,
    compute_review_acceptance_rate,
    compute_skip_rate,
    count_daily_annotations,
    summarise_throughput,
)


def event_log() -> pd.DataFrame:
    rows = [
        # annotator, project, submitted_at (Paris time), seconds, skipped, escalated, review
        ("a", "p1", "2024-01-01 11:00", 60, False, False, "accepted"),
        ("a", "p1", "2024-01-01 12:00", 120, True, False, None),
        ("a", "p2", "2024-01-02 10:00", 180, False, True, "rejected"),
        # 00:30 in Paris on the 3rd is 23:30 UTC on the 2nd.
        ("a", "p2", "2024-01-03 00:30", 240, False, False, None),
        ("b", "p1", "2024-01-01 09:00", 1800, False, False, "accepted"),
        ("b", "p1", "2024-01-01 10:00", 1800, False, False, "accepted"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "annotator_id",
            "project_id",
            "submitted_at",
            "active_seconds",
            "skipped",
            "escalated",
            "review_outcome",
        ],
    )
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"]).dt.tz_localize("Europe/Paris")
    return frame


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        # a: 3 submitted in 600 s (1/6 h); b: 2 in 3600 s.
        (compute_annotations_per_active_hour, {"a": 18.0, "b": 2.0}),
        # a: 1 on Jan 1 and 2 on Jan 2 (UTC); b: 2 on Jan 1.
        (compute_annotations_per_day, {"a": 1.5, "b": 2.0}),
        (compute_escalation_rate, {"a": 0.25, "b": 0.0}),
        (compute_skip_rate, {"a": 0.25, "b": 0.0}),
        (compute_review_acceptance_rate, {"a": 0.5, "b": 1.0}),
        # a's submitted items took 60, 180 and 240 s; the skipped one is not an annotation.
        (compute_median_seconds, {"a": 180.0, "b": 1800.0}),
    ],
)
def test_rates_per_annotator(
    function: Callable[[pd.DataFrame], pd.Series], expected: dict[str, float]
) -> None:
    result = function(event_log())
    assert result.to_dict() == pytest.approx(expected)


def test_daily_counts_use_the_utc_calendar_day() -> None:
    daily = count_daily_annotations(event_log())
    days = {
        (annotator, day.strftime("%Y-%m-%d")): count
        for (annotator, day), count in zip(daily.index, daily["annotations"], strict=True)
    }
    assert days == {("a", "2024-01-01"): 1, ("a", "2024-01-02"): 2, ("b", "2024-01-01"): 2}
    assert daily.loc[("a", pd.Timestamp("2024-01-01", tz="UTC")), "active_seconds"] == 180


def test_grouping_by_annotator_and_project() -> None:
    rates = compute_annotations_per_active_hour(event_log(), by=("annotator_id", "project_id"))
    assert rates[("a", "p1")] == pytest.approx(1 / (180 / 3600))
    assert rates[("a", "p2")] == pytest.approx(2 / (420 / 3600))


def test_summary_has_one_row_per_group_with_every_rate() -> None:
    summary = summarise_throughput(event_log())
    assert summary.loc["a", "events"] == 4
    assert summary.loc["a", "annotations"] == 3
    assert summary.loc["b", "active_hours"] == pytest.approx(1.0)
    assert summary.loc["b", "review_acceptance_rate"] == 1.0
    assert summary.loc["a", "median_active_seconds"] == 180.0


def test_groups_without_review_or_time_get_nan_not_zero() -> None:
    frame = event_log()
    frame.loc[frame["annotator_id"] == "b", ["review_outcome", "active_seconds"]] = [None, 0]
    assert np.isnan(compute_review_acceptance_rate(frame)["b"])
    assert np.isnan(compute_annotations_per_active_hour(frame)["b"])


def test_all_skipped_group_has_no_median() -> None:
    frame = event_log()
    frame.loc[frame["annotator_id"] == "b", "skipped"] = True
    assert np.isnan(compute_median_seconds(frame)["b"])
    assert compute_annotations_per_active_hour(frame)["b"] == 0.0


def test_missing_flag_columns_mean_nothing_flagged() -> None:
    frame = event_log().drop(columns=["skipped", "escalated", "review_outcome"])
    assert compute_skip_rate(frame).to_dict() == {"a": 0.0, "b": 0.0}
    assert compute_annotations_per_active_hour(frame)["a"] == pytest.approx(4 / (600 / 3600))


def test_naive_timestamps_are_rejected() -> None:
    frame = event_log()
    frame["submitted_at"] = frame["submitted_at"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_annotations_per_day(frame)


@pytest.mark.parametrize(("by", "error"), [("annotator_id", TypeError), ((), ValueError)])
def test_grouping_must_name_columns(by: Sequence[str], error: type[Exception]) -> None:
    with pytest.raises(error):
        compute_skip_rate(event_log(), by=by)
