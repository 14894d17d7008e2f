"""An annotator's own scorecard: who they are, how their weeks went, what is due, and what
the next tier asks of them. Read from rollups and small tables; only ever their own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import TIERS, Annotator, utcnow
from db.queries.people import get_team
from db.queries.rollups import load_weekly_rollup_frame
from ops.alerts.evidence import format_date
from ops.errors import NotFound
from ops.permissions import Principal, people_scope, require
from ops.workforce.evidence import CALIBRATION_SESSIONS, PersonMetrics, measure_people
from ops.workforce.profile import weekly_trend
from ops.workforce.tiers import (
    CriterionCheck,
    PromotionCriteria,
    evaluate_promotion,
    get_promotion_criteria,
)
from ops.workforce.training import training_rows

TREND_WEEKS = 12
# How the interval around a week's gold accuracy is put to a person who is not a statistician.
INTERVAL_WORDS = (
    "Golden items are hidden test items whose right answer is known. The range under each "
    "week's accuracy is where your true accuracy very likely lies (a 95% interval): with "
    "few golden items it is wide, with many it is narrow. Decisions about your work use "
    "the range, not the single number, so one unlucky week on a few items does not count "
    "against you."
)


@dataclass(frozen=True)
class TrendWeek:
    """One week of the person's work; accuracy fields are None without gold answers."""

    week: dt.date
    annotations: int
    per_active_hour: float | None
    gold_answered: int
    accuracy: float | None
    accuracy_low: float | None
    accuracy_high: float | None

    @property
    def in_words(self) -> str:
        """The week's accuracy as a sentence."""
        start = format_date(self.week)
        if self.accuracy is None or self.accuracy_low is None or self.accuracy_high is None:
            return f"Week of {start}: {self.annotations:,} annotations, no golden items."
        return (
            f"Week of {start}: {self.accuracy:.0%} right on {self.gold_answered:,} golden "
            f"items; your true accuracy is very likely between {self.accuracy_low:.0%} and "
            f"{self.accuracy_high:.0%}."
        )


@dataclass(frozen=True)
class TrainingDue:
    """A training the person must do or renew: what, for which project, and by when."""

    kind: str
    topic: str
    project: str
    status: str  # expired, missing, due
    due_on: dt.date | None

    @property
    def in_words(self) -> str:
        """What to do, in one line."""
        if self.status == "expired":
            return f"expired on {format_date(self.due_on)}: renew it before more work"
        if self.status == "missing":
            return "not taken yet: needed for your current work"
        return f"renew by {format_date(self.due_on)}"


@dataclass(frozen=True)
class TierStep:
    """One criterion of the next tier: required, reached, and progress from 0 to 1."""

    name: str
    required: str
    actual: str
    met: bool
    progress: float


@dataclass(frozen=True)
class Scorecard:
    """The logged-in annotator's own scorecard."""

    name: str
    tier: str
    team: str
    status: str
    weeks: tuple[TrendWeek, ...]
    interval_words: str
    training: tuple[TrainingDue, ...]
    next_tier: str | None
    next_tier_window_days: int | None
    steps: tuple[TierStep, ...]
    refreshed: dt.datetime

    @property
    def trend_frame(self) -> pd.DataFrame:
        """The weeks as a frame for the charts: week, annotations, per_active_hour,
        gold_answered, accuracy, accuracy_ci_low, accuracy_ci_high."""
        return pd.DataFrame(
            [
                {
                    "week": week.week,
                    "annotations": week.annotations,
                    "per_active_hour": week.per_active_hour,
                    "gold_answered": week.gold_answered,
                    "accuracy": week.accuracy,
                    "accuracy_ci_low": week.accuracy_low,
                    "accuracy_ci_high": week.accuracy_high,
                }
                for week in self.weeks
            ],
            columns=[
                "week",
                "annotations",
                "per_active_hour",
                "gold_answered",
                "accuracy",
                "accuracy_ci_low",
                "accuracy_ci_high",
            ],
        )


def _optional(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _weeks(frame: pd.DataFrame) -> tuple[TrendWeek, ...]:
    rows = frame.to_dict("records")
    return tuple(
        TrendWeek(
            week=row["week"],
            annotations=int(row["annotations"]),
            per_active_hour=_optional(row["per_active_hour"]),
            gold_answered=int(row["gold_answered"]),
            accuracy=_optional(row["accuracy"]),
            accuracy_low=_optional(row["accuracy_ci_low"]),
            accuracy_high=_optional(row["accuracy_ci_high"]),
        )
        for row in rows
    )


def _fraction(actual: float | None, required: float) -> float:
    if actual is None:
        return 0.0
    if required <= 0:
        return 1.0
    return max(0.0, min(1.0, actual / required))


def tier_steps(metrics: PersonMetrics, criteria: PromotionCriteria) -> tuple[TierStep, ...]:
    """Each criterion of the next tier with how far the person has come towards it."""
    progress = {
        "annotations": _fraction(metrics.annotations, criteria.min_annotations),
        "gold answers": _fraction(metrics.gold_answered, criteria.min_gold_answers),
        "gold accuracy, lower bound": _fraction(
            metrics.accuracy_ci_low, criteria.min_accuracy_ci_low
        ),
        "calibration agreement": min(
            _fraction(metrics.calibration_agreement, criteria.min_calibration_agreement),
            _fraction(metrics.calibration_sessions, criteria.min_calibration_sessions),
        ),
        "time in current tier": _fraction(metrics.days_at_tier, criteria.min_days_at_tier),
    }
    checks: list[CriterionCheck] = evaluate_promotion(metrics, criteria)
    return tuple(
        TierStep(
            name=check.name,
            required=check.required,
            actual=check.actual,
            met=check.met,
            progress=1.0 if check.met else min(progress.get(check.name, 0.0), 0.99),
        )
        for check in checks
    )


def _training(session: Session, annotator_id: int, now: dt.datetime) -> tuple[TrainingDue, ...]:
    rows = training_rows(session, [annotator_id], now)
    if rows.empty:
        return ()
    order = {"expired": 0, "missing": 1, "due": 2}
    wanted = rows[rows["status"].isin(tuple(order))]
    items = [
        TrainingDue(
            kind=str(row["kind"]),
            topic=str(row["topic"] or ""),
            project="" if pd.isna(row["project"]) else str(row["project"]),
            status=str(row["status"]),
            due_on=row["expires_at"].date() if isinstance(row["expires_at"], dt.datetime) else None,
        )
        for _, row in wanted.iterrows()
    ]
    return tuple(sorted(items, key=lambda item: (order[item.status], item.due_on or dt.date.min)))


def my_scorecard(
    session: Session, principal: Principal, *, now: dt.datetime | None = None
) -> Scorecard:
    """The logged-in annotator's scorecard; nobody else's can be asked for."""
    require(principal, "scorecard.view_own")
    scope = people_scope(principal)
    if scope.kind != "self" or scope.annotator_id is None:
        raise NotFound(scope.reason or "Your login is not linked to an annotator record.")
    annotator = session.get(Annotator, scope.annotator_id)
    if annotator is None:
        raise NotFound("Your annotator record is gone; ask an admin.")
    now = now or utcnow()
    team = get_team(session, team_id=annotator.team_id) if annotator.team_id else None
    since = now.date() - dt.timedelta(weeks=TREND_WEEKS)
    since -= dt.timedelta(days=since.weekday())
    trend = weekly_trend(load_weekly_rollup_frame(session, annotator_id=annotator.id, since=since))
    position = TIERS.index(annotator.tier) if annotator.tier in TIERS else len(TIERS)
    next_tier = TIERS[position + 1] if position + 1 < len(TIERS) else None
    steps: tuple[TierStep, ...] = ()
    window = None
    if next_tier is not None:
        criteria = get_promotion_criteria(session).criteria[next_tier]
        window = criteria.window_days
        metrics = measure_people(
            session,
            [annotator.id],
            now=now,
            window_days=criteria.window_days,
            calibration_sessions=max(criteria.min_calibration_sessions, CALIBRATION_SESSIONS),
        )[annotator.id]
        steps = tier_steps(metrics, criteria)
    return Scorecard(
        name=annotator.display_name,
        tier=annotator.tier,
        team=team.name if team else "",
        status=annotator.status,
        weeks=_weeks(trend),
        interval_words=INTERVAL_WORDS,
        training=_training(session, annotator.id, now),
        next_tier=next_tier,
        next_tier_window_days=window,
        steps=steps,
        refreshed=now,
    )
