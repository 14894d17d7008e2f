"""What people do with alerts: list, acknowledge, resolve, dismiss, with history and audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.models import (
    SEVERITIES,
    Alert,
    AlertAction,
    FeedbackNote,
    Project,
    StaffingProposal,
    utcnow,
)
from db.queries import alerts as alert_queries
from db.queries.people import list_annotators_by_id
from db.queries.projects import get_project
from db.queries.rollups import load_rollup_daily_frame
from ops import audit
from ops.alerts.evidence import AlertEvidence, describe_alert, evidence_ids
from ops.errors import ConflictError, NotFound, ValidationError
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.permissions import Principal, people_scope, require
from ops.workforce.common import changed_message

# status -> statuses it may move to
TRANSITIONS = {
    "open": ("acknowledged", "resolved", "dismissed"),
    "acknowledged": ("resolved", "dismissed", "open"),
    "resolved": ("open",),
    "dismissed": ("open",),
}
ACTION_FOR_STATUS = {
    "acknowledged": "acknowledge",
    "resolved": "resolve",
    "dismissed": "dismiss",
    "open": "reopen",
}


@dataclass(frozen=True)
class AlertFilter:
    """What to list: any field left None matches everything."""

    project_slug: str | None = None
    status: str | None = None
    rule: str | None = None
    severity: str | None = None
    include_children: bool = False


@dataclass(frozen=True)
class AlertRow:
    """One alert as lists, details and exports show it, with its subject named."""

    id: int
    rule: str
    title: str
    severity: str
    status: str
    project: str | None
    # The annotator's email (or name when there is none), or the project for project alerts.
    subject: str
    annotator: str | None
    annotator_id: int | None
    window_start: dt.date
    window_end: dt.date
    parent_alert_id: int | None
    evidence: dict[str, Any]
    assignee: str | None
    created_at: dt.datetime
    # The people the evidence refers to by id whom the reader may see: id -> (name, email).
    evidence_people: dict[int, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def readable(self) -> AlertEvidence:
        """The evidence as sentences and named figures (ops.alerts.evidence)."""
        return describe_alert(
            rule=self.rule,
            evidence=self.evidence,
            who=self.annotator,
            project=self.project,
            window_start=self.window_start,
            window_end=self.window_end,
            people=self.evidence_people,
        )

    # The alert's version when read: a decision made from this view passes it back.
    version: int = 1


@dataclass(frozen=True)
class AlertHistoryEntry:
    """One step of an alert's life: raised, a status change, feedback or a reassignment."""

    action: str
    from_status: str | None
    to_status: str | None
    note: str
    actor: str | None
    at: dt.datetime


@dataclass(frozen=True)
class AlertDetail:
    """One alert with its history, oldest first, and the alerts linked under it."""

    alert: AlertRow
    history: tuple[AlertHistoryEntry, ...]
    linked: tuple[AlertRow, ...]


@dataclass(frozen=True)
class MetricSeries:
    """A metric over time for a chart: ``frame`` has ``day`` and the kind's columns.

    ``accuracy``: weekly gold accuracy with its Wilson interval (``accuracy``,
    ``accuracy_ci_low``, ``accuracy_ci_high``, ``gold_answered``); ``cumulative``: a running
    total in ``value``; ``none``: nothing to draw. ``reference`` is the target or budget.
    """

    kind: Literal["none", "cumulative", "accuracy"]
    frame: pd.DataFrame
    reference: float | None
    label: str


# The fields `annops alerts` exports, in order.
ALERT_EXPORT_FIELDS: tuple[str, ...] = (
    "id",
    "rule",
    "severity",
    "status",
    "project",
    "subject",
    "window_start",
    "window_end",
    "parent_alert_id",
    "evidence",
)


def alert_export_record(row: AlertRow) -> dict[str, Any]:
    """The alert as one JSON-ready record with ALERT_EXPORT_FIELDS as keys, in order."""
    return {
        "id": row.id,
        "rule": row.rule,
        "severity": row.severity,
        "status": row.status,
        "project": row.project,
        "subject": row.subject,
        "window_start": row.window_start.isoformat(),
        "window_end": row.window_end.isoformat(),
        "parent_alert_id": row.parent_alert_id,
        "evidence": row.evidence,
    }


def _check_filter(alert_filter: AlertFilter) -> None:
    if alert_filter.status and alert_filter.status not in TRANSITIONS:
        raise ValidationError(
            f"Unknown status {alert_filter.status!r}; use one of {', '.join(TRANSITIONS)}.",
            field="status",
        )
    if alert_filter.severity and alert_filter.severity not in SEVERITIES:
        raise ValidationError(
            f"Unknown severity {alert_filter.severity!r}; use one of {', '.join(SEVERITIES)}.",
            field="severity",
        )


def list_alerts(
    session: Session, principal: Principal, alert_filter: AlertFilter = AlertFilter()
) -> list[AlertRow]:
    """Alerts newest first, with subject names, for pages, CLI and exports.

    A lead sees the alerts about their team's people, including those linked under a
    project alert (which only roles that see everyone get).
    """
    require(principal, "alerts.view")
    _check_filter(alert_filter)
    rows = alert_queries.list_alerts(
        session, scope=people_scope(principal), **_query_filter(alert_filter)
    )
    names = _annotator_names(session, principal, [alert for alert, _slug in rows])
    return [_as_row(alert, slug, names) for alert, slug in rows]


# The columns of the alert list on the Alerts page, and of the alerts linked under one.
ALERT_TABLE_COLUMNS = (
    "id",
    "severity",
    "status",
    "title",
    "project",
    "subject",
    "window_start",
    "window_end",
)
LINKED_TABLE_COLUMNS = ("id", "title", "subject", "severity", "status")


def alerts_table(
    rows: Sequence[AlertRow], columns: Sequence[str] = ALERT_TABLE_COLUMNS
) -> pd.DataFrame:
    """The ``columns`` of ``rows`` as a frame, one row per alert.

    Read field by field: pandas' own conversion of a list of dataclasses copies every
    field of every row deeply, each alert's evidence included, which for ten thousand
    open alerts cost more than a second on every run of the page.
    """
    return pd.DataFrame(
        {column: [getattr(row, column) for row in rows] for column in columns},
        columns=list(columns),
    )


def list_alert_table(
    session: Session, principal: Principal, alert_filter: AlertFilter = AlertFilter()
) -> pd.DataFrame:
    """The Alerts page's list: list_alerts' rows as alerts_table shows them. What the page
    keeps between runs is this frame, not every alert's evidence."""
    return alerts_table(list_alerts(session, principal, alert_filter))


def count_alerts(
    session: Session, principal: Principal, alert_filter: AlertFilter = AlertFilter()
) -> int:
    """How many rows ``list_alerts`` gives the principal for the same filter."""
    require(principal, "alerts.view")
    _check_filter(alert_filter)
    return alert_queries.count_alerts(
        session, scope=people_scope(principal), **_query_filter(alert_filter)
    )


def _query_filter(alert_filter: AlertFilter) -> dict[str, Any]:
    return {
        "project_slug": alert_filter.project_slug,
        "statuses": (alert_filter.status,) if alert_filter.status else (),
        "rule": alert_filter.rule,
        "severity": alert_filter.severity,
        "include_children": alert_filter.include_children,
    }


def _annotator_names(
    session: Session, principal: Principal, alerts: list[Alert]
) -> dict[int, tuple[str, str | None]]:
    """Names of the alerts' subjects and of the people their evidence refers to, as far as
    the principal may see them."""
    wanted = sorted(
        {alert.annotator_id for alert in alerts if alert.annotator_id is not None}
        | {annotator_id for alert in alerts for annotator_id in evidence_ids(alert.evidence)}
    )
    if not wanted:
        return {}
    contact = principal.can("contact.view")
    return {
        person.id: (person.display_name, person.email if contact else None)
        for person in list_annotators_by_id(
            session, annotator_ids=wanted, scope=people_scope(principal)
        )
    }


def _as_row(alert: Alert, slug: str | None, names: dict[int, tuple[str, str | None]]) -> AlertRow:
    if alert.annotator_id is not None:
        name, email = names.get(alert.annotator_id, (f"annotator {alert.annotator_id}", None))
        subject = email or name
    else:
        name, subject = slug or "", slug or ""
    return AlertRow(
        id=alert.id,
        rule=alert.rule,
        title=alert.title,
        severity=alert.severity,
        status=alert.status,
        project=slug,
        subject=subject,
        annotator=name if alert.annotator_id is not None else None,
        annotator_id=alert.annotator_id,
        window_start=alert.window_start,
        window_end=alert.window_end,
        parent_alert_id=alert.parent_alert_id,
        evidence=alert.evidence,
        assignee=alert.assignee,
        created_at=alert.created_at,
        evidence_people={
            annotator_id: names[annotator_id]
            for annotator_id in evidence_ids(alert.evidence)
            if annotator_id in names
        },
        version=alert.version_id,
    )


def get_alert(session: Session, principal: Principal, alert_id: int) -> AlertDetail:
    """One alert with its history and linked alerts, if the principal may see it."""
    require(principal, "alerts.view")
    alert = _load(session, principal, alert_id)
    project = session.get(Project, alert.project_id) if alert.project_id else None
    slug = project.slug if project is not None else None
    names = _annotator_names(session, principal, [alert])
    history = tuple(
        AlertHistoryEntry(
            action=action.action,
            from_status=action.from_status,
            to_status=action.to_status,
            note=action.note,
            actor=action.actor,
            at=action.at,
        )
        for action in alert_queries.list_alert_actions(session, alert_id=alert.id)
    )
    children = alert_queries.list_child_alerts(
        session, alert_id=alert.id, scope=people_scope(principal)
    )
    child_names = _annotator_names(session, principal, list(children))
    return AlertDetail(
        alert=_as_row(alert, slug, names),
        history=history,
        linked=tuple(_as_row(child, slug, child_names) for child in children),
    )


def _load(session: Session, principal: Principal, alert_id: int) -> Alert:
    alert = alert_queries.get_alert(session, alert_id=alert_id, scope=people_scope(principal))
    if alert is None:
        raise NotFound(f"No alert {alert_id} that you may see.")
    return alert


def change_status(
    session: Session,
    principal: Principal,
    alert_id: int,
    to_status: str,
    *,
    note: str = "",
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Alert:
    """Move an alert along its lifecycle; resolving or dismissing needs a note.

    ``expected_version`` is the alert's version the decider saw (AlertRow.version); a
    decision on an alert changed since, or saved at the same moment as another, is
    refused and nothing is stored.
    """
    require(principal, "alerts.triage")
    alert = _load(session, principal, alert_id)
    _check_unchanged(session, alert, expected_version)
    if to_status not in TRANSITIONS.get(alert.status, ()):
        raise ValidationError(
            f"An alert that is {alert.status} cannot become {to_status}; "
            f"allowed: {', '.join(TRANSITIONS[alert.status])}.",
            field="status",
        )
    if to_status in ("resolved", "dismissed") and not note.strip():
        raise ValidationError(
            f"Say why the alert is {to_status}: the note is kept with its history.", field="note"
        )
    before = {"status": alert.status, "assignee": alert.assignee}
    from_status = alert.status
    alert.status = to_status
    if to_status == "acknowledged" and alert.assignee is None:
        alert.assignee = principal.username
    alert.updated_at = now or utcnow()
    _record(session, principal, alert, ACTION_FOR_STATUS[to_status], from_status, note, now)
    audit.record(
        session,
        principal,
        f"alert.{ACTION_FOR_STATUS[to_status]}",
        ("alerts", alert.id),
        before=before,
        after={"status": alert.status, "assignee": alert.assignee, "note": note},
    )
    _flush_decision(session, alert)
    return alert


def _check_unchanged(session: Session, alert: Alert, expected_version: int | None) -> None:
    if expected_version is not None and alert.version_id != expected_version:
        latest = alert_queries.list_alert_actions(session, alert_id=alert.id)
        last = latest[-1] if latest else None
        raise ConflictError(
            changed_message(
                f"Alert #{alert.id}",
                last.actor if last else None,
                last.at if last else alert.updated_at,
            )
        )


def _flush_decision(session: Session, alert: Alert) -> None:
    """Write the decision; one that lost a race with another becomes a ConflictError."""
    alert_id = alert.id
    try:
        session.flush()
    except StaleDataError as error:
        raise ConflictError(changed_message(f"Alert #{alert_id}", None, None)) from error


def _record(
    session: Session,
    principal: Principal,
    alert: Alert,
    action: str,
    from_status: str | None,
    note: str,
    now: dt.datetime | None,
) -> None:
    session.add(
        AlertAction(
            alert_id=alert.id,
            action=action,
            from_status=from_status,
            to_status=alert.status,
            note=note,
            actor=principal.username,
            at=now or utcnow(),
        )
    )


def give_feedback_on_alert(
    session: Session,
    principal: Principal,
    alert_id: int,
    *,
    category: str,
    text: str,
    follow_up_on: dt.date | None = None,
) -> FeedbackNote:
    """Feedback to the alert's annotator through the coaching service, the alert attached."""
    from ops.workforce.feedback import give_feedback

    require(principal, "alerts.triage")
    alert = _load(session, principal, alert_id)
    if alert.annotator_id is None:
        raise ValidationError("This alert is about a project, not a person.", field="alert")
    note = give_feedback(
        session,
        principal,
        alert.annotator_id,
        category=category,
        text=text,
        follow_up_on=follow_up_on,
        alert=alert,
    )
    _record(session, principal, alert, "feedback", alert.status, note.text, None)
    return note


def propose_reassignment(
    session: Session,
    principal: Principal,
    alert_id: int,
    *,
    to_project_slug: str | None,
    reason_category: str,
    notes: str = "",
    expected_version: int | None = None,
) -> StaffingProposal:
    """Propose moving the alert's annotator off its project (and onto another): a staffing
    proposal that ops approves or rejects; approval keeps the alert's evidence with the
    decision. Nobody moves before that. Like change_status, refused when the alert changed
    since ``expected_version``."""
    from ops.workforce.proposals import propose_staffing

    require(principal, "alerts.triage")
    alert = _load(session, principal, alert_id)
    _check_unchanged(session, alert, expected_version)
    if alert.annotator_id is None:
        raise ValidationError("This alert is about a project, not a person.", field="alert")
    to_project_id = None
    if to_project_slug:
        to_project = get_project(session, slug=to_project_slug)
        if to_project is None:
            raise NotFound(f"No project {to_project_slug!r}.")
        to_project_id = to_project.id
    proposal = propose_staffing(
        session,
        principal,
        alert.annotator_id,
        project_id=to_project_id,
        from_project_id=alert.project_id,
        reason_category=reason_category,
        notes=notes,
        alert_id=alert.id,
    )
    # A decision on the alert: a second one racing it must not also be saved.
    alert.updated_at = utcnow()
    _flush_decision(session, alert)
    _record(session, principal, alert, "proposal", alert.status, proposal.notes, None)
    return proposal


def alert_metric_series(session: Session, principal: Principal, alert_id: int) -> MetricSeries:
    """The metric behind an alert over time, for its chart: one row per ISO week.

    Quality alerts: gold accuracy with its Wilson interval (the annotator's, or the
    project's for a systematic issue); budget: cumulative spend against budget;
    deadline: cumulative annotations against the volume target.
    """
    require(principal, "alerts.view")
    alert = _load(session, principal, alert_id)
    project = session.get(Project, alert.project_id) if alert.project_id else None
    cumulative = alert.rule in ("budget_burn", "deadline_risk") and project is not None
    frame = load_rollup_daily_frame(
        session,
        project_id=alert.project_id,
        annotator_id=alert.annotator_id,
        # Totals need all history; rates need a few months around the window.
        since=dt.date.min if cumulative else alert.window_start - dt.timedelta(days=84),
    )
    if frame.empty:
        return MetricSeries(kind="none", frame=frame, reference=None, label="")
    frame["week"] = [day - dt.timedelta(days=day.weekday()) for day in frame["day"]]
    if cumulative and project is not None:
        daily = frame.groupby("day", as_index=False)[["spend_minor", "annotations"]].sum()
        daily = daily.sort_values("day")
        if alert.rule == "budget_burn":
            daily["value"] = daily["spend_minor"].cumsum() / 10**2
            reference = (project.budget_minor or 0) / 10**2
            label = f"cumulative spend ({project.currency})"
        else:
            daily["value"] = daily["annotations"].cumsum()
            reference = float(project.volume_target or 0)
            label = "cumulative annotations"
        return MetricSeries(
            kind="cumulative", frame=daily[["day", "value"]], reference=reference, label=label
        )
    weekly = frame.groupby("week", as_index=False)[["gold_answered", "gold_correct"]].sum()
    weekly = compute_gold_accuracy_table(
        weekly, correct_column="gold_correct", answered_column="gold_answered"
    )
    target = project.quality_target if project is not None else None
    return MetricSeries(
        kind="accuracy",
        frame=weekly.rename(columns={"week": "day"}),
        reference=target,
        label="gold accuracy per week (95% Wilson interval)",
    )
