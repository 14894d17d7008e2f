"""A person's metrics at one moment, from rollups: shown on the profile and frozen as
evidence into tier changes and reassignment decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.queries.alerts import count_open_alerts_of
from db.queries.calibration import load_calibration_result_frame
from db.queries.people import load_tier_since
from db.queries.rollups import load_rollup_totals_frame
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.workforce.training import TrainingState, training_states

# Calibration agreement is the mean over this many of the person's latest sessions.
CALIBRATION_SESSIONS = 3


@dataclass(frozen=True)
class PersonMetrics:
    """One person's work over days [since, until]: counts, fractions and training state."""

    annotator_id: int
    since: dt.date
    until: dt.date
    annotations: int
    active_hours: float
    gold_answered: int
    gold_correct: int
    accuracy: float | None
    accuracy_ci_low: float | None
    accuracy_ci_high: float | None
    reviewed: int
    accepted: int
    escalations: int
    calibration_agreement: float | None
    calibration_sessions: int
    training: TrainingState
    open_alerts: int
    # Whole days in the current tier, from the last change into it (or joining the pool).
    days_at_tier: int = 0

    @property
    def per_active_hour(self) -> float | None:
        return self.annotations / self.active_hours if self.active_hours else None

    @property
    def review_acceptance(self) -> float | None:
        return self.accepted / self.reviewed if self.reviewed else None

    def as_evidence(self) -> dict[str, Any]:
        """JSON-safe values, frozen into a decision's evidence."""
        values = asdict(self)
        values["since"] = self.since.isoformat()
        values["until"] = self.until.isoformat()
        values["training"] = {
            "current": self.training.current,
            "expired": list(self.training.expired),
            "due": list(self.training.due),
            "missing": list(self.training.missing),
            "has_initial": self.training.has_initial,
        }
        values["active_hours"] = round(self.active_hours, 2)
        values["per_active_hour"] = (
            round(self.per_active_hour, 2) if self.per_active_hour is not None else None
        )
        values["review_acceptance"] = self.review_acceptance
        return values


def measure_people(
    session: Session,
    annotator_ids: Sequence[int],
    *,
    now: dt.datetime,
    window_days: int,
    project_id: int | None = None,
    calibration_sessions: int = CALIBRATION_SESSIONS,
) -> dict[int, PersonMetrics]:
    """Metrics over the last ``window_days`` days (today included) for each person."""
    ids = list(annotator_ids)
    until = now.date()
    since = until - dt.timedelta(days=window_days - 1)
    totals = load_rollup_totals_frame(
        session, since=since, until=until, annotator_ids=ids, project_id=project_id
    )
    totals = totals.set_index("annotator_id").reindex(ids, fill_value=0)
    totals = compute_gold_accuracy_table(
        totals, correct_column="gold_correct", answered_column="gold_answered"
    )
    by_person: dict[Any, dict[Any, Any]] = totals.to_dict("index")
    calibration = load_calibration_result_frame(session, annotator_ids=ids)
    # The frame is newest session first, so each person's head is their latest sessions.
    latest = calibration.groupby("annotator_id", sort=False).head(calibration_sessions)
    agreement = latest.groupby("annotator_id")["agreement"].agg(["mean", "size"])
    agreements: dict[Any, dict[Any, Any]] = agreement.to_dict("index")
    states = training_states(session, ids, now)
    alerts = count_open_alerts_of(session, annotator_ids=ids)
    tier_since = load_tier_since(session, annotator_ids=ids)
    result: dict[int, PersonMetrics] = {}
    for annotator_id in ids:
        row = by_person[annotator_id]
        recent = agreements.get(annotator_id)
        result[annotator_id] = PersonMetrics(
            annotator_id=annotator_id,
            since=since,
            until=until,
            annotations=int(row["annotations"]),
            active_hours=float(row["active_seconds"]) / 3600,
            gold_answered=int(row["gold_answered"]),
            gold_correct=int(row["gold_correct"]),
            accuracy=_optional(row["accuracy"]),
            accuracy_ci_low=_optional(row["accuracy_ci_low"]),
            accuracy_ci_high=_optional(row["accuracy_ci_high"]),
            reviewed=int(row["reviewed"]),
            accepted=int(row["accepted"]),
            escalations=int(row["escalations"]),
            calibration_agreement=float(recent["mean"]) if recent else None,
            calibration_sessions=int(recent["size"]) if recent else 0,
            training=states[annotator_id],
            open_alerts=alerts.get(annotator_id, 0),
            days_at_tier=(now - tier_since[annotator_id]).days if annotator_id in tier_since else 0,
        )
    return result


def measure_person(
    session: Session,
    annotator_id: int,
    *,
    now: dt.datetime,
    window_days: int,
    project_id: int | None = None,
) -> PersonMetrics:
    """Metrics of one person; see measure_people."""
    return measure_people(
        session, [annotator_id], now=now, window_days=window_days, project_id=project_id
    )[annotator_id]


def _optional(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)
