"""Pure workforce rules at their boundaries: training expiry, promotion criteria,
calibration scoring and weekly trends."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ops.errors import ValidationError
from ops.metrics.accuracy import compute_gold_accuracy
from ops.metrics.calibration_agreement import compute_reference_agreement, rank_calibration_items
from ops.workforce.calibration import parse_reference_lines
from ops.workforce.evidence import PersonMetrics
from ops.workforce.profile import weekly_trend
from ops.workforce.tiers import PromotionCriteria, criteria_from_form, evaluate_promotion
from ops.workforce.training import (
    TrainingState,
    latest_trainings,
    training_status,
    training_statuses,
)

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("expires_at", "expected"),
    [
        (None, "current"),
        (NOW - SECOND, "expired"),
        (NOW, "expired"),
        (NOW + SECOND, "due"),
        (NOW + 30 * DAY, "due"),
        (NOW + 30 * DAY + SECOND, "current"),
    ],
)
def test_training_status_at_the_boundaries(expires_at: dt.datetime | None, expected: str) -> None:
    assert training_status(expires_at, NOW) == expected


def test_a_column_of_expiries_gets_the_status_of_each_one() -> None:
    expiries = [None, NOW - SECOND, NOW, NOW + SECOND, NOW + 30 * DAY, NOW + 30 * DAY + SECOND]
    column = pd.DataFrame({"expires_at": expiries})["expires_at"]
    assert training_statuses(column, NOW) == [training_status(e, NOW) for e in expiries]
    assert training_statuses(column, NOW) == [
        "current",
        "expired",
        "expired",
        "due",
        "due",
        "current",
    ]
    assert training_statuses(pd.Series([None, None]), NOW) == ["current", "current"]
    assert training_statuses(pd.Series([], dtype=object), NOW) == []


def test_training_status_window_is_adjustable() -> None:
    assert training_status(NOW + 8 * DAY, NOW, due_within_days=7) == "current"
    assert training_status(NOW + 7 * DAY, NOW, due_within_days=7) == "due"


def test_latest_training_per_kind_and_project_wins() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "annotator_id": [7, 7, 7, 7],
            "kind": ["initial", "initial", "domain", "domain"],
            "project_id": [None, None, 1.0, 2.0],
            "completed_at": [NOW - 400 * DAY, NOW - 10 * DAY, NOW - 5 * DAY, NOW - 50 * DAY],
        }
    )
    assert sorted(latest_trainings(frame)["id"]) == [2, 3, 4]


def test_training_state_is_current_only_with_initial_and_nothing_missing() -> None:
    assert TrainingState((), ("refresher",), (), True).current
    assert not TrainingState((), (), (), False).current
    assert not TrainingState(("domain",), (), (), True).current
    assert not TrainingState((), (), ("guideline_change",), True).current
    assert TrainingState(("domain (x)",), (), (), True).summary == "expired: domain (x)"


CRITERIA = PromotionCriteria(
    window_days=90,
    min_annotations=1000,
    min_gold_answers=100,
    min_accuracy_ci_low=0.92,
    min_calibration_agreement=0.9,
    min_calibration_sessions=1,
    require_training_current=True,
)


def metrics(**overrides: Any) -> PersonMetrics:
    correct, answered = 196, 200
    result = compute_gold_accuracy(correct, answered)
    defaults = PersonMetrics(
        annotator_id=1,
        since=NOW.date() - 89 * DAY,
        until=NOW.date(),
        annotations=1000,
        active_hours=10.0,
        gold_answered=answered,
        gold_correct=correct,
        accuracy=result.accuracy,
        accuracy_ci_low=result.ci_low,
        accuracy_ci_high=result.ci_high,
        reviewed=0,
        accepted=0,
        escalations=0,
        calibration_agreement=0.9,
        calibration_sessions=1,
        training=TrainingState((), (), (), True),
        open_alerts=0,
    )
    return dataclasses.replace(defaults, **overrides)


def met(person: PersonMetrics, criteria: PromotionCriteria = CRITERIA) -> dict[str, bool]:
    return {check.name: check.met for check in evaluate_promotion(person, criteria)}


def test_exactly_at_every_threshold_meets_the_criteria() -> None:
    exact = metrics(accuracy_ci_low=0.92, gold_answered=100)
    assert all(met(exact).values())


@pytest.mark.parametrize(
    ("overrides", "failed"),
    [
        ({"annotations": 999}, "annotations"),
        ({"gold_answered": 99}, "gold answers"),
        ({"accuracy_ci_low": 0.9199999}, "gold accuracy, lower bound"),
        ({"accuracy_ci_low": None}, "gold accuracy, lower bound"),
        ({"calibration_agreement": 0.8999}, "calibration agreement"),
        ({"calibration_agreement": None, "calibration_sessions": 0}, "calibration agreement"),
        ({"training": TrainingState(("initial",), (), (), False)}, "training current"),
    ],
)
def test_just_below_a_threshold_fails_that_criterion_only(
    overrides: dict[str, object], failed: str
) -> None:
    results = met(metrics(**overrides))
    assert [name for name, ok in results.items() if not ok] == [failed]


def test_a_high_point_estimate_with_a_low_bound_does_not_qualify() -> None:
    # 20 of 20 right is 100%, but its Wilson lower bound is only about 84%.
    small = compute_gold_accuracy(20, 20)
    person = metrics(
        gold_answered=20,
        gold_correct=20,
        accuracy=small.accuracy,
        accuracy_ci_low=small.ci_low,
        accuracy_ci_high=small.ci_high,
    )
    assert small.ci_low is not None and small.ci_low < 0.9
    assert not met(person, PromotionCriteria(**{**CRITERIA.__dict__, "min_gold_answers": 0}))[
        "gold accuracy, lower bound"
    ]


@pytest.mark.parametrize(("days", "meets"), [(179, False), (180, True), (400, True)])
def test_time_in_the_current_tier_counts_whole_days(days: int, meets: bool) -> None:
    seasoned = PromotionCriteria(**{**CRITERIA.__dict__, "min_days_at_tier": 180})
    assert met(metrics(days_at_tier=days), seasoned)["time in current tier"] is meets
    assert "time in current tier" not in met(metrics(days_at_tier=days))


def test_waived_criteria_are_met_without_evidence() -> None:
    lenient = PromotionCriteria(**{**CRITERIA.__dict__, "min_calibration_sessions": 0})
    lenient = PromotionCriteria(**{**lenient.__dict__, "require_training_current": False})
    results = met(
        metrics(
            calibration_agreement=None,
            calibration_sessions=0,
            training=TrainingState((), (), (), False),
        ),
        lenient,
    )
    assert results["calibration agreement"]
    assert "training current" not in results


def test_criteria_from_form_values_take_each_fields_type() -> None:
    criteria = criteria_from_form(
        {
            "window_days": 60.0,
            "min_annotations": "500",
            "min_gold_answers": 50,
            "min_accuracy_ci_low": "0.9",
            "min_calibration_agreement": 0.85,
            "min_calibration_sessions": 2,
            "require_training_current": 0,
            "min_days_at_tier": "0",
        }
    )
    assert criteria == PromotionCriteria(60, 500, 50, 0.9, 0.85, 2, False, 0)


def test_reference_agreement_counts_only_items_with_a_reference() -> None:
    labels = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "a", "b", "c"],
            "annotator_id": [1, 1, 1, 2, 2, 2],
            "label": ["x", "y", "z", "x", "x", "z"],
        }
    )
    reference = pd.Series({"a": "x", "b": "y", "c": None}, dtype=object)
    result = compute_reference_agreement(labels, reference)
    assert result.loc[1].to_numpy().tolist() == [2, 2, 1.0]
    assert result.loc[2].to_numpy().tolist() == [2, 1, 0.5]
    empty = compute_reference_agreement(labels, pd.Series({"q": "x"}, dtype=object))
    assert empty.empty


def test_calibration_items_to_discuss_are_split_or_off_reference() -> None:
    labels = pd.DataFrame(
        {
            "item_id": ["agreed", "agreed", "split", "split", "wrong", "wrong", "free", "free"],
            "annotator_id": [1, 2] * 4,
            "label": ["x", "x", "x", "y", "y", "y", "z", "z"],
        }
    )
    reference = pd.Series({"agreed": "x", "split": "x", "wrong": "x"}, dtype=object)
    ranked = rank_calibration_items(labels, reference)
    assert list(ranked.index) == ["wrong", "split"]
    assert ranked.loc["wrong", "matching_reference"] == 0.0
    assert ranked.loc["split", "matching_reference"] == 0.5
    assert ranked.loc["split", "agreement"] == 0.0
    assert ranked.loc["wrong", "label_counts"] == {"y": 2}


def test_reference_lines_parse_and_errors_name_the_line() -> None:
    assert parse_reference_lines("a,x\n\nb , y\n") == [("a", "x"), ("b", "y")]
    with pytest.raises(ValidationError, match="Line 2: write item_id,reference_label"):
        parse_reference_lines("a,x\nb\n")
    with pytest.raises(ValidationError, match="Line 3: item 'a' already appears on line 1"):
        parse_reference_lines("a,x\nb,y\na,z\n")


def test_weekly_trend_groups_days_into_monday_weeks_with_intervals() -> None:
    daily = pd.DataFrame(
        {
            "day": [dt.date(2026, 3, 2), dt.date(2026, 3, 8), dt.date(2026, 3, 9)],
            "annotations": [10, 30, 5],
            "active_seconds": [1800.0, 1800.0, 0.0],
            "gold_answered": [4, 6, 0],
            "gold_correct": [4, 3, 0],
        }
    )
    trend = weekly_trend(daily)
    assert list(trend["week"]) == [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
    assert list(trend["annotations"]) == [40, 5]
    assert trend["per_active_hour"].iloc[0] == pytest.approx(40.0)
    assert np.isnan(trend["per_active_hour"].iloc[1])
    assert trend["accuracy"].iloc[0] == pytest.approx(0.7)
    expected = compute_gold_accuracy(7, 10)
    assert trend["accuracy_ci_low"].iloc[0] == pytest.approx(expected.ci_low)
    assert np.isnan(trend["accuracy"].iloc[1])
    assert weekly_trend(daily.iloc[0:0]).empty
