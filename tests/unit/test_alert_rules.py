"""Alert rules on simulated data with fixed seeds: few false alarms, planted problems caught."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ops.alerts.rules import (
    QUALITY_RULES,
    AlertSettings,
    ProjectContext,
    ProjectProgress,
    find_budget_finding,
    find_consistency_findings,
    find_deadline_finding,
    find_escalation_findings,
    find_quality_findings,
    find_systematic_findings,
)
from ops.errors import ValidationError

TARGET = 0.9


def contexts(n_projects: int) -> dict[int, ProjectContext]:
    return {p: ProjectContext(p, f"p{p}", TARGET) for p in range(1, n_projects + 1)}


def simulate(
    rng: np.random.Generator,
    accuracy: np.ndarray,
    *,
    project_of: np.ndarray,
    speed: np.ndarray | None = None,
    baseline_accuracy: np.ndarray | None = None,
    gold_mean: int = 60,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Window and baseline rollup sums for annotators with the given true accuracies."""
    n = len(accuracy)
    speed = np.ones(n) if speed is None else speed
    baseline_accuracy = accuracy if baseline_accuracy is None else baseline_accuracy
    annotations = rng.poisson(gold_mean * 10, n)
    gold = rng.poisson(gold_mean, n)
    window = pd.DataFrame(
        {
            "annotator_id": np.arange(n),
            "project_id": project_of,
            "annotations": annotations,
            "active_seconds": annotations * 20.0 * speed * rng.lognormal(0, 0.1, n),
            "gold_answered": gold,
            "gold_correct": rng.binomial(gold, accuracy),
            "escalations": rng.binomial(annotations, 0.02),
        }
    )
    base_gold = rng.poisson(gold_mean * 3, n)
    baseline = pd.DataFrame(
        {
            "annotator_id": np.arange(n),
            "project_id": project_of,
            "gold_answered": base_gold,
            "gold_correct": rng.binomial(base_gold, baseline_accuracy),
        }
    )
    return window, baseline


def consistency_frame(
    rng: np.random.Generator, consistency: np.ndarray, project_of: np.ndarray
) -> pd.DataFrame:
    repeated = rng.poisson(25, len(consistency))
    return pd.DataFrame(
        {
            "annotator_id": np.arange(len(consistency)),
            "project_id": project_of,
            "n_repeated_items": repeated,
            "n_consistent_items": rng.binomial(repeated, consistency),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_annotators_who_meet_the_target_rarely_alert(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    project_of = rng.integers(1, 5, n)
    accuracy = rng.uniform(TARGET, 0.97, n)
    window, baseline = simulate(rng, accuracy, project_of=project_of)
    projects = contexts(4)
    findings = find_quality_findings(window, baseline, projects)
    findings += find_consistency_findings(
        consistency_frame(rng, np.full(n, 0.95), project_of), projects
    )
    findings += find_escalation_findings(window, projects)
    alerted = {f.annotator_id for f in findings}
    assert len(alerted) / n <= 0.05, sorted((f.rule, f.annotator_id) for f in findings)
    assert not find_systematic_findings(window, baseline, projects, findings)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_bad_and_fast_sloppy_annotators_are_caught(seed: int) -> None:
    rng = np.random.default_rng(seed)
    good, bad, sloppy = 200, 30, 30
    n = good + bad + sloppy
    project_of = rng.integers(1, 5, n)
    accuracy = np.concatenate(
        [rng.uniform(TARGET, 0.97, good), np.full(bad, 0.72), np.full(sloppy, 0.75)]
    )
    speed = np.concatenate([np.ones(good + bad), np.full(sloppy, 0.4)])
    window, baseline = simulate(rng, accuracy, project_of=project_of, speed=speed)
    findings = find_quality_findings(window, baseline, contexts(4))
    assert all(f.annotator_id is not None for f in findings)
    rules = {f.annotator_id: f.rule for f in findings if f.annotator_id is not None}
    caught_bad = [rules.get(i) for i in range(good, good + bad)]
    caught_sloppy = [rules.get(i) for i in range(good + bad, n)]
    assert sum(rule == "gold_below_target" for rule in caught_bad) >= 0.9 * bad
    assert sum(rule == "quality_vs_speed" for rule in caught_sloppy) >= 0.9 * sloppy
    false_alarms = [i for i in rules if i < good]
    assert len(false_alarms) <= 0.05 * good


def test_a_planted_guideline_problem_yields_one_systematic_alert() -> None:
    rng = np.random.default_rng(7)
    n = 80
    project_of = np.repeat([1, 2, 3, 4], 20)
    before = rng.uniform(0.91, 0.96, n)
    now = before.copy()
    # Project 3: most annotators drop together after a guideline change.
    hit = (project_of == 3) & (rng.random(n) < 0.75)
    now[hit] -= 0.18
    window, baseline = simulate(rng, now, project_of=project_of, baseline_accuracy=before)
    projects = contexts(4)
    individual = find_quality_findings(window, baseline, projects)
    systematic = find_systematic_findings(window, baseline, projects, individual)
    assert [finding.project_id for finding in systematic] == [3]
    [issue] = systematic
    assert issue.annotator_id is None and issue.severity == "critical"
    assert issue.evidence["annotators_dropped"] >= 10
    assert any("guidelines" in cause for cause in issue.evidence["likely_causes"])
    in_project = [f for f in individual if f.project_id == 3 and f.rule in QUALITY_RULES]
    assert in_project and all(child in issue.children for child in in_project)


def test_one_annotator_dropping_is_not_systematic() -> None:
    rng = np.random.default_rng(8)
    project_of = np.ones(20, dtype=int)
    before = np.full(20, 0.94)
    now = before.copy()
    now[0] = 0.7
    window, baseline = simulate(rng, now, project_of=project_of, baseline_accuracy=before)
    individual = find_quality_findings(window, baseline, contexts(1))
    assert not find_systematic_findings(window, baseline, contexts(1), individual)
    assert [(f.annotator_id, f.rule) for f in individual] == [(0, "gold_below_target")]


@pytest.mark.parametrize(
    ("answered", "correct", "fires"),
    [
        (29, 0, False),  # too few gold answers, however bad
        (30, 21, True),  # 70% on 30: upper bound ~0.83 < 0.9
        (30, 25, False),  # 83%: upper bound ~0.93, not credibly below
        (200, 170, True),  # 85% on 200: upper ~0.89
        (200, 176, False),  # 88% on 200: upper ~0.92
    ],
)
def test_gold_rule_uses_the_upper_wilson_bound_and_a_minimum_count(
    answered: int, correct: int, fires: bool
) -> None:
    window = pd.DataFrame(
        [
            {
                "annotator_id": 1,
                "project_id": 1,
                "annotations": 500,
                "active_seconds": 10000.0,
                "gold_answered": answered,
                "gold_correct": correct,
                "escalations": 10,
            }
        ]
    )
    baseline = window[["annotator_id", "project_id", "gold_answered", "gold_correct"]].iloc[:0]
    findings = find_quality_findings(window, baseline, contexts(1))
    assert bool(findings) is fires
    if fires:
        assert findings[0].evidence["ci_high"] < TARGET


def test_drift_needs_a_credible_drop_from_own_baseline() -> None:
    row = {
        "annotator_id": 1,
        "project_id": 1,
        "annotations": 900,
        "active_seconds": 18000.0,
        "escalations": 18,
    }
    window = pd.DataFrame([row | {"gold_answered": 100, "gold_correct": 90}])
    dropped = pd.DataFrame(
        [{"annotator_id": 1, "project_id": 1, "gold_answered": 300, "gold_correct": 297}]
    )
    steady = pd.DataFrame(
        [{"annotator_id": 1, "project_id": 1, "gold_answered": 300, "gold_correct": 273}]
    )
    [finding] = find_quality_findings(window, dropped, contexts(1))
    assert finding.rule == "drift" and finding.evidence["drop"] == pytest.approx(0.09)
    assert finding.evidence["p_value"] < 0.01
    assert not find_quality_findings(window, steady, contexts(1))


def test_escalation_far_below_the_project_reads_as_guessing() -> None:
    frame = pd.DataFrame(
        {
            "annotator_id": [1, 2, 3, 4],
            "project_id": [1, 1, 1, 1],
            "annotations": [1000, 1000, 1000, 1000],
            "escalations": [0, 40, 35, 150],
            "active_seconds": [1.0] * 4,
            "gold_answered": [0] * 4,
            "gold_correct": [0] * 4,
        }
    )
    findings = {(f.annotator_id, f.rule) for f in find_escalation_findings(frame, contexts(1))}
    assert findings == {(1, "escalation_low"), (4, "escalation_high")}


def test_low_consistency_needs_enough_repeats() -> None:
    frame = pd.DataFrame(
        {
            "annotator_id": [1, 2, 3],
            "project_id": [1, 1, 1],
            "n_repeated_items": [40, 9, 40],
            "n_consistent_items": [20, 2, 38],
        }
    )
    assert [f.annotator_id for f in find_consistency_findings(frame, contexts(1))] == [1]


def progress(**overrides: Any) -> ProjectProgress:
    defaults = ProjectProgress(
        project_id=1,
        budget_minor=1_000_000,
        spent_minor=800_000,
        currency="USD",
        volume_target=100_000,
        done=40_000,
        recent_annotations=14_000,
        recent_days=14,
        deadline=dt.date(2026, 7, 1),
        today=dt.date(2026, 6, 1),
    )
    return dataclasses.replace(defaults, **overrides)


def test_budget_burn_forecasts_cost_at_completion() -> None:
    finding = find_budget_finding(progress(), AlertSettings())
    assert finding is not None and finding.rule == "budget_burn"
    assert finding.evidence["forecast_at_completion_minor"] == 2_000_000
    assert finding.severity == "critical"
    assert find_budget_finding(progress(spent_minor=450_000), AlertSettings()) is None
    assert find_budget_finding(progress(budget_minor=None), AlertSettings()) is None


def test_deadline_risk_at_current_throughput() -> None:
    # 60,000 left at 1,000 a day needs 60 days; 30 remain.
    finding = find_deadline_finding(progress(), AlertSettings())
    assert finding is not None
    assert finding.evidence["projected_finish"] == "2026-07-31"
    assert finding.evidence["late_by_days"] == 30
    assert finding.evidence["needed_per_day"] == 2000.0
    assert find_deadline_finding(progress(recent_annotations=28_000 * 2), AlertSettings()) is None
    stalled = find_deadline_finding(progress(recent_annotations=0), AlertSettings())
    assert stalled is not None and stalled.evidence["projected_finish"] is None


def test_project_settings_override_defaults_and_refuse_unknown_keys() -> None:
    settings = AlertSettings.for_project({"min_gold": "50", "speed_ratio": 0.5})
    assert (settings.min_gold, settings.speed_ratio, settings.window_days) == (50, 0.5, 14)
    with pytest.raises(ValidationError, match="Unknown alert setting 'min_golds'"):
        AlertSettings.for_project({"min_golds": 3})
    with pytest.raises(ValidationError, match="must be a whole number"):
        AlertSettings.for_project({"min_gold": "many"})


def daily_gold(
    rng: np.random.Generator,
    before: np.ndarray,
    after: np.ndarray,
    *,
    days: int = 14,
    change: int = 9,
    per_day: int = 12,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A window of daily gold answers (accuracy ``before`` until day ``change``, then
    ``after``), and its per-annotator sums as the engine loads them."""
    start = dt.date(2026, 3, 1)
    rows = []
    for annotator in range(len(before)):
        for day in range(days):
            answered = int(rng.poisson(per_day))
            accuracy = before[annotator] if day < change else after[annotator]
            rows.append(
                {
                    "annotator_id": annotator,
                    "project_id": 1,
                    "day": start + dt.timedelta(days=day),
                    "gold_answered": answered,
                    "gold_correct": int(rng.binomial(answered, accuracy)),
                }
            )
    daily = pd.DataFrame(rows)
    window = daily.groupby(["annotator_id", "project_id"], as_index=False)[
        ["gold_answered", "gold_correct"]
    ].sum()
    window["annotations"] = window["gold_answered"] * 10
    window["active_seconds"] = window["annotations"] * 20.0
    window["escalations"] = 0
    return daily, window


NO_BASELINE = pd.DataFrame(columns=["annotator_id", "project_id", "gold_answered", "gold_correct"])


def test_a_young_project_dropping_together_is_one_alert_with_the_change_day() -> None:
    rng = np.random.default_rng(21)
    before = rng.uniform(0.88, 0.95, 8)
    daily, window = daily_gold(rng, before, before - 0.2)
    individual = find_quality_findings(window, NO_BASELINE, contexts(1))
    assert individual, "each person is under the target too"
    [issue] = find_systematic_findings(window, NO_BASELINE, contexts(1), individual, daily)
    evidence = issue.evidence
    assert evidence["method"] == "change day within the window"
    assert evidence["change_day"] == "2026-03-10"
    assert evidence["accuracy_before"] - evidence["accuracy_after"] > 0.15
    assert evidence["annotators_dropped"] >= 6 and evidence["annotators_measured"] == 8
    assert evidence["p_value"] < 0.001 and evidence["statistic"] < -5
    assert evidence["p_value"] == pytest.approx(
        min(1, evidence["p_value_at_day"] * evidence["candidate_days"]), rel=0.01
    )
    assert evidence["typical_drop"] > 0.15 and evidence["typical_drop_p_value"] < 0.01
    assert issue.children == individual
    # Without the daily rows (the rule as it was) a young project had no systematic alert.
    assert not find_systematic_findings(window, NO_BASELINE, contexts(1), individual)


def test_one_annotator_dropping_inside_the_window_stays_individual() -> None:
    rng = np.random.default_rng(22)
    before = rng.uniform(0.9, 0.95, 10)
    after = before.copy()
    after[0] = 0.4
    daily, window = daily_gold(rng, before, after, change=4, per_day=20)
    individual = find_quality_findings(window, NO_BASELINE, contexts(1))
    assert [(f.annotator_id, f.rule) for f in individual] == [(0, "gold_below_target")]
    assert not find_systematic_findings(window, NO_BASELINE, contexts(1), individual, daily)


def test_a_project_with_history_gets_one_alert_when_both_ways_see_the_drop() -> None:
    rng = np.random.default_rng(23)
    before = rng.uniform(0.9, 0.95, 8)
    daily, window = daily_gold(rng, before, before - 0.25, change=4)
    baseline = window[["annotator_id", "project_id"]].assign(gold_answered=400)
    baseline["gold_correct"] = np.round(400 * before).astype(int)
    settings = contexts(1)
    [issue] = find_systematic_findings(window, baseline, settings, [], daily)
    assert issue.evidence["method"] == "change day within the window"
    # The baseline comparison alone sees it too; the in-window one names the day.
    [alone] = find_systematic_findings(window, baseline, settings, [])
    assert alone.evidence["method"] == "window against each annotator's own baseline"
    assert "change_day" not in alone.evidence


def test_the_in_window_rule_follows_the_project_thresholds() -> None:
    rng = np.random.default_rng(24)
    before = rng.uniform(0.88, 0.95, 6)
    daily, window = daily_gold(rng, before, before - 0.2)
    strict = {
        1: ProjectContext(
            1, "p1", TARGET, AlertSettings.for_project({"systematic_change_p_value": 1e-12})
        )
    }
    assert find_systematic_findings(window, NO_BASELINE, contexts(1), [], daily)
    assert not find_systematic_findings(window, NO_BASELINE, strict, [], daily)
    seven = {1: ProjectContext(1, "p1", TARGET, AlertSettings(systematic_min_annotators=7))}
    assert not find_systematic_findings(window, NO_BASELINE, seven, [], daily)
