"""Career path annotator -> reviewer -> lead: configurable promotion criteria, who meets
them, and tier changes recorded with a justification and the evidence at the time."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import TIERS, AppSetting, TierChange, utcnow
from db.queries.people import list_tier_changes
from db.queries.settings import get_setting
from ops import audit
from ops.errors import ConflictError, ValidationError
from ops.permissions import Principal, require
from ops.workforce.common import (
    changed_message,
    check_version,
    flush_or_conflict,
    load_annotator,
    require_active,
    require_text,
)
from ops.workforce.evidence import CALIBRATION_SESSIONS, PersonMetrics, measure_people
from ops.workforce.roster import PoolFilter, scoped_annotators

SETTING_KEY = "promotion_criteria"
PROMOTION_TIERS = TIERS[1:]
MIN_JUSTIFICATION = 20


@dataclass(frozen=True)
class PromotionCriteria:
    """What a person must show over the last ``window_days`` days to move up to a tier."""

    window_days: int
    min_annotations: int
    min_gold_answers: int
    # Lower end of the 95% Wilson interval of gold accuracy: decisions use the interval.
    min_accuracy_ci_low: float
    min_calibration_agreement: float
    min_calibration_sessions: int
    require_training_current: bool
    min_days_at_tier: int = 0


DEFAULT_CRITERIA = {
    "reviewer": PromotionCriteria(
        window_days=90,
        min_annotations=1000,
        min_gold_answers=100,
        min_accuracy_ci_low=0.92,
        min_calibration_agreement=0.90,
        min_calibration_sessions=1,
        require_training_current=True,
    ),
    "lead": PromotionCriteria(
        window_days=90,
        min_annotations=2000,
        min_gold_answers=200,
        min_accuracy_ci_low=0.93,
        min_calibration_agreement=0.92,
        min_calibration_sessions=2,
        require_training_current=True,
        # A lead has reviewed for half a year first.
        min_days_at_tier=180,
    ),
}


@dataclass(frozen=True)
class CriteriaSettings:
    """The criteria per tier, and who saved them when (None: the defaults)."""

    criteria: dict[str, PromotionCriteria]
    updated_at: dt.datetime | None
    updated_by: str | None


@dataclass(frozen=True)
class CriterionCheck:
    """One criterion: what is required, what the person shows, and whether that is enough."""

    name: str
    required: str
    actual: str
    met: bool


def evaluate_promotion(metrics: PersonMetrics, criteria: PromotionCriteria) -> list[CriterionCheck]:
    """Each criterion against the person's metrics; thresholds are inclusive."""
    low = metrics.accuracy_ci_low
    agreement = metrics.calibration_agreement
    calibration_met = metrics.calibration_sessions >= criteria.min_calibration_sessions and (
        agreement is None
        and criteria.min_calibration_sessions == 0
        or agreement is not None
        and agreement >= criteria.min_calibration_agreement
    )
    checks = [
        CriterionCheck(
            "annotations",
            f"≥ {criteria.min_annotations:,} in {criteria.window_days} days",
            f"{metrics.annotations:,}",
            metrics.annotations >= criteria.min_annotations,
        ),
        CriterionCheck(
            "gold answers",
            f"≥ {criteria.min_gold_answers:,}",
            f"{metrics.gold_answered:,}",
            metrics.gold_answered >= criteria.min_gold_answers,
        ),
        CriterionCheck(
            "gold accuracy, lower bound",
            f"≥ {criteria.min_accuracy_ci_low:.1%}",
            "no gold answers" if low is None else f"{low:.1%}",
            low is not None and low >= criteria.min_accuracy_ci_low,
        ),
        CriterionCheck(
            "calibration agreement",
            f"≥ {criteria.min_calibration_agreement:.0%} over ≥ "
            f"{criteria.min_calibration_sessions} session(s)",
            "no sessions"
            if agreement is None
            else f"{agreement:.1%} over {metrics.calibration_sessions} session(s)",
            bool(calibration_met),
        ),
    ]
    if criteria.min_days_at_tier:
        checks.append(
            CriterionCheck(
                "time in current tier",
                f"≥ {criteria.min_days_at_tier} days",
                f"{metrics.days_at_tier} days",
                metrics.days_at_tier >= criteria.min_days_at_tier,
            )
        )
    if criteria.require_training_current:
        checks.append(
            CriterionCheck(
                "training current",
                "initial training, nothing expired or missing",
                metrics.training.summary,
                metrics.training.current,
            )
        )
    return checks


def get_promotion_criteria(session: Session) -> CriteriaSettings:
    """The saved criteria, with the defaults for any tier never saved."""
    setting = get_setting(session, key=SETTING_KEY)
    saved = setting.value if setting is not None else {}
    criteria = {
        tier: PromotionCriteria(**{**asdict(DEFAULT_CRITERIA[tier]), **saved.get(tier, {})})
        for tier in PROMOTION_TIERS
    }
    return CriteriaSettings(
        criteria=criteria,
        updated_at=setting.updated_at if setting is not None else None,
        updated_by=setting.updated_by if setting is not None else None,
    )


def set_promotion_criteria(
    session: Session,
    actor: Principal,
    tier: str,
    criteria: PromotionCriteria,
    *,
    expected_updated_at: dt.datetime | None,
) -> CriteriaSettings:
    """Save the criteria for ``tier``; refused if someone saved criteria since they were read."""
    require(actor, "workforce.settings")
    if tier not in PROMOTION_TIERS:
        raise ValidationError(
            f"Criteria exist for {', '.join(PROMOTION_TIERS)}, not {tier!r}.", field="tier"
        )
    _check_criteria(criteria)
    setting = get_setting(session, key=SETTING_KEY)
    current_at = setting.updated_at if setting is not None else None
    if current_at != expected_updated_at:
        raise ConflictError(
            changed_message(
                "The promotion criteria", setting.updated_by if setting else None, current_at
            )
        )
    before = get_promotion_criteria(session)
    value = {name: asdict(item) for name, item in before.criteria.items()}
    value[tier] = asdict(criteria)
    if setting is None:
        setting = AppSetting(key=SETTING_KEY, value=value, updated_by=actor.username)
        session.add(setting)
    else:
        setting.value = value
        setting.updated_by = actor.username
        setting.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "settings.promotion_criteria",
        ("app_settings", SETTING_KEY),
        before={tier: asdict(before.criteria[tier])},
        after={tier: asdict(criteria)},
    )
    return get_promotion_criteria(session)


def _check_criteria(criteria: PromotionCriteria) -> None:
    if not 7 <= criteria.window_days <= 365:
        raise ValidationError("The window is 7 to 365 days.", field="window_days")
    for name in (
        "min_annotations",
        "min_gold_answers",
        "min_calibration_sessions",
        "min_days_at_tier",
    ):
        if getattr(criteria, name) < 0:
            raise ValidationError("Enter zero or more.", field=name)
    for name in ("min_accuracy_ci_low", "min_calibration_agreement"):
        if not 0 <= getattr(criteria, name) <= 1:
            raise ValidationError("Enter a fraction between 0 and 1, e.g. 0.92.", field=name)


def criteria_from_form(values: dict[str, Any]) -> PromotionCriteria:
    """Criteria from plain form values, with each field's own type."""
    kinds = {item.name: item.type for item in fields(PromotionCriteria)}
    converted: dict[str, Any] = {}
    for name, kind in kinds.items():
        raw = values[name]
        converted[name] = (
            bool(raw) if kind == "bool" else float(raw) if kind == "float" else int(raw)
        )
    return PromotionCriteria(**converted)


def _previous_tier(tier: str) -> str:
    return TIERS[TIERS.index(tier) - 1]


def list_promotion_candidates(
    session: Session,
    principal: Principal,
    to_tier: str,
    *,
    now: dt.datetime | None = None,
    only_qualified: bool = False,
) -> pd.DataFrame:
    """Active people one tier below ``to_tier`` in scope, each criterion met or not,
    people who meet all of them first."""
    if to_tier not in PROMOTION_TIERS:
        raise ValidationError(
            f"Promotion goes to {' or '.join(PROMOTION_TIERS)}, not {to_tier!r}.", field="to_tier"
        )
    now = now or utcnow()
    criteria = get_promotion_criteria(session).criteria[to_tier]
    people = scoped_annotators(
        session,
        principal,
        PoolFilter(tiers=(_previous_tier(to_tier),), statuses=("active",)),
        today=now.date(),
    )
    metrics = measure_people(
        session,
        [person.id for person in people],
        now=now,
        window_days=criteria.window_days,
        calibration_sessions=max(criteria.min_calibration_sessions, CALIBRATION_SESSIONS),
    )
    rows = []
    for person in people:
        checks = evaluate_promotion(metrics[person.id], criteria)
        row: dict[str, Any] = {
            "id": person.id,
            "name": person.display_name,
            "tier": person.tier,
            "meets all": all(check.met for check in checks),
        }
        row.update({check.name: ("✔ " if check.met else "✘ ") + check.actual for check in checks})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["id", "name", "tier", "meets all"] if not rows else None)
    if frame.empty:
        return frame
    if only_qualified:
        frame = frame[frame["meets all"]]
    return frame.sort_values(["meets all", "name"], ascending=[False, True]).reset_index(drop=True)


@dataclass(frozen=True)
class PromotionCheck:
    """Where one person stands against the criteria of the next tier up."""

    to_tier: str
    criteria: PromotionCriteria
    metrics: PersonMetrics
    checks: list[CriterionCheck]

    @property
    def meets_all(self) -> bool:
        return all(check.met for check in self.checks)


def check_promotion(
    session: Session,
    principal: Principal,
    annotator_id: int,
    to_tier: str,
    *,
    now: dt.datetime | None = None,
) -> PromotionCheck:
    """The person's metrics against ``to_tier``'s criteria."""
    load_annotator(session, principal, annotator_id)
    if to_tier not in PROMOTION_TIERS:
        raise ValidationError(f"No promotion criteria for {to_tier!r}.", field="to_tier")
    now = now or utcnow()
    criteria = get_promotion_criteria(session).criteria[to_tier]
    metrics = measure_people(
        session,
        [annotator_id],
        now=now,
        window_days=criteria.window_days,
        calibration_sessions=max(criteria.min_calibration_sessions, CALIBRATION_SESSIONS),
    )[annotator_id]
    return PromotionCheck(to_tier, criteria, metrics, evaluate_promotion(metrics, criteria))


def change_tier(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    to_tier: str,
    justification: str,
    expected_version: int,
    now: dt.datetime | None = None,
) -> TierChange:
    """Move a person up or down the career path, with a justification; the metrics and the
    criteria check at this moment are stored with the change as its evidence."""
    annotator = load_annotator(session, actor, annotator_id, action="tier.change", fresh=True)
    check_version(annotator, expected_version, annotator.display_name)
    require_active(annotator)
    if to_tier not in TIERS:
        raise ValidationError(f"Tier must be one of {', '.join(TIERS)}.", field="to_tier")
    if to_tier == annotator.tier:
        raise ValidationError(f"{annotator.display_name} already is a {to_tier}.", field="to_tier")
    justification = require_text(
        justification,
        "justification",
        f"Justify the change in at least {MIN_JUSTIFICATION} characters: what did they show, "
        "or what went wrong?",
        minimum=MIN_JUSTIFICATION,
    )
    now = now or utcnow()
    promotion = TIERS.index(to_tier) > TIERS.index(annotator.tier)
    evidence: dict[str, Any] = {"direction": "promotion" if promotion else "demotion"}
    if promotion:
        check = check_promotion(session, actor, annotator.id, to_tier, now=now)
        evidence.update(
            {
                "metrics": check.metrics.as_evidence(),
                "criteria": asdict(check.criteria),
                "checks": [asdict(item) for item in check.checks],
                "meets_criteria": check.meets_all,
            }
        )
    else:
        window = DEFAULT_CRITERIA["reviewer"].window_days
        metrics = measure_people(session, [annotator.id], now=now, window_days=window)
        evidence["metrics"] = metrics[annotator.id].as_evidence()
    before = {"tier": annotator.tier, "version_id": annotator.version_id}
    change = TierChange(
        annotator_id=annotator.id,
        from_tier=annotator.tier,
        to_tier=to_tier,
        effective_at=now,
        justification=justification,
        evidence=evidence,
        decided_by=actor.username,
    )
    session.add(change)
    annotator.tier = to_tier
    annotator.updated_by = actor.username
    flush_or_conflict(session, annotator.display_name)
    audit.record(
        session,
        actor,
        "tier.change",
        annotator,
        before=before,
        after={
            "tier": to_tier,
            "version_id": annotator.version_id,
            "tier_change_id": change.id,
            "justification": justification,
            "evidence": evidence,
        },
    )
    return change


def list_tier_history(session: Session, principal: Principal, annotator_id: int) -> pd.DataFrame:
    """A person's tier changes, newest first, with who decided; why (the justification,
    coaching text) only for roles that may read coaching."""
    load_annotator(session, principal, annotator_id)
    changes = list_tier_changes(session, annotator_id=annotator_id)
    columns = ["when", "from", "to", "justification", "met criteria", "decided by"]
    if not principal.can("coaching.view"):
        columns.remove("justification")
    frame = pd.DataFrame(
        [
            {
                "when": change.effective_at.date().isoformat(),
                "from": change.from_tier,
                "to": change.to_tier,
                "justification": change.justification,
                "met criteria": change.evidence.get("meets_criteria"),
                "decided by": change.decided_by or "",
            }
            for change in changes
        ],
        columns=["when", "from", "to", "justification", "met criteria", "decided by"],
    )
    return frame[columns]
