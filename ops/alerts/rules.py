"""Alert rules as pure functions: window statistics in, findings with their evidence out.

Every quality rule decides on an interval or a test, never on a point estimate, and
needs a minimum sample: an alert on three golden items teaches people to ignore alerts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from ops.errors import ValidationError
from ops.metrics.changepoint import estimate_typical_drop, find_change_day
from ops.metrics.forecast import days_to_finish, forecast_cost_at_completion

QUALITY_RULES = ("gold_below_target", "quality_vs_speed", "drift")
RULE_TITLES = {
    "gold_below_target": "Gold accuracy credibly below target",
    "quality_vs_speed": "Fast but inaccurate",
    "drift": "Accuracy dropped against own baseline",
    "low_consistency": "Low consistency on repeated items",
    "escalation_low": "Escalates far less than the project (guessing?)",
    "escalation_high": "Escalates far more than the project",
    "systematic_issue": "Several annotators dropped at once",
    "budget_burn": "Budget burning ahead of progress",
    "deadline_risk": "Deadline at risk at current throughput",
    "training_expired": "Assigned with expired training",
    "qualification_missing": "Assigned without a passed qualification",
}
RULES = tuple(RULE_TITLES)


@dataclass(frozen=True)
class AlertSettings:
    """Thresholds for one project; projects override any of them in alert_settings."""

    window_days: int = 14
    baseline_days: int = 42
    min_gold: int = 30
    confidence: float = 0.95
    speed_ratio: float = 0.6
    drift_min_drop: float = 0.05
    drift_p_value: float = 0.01
    consistency_target: float = 0.8
    min_repeated_items: int = 10
    escalation_min_annotations: int = 200
    escalation_low_ratio: float = 0.25
    escalation_high_ratio: float = 3.0
    escalation_p_value: float = 0.001
    systematic_min_annotators: int = 3
    systematic_min_share: float = 0.3
    systematic_min_drop: float = 0.08
    systematic_min_gold: int = 10
    systematic_change_p_value: float = 0.001
    systematic_shared_p_value: float = 0.01
    budget_margin: float = 0.15
    budget_min_spent: float = 0.25
    deadline_throughput_days: int = 14

    @classmethod
    def for_project(cls, overrides: dict[str, Any] | None) -> AlertSettings:
        """Defaults with a project's overrides applied; unknown or bad keys are refused."""
        overrides = overrides or {}
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in known:
                raise ValidationError(
                    f"Unknown alert setting {key!r}; known settings: {', '.join(sorted(known))}.",
                    field=key,
                )
            default = getattr(cls, key)
            try:
                values[key] = type(default)(value)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"Alert setting {key} must be a "
                    f"{'whole number' if isinstance(default, int) else 'number'}, got {value!r}.",
                    field=key,
                ) from None
            if values[key] < 0:
                raise ValidationError(f"Alert setting {key} must not be negative.", field=key)
        return cls(**values)


@dataclass(frozen=True)
class ProjectContext:
    """What the rules need to know about a project."""

    project_id: int
    slug: str
    quality_target: float
    settings: AlertSettings = field(default_factory=AlertSettings)


@dataclass
class Finding:
    """A rule that fired for a subject in a window, with the numbers behind it."""

    rule: str
    project_id: int | None
    annotator_id: int | None
    severity: str
    evidence: dict[str, Any]
    children: list[Finding] = field(default_factory=list)

    @property
    def subject_key(self) -> str:
        if self.annotator_id is not None:
            return f"annotator:{self.annotator_id}:project:{self.project_id}"
        return f"project:{self.project_id}"

    @property
    def title(self) -> str:
        return RULE_TITLES[self.rule]


def _wilson(correct: int, answered: int, confidence: float) -> tuple[float, float]:
    low, high = proportion_confint(correct, answered, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


WINDOW_COLUMNS = (
    "annotator_id",
    "project_id",
    "annotations",
    "active_seconds",
    "gold_answered",
    "gold_correct",
    "escalations",
)


def find_quality_findings(
    window: pd.DataFrame, baseline: pd.DataFrame, projects: dict[int, ProjectContext]
) -> list[Finding]:
    """Per annotator x project: gold below target, fast-but-inaccurate and drift.

    ``window`` and ``baseline``: one row per annotator x project with counts over the
    window and over the baseline period before it (annotations, seconds, gold).
    """
    findings: list[Finding] = []
    if window.empty:
        return findings
    merged = window.merge(
        baseline[["annotator_id", "project_id", "gold_answered", "gold_correct"]],
        on=["annotator_id", "project_id"],
        how="left",
        suffixes=("", "_baseline"),
    ).fillna({"gold_answered_baseline": 0, "gold_correct_baseline": 0})
    with np.errstate(divide="ignore", invalid="ignore"):
        merged["seconds_per_annotation"] = merged["active_seconds"] / merged["annotations"]
    project_median = (
        merged[merged["annotations"] > 0].groupby("project_id")["seconds_per_annotation"].median()
    )
    for row in merged.to_dict("records"):
        context = projects.get(int(row["project_id"]))
        if context is None:
            continue
        settings = context.settings
        answered, correct = int(row["gold_answered"]), int(row["gold_correct"])
        base: dict[str, Any] = {
            "gold_answered": answered,
            "gold_correct": correct,
            "target": context.quality_target,
        }
        below = None
        if answered >= settings.min_gold:
            low, high = _wilson(correct, answered, settings.confidence)
            base |= {
                "gold_accuracy": _round(correct / answered),
                "ci_low": _round(low),
                "ci_high": _round(high),
                "min_gold": settings.min_gold,
            }
            if high < context.quality_target:
                below = high
        if below is not None:
            median = float(project_median.get(row["project_id"], np.nan))
            seconds = float(row["seconds_per_annotation"])
            fast = bool(median > 0 and seconds < settings.speed_ratio * median)
            severity = "critical" if below < context.quality_target - 0.1 else "warning"
            evidence = base | {
                "seconds_per_annotation": _round(seconds, 1),
                "project_median_seconds": _round(median, 1),
                "speed_ratio": _round(seconds / median, 3) if median > 0 else None,
            }
            findings.append(
                Finding(
                    "quality_vs_speed" if fast else "gold_below_target",
                    context.project_id,
                    int(row["annotator_id"]),
                    severity,
                    evidence,
                )
            )
            continue
        drift = _drift(row, settings)
        if drift is not None:
            findings.append(
                Finding(
                    "drift", context.project_id, int(row["annotator_id"]), "warning", base | drift
                )
            )
    return findings


def _drift(row: Any, settings: AlertSettings) -> dict[str, Any] | None:
    """Window accuracy credibly below the annotator's own baseline (one-sided z-test)."""
    answered, correct = int(row["gold_answered"]), int(row["gold_correct"])
    base_answered, base_correct = (
        int(row["gold_answered_baseline"]),
        int(row["gold_correct_baseline"]),
    )
    if answered < settings.min_gold or base_answered < settings.min_gold:
        return None
    now, before = correct / answered, base_correct / base_answered
    if before - now < settings.drift_min_drop:
        return None
    _stat, p_value = proportions_ztest(
        [correct, base_correct], [answered, base_answered], alternative="smaller"
    )
    if not p_value < settings.drift_p_value:
        return None
    return {
        "baseline_gold_answered": base_answered,
        "baseline_gold_correct": base_correct,
        "baseline_accuracy": _round(before),
        "drop": _round(before - now),
        "p_value": float(f"{p_value:.3g}"),
    }


LIKELY_CAUSES = (
    "guidelines: a recent change or an ambiguous rule",
    "data: a new batch or source that differs from before",
    "tooling: a labeling interface or pre-label change",
)


def find_systematic_findings(
    window: pd.DataFrame,
    baseline: pd.DataFrame,
    projects: dict[int, ProjectContext],
    individual: list[Finding],
    daily: pd.DataFrame | None = None,
) -> list[Finding]:
    """Projects where several annotators dropped in the same window: one project alert.

    Two ways to see it, at most one alert per project: a drop that started inside the
    window, found in ``daily`` (one row per annotator x project x day: gold_answered,
    gold_correct), which needs no history; else each person's window against their own
    baseline, for drops that started before the window. The individual quality findings
    of that project become its children, so people hear about one guideline/data/tooling
    problem once, not once per annotator.
    """
    project_ids = set(window["project_id"].tolist())
    if daily is not None:
        project_ids |= set(daily["project_id"].tolist())
    results: list[Finding] = []
    for project_id in sorted(project_ids):
        context = projects.get(int(project_id))
        if context is None:
            continue
        settings = context.settings
        evidence = None
        if daily is not None:
            evidence = _change_in_window(daily[daily["project_id"] == project_id], settings)
        if evidence is None:
            evidence = _drop_against_baseline(
                window[window["project_id"] == project_id],
                baseline[baseline["project_id"] == project_id],
                settings,
            )
        if evidence is None:
            continue
        children = [
            finding
            for finding in individual
            if finding.project_id == context.project_id and finding.rule in QUALITY_RULES
        ]
        results.append(
            Finding(
                "systematic_issue",
                context.project_id,
                None,
                "critical",
                evidence
                | {"min_drop": settings.systematic_min_drop, "likely_causes": list(LIKELY_CAUSES)},
                children,
            )
        )
    return results


def _annotators_dropped(counts: pd.DataFrame, settings: AlertSettings) -> dict[str, Any] | None:
    """Enough of the measured annotators fell by at least the minimum drop; else None.

    ``counts``: one row per measured annotator: annotator_id, answered_before,
    correct_before, answered_after, correct_after.
    """
    if counts.empty:
        return None
    drops = (
        counts["correct_before"] / counts["answered_before"]
        - counts["correct_after"] / counts["answered_after"]
    )
    dropped = counts[drops >= settings.systematic_min_drop]
    share = len(dropped) / len(counts)
    if len(dropped) < settings.systematic_min_annotators or share < settings.systematic_min_share:
        return None
    return {
        "annotators_dropped": len(dropped),
        "annotators_measured": len(counts),
        "share_dropped": _round(share, 3),
        "dropped_annotator_ids": sorted(int(a) for a in dropped["annotator_id"]),
    }


def _drop_against_baseline(
    window: pd.DataFrame, baseline: pd.DataFrame, settings: AlertSettings
) -> dict[str, Any] | None:
    """Each person's window against their own baseline before it; the pool credibly lower."""
    if window.empty or baseline.empty:
        return None
    merged = window.merge(
        baseline[["annotator_id", "project_id", "gold_answered", "gold_correct"]],
        on=["annotator_id", "project_id"],
        how="inner",
        suffixes=("", "_baseline"),
    )
    merged = merged[
        (merged["gold_answered"] >= settings.systematic_min_gold)
        & (merged["gold_answered_baseline"] >= settings.min_gold)
    ]
    counts = pd.DataFrame(
        {
            "annotator_id": merged["annotator_id"],
            "answered_before": merged["gold_answered_baseline"],
            "correct_before": merged["gold_correct_baseline"],
            "answered_after": merged["gold_answered"],
            "correct_after": merged["gold_correct"],
        }
    )
    shared = _annotators_dropped(counts, settings)
    if shared is None:
        return None
    correct = [int(counts["correct_after"].sum()), int(counts["correct_before"].sum())]
    answered = [int(counts["answered_after"].sum()), int(counts["answered_before"].sum())]
    # Small samples drop by chance; the project as a whole must have credibly dropped.
    statistic, p_value = proportions_ztest(correct, answered, alternative="smaller")
    if not p_value < settings.drift_p_value:
        return None
    return {
        "method": "window against each annotator's own baseline",
        "test": "one-sided two-proportion z-test, pooled window against the pooled "
        f"{settings.baseline_days}-day baselines",
        **shared,
        "accuracy_before": _round(correct[1] / answered[1]),
        "accuracy_after": _round(correct[0] / answered[0]),
        # The name this figure had before there were two methods; scripts may read it.
        "accuracy_now": _round(correct[0] / answered[0]),
        "gold_answered_before": answered[1],
        "gold_answered_after": answered[0],
        "statistic": _round(statistic, 2),
        "p_value": float(f"{p_value:.3g}"),
    }


def _change_in_window(daily: pd.DataFrame, settings: AlertSettings) -> dict[str, Any] | None:
    """A drop that started on a day inside the window, shared by several annotators."""
    scan = find_change_day(daily, min_answered=settings.min_gold)
    if scan is None or not scan.p_value < settings.systematic_change_p_value:
        return None
    in_window = daily.groupby("annotator_id")["gold_answered"].sum()
    counts = scan.annotators
    counts = counts[counts["annotator_id"].map(in_window) >= settings.systematic_min_gold]
    shared = _annotators_dropped(counts, settings)
    if shared is None:
        return None
    # One person falling hard pulls the pool down, and in the few days after a change a
    # few small samples dip by chance often enough to pass the count above; the typical
    # annotator's drop (random effects, which widen with disagreement) is not fooled so.
    typical = estimate_typical_drop(
        counts["answered_before"].to_numpy(),
        counts["correct_before"].to_numpy(),
        counts["answered_after"].to_numpy(),
        counts["correct_after"].to_numpy(),
    )
    # The day was picked where the drop looked strongest: the same Bonferroni correction.
    typical_p_value = min(1.0, typical.p_value * scan.candidate_days)
    if not typical_p_value < settings.systematic_shared_p_value:
        return None
    drop = scan.drop
    return {
        "method": "change day within the window",
        "test": "exact one-sided test of each annotator against themself before the day "
        f"(stratified Cochran-Mantel-Haenszel), Bonferroni over {scan.candidate_days} "
        "candidate days",
        "change_day": scan.change_day.isoformat(),
        **shared,
        "typical_drop": _round(typical.mean),
        "typical_drop_p_value": float(f"{typical_p_value:.3g}"),
        "accuracy_before": _round(drop.accuracy_before),
        "accuracy_after": _round(drop.accuracy_after),
        "gold_answered_before": drop.answered_before,
        "gold_answered_after": drop.answered_after,
        "statistic": _round(drop.statistic, 2),
        "p_value": float(f"{scan.p_value:.3g}"),
        "p_value_at_day": float(f"{drop.p_value:.3g}"),
        "candidate_days": scan.candidate_days,
    }


def find_consistency_findings(
    consistency: pd.DataFrame, projects: dict[int, ProjectContext]
) -> list[Finding]:
    """Annotators whose repeated items credibly disagree with themselves too often.

    ``consistency``: annotator_id, project_id, n_repeated_items, n_consistent_items.
    """
    findings = []
    for row in consistency.to_dict("records"):
        context = projects.get(int(row["project_id"]))
        if context is None:
            continue
        settings = context.settings
        repeated, consistent = int(row["n_repeated_items"]), int(row["n_consistent_items"])
        if repeated < settings.min_repeated_items:
            continue
        low, high = _wilson(consistent, repeated, settings.confidence)
        if high < settings.consistency_target:
            findings.append(
                Finding(
                    "low_consistency",
                    context.project_id,
                    int(row["annotator_id"]),
                    "warning",
                    {
                        "repeated_items": repeated,
                        "consistent_items": consistent,
                        "consistency": _round(consistent / repeated),
                        "ci_low": _round(low),
                        "ci_high": _round(high),
                        "target": settings.consistency_target,
                    },
                )
            )
    return findings


def find_escalation_findings(
    window: pd.DataFrame, projects: dict[int, ProjectContext]
) -> list[Finding]:
    """Escalation rates far from the project's: too low suggests guessing, too high confusion."""
    findings: list[Finding] = []
    for project_id in sorted(set(window["project_id"].tolist())):
        rows = window[window["project_id"] == project_id]
        context = projects.get(int(project_id))
        if context is None:
            continue
        settings = context.settings
        for row in rows.to_dict("records"):
            annotations = int(row["annotations"])
            if annotations < settings.escalation_min_annotations:
                continue
            others = rows[rows["annotator_id"] != row["annotator_id"]]
            others_annotations = int(others["annotations"].sum())
            if others_annotations == 0:
                continue
            project_rate = float(others["escalations"].sum()) / others_annotations
            if project_rate <= 0:
                continue
            escalations = int(row["escalations"])
            rate = escalations / annotations
            evidence = {
                "annotations": annotations,
                "escalations": escalations,
                "escalation_rate": _round(rate),
                "project_rate": _round(project_rate),
            }
            if rate <= settings.escalation_low_ratio * project_rate:
                rule, alternative, severity = "escalation_low", "less", "info"
            elif rate >= settings.escalation_high_ratio * project_rate:
                rule, alternative, severity = "escalation_high", "greater", "warning"
            else:
                continue
            test = binomtest(escalations, annotations, project_rate, alternative=alternative)
            if test.pvalue < settings.escalation_p_value:
                findings.append(
                    Finding(
                        rule,
                        context.project_id,
                        int(row["annotator_id"]),
                        severity,
                        evidence | {"p_value": float(f"{test.pvalue:.3g}")},
                    )
                )
    return findings


@dataclass(frozen=True)
class ProjectProgress:
    """Money and volume of one project up to a day."""

    project_id: int
    budget_minor: int | None
    spent_minor: int
    currency: str
    volume_target: int | None
    done: int
    recent_annotations: int
    recent_days: int
    deadline: dt.date | None
    today: dt.date


def find_budget_finding(progress: ProjectProgress, settings: AlertSettings) -> Finding | None:
    """Spend share of budget running ahead of the share of volume done, with a forecast."""
    if not progress.budget_minor or not progress.volume_target or progress.done <= 0:
        return None
    spent_share = progress.spent_minor / progress.budget_minor
    done_share = progress.done / progress.volume_target
    if spent_share < settings.budget_min_spent or spent_share - done_share < settings.budget_margin:
        return None
    # At the cost per annotation so far, finishing the volume costs this much.
    forecast = forecast_cost_at_completion(
        spent_minor=progress.spent_minor, done=progress.done, volume_target=progress.volume_target
    )
    if forecast is None:
        return None
    return Finding(
        "budget_burn",
        progress.project_id,
        None,
        "critical" if forecast > 1.25 * progress.budget_minor else "warning",
        {
            "spent_minor": progress.spent_minor,
            "budget_minor": progress.budget_minor,
            "currency": progress.currency,
            "spent_share": _round(spent_share, 3),
            "done": progress.done,
            "volume_target": progress.volume_target,
            "done_share": _round(done_share, 3),
            "forecast_at_completion_minor": forecast,
            "forecast_over_budget_share": _round(forecast / progress.budget_minor - 1, 3),
        },
    )


def find_deadline_finding(progress: ProjectProgress, settings: AlertSettings) -> Finding | None:
    """The remaining volume cannot be done by the deadline at recent throughput."""
    if progress.deadline is None or not progress.volume_target:
        return None
    remaining = progress.volume_target - progress.done
    if remaining <= 0:
        return None
    per_day = progress.recent_annotations / max(progress.recent_days, 1)
    days_left = (progress.deadline - progress.today).days
    needed = days_to_finish(remaining, per_day)
    days_needed = -1 if needed is None else needed
    finish = None if needed is None else progress.today + dt.timedelta(days=needed)
    if finish is not None and finish <= progress.deadline:
        return None
    late_by = None if finish is None else (finish - progress.deadline).days
    return Finding(
        "deadline_risk",
        progress.project_id,
        None,
        "critical" if late_by is None or late_by > 7 else "warning",
        {
            "remaining": remaining,
            "per_day": _round(per_day, 1),
            "throughput_days": progress.recent_days,
            "deadline": progress.deadline.isoformat(),
            "days_left": days_left,
            "days_needed": days_needed if days_needed >= 0 else None,
            "projected_finish": finish.isoformat() if finish else None,
            "late_by_days": late_by,
            "needed_per_day": _round(remaining / days_left, 1) if days_left > 0 else None,
        },
    )
