"""Assignments to projects and reassignment decisions; every decision freezes the
person's metrics at that moment as its evidence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import ASSIGNMENT_ROLES, TIERS, Alert, Assignment, ReassignmentDecision, utcnow
from db.queries import staffing as staffing_queries
from db.queries.audit import get_latest_audit
from db.queries.projects import list_active_projects, list_project_slugs_by_id
from db.queries.training import load_qualification_frame, load_training_frame
from ops import audit
from ops.errors import ConflictError, NotFound, ValidationError
from ops.permissions import Principal, require
from ops.workforce.common import (
    changed_message,
    load_annotator,
    require_active,
    require_project,
    require_text,
)
from ops.workforce.evidence import measure_person
from ops.workforce.training import latest_trainings, training_status

REASSIGNMENT_REASONS = (
    "quality",
    "speed",
    "skills_match",
    "workload",
    "project_ended",
    "development",
    "other",
)
# The evidence frozen into a decision covers this many days, today included.
EVIDENCE_WINDOW_DAYS = 30


def is_running(assignment: Assignment, today: dt.date) -> bool:
    """Started by ``today`` and not ended: ``ends_on`` is the first day off the project."""
    return assignment.starts_on <= today and (
        assignment.ends_on is None or assignment.ends_on > today
    )


@dataclass(frozen=True)
class Requirements:
    """What a project asks of someone who joins it, and what this person lacks of it."""

    project: str
    unmet: tuple[str, ...]

    @property
    def met(self) -> bool:
        return not self.unmet


def check_requirements(
    session: Session,
    principal: Principal,
    annotator_id: int,
    project_id: int,
    *,
    now: dt.datetime | None = None,
) -> Requirements:
    """The project's minimum tier, a passed qualification test for its task type, and
    current training (an initial one, nothing general or for this project expired)."""
    annotator = load_annotator(session, principal, annotator_id)
    project = require_project(session, project_id)
    now = now or utcnow()
    unmet: list[str] = []
    if TIERS.index(annotator.tier) < TIERS.index(project.min_tier):
        unmet.append(f"needs at least the {project.min_tier} tier (they are {annotator.tier})")
    tests = load_qualification_frame(session, annotator_ids=[annotator.id])
    tests = tests[tests["task_type"] == project.task_type]
    if tests.empty:
        unmet.append(f"no qualification test for {project.task_type}")
    elif not (tests["score"] >= tests["pass_mark"]).any():
        best = tests.sort_values("score", ascending=False).iloc[0]
        unmet.append(
            f"has not passed the {project.task_type} qualification "
            f"(best {best['score']:.0%}, pass mark {best['pass_mark']:.0%})"
        )
    trainings = latest_trainings(load_training_frame(session, annotator_ids=[annotator.id]))
    if not trainings.empty:
        trainings = trainings[
            trainings["project_id"].isna() | (trainings["project_id"] == project.id)
        ]
    statuses = [
        training_status(None if pd.isna(expires) else expires, now)
        for expires in trainings["expires_at"]
    ]
    expired = sorted(
        str(kind)
        for kind, status in zip(trainings["kind"], statuses, strict=True)
        if status == "expired"
    )
    if expired:
        unmet.append(f"expired training: {', '.join(expired)}")
    if not any(
        kind == "initial" and status != "expired"
        for kind, status in zip(trainings["kind"], statuses, strict=True)
    ):
        unmet.append("no current initial training")
    return Requirements(project=project.slug, unmet=tuple(unmet))


def list_assignments(
    session: Session, principal: Principal, annotator_id: int, *, today: dt.date | None = None
) -> pd.DataFrame:
    """A person's assignments, running ones first."""
    load_annotator(session, principal, annotator_id)
    today = today or utcnow().date()
    rows = [
        {
            "id": assignment.id,
            "project": slug,
            "role": assignment.role,
            "from": assignment.starts_on.isoformat(),
            "until": assignment.ends_on.isoformat() if assignment.ends_on else "",
            "running": is_running(assignment, today),
            "by": assignment.created_by or "",
        }
        for assignment, slug in staffing_queries.list_assignments(
            session, annotator_id=annotator_id
        )
    ]
    frame = pd.DataFrame(rows, columns=["id", "project", "role", "from", "until", "running", "by"])
    frame["running"] = frame["running"].astype(bool)
    return frame.sort_values("running", ascending=False, kind="stable").reset_index(drop=True)


def reassignment_choices(
    session: Session, principal: Principal, annotator_id: int, *, today: dt.date | None = None
) -> tuple[dict[int, str], dict[int, str]]:
    """Projects the person is on today, and active projects they could join (id -> slug)."""
    load_annotator(session, principal, annotator_id)
    today = today or utcnow().date()
    current = staffing_queries.load_current_assignment_frame(
        session, annotator_ids=[annotator_id], today=today
    )
    on = dict(zip(current["project_id"].astype(int), current["project"], strict=True))
    others = {
        project_id: slug
        for project_id, slug in list_active_projects(session)
        if project_id not in on
    }
    return on, others


def _check_role(annotator_tier: str, role: str) -> None:
    if role not in ASSIGNMENT_ROLES:
        raise ValidationError(f"Role must be one of {', '.join(ASSIGNMENT_ROLES)}.", field="role")
    if role == "reviewer" and annotator_tier == "annotator":
        raise ValidationError(
            "Reviewing needs the reviewer or lead tier; promote first.", field="role"
        )


def _check_fit(annotator_tier: str, project_min_tier: str, role: str, slug: str) -> None:
    _check_role(annotator_tier, role)
    if TIERS.index(annotator_tier) < TIERS.index(project_min_tier):
        raise ValidationError(
            f"{slug} needs at least a {project_min_tier}; this person is a {annotator_tier}.",
            field="to_project_id",
        )


def assign_to_project(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    project_id: int,
    role: str = "annotator",
    starts_on: dt.date | None = None,
) -> Assignment:
    """Put a person on a project from ``starts_on``."""
    require(actor, "staffing.edit")
    annotator = load_annotator(session, actor, annotator_id)
    require_active(annotator)
    project = require_project(session, project_id)
    starts_on = starts_on or utcnow().date()
    if project.status != "active":
        raise ValidationError(f"{project.slug} is {project.status}.", field="to_project_id")
    if annotator.status in ("candidate", "inactive"):
        raise ValidationError(
            f"{annotator.display_name} is {annotator.status}; only active people or people on "
            "probation are assigned.",
            field="to_project_id",
        )
    _check_fit(annotator.tier, project.min_tier, role, project.slug)
    if staffing_queries.get_current_assignment(
        session, annotator_id=annotator.id, project_id=project.id, today=starts_on
    ):
        raise ValidationError(
            f"{annotator.display_name} is already on {project.slug}.", field="to_project_id"
        )
    assignment = Assignment(
        annotator_id=annotator.id,
        project_id=project.id,
        role=role,
        starts_on=starts_on,
        created_by=actor.username,
    )
    session.add(assignment)
    audit.record(session, actor, "assignment.create", assignment)
    return assignment


def end_assignment(
    session: Session, actor: Principal, assignment_id: int, *, ends_on: dt.date | None = None
) -> Assignment:
    """End a running assignment; an assignment someone already ended is left alone."""
    require(actor, "staffing.edit")
    assignment = session.get(Assignment, assignment_id, populate_existing=True)
    if assignment is None:
        raise NotFound(f"No assignment {assignment_id}.")
    load_annotator(session, actor, assignment.annotator_id)
    if assignment.ends_on is not None:
        ended = get_latest_audit(
            session,
            entity_type="assignments",
            entity_id=str(assignment.id),
            action="assignment.end",
        )
        raise ConflictError(
            changed_message(
                "This assignment", ended.actor if ended else None, ended.at if ended else None
            )
        )
    ends_on = ends_on or utcnow().date()
    if ends_on < assignment.starts_on:
        raise ValidationError(
            f"It cannot end before it started ({assignment.starts_on}).", field="ends_on"
        )
    before = audit.snapshot(assignment)
    assignment.ends_on = ends_on
    audit.record(session, actor, "assignment.end", assignment, before=before)
    return assignment


def record_reassignment(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    from_project_id: int | None,
    to_project_id: int | None,
    reason_category: str,
    notes: str = "",
    role: str = "annotator",
    override_justification: str = "",
    now: dt.datetime | None = None,
    alert: Alert | None = None,
) -> ReassignmentDecision:
    """Move a person off one project and/or onto another, and record why with evidence.

    The project they join must find its requirements met (``check_requirements``);
    otherwise the decision is refused with what is missing, unless the person deciding
    overrides it with a written ``override_justification``, kept with the evidence and
    audited as ``reassignment.override``.
    A decision taken on an ``alert`` carries its id and evidence, already in the audit entry.
    """
    require(actor, "staffing.edit")
    annotator = load_annotator(session, actor, annotator_id)
    require_active(annotator)
    now = now or utcnow()
    today = now.date()
    if from_project_id is None and to_project_id is None:
        raise ValidationError(
            "Choose the project they leave, the one they join, or both.", field="to_project_id"
        )
    if from_project_id == to_project_id:
        raise ValidationError("They would leave and join the same project.", field="to_project_id")
    if reason_category not in REASSIGNMENT_REASONS:
        raise ValidationError(
            f"Reason must be one of {', '.join(REASSIGNMENT_REASONS)}.", field="reason_category"
        )
    notes = (notes or "").strip()
    if reason_category == "other":
        notes = require_text(notes, "notes", "With reason 'other', say what the reason is.")
    leaving = None
    if from_project_id is not None:
        source = require_project(session, from_project_id)
        leaving = staffing_queries.get_current_assignment(
            session, annotator_id=annotator.id, project_id=source.id, today=today
        )
        if leaving is None:
            raise ValidationError(
                f"{annotator.display_name} is not on {source.slug} right now.",
                field="from_project_id",
            )
    joining = None
    override: dict[str, Any] | None = None
    if to_project_id is not None:
        target = require_project(session, to_project_id)
        if target.status != "active":
            raise ValidationError(f"{target.slug} is {target.status}.", field="to_project_id")
        _check_role(annotator.tier, role)
        requirements = check_requirements(session, actor, annotator.id, target.id, now=now)
        justification = (override_justification or "").strip()
        if not requirements.met and not justification:
            raise ValidationError(
                f"{annotator.display_name} does not meet {target.slug}'s requirements: "
                f"{'; '.join(requirements.unmet)}. Train or test them first, or write why "
                "they should join anyway to override.",
                field="override_justification",
            )
        if not requirements.met:
            override = {"unmet": list(requirements.unmet), "justification": justification}
        if staffing_queries.get_current_assignment(
            session, annotator_id=annotator.id, project_id=target.id, today=today
        ):
            raise ValidationError(
                f"{annotator.display_name} is already on {target.slug}.", field="to_project_id"
            )
        joining = target
    evidence: dict[str, Any] = {
        "window_days": EVIDENCE_WINDOW_DAYS,
        "overall": measure_person(
            session, annotator.id, now=now, window_days=EVIDENCE_WINDOW_DAYS
        ).as_evidence(),
    }
    if from_project_id is not None:
        evidence["from_project"] = measure_person(
            session,
            annotator.id,
            now=now,
            window_days=EVIDENCE_WINDOW_DAYS,
            project_id=from_project_id,
        ).as_evidence()
    if alert is not None:
        evidence["alert"] = {"id": alert.id, "rule": alert.rule, **alert.evidence}
    if override is not None:
        evidence["requirements_override"] = override
    if leaving is not None:
        # From today on they are off it; ends_on is the first day off the project.
        leaving.ends_on = max(today, leaving.starts_on)
    if joining is not None:
        session.add(
            Assignment(
                annotator_id=annotator.id,
                project_id=joining.id,
                role=role,
                starts_on=today,
                created_by=actor.username,
            )
        )
    decision = ReassignmentDecision(
        annotator_id=annotator.id,
        from_project_id=from_project_id,
        to_project_id=to_project_id,
        reason_category=reason_category,
        notes=notes,
        evidence=evidence,
        decided_by=actor.username,
        decided_at=now,
        alert_id=None if alert is None else alert.id,
    )
    session.add(decision)
    audit.record(session, actor, "reassignment.create", decision)
    if override is not None:
        audit.record(
            session,
            actor,
            "reassignment.override",
            decision,
            after={"to_project": joining.slug if joining else None, **override},
        )
    return decision


def list_reassignments(session: Session, principal: Principal, annotator_id: int) -> pd.DataFrame:
    """Decisions about a person, newest first, with the evidence they were taken on; the
    notes (coaching text) only for roles that may read coaching."""
    load_annotator(session, principal, annotator_id)
    coaching = principal.can("coaching.view")
    decisions = staffing_queries.list_reassignment_decisions(session, annotator_id=annotator_id)
    slugs = list_project_slugs_by_id(
        session,
        project_ids=[
            project_id
            for decision in decisions
            for project_id in (decision.from_project_id, decision.to_project_id)
            if project_id is not None
        ],
    )
    columns = ["when", "from", "to", "reason", "notes", "evidence", "decided by"]
    if not coaching:
        columns.remove("notes")
    frame = pd.DataFrame(
        [
            {
                "when": decision.decided_at.date().isoformat(),
                "from": slugs.get(decision.from_project_id or -1, ""),
                "to": slugs.get(decision.to_project_id or -1, ""),
                "reason": decision.reason_category,
                "notes": decision.notes,
                "evidence": evidence_summary(decision.evidence),
                "decided by": decision.decided_by or "",
            }
            for decision in decisions
        ],
        columns=["when", "from", "to", "reason", "notes", "evidence", "decided by"],
    )
    return frame[columns]


def evidence_summary(evidence: dict[str, Any]) -> str:
    """One line of what the decision was based on."""
    scope = evidence.get("from_project") or evidence.get("overall") or {}
    if not scope:
        return f"alert {evidence['alert_id']}" if evidence.get("alert_id") else ""
    accuracy, low, high = (
        scope.get("accuracy"),
        scope.get("accuracy_ci_low"),
        scope.get("accuracy_ci_high"),
    )
    gold = (
        f"gold {accuracy:.1%} ({low:.1%}–{high:.1%}) on {scope.get('gold_answered', 0)} answers"
        if accuracy is not None and low is not None and high is not None
        else "no gold answers"
    )
    days = evidence.get("window_days", "?")
    return f"{scope.get('annotations', 0)} annotations in {days} days, {gold}"
