"""Feedback: specific notes from leads with linked evidence (e.g. the golden items the
person got wrong) and a follow-up date; the annotator acknowledges them on their scorecard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import FEEDBACK_CATEGORIES, Alert, AnnotationEvent, FeedbackNote, utcnow
from db.queries.events import list_events_by_id, list_wrong_gold_events
from db.queries.feedback import list_feedback_notes
from ops import audit
from ops.errors import ConflictError, NotFound, ValidationError
from ops.permissions import Principal, require
from ops.workforce.common import load_annotator, require_active, require_text

# Wrong golden answers offered as evidence look back this many days.
EVIDENCE_DAYS = 30
EVIDENCE_LIMIT = 50


def _golden_item(event: AnnotationEvent, project: str) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "project": project,
        "item_id": event.item_id,
        "label": event.label,
        "gold_label": event.gold_label,
        "submitted_at": event.submitted_at.isoformat(),
    }


def list_wrong_gold(
    session: Session,
    principal: Principal,
    annotator_id: int,
    *,
    now: dt.datetime | None = None,
    days: int = EVIDENCE_DAYS,
) -> pd.DataFrame:
    """Golden items the person answered wrong in the last ``days`` days, newest first."""
    require(principal, "coaching.view")
    load_annotator(session, principal, annotator_id)
    now = now or utcnow()
    events = list_wrong_gold_events(
        session,
        annotator_id=annotator_id,
        since=now - dt.timedelta(days=days),
        limit=EVIDENCE_LIMIT,
    )
    return pd.DataFrame(
        [_golden_item(event, project) for event, project in events],
        columns=["event_id", "project", "item_id", "label", "gold_label", "submitted_at"],
    )


def give_feedback(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    category: str,
    text: str,
    follow_up_on: dt.date | None = None,
    evidence_event_ids: Sequence[int] = (),
    today: dt.date | None = None,
    alert: Alert | None = None,
) -> FeedbackNote:
    """Record feedback; the chosen golden items are copied into its evidence as they are now.

    Feedback given on an ``alert`` carries its id and evidence, already in the audit entry.
    """
    require(actor, "coaching.edit")
    annotator = load_annotator(session, actor, annotator_id)
    require_active(annotator)
    today = today or utcnow().date()
    if category not in FEEDBACK_CATEGORIES:
        raise ValidationError(
            f"Category must be one of {', '.join(FEEDBACK_CATEGORIES)}.", field="category"
        )
    text = require_text(
        text,
        "text",
        "Write specific feedback of at least 10 characters: what to keep doing or change.",
        minimum=10,
    )
    if follow_up_on is not None and follow_up_on < today:
        raise ValidationError(
            f"Follow-up date {follow_up_on} is in the past; pick today or later.",
            field="follow_up_on",
        )
    wanted = sorted(set(evidence_event_ids))
    found = list_events_by_id(session, annotator_id=annotator.id, event_ids=wanted)
    if len(found) != len(wanted):
        missing = sorted(set(wanted) - {event.id for event, _ in found})
        raise ValidationError(
            f"Evidence event(s) {', '.join(map(str, missing))} are not this person's work.",
            field="evidence",
        )
    evidence: dict[str, Any] = (
        {"golden_items": [_golden_item(event, project) for event, project in found]}
        if found
        else {}
    )
    if alert is not None:
        evidence = {**evidence, "alert_id": alert.id, "rule": alert.rule, **alert.evidence}
    note = FeedbackNote(
        annotator_id=annotator.id,
        category=category,
        text=text,
        evidence=evidence,
        follow_up_on=follow_up_on,
        author=actor.username,
        alert_id=None if alert is None else alert.id,
    )
    session.add(note)
    audit.record(session, actor, "feedback.create", note)
    return note


@dataclass(frozen=True)
class FeedbackItem:
    """One feedback note as its reader sees it: evidence summarised in words."""

    id: int
    given_on: dt.date
    category: str
    text: str
    evidence: str  # empty when no evidence is linked
    follow_up_on: dt.date | None
    acknowledged_on: dt.date | None
    author: str | None


def _items(notes: list[FeedbackNote]) -> list[FeedbackItem]:
    return [
        FeedbackItem(
            id=note.id,
            given_on=note.created_at.date(),
            category=note.category,
            text=note.text,
            evidence=_evidence_text(note.evidence),
            follow_up_on=note.follow_up_on,
            acknowledged_on=note.acknowledged_at.date() if note.acknowledged_at else None,
            author=note.author,
        )
        for note in notes
    ]


def _rows(notes: list[FeedbackNote]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": item.id,
                "given": item.given_on.isoformat(),
                "category": item.category,
                "feedback": item.text,
                "evidence": item.evidence,
                "follow up": item.follow_up_on.isoformat() if item.follow_up_on else "",
                "acknowledged": item.acknowledged_on.isoformat() if item.acknowledged_on else "",
                "by": item.author or "",
            }
            for item in _items(notes)
        ],
        columns=[
            "id",
            "given",
            "category",
            "feedback",
            "evidence",
            "follow up",
            "acknowledged",
            "by",
        ],
    )


def _evidence_text(evidence: dict[str, Any]) -> str:
    items = evidence.get("golden_items") or []
    if items:
        return "; ".join(
            f"{item['project']}/{item['item_id']}: said {item['label']}, gold {item['gold_label']}"
            for item in items
        )
    if evidence.get("alert_id"):
        return f"alert {evidence['alert_id']} ({evidence.get('rule', '')})"
    return ""


def list_feedback(session: Session, principal: Principal, annotator_id: int) -> pd.DataFrame:
    """Feedback given to a person, newest first; coaching notes are not for finance."""
    require(principal, "coaching.view")
    load_annotator(session, principal, annotator_id)
    return _rows(list_feedback_notes(session, annotator_id=annotator_id))


def list_my_feedback(session: Session, principal: Principal) -> list[FeedbackItem]:
    """The logged-in annotator's own feedback, newest first."""
    require(principal, "feedback.acknowledge")
    if principal.annotator_id is None:
        return []
    return _items(list_feedback_notes(session, annotator_id=principal.annotator_id))


def acknowledge_feedback(
    session: Session, actor: Principal, note_id: int, *, now: dt.datetime | None = None
) -> FeedbackNote:
    """The annotator confirms they read a note given to them."""
    require(actor, "feedback.acknowledge")
    note = session.get(FeedbackNote, note_id, populate_existing=True)
    if note is None or actor.annotator_id is None or note.annotator_id != actor.annotator_id:
        raise NotFound(f"No feedback {note_id} for you.")
    if note.acknowledged_at is not None:
        raise ConflictError(
            f"You already acknowledged this feedback on {note.acknowledged_at:%Y-%m-%d %H:%M} UTC."
        )
    before = audit.snapshot(note)
    note.acknowledged_at = now or utcnow()
    audit.record(session, actor, "feedback.acknowledge", note, before=before)
    return note
