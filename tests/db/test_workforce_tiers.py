"""Promotion criteria, the people who meet them, and tier changes with their evidence."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TypedDict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import (
    Annotator,
    CalibrationResult,
    CalibrationSession,
    TierChange,
    TrainingRecord,
)
from ops.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from ops.workforce import tiers
from tests.db.workforce_helpers import ADMIN, FINANCE, NOW, OPS, TODAY, audit_entries, lead_of
from tests.factories import make_annotator, make_project, make_rollup, make_team


class CriteriaChange(TypedDict, total=False):
    window_days: int
    min_annotations: int
    min_accuracy_ci_low: float
    min_calibration_agreement: float


def _qualifying(session: Session, **overrides: object) -> Annotator:
    """Someone who meets the default reviewer criteria with room to spare."""
    person = make_annotator(session, **overrides)
    project = make_project(session)
    make_rollup(
        session,
        project,
        person,
        day=TODAY - dt.timedelta(days=10),
        annotations=1500,
        gold_answered=300,
        gold_correct=294,
    )
    session.add(
        TrainingRecord(
            annotator_id=person.id,
            kind="initial",
            topic="fundamentals",
            completed_at=NOW - dt.timedelta(days=100),
            expires_at=NOW + dt.timedelta(days=200),
        )
    )
    calibration = CalibrationSession(
        name=f"round for {person.id}", held_at=NOW - dt.timedelta(days=20)
    )
    session.add(calibration)
    session.flush()
    session.add(
        CalibrationResult(
            session_id=calibration.id, annotator_id=person.id, agreement=0.95, n_items=20
        )
    )
    session.flush()
    return person


def test_defaults_apply_until_criteria_are_saved(session: Session) -> None:
    settings = tiers.get_promotion_criteria(session)
    assert settings.updated_at is None
    assert settings.criteria == tiers.DEFAULT_CRITERIA


def test_saving_criteria_is_audited_and_a_stale_save_is_refused(session: Session) -> None:
    first = tiers.get_promotion_criteria(session)
    stricter = dataclasses.replace(first.criteria["reviewer"], min_annotations=5000)
    saved = tiers.set_promotion_criteria(
        session, OPS, "reviewer", stricter, expected_updated_at=first.updated_at
    )
    assert saved.criteria["reviewer"].min_annotations == 5000
    assert saved.criteria["lead"] == tiers.DEFAULT_CRITERIA["lead"]
    assert saved.updated_by == "olga"
    entry = audit_entries(session, "settings.promotion_criteria")[-1]
    assert entry.before == {"reviewer": dataclasses.asdict(tiers.DEFAULT_CRITERIA["reviewer"])}
    assert entry.after is not None and entry.after["reviewer"]["min_annotations"] == 5000
    with pytest.raises(ConflictError, match="changed by olga"):
        tiers.set_promotion_criteria(
            session, ADMIN, "reviewer", stricter, expected_updated_at=first.updated_at
        )
    again = tiers.set_promotion_criteria(
        session,
        ADMIN,
        "lead",
        dataclasses.replace(tiers.DEFAULT_CRITERIA["lead"], window_days=60),
        expected_updated_at=saved.updated_at,
    )
    assert again.criteria["lead"].window_days == 60
    assert again.criteria["reviewer"].min_annotations == 5000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"window_days": 3}, "window_days"),
        ({"min_annotations": -1}, "min_annotations"),
        ({"min_accuracy_ci_low": 1.2}, "min_accuracy_ci_low"),
        ({"min_calibration_agreement": -0.1}, "min_calibration_agreement"),
    ],
)
def test_criteria_are_checked(session: Session, change: CriteriaChange, field: str) -> None:
    bad = dataclasses.replace(tiers.DEFAULT_CRITERIA["reviewer"], **change)
    with pytest.raises(ValidationError) as caught:
        tiers.set_promotion_criteria(session, OPS, "reviewer", bad, expected_updated_at=None)
    assert caught.value.field == field


@pytest.mark.parametrize("role", ["lead", "finance", "annotator"])
def test_only_ops_and_admin_set_criteria(session: Session, role: str) -> None:
    from ops.permissions import Principal

    with pytest.raises(PermissionDenied):
        tiers.set_promotion_criteria(
            session,
            Principal("x", role, team_id=1),
            "reviewer",
            tiers.DEFAULT_CRITERIA["reviewer"],
            expected_updated_at=None,
        )


def test_candidates_list_who_meets_the_criteria_in_scope(session: Session) -> None:
    team, other = make_team(session), make_team(session)
    star = _qualifying(session, display_name="Star", team_id=team.id)
    _qualifying(session, display_name="Elsewhere", team_id=other.id)
    make_annotator(session, display_name="Newcomer", team_id=team.id)
    _qualifying(session, display_name="Already Reviewer", team_id=team.id, tier="reviewer")
    _qualifying(session, display_name="On Probation", team_id=team.id, status="probation")
    frame = tiers.list_promotion_candidates(session, lead_of(team.id), "reviewer", now=NOW)
    assert list(frame["name"]) == ["Star", "Newcomer"]
    assert list(frame["meets all"]) == [True, False]
    qualified = tiers.list_promotion_candidates(
        session, OPS, "reviewer", now=NOW, only_qualified=True
    )
    assert set(qualified["name"]) == {"Star", "Elsewhere"}
    assert star.id in set(qualified["id"])
    leads = tiers.list_promotion_candidates(session, OPS, "lead", now=NOW)
    assert list(leads["name"]) == ["Already Reviewer"]


def test_a_promotion_stores_the_evidence_and_moves_the_tier(session: Session) -> None:
    person = _qualifying(session, display_name="Amara")
    change = tiers.change_tier(
        session,
        OPS,
        person.id,
        to_tier="reviewer",
        justification="Sustained accuracy and strong calibration results.",
        expected_version=person.version_id,
        now=NOW,
    )
    assert person.tier == "reviewer"
    assert (change.from_tier, change.to_tier, change.decided_by) == (
        "annotator",
        "reviewer",
        "olga",
    )
    assert change.evidence["meets_criteria"] is True
    assert change.evidence["metrics"]["gold_answered"] == 300
    assert change.evidence["criteria"]["min_annotations"] == 1000
    assert {check["name"] for check in change.evidence["checks"]} >= {
        "annotations",
        "training current",
    }
    entry = audit_entries(session, "tier.change")[-1]
    assert entry.entity_type == "annotators" and entry.entity_id == str(person.id)
    assert entry.before is not None and entry.before["tier"] == "annotator"
    assert entry.after is not None and entry.after["tier"] == "reviewer"
    assert entry.after["evidence"]["metrics"]["gold_correct"] == 294
    history = tiers.list_tier_history(session, OPS, person.id)
    assert list(history["to"]) == ["reviewer"]
    assert "justification" in history.columns
    for_finance = tiers.list_tier_history(session, FINANCE, person.id)
    assert list(for_finance["to"]) == ["reviewer"]
    assert "justification" not in for_finance.columns


def test_a_demotion_is_recorded_with_the_metrics_but_no_criteria(session: Session) -> None:
    person = _qualifying(session, tier="reviewer")
    change = tiers.change_tier(
        session,
        ADMIN,
        person.id,
        to_tier="annotator",
        justification="Stepped back from reviewing at their own request.",
        expected_version=person.version_id,
        now=NOW,
    )
    assert change.evidence["direction"] == "demotion"
    assert "criteria" not in change.evidence
    assert change.evidence["metrics"]["annotations"] == 1500


@pytest.mark.parametrize(
    ("to_tier", "justification", "field"),
    [
        ("annotator", "Long enough justification here.", "to_tier"),
        ("expert", "Long enough justification here.", "to_tier"),
        ("reviewer", "too short", "justification"),
    ],
)
def test_tier_change_input_is_checked(
    session: Session, to_tier: str, justification: str, field: str
) -> None:
    person = _qualifying(session)
    with pytest.raises(ValidationError) as caught:
        tiers.change_tier(
            session,
            OPS,
            person.id,
            to_tier=to_tier,
            justification=justification,
            expected_version=person.version_id,
            now=NOW,
        )
    assert caught.value.field == field
    assert (
        session.scalars(select(TierChange).where(TierChange.annotator_id == person.id)).first()
        is None
    )


def test_a_tier_change_from_a_stale_profile_is_refused(session: Session) -> None:
    person = _qualifying(session)
    seen = person.version_id
    tiers.change_tier(
        session,
        ADMIN,
        person.id,
        to_tier="reviewer",
        justification="Met every criterion for reviewer.",
        expected_version=seen,
        now=NOW,
    )
    with pytest.raises(ConflictError, match="changed by ada"):
        tiers.change_tier(
            session,
            OPS,
            person.id,
            to_tier="lead",
            justification="Promoting straight to lead now.",
            expected_version=seen,
            now=NOW,
        )
    assert person.tier == "reviewer"


def test_leads_and_finance_do_not_change_tiers(session: Session) -> None:
    team = make_team(session)
    person = _qualifying(session, team_id=team.id)
    for principal in (lead_of(team.id), FINANCE):
        with pytest.raises(PermissionDenied):
            tiers.change_tier(
                session,
                principal,
                person.id,
                to_tier="reviewer",
                justification="Should not be allowed to do this.",
                expected_version=person.version_id,
            )
    with pytest.raises(NotFound):
        tiers.check_promotion(session, lead_of(team.id + 1000), person.id, "reviewer", now=NOW)


def test_time_in_tier_runs_from_the_last_change_into_it(session: Session) -> None:
    person = _qualifying(session, tier="reviewer")
    for days_ago, before, after in (
        (400, "annotator", "reviewer"),
        (300, "reviewer", "annotator"),
        (200, "annotator", "reviewer"),
    ):
        session.add(
            TierChange(
                annotator_id=person.id,
                from_tier=before,
                to_tier=after,
                effective_at=NOW - dt.timedelta(days=days_ago),
                justification="history",
            )
        )
    session.flush()
    check = tiers.check_promotion(session, OPS, person.id, "lead", now=NOW)
    assert check.metrics.days_at_tier == 200
    assert {item.name: item.met for item in check.checks}["time in current tier"] is True
    # Someone just made reviewer is not yet ready to lead.
    newcomer = _qualifying(session)
    tiers.change_tier(
        session,
        OPS,
        newcomer.id,
        to_tier="reviewer",
        justification="Met every criterion for reviewer.",
        expected_version=newcomer.version_id,
        now=NOW,
    )
    fresh = tiers.check_promotion(session, OPS, newcomer.id, "lead", now=NOW)
    assert fresh.metrics.days_at_tier == 0
    assert {item.name: item.met for item in fresh.checks}["time in current tier"] is False
