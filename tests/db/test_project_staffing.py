"""A project's overview and forecasts, the staffing panel, availability and proposals,
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import (
    Annotator,
    Assignment,
    Project,
    QualificationResult,
    Team,
    TrainingRecord,
)
from ops.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from ops.projects import list_visible_projects, project_overview
from ops.workforce import availability, proposals
from ops.workforce.candidates import plan_staffing
from tests.db.workforce_helpers import ADMIN, FINANCE, NOW, OPS, TODAY, audit_entries, lead_of
from tests.factories import make_annotator, make_project, make_rollup, make_team


def _assign(session: Session, annotator: Annotator, project: Project) -> None:
    session.add(
        Assignment(
            annotator_id=annotator.id,
            project_id=project.id,
            starts_on=TODAY - dt.timedelta(days=60),
        )
    )
    session.flush()


def _qualify(session: Session, annotator: Annotator, task_type: str, score: float = 0.9) -> None:
    session.add(
        QualificationResult(
            annotator_id=annotator.id,
            task_type=task_type,
            score=score,
            pass_mark=0.85,
            taken_at=NOW - dt.timedelta(days=90),
        )
    )
    session.flush()


@dataclass(frozen=True)
class Scene:
    team: Team
    project: Project
    elsewhere: Project
    workers: list[Annotator]
    strong: Annotator
    weak: Annotator
    away: Annotator
    outsider: Annotator


def _scene(session: Session) -> Scene:
    """One late project with two workers at 50 a day each for 14 days; a second project."""
    team, other_team = make_team(session), make_team(session)
    project = make_project(session, slug="late-one", task_type="text", budget="1000")
    project.volume_target = 3_000
    project.deadline = TODAY + dt.timedelta(days=10)
    elsewhere = make_project(session, slug="elsewhere", task_type="text")
    workers = [make_annotator(session, team_id=team.id, display_name=f"Worker {i}") for i in (1, 2)]
    for worker in workers:
        _assign(session, worker, project)
        _qualify(session, worker, "text")
        for offset in range(1, 15):
            make_rollup(
                session,
                project,
                worker,
                day=TODAY - dt.timedelta(days=offset),
                annotations=50,
                active_seconds=50 * 30.0,
                cost_minor=500,
                gold_answered=10,
                gold_correct=9,
            )
    # 1,400 done: 1,600 remain at 100 a day: 16 days, 6 after the deadline.
    strong = make_annotator(session, team_id=team.id, display_name="Strong Candidate")
    _qualify(session, strong, "text", 0.97)
    make_rollup(
        session,
        elsewhere,
        strong,
        day=TODAY - dt.timedelta(days=2),
        annotations=200,
        gold_answered=100,
        gold_correct=98,
        active_seconds=3600.0,
    )
    _assign(session, strong, elsewhere)
    weak = make_annotator(session, team_id=team.id, display_name="Weak Candidate")
    _qualify(session, weak, "text", 0.9)
    make_rollup(
        session,
        elsewhere,
        weak,
        day=TODAY - dt.timedelta(days=2),
        annotations=200,
        gold_answered=100,
        gold_correct=80,
    )
    _assign(session, weak, elsewhere)
    unqualified = make_annotator(session, team_id=team.id, display_name="Never Tested")
    failed = make_annotator(session, team_id=team.id, display_name="Failed Test")
    _qualify(session, failed, "text", 0.5)
    expired = make_annotator(session, team_id=team.id, display_name="Expired Training")
    _qualify(session, expired, "text")
    session.add(
        TrainingRecord(
            annotator_id=expired.id,
            kind="initial",
            topic="Basics",
            completed_at=NOW - dt.timedelta(days=400),
            expires_at=NOW - dt.timedelta(days=35),
        )
    )
    away = make_annotator(session, team_id=team.id, display_name="Away Today")
    _qualify(session, away, "text")
    outsider = make_annotator(session, team_id=other_team.id, display_name="Other Team")
    _qualify(session, outsider, "text")
    session.flush()
    availability.add_time_off(
        session,
        OPS,
        away.id,
        starts_on=TODAY - dt.timedelta(days=1),
        ends_on=TODAY + dt.timedelta(days=3),
        today=TODAY,
    )
    assert unqualified and failed and expired
    return Scene(team, project, elsewhere, workers, strong, weak, away, outsider)


def test_overview_forecasts_the_late_finish_and_the_people_needed(session: Session) -> None:
    scene = _scene(session)
    project = scene.project
    overview = project_overview(session, OPS, project.id, now=NOW)
    assert (overview.done, overview.remaining) == (1_400, 1_600)
    assert overview.per_day == pytest.approx(100.0)
    assert (overview.contributors, overview.assigned) == (2, 2)
    assert overview.forecast is not None
    assert overview.forecast.finish == TODAY + dt.timedelta(days=16)
    assert overview.late_by_days == 6
    # 1600 / 10 days / 50 per person = 3.2 people, with the 20% buffer 3.84: 4.
    assert overview.people_needed == 4
    assert overview.spent_minor == 2 * 14 * 500
    # 14,000 spent for 1,400: 10 each, 30,000 for the 3,000.
    assert overview.forecast_cost_minor == 30_000
    assert overview.daily["cumulative"].iloc[-1] == 1_400


def test_a_lead_sees_only_their_teams_projects_and_no_money(session: Session) -> None:
    scene = _scene(session)
    team, project = scene.team, scene.project
    lead = lead_of(team.id)
    assert {choice.slug for choice in list_visible_projects(session, lead, today=TODAY)} == {
        "late-one",
        "elsewhere",
    }
    overview = project_overview(session, lead, project.id, now=NOW)
    assert overview.spent_minor is None and overview.budget_minor is None
    assert "spend_minor" not in overview.daily.columns
    stranger = lead_of(make_team(session).id)
    assert list_visible_projects(session, stranger, today=TODAY) == []
    with pytest.raises(NotFound):
        project_overview(session, stranger, project.id, now=NOW)


def test_finance_reads_every_project_with_money_but_no_staffing(session: Session) -> None:
    scene = _scene(session)
    project = scene.project
    overview = project_overview(session, FINANCE, project.id, now=NOW)
    assert overview.forecast_cost_minor == 30_000
    with pytest.raises(PermissionDenied):
        plan_staffing(session, FINANCE, project.id, now=NOW)


def test_staffing_ranks_candidates_and_says_why_others_are_out(session: Session) -> None:
    scene = _scene(session)
    project = scene.project
    plan = plan_staffing(session, OPS, project.id, now=NOW)
    names = [candidate.name for candidate in plan.candidates]
    assert names[:2] == ["Strong Candidate", "Weak Candidate"]
    assert "Other Team" in names
    strong = plan.candidates[0]
    assert strong.rank == 1 and strong.other_projects == ("elsewhere",)
    assert "passed text (97%)" in strong.reasons
    assert "gold 98.0%" in strong.reasons and "on 100 answers" in strong.reasons
    assert "weekly capacity not recorded" in strong.reasons
    out = {item.name: item.reasons for item in plan.excluded}
    assert out["Never Tested"] == "no text qualification test"
    assert out["Failed Test"] == "failed the text qualification (best 50%)"
    assert out["Expired Training"] == "training expired: initial"
    assert out["Away Today"].startswith("off until")
    assert set(plan.on_project) == {"Worker 1", "Worker 2"}


def test_a_lead_ranks_only_their_own_team(session: Session) -> None:
    scene = _scene(session)
    project, team = scene.project, scene.team
    plan = plan_staffing(session, lead_of(team.id), project.id, now=NOW)
    everyone = [c.name for c in plan.candidates] + [e.name for e in plan.excluded]
    assert "Other Team" not in everyone
    assert plan.scope_note == "Your team only."


def test_capacity_left_this_week_counts_time_off_and_hours_worked(session: Session) -> None:
    scene = _scene(session)
    project, strong = scene.project, scene.strong
    availability.set_weekly_capacity(
        session, OPS, strong.id, hours=30, expected_version=strong.version_id
    )
    # TODAY is a Friday; one hour worked on Wednesday this week.
    assert TODAY.weekday() == 4
    plan = plan_staffing(session, OPS, project.id, now=NOW)
    assert plan.candidates[0].capacity_left_hours == pytest.approx(29.0)
    entry = audit_entries(session, "annotator.capacity")[-1]
    assert (entry.before, entry.after) == (
        {"weekly_capacity_hours": None},
        {"weekly_capacity_hours": 30},
    )


def test_availability_is_checked_scoped_and_audited(session: Session) -> None:
    scene = _scene(session)
    strong, outsider, team = scene.strong, scene.outsider, scene.team
    lead = lead_of(team.id)
    with pytest.raises(ValidationError, match="between 0 and 80"):
        availability.set_weekly_capacity(
            session, OPS, strong.id, hours=90, expected_version=strong.version_id
        )
    with pytest.raises(PermissionDenied):
        availability.set_weekly_capacity(
            session, FINANCE, strong.id, hours=20, expected_version=strong.version_id
        )
    with pytest.raises(NotFound):
        availability.set_weekly_capacity(
            session, lead, outsider.id, hours=20, expected_version=outsider.version_id
        )
    with pytest.raises(ConflictError):
        availability.set_weekly_capacity(
            session, lead, strong.id, hours=20, expected_version=strong.version_id - 1
        )
    row = availability.add_time_off(
        session,
        lead,
        strong.id,
        starts_on=TODAY + dt.timedelta(days=10),
        ends_on=TODAY + dt.timedelta(days=12),
        kind="holiday",
        today=TODAY,
    )
    with pytest.raises(ValidationError, match="already has time off"):
        availability.add_time_off(
            session,
            lead,
            strong.id,
            starts_on=TODAY + dt.timedelta(days=12),
            ends_on=TODAY + dt.timedelta(days=14),
            today=TODAY,
        )
    with pytest.raises(ValidationError, match="before the first"):
        availability.add_time_off(
            session, lead, strong.id, starts_on=TODAY, ends_on=TODAY - dt.timedelta(days=1)
        )
    shown = availability.get_availability(session, lead, strong.id)
    assert [(item.kind, item.starts_on) for item in shown.time_off] == [
        ("holiday", TODAY + dt.timedelta(days=10))
    ]
    availability.remove_time_off(session, lead, row.id)
    assert availability.get_availability(session, lead, strong.id).time_off == ()
    assert audit_entries(session, "annotator.time_off.add")[-1].actor == "lena"
    removed = audit_entries(session, "annotator.time_off.remove")[-1]
    assert removed.before is not None and removed.before["kind"] == "holiday"


def test_a_leads_proposal_waits_for_ops_and_approval_moves_the_forecast(
    session: Session,
) -> None:
    scene = _scene(session)
    project, strong, team = scene.project, scene.strong, scene.team
    lead = lead_of(team.id)
    before = project_overview(session, OPS, project.id, now=NOW)
    proposal = proposals.propose_staffing(
        session, lead, strong.id, project_id=project.id, notes="Fast and accurate.", today=TODAY
    )
    assert proposal.status == "pending"
    # Nothing moves until ops decides.
    assert project_overview(session, OPS, project.id, now=NOW).assigned == 2
    with pytest.raises(PermissionDenied):
        proposals.approve_proposal(session, lead, proposal.id)
    with pytest.raises(ValidationError, match="already waits"):
        proposals.propose_staffing(session, OPS, strong.id, project_id=project.id, today=TODAY)
    pending = proposals.list_proposals(session, OPS, statuses=("pending",))
    assert [(item.annotator, item.project, item.notes) for item in pending] == [
        ("Strong Candidate", "late-one", "Fast and accurate.")
    ]
    proposals.approve_proposal(session, OPS, proposal.id, now=NOW)
    after = project_overview(session, OPS, project.id, now=NOW)
    assert after.assigned == 3
    assert before.forecast is not None and after.forecast is not None
    assert after.forecast.per_day == pytest.approx(150.0)
    assert after.forecast.finish is not None and before.forecast.finish is not None
    assert after.forecast.finish < before.forecast.finish
    assert proposal.decision_id is not None
    assert session.scalars(
        select(Assignment).where(
            Assignment.annotator_id == strong.id, Assignment.project_id == project.id
        )
    ).one()
    approved = audit_entries(session, "staffing_proposal.approve")[-1]
    assert approved.actor == "olga"
    assert approved.before is not None and approved.before["status"] == "pending"
    assert approved.after is not None and approved.after["status"] == "approved"
    with pytest.raises(ConflictError, match="already approved by olga"):
        proposals.reject_proposal(session, ADMIN, proposal.id, note="too late")


def test_a_rejected_proposal_says_why_and_changes_nothing(session: Session) -> None:
    scene = _scene(session)
    project, weak = scene.project, scene.weak
    proposal = proposals.propose_staffing(
        session,
        OPS,
        weak.id,
        project_id=project.id,
        from_project_id=scene.elsewhere.id,
        today=TODAY,
    )
    with pytest.raises(ValidationError, match="Say why"):
        proposals.reject_proposal(session, OPS, proposal.id, note=" ")
    proposals.reject_proposal(session, OPS, proposal.id, note="Needed on elsewhere.")
    assert proposal.status == "rejected" and proposal.decision_note == "Needed on elsewhere."
    assert project_overview(session, OPS, project.id, now=NOW).assigned == 2
    assert audit_entries(session, "staffing_proposal.reject")[-1].after is not None


def test_proposals_are_refused_when_they_cannot_be_carried_out(session: Session) -> None:
    scene = _scene(session)
    project, worker, outsider, team = (
        scene.project,
        scene.workers[0],
        scene.outsider,
        scene.team,
    )
    with pytest.raises(ValidationError, match="already on late-one"):
        proposals.propose_staffing(session, OPS, worker.id, project_id=project.id, today=TODAY)
    with pytest.raises(PermissionDenied):
        proposals.propose_staffing(
            session, FINANCE, outsider.id, project_id=project.id, today=TODAY
        )
    with pytest.raises(NotFound):
        proposals.propose_staffing(
            session,
            lead_of(team.id),
            outsider.id,
            project_id=project.id,
            today=TODAY,
        )
