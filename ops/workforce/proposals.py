"""Staffing proposals: someone proposes to put a person on a project (or move them from
another), ops approves or rejects. Approval records the reassignment decision with its
evidence and the assignment, through the staffing service; every step is audited.

A lead may propose for their own team; only ops and admin decide.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from db.models import ASSIGNMENT_ROLES, StaffingProposal, utcnow
from db.queries import staffing as staffing_queries
from ops import audit
from ops.errors import ConflictError, NotFound, ValidationError
from ops.permissions import Principal, people_scope, require
from ops.workforce.common import load_annotator, require_active, require_project, require_text
from ops.workforce.staffing import REASSIGNMENT_REASONS, record_reassignment


@dataclass(frozen=True)
class Proposal:
    """One proposal as a list shows it; notes only for roles that may read coaching text."""

    id: int
    annotator_id: int
    annotator: str
    project_id: int
    project: str
    from_project: str
    role: str
    reason: str
    notes: str
    status: str
    proposed_by: str
    proposed_at: dt.datetime
    decided_by: str
    decided_at: dt.datetime | None
    decision_note: str


def propose_staffing(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    project_id: int,
    from_project_id: int | None = None,
    role: str = "annotator",
    reason_category: str = "workload",
    notes: str = "",
    today: dt.date | None = None,
) -> StaffingProposal:
    """Propose putting a person on a project, optionally moving them off another one."""
    require(actor, "staffing.propose")
    annotator = load_annotator(session, actor, annotator_id)
    require_active(annotator)
    project = require_project(session, project_id)
    today = today or utcnow().date()
    if project.status != "active":
        raise ValidationError(f"{project.slug} is {project.status}.", field="project_id")
    if role not in ASSIGNMENT_ROLES:
        raise ValidationError(f"Role must be one of {', '.join(ASSIGNMENT_ROLES)}.", field="role")
    if reason_category not in REASSIGNMENT_REASONS:
        raise ValidationError(
            f"Reason must be one of {', '.join(REASSIGNMENT_REASONS)}.", field="reason_category"
        )
    notes = (notes or "").strip()
    if reason_category == "other":
        notes = require_text(notes, "notes", "With reason 'other', say what the reason is.")
    if from_project_id == project_id:
        raise ValidationError("They would leave and join the same project.", field="project_id")
    if staffing_queries.get_current_assignment(
        session, annotator_id=annotator.id, project_id=project.id, today=today
    ):
        raise ValidationError(
            f"{annotator.display_name} is already on {project.slug}.", field="project_id"
        )
    if from_project_id is not None:
        source = require_project(session, from_project_id)
        if not staffing_queries.get_current_assignment(
            session, annotator_id=annotator.id, project_id=source.id, today=today
        ):
            raise ValidationError(
                f"{annotator.display_name} is not on {source.slug} right now.",
                field="from_project_id",
            )
    if staffing_queries.get_pending_proposal(
        session, annotator_id=annotator.id, project_id=project.id
    ):
        raise ValidationError(
            f"A proposal to put {annotator.display_name} on {project.slug} already waits "
            "for a decision.",
            field="project_id",
        )
    proposal = StaffingProposal(
        annotator_id=annotator.id,
        project_id=project.id,
        from_project_id=from_project_id,
        role=role,
        reason_category=reason_category,
        notes=notes,
        status="pending",
        proposed_by=actor.username,
        proposed_at=utcnow(),
        decision_note="",
    )
    session.add(proposal)
    audit.record(session, actor, "staffing_proposal.create", proposal)
    return proposal


def _pending(session: Session, actor: Principal, proposal_id: int) -> StaffingProposal:
    require(actor, "staffing.edit")
    proposal = session.get(StaffingProposal, proposal_id, populate_existing=True)
    if proposal is None:
        raise NotFound(f"No staffing proposal {proposal_id}.")
    # Outside the decider's scope the proposal is not there at all.
    load_annotator(session, actor, proposal.annotator_id)
    if proposal.status != "pending":
        raise ConflictError(
            f"This proposal was already {proposal.status} by {proposal.decided_by or 'someone'}"
            + (f" at {proposal.decided_at:%Y-%m-%d %H:%M} UTC" if proposal.decided_at else "")
            + "."
        )
    return proposal


def approve_proposal(
    session: Session,
    actor: Principal,
    proposal_id: int,
    *,
    note: str = "",
    now: dt.datetime | None = None,
) -> StaffingProposal:
    """Carry out a pending proposal: the decision with its evidence, and the assignment."""
    proposal = _pending(session, actor, proposal_id)
    before = audit.snapshot(proposal)
    now = now or utcnow()
    notes = proposal.notes
    if proposal.proposed_by and proposal.proposed_by != actor.username:
        notes = (f"{notes} " if notes else "") + f"(proposed by {proposal.proposed_by})"
    decision = record_reassignment(
        session,
        actor,
        proposal.annotator_id,
        from_project_id=proposal.from_project_id,
        to_project_id=proposal.project_id,
        reason_category=proposal.reason_category,
        notes=notes,
        role=proposal.role,
        now=now,
    )
    session.flush()
    proposal.status = "approved"
    proposal.decided_by = actor.username
    proposal.decided_at = now
    proposal.decision_note = (note or "").strip()
    proposal.decision_id = decision.id
    audit.record(session, actor, "staffing_proposal.approve", proposal, before=before)
    return proposal


def reject_proposal(
    session: Session,
    actor: Principal,
    proposal_id: int,
    *,
    note: str,
    now: dt.datetime | None = None,
) -> StaffingProposal:
    """Turn a pending proposal down, saying why."""
    proposal = _pending(session, actor, proposal_id)
    note = require_text(note, "note", "Say why the proposal is rejected.")
    before = audit.snapshot(proposal)
    proposal.status = "rejected"
    proposal.decided_by = actor.username
    proposal.decided_at = now or utcnow()
    proposal.decision_note = note
    audit.record(session, actor, "staffing_proposal.reject", proposal, before=before)
    return proposal


def list_proposals(
    session: Session,
    principal: Principal,
    *,
    statuses: tuple[str, ...] = (),
    project_id: int | None = None,
) -> list[Proposal]:
    """Proposals about people in the principal's scope, newest first."""
    require(principal, "staffing.view")
    frame = staffing_queries.load_proposal_frame(
        session, scope=people_scope(principal), statuses=statuses, project_id=project_id
    )
    coaching = principal.can("coaching.view")
    return [
        Proposal(
            id=int(row["id"]),
            annotator_id=int(row["annotator_id"]),
            annotator=str(row["annotator"]),
            project_id=int(row["project_id"]),
            project=str(row["project"]),
            from_project="" if pd.isna(row["from_project"]) else str(row["from_project"]),
            role=str(row["role"]),
            reason=str(row["reason_category"]),
            notes=str(row["notes"]) if coaching else "",
            status=str(row["status"]),
            proposed_by=str(row["proposed_by"] or ""),
            proposed_at=row["proposed_at"],
            decided_by="" if pd.isna(row["decided_by"]) else str(row["decided_by"]),
            decided_at=None if pd.isna(row["decided_at"]) else row["decided_at"],
            decision_note=str(row["decision_note"] or "") if coaching else "",
        )
        for row in frame.to_dict("records")
    ]


def proposals_frame(proposals: list[Proposal]) -> pd.DataFrame:
    """Proposals as a table with the column names a person would write."""
    columns = [
        "id",
        "annotator",
        "joins",
        "leaves",
        "as",
        "reason",
        "notes",
        "status",
        "proposed by",
        "proposed",
        "decided by",
        "decision note",
    ]
    return pd.DataFrame(
        [
            [
                item.id,
                item.annotator,
                item.project,
                item.from_project,
                item.role,
                item.reason,
                item.notes,
                item.status,
                item.proposed_by,
                item.proposed_at.strftime("%Y-%m-%d %H:%M UTC"),
                item.decided_by,
                item.decision_note,
            ]
            for item in proposals
        ],
        columns=columns,
    )
