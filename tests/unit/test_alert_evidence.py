"""Alert evidence reads as sentences and named figures: no raw keys, ids or reprs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest

from ops.alerts.evidence import (
    THRESHOLDS,
    describe_alert,
    evidence_rows,
    format_date,
    format_period,
)
from ops.alerts.rules import RULES, AlertSettings

START, END = dt.date(2026, 11, 3), dt.date(2026, 11, 16)

# One stored evidence per rule, as the rules write it.
EVIDENCE: dict[str, dict[str, Any]] = {
    "gold_below_target": {
        "gold_answered": 120,
        "gold_correct": 90,
        "target": 0.9,
        "gold_accuracy": 0.75,
        "ci_low": 0.6659,
        "ci_high": 0.8195,
        "min_gold": 30,
        "seconds_per_annotation": 31.04,
        "project_median_seconds": 30.0,
        "speed_ratio": 1.035,
    },
    "quality_vs_speed": {
        "gold_answered": 120,
        "gold_correct": 72,
        "target": 0.9,
        "gold_accuracy": 0.6,
        "ci_low": 0.51,
        "ci_high": 0.68,
        "min_gold": 30,
        "seconds_per_annotation": 9.5,
        "project_median_seconds": 30.0,
        "speed_ratio": 0.317,
    },
    "drift": {
        "gold_answered": 80,
        "gold_correct": 60,
        "target": 0.8,
        "baseline_gold_answered": 200,
        "baseline_gold_correct": 180,
        "baseline_accuracy": 0.9,
        "drop": 0.15,
        "p_value": 0.00012,
    },
    "low_consistency": {
        "repeated_items": 40,
        "consistent_items": 20,
        "consistency": 0.5,
        "ci_low": 0.35,
        "ci_high": 0.65,
        "target": 0.8,
    },
    "escalation_low": {
        "annotations": 900,
        "escalations": 1,
        "escalation_rate": 0.0011,
        "project_rate": 0.05,
        "p_value": 1e-12,
    },
    "escalation_high": {
        "annotations": 900,
        "escalations": 200,
        "escalation_rate": 0.2222,
        "project_rate": 0.05,
        "p_value": 1e-30,
    },
    "systematic_issue": {
        "method": "change day within the window",
        "test": "exact one-sided test",
        "change_day": "2026-11-09",
        "annotators_dropped": 3,
        "annotators_measured": 5,
        "share_dropped": 0.6,
        "dropped_annotator_ids": [3, 7, 9],
        "accuracy_before": 0.91,
        "accuracy_after": 0.74,
        "accuracy_now": 0.74,
        "min_drop": 0.08,
        "likely_causes": ["guidelines: a recent change", "data: a new batch"],
    },
    "budget_burn": {
        "spent_minor": 350791,
        "budget_minor": 400000,
        "currency": "EUR",
        "spent_share": 0.877,
        "done": 5000,
        "volume_target": 10000,
        "done_share": 0.5,
        "forecast_at_completion_minor": 701582,
        "forecast_over_budget_share": 1.048,
    },
    "deadline_risk": {
        "remaining": 12000,
        "per_day": 310.5,
        "throughput_days": 14,
        "deadline": "2026-12-20",
        "days_left": 20,
        "days_needed": 39,
        "projected_finish": "2027-01-08",
        "late_by_days": 19,
        "needed_per_day": 600.0,
    },
    "training_expired": {
        "expired": [{"kind": "refresher", "project_id": 2, "expired_on": "2026-10-01"}],
        "assignment_id": 44,
    },
    "qualification_missing": {"task_type": "ner", "best_score": 0.55, "assignment_id": 45},
}

PEOPLE = {3: ("Rex Turner", "rex@example.org"), 7: ("Ada Steady", None)}


def describe(rule: str) -> Any:
    return describe_alert(
        rule=rule,
        evidence=EVIDENCE[rule],
        who="Rex Turner",
        project="weld-qa",
        window_start=START,
        window_end=END,
        people=PEOPLE,
    )


def test_every_rule_has_an_example() -> None:
    assert set(EVIDENCE) == set(RULES)


@pytest.mark.parametrize("rule", RULES)
def test_no_rule_shows_raw_keys_ids_or_python_reprs(rule: str) -> None:
    readable = describe(rule)
    text = " ".join([readable.sentence, *(f"{r.label} {r.value}" for r in readable.rows)])
    for raw in ("_", "{", "[", "None", "nan", "datetime"):
        assert raw not in text, (raw, text)
    assert not re.search(r"'\w+'", text), text
    assert readable.sentence.endswith((".", "unclear to them.", "guessing.", "before people."))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "gold_below_target",
            "Rex Turner had a gold accuracy of 75.0% (95% interval 66.6%–82.0%) on 120 golden "
            "items in weld-qa over 3–16 Nov 2026, credibly below the target of 90.0%.",
        ),
        (
            "budget_burn",
            "weld-qa has spent EUR 3,507.91 of its EUR 4,000.00 budget (87.7%) for 50.0% of the "
            "work (5,000 of 10,000 annotations). At the cost so far, finishing costs "
            "EUR 7,015.82, 104.8% over budget.",
        ),
        (
            "deadline_risk",
            "weld-qa has 12,000 annotations left; at 310.5 a day (the last 14 days) it finishes "
            "on 8 Jan 2027, 19 days after the deadline of 20 Dec 2026. Finishing in time needs "
            "600.0 a day.",
        ),
        (
            "training_expired",
            "Rex Turner is assigned to weld-qa with expired training: refresher, expired "
            "1 Oct 2026.",
        ),
    ],
)
def test_sentences_read_as_a_person_would_say_them(rule: str, expected: str) -> None:
    assert describe(rule).sentence == expected


def test_money_is_in_major_units_with_its_currency_and_shares_are_percentages() -> None:
    rows = {row.label: row.value for row in evidence_rows(EVIDENCE["budget_burn"])}
    assert rows["Spent"] == "EUR 3,507.91"
    assert rows["Forecast at completion"] == "EUR 7,015.82"
    assert rows["Forecast over budget"] == "104.8%"
    assert rows["Budget spent"] == "87.7%"
    assert "Currency" not in rows


def test_people_are_named_and_those_out_of_scope_only_counted() -> None:
    readable = describe("systematic_issue")
    assert [(p.annotator_id, p.name, p.email) for p in readable.people] == [
        (7, "Ada Steady", None),
        (3, "Rex Turner", "rex@example.org"),
    ]
    assert readable.people_outside == 1
    assert readable.checks == ("guidelines: a recent change", "data: a new batch")
    assert "from 9 Nov 2026" in readable.sentence
    labels = [row.label for row in readable.rows]
    assert "Change day" in labels and labels.count("Gold accuracy after") == 1


def test_small_p_values_are_not_rounded_to_zero() -> None:
    rows = {row.label: row.value for row in evidence_rows({"p_value": 1e-12, "drop": 0.081})}
    assert rows == {"p-value": "below 0.0001", "Drop": "8.1 percentage points"}


def test_unknown_evidence_is_still_free_of_reprs() -> None:
    rows = evidence_rows({"extra_things": [1, 2], "nested": {"a_b": 0.5}, "flag": True})
    assert [(row.label, row.value) for row in rows] == [
        ("Extra things", "1, 2"),
        ("Nested", "a b: 0.5"),
        ("Flag", "yes"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2026, 11, 3), "3 Nov 2026"),
        ("2026-11-03", "3 Nov 2026"),
        (dt.datetime(2026, 11, 3, 14, 5, tzinfo=dt.UTC), "3 Nov 2026 14:05 UTC"),
        (None, "—"),
    ],
)
def test_dates_read_as_dates(value: Any, expected: str) -> None:
    assert format_date(value) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (dt.date(2026, 11, 3), dt.date(2026, 11, 16), "3–16 Nov 2026"),
        (dt.date(2026, 10, 28), dt.date(2026, 11, 10), "28 Oct – 10 Nov 2026"),
        (dt.date(2026, 12, 28), dt.date(2027, 1, 10), "28 Dec 2026 – 10 Jan 2027"),
    ],
)
def test_periods_are_short_and_unambiguous(start: dt.date, end: dt.date, expected: str) -> None:
    assert format_period(start, end) == expected


def test_every_threshold_is_explained() -> None:
    names = {setting.name for setting in dataclasses.fields(AlertSettings)}
    assert set(THRESHOLDS) == names
    assert all(label and help_text for label, help_text in THRESHOLDS.values())
