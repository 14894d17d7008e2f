"""Evaluate the alert rules over rollup windows and store what fires, once per window."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.models import Alert, AlertAction, utcnow
from db.queries.alert_windows import load_gold_daily_frame
from db.queries.alerts import ACTIVE_STATUSES, get_alert_for_window
from db.queries.events import load_repeat_consistency_frame
from db.queries.jobs import get_job_state, save_job_state
from db.queries.projects import list_projects
from db.queries.rollups import load_rollup_window_frame, sum_rollups
from db.queries.staffing import list_assignment_compliance
from ops.alerts.rules import (
    AlertSettings,
    Finding,
    ProjectContext,
    ProjectProgress,
    find_budget_finding,
    find_consistency_findings,
    find_deadline_finding,
    find_escalation_findings,
    find_quality_findings,
    find_systematic_findings,
)

STATE_JOB = "alerts"
# On the first run, look this far back so history that is already there is judged too.
BACKFILL_WINDOWS = 8
STEP_DAYS = 7


def _window_ends(last_end: dt.date | None, today: dt.date) -> list[dt.date]:
    """Window end days to evaluate: weekly steps since the last run, and today."""
    if last_end is None:
        start = today - dt.timedelta(days=STEP_DAYS * BACKFILL_WINDOWS)
    else:
        start = last_end + dt.timedelta(days=STEP_DAYS)
    ends = []
    day = start
    while day < today:
        ends.append(day)
        day += dt.timedelta(days=STEP_DAYS)
    ends.append(today)
    return ends


def project_contexts(session: Session) -> dict[int, ProjectContext]:
    """Active projects with their targets and alert settings."""
    return {
        project.id: ProjectContext(
            project_id=project.id,
            slug=project.slug,
            quality_target=project.quality_target,
            settings=AlertSettings.for_project(project.alert_settings),
        )
        for project in list_projects(session)
        if project.status == "active"
    }


def evaluate_alerts(session: Session, *, now: dt.datetime | None = None) -> int:
    """Run every rule over the windows due; returns the number of alerts raised.

    Idempotent: a rule, subject and overlapping window never fires twice, so running
    it again on the same data raises nothing new.
    """
    now = now or utcnow()
    today = now.date()
    state = get_job_state(session, job=STATE_JOB)
    last_end = (
        dt.date.fromisoformat(state["last_window_end"]) if state.get("last_window_end") else None
    )
    contexts = project_contexts(session)
    raised = 0
    for end in _window_ends(last_end, today):
        findings = evaluate_window(session, contexts, end)
        if end == today:
            findings += evaluate_projects(session, contexts, today)
            findings += evaluate_assignments(session, contexts, now)
        window_days = {c.settings.window_days for c in contexts.values()} or {14}
        start = end - dt.timedelta(days=max(window_days) - 1)
        raised += store_findings(session, findings, start, end, now)
    save_job_state(session, job=STATE_JOB, values={"last_window_end": today.isoformat()}, at=now)
    return raised


def evaluate_window(
    session: Session, contexts: dict[int, ProjectContext], end: dt.date
) -> list[Finding]:
    """Quality, systematic, consistency and escalation findings for the window ending ``end``."""
    findings: list[Finding] = []
    by_size: dict[tuple[int, int], dict[int, ProjectContext]] = {}
    for context in contexts.values():
        size = (context.settings.window_days, context.settings.baseline_days)
        by_size.setdefault(size, {})[context.project_id] = context
    for (window_days, baseline_days), group in by_size.items():
        start = end - dt.timedelta(days=window_days - 1)
        project_ids = list(group)
        window = load_rollup_window_frame(session, since=start, until=end, project_ids=project_ids)
        baseline = load_rollup_window_frame(
            session,
            since=start - dt.timedelta(days=baseline_days),
            until=start - dt.timedelta(days=1),
            project_ids=project_ids,
        )
        daily = load_gold_daily_frame(session, since=start, until=end, project_ids=project_ids)
        individual = find_quality_findings(window, baseline, group)
        systematic = find_systematic_findings(window, baseline, group, individual, daily)
        linked = {id(child) for finding in systematic for child in finding.children}
        findings += systematic
        findings += [finding for finding in individual if id(finding) not in linked]
        consistency = load_repeat_consistency_frame(
            session,
            start=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
            end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
            project_ids=project_ids,
        )
        findings += find_consistency_findings(consistency, group)
        findings += find_escalation_findings(window, group)
    return findings


def evaluate_projects(
    session: Session, contexts: dict[int, ProjectContext], today: dt.date
) -> list[Finding]:
    """Budget burn and deadline risk, from totals up to today."""
    findings: list[Finding] = []
    for project in list_projects(session):
        context = contexts.get(project.id)
        if context is None:
            continue
        settings = context.settings
        total = sum_rollups(session, since=dt.date.min, until=today, project_id=project.id)
        recent_since = today - dt.timedelta(days=settings.deadline_throughput_days)
        recent = sum_rollups(
            session, since=recent_since, until=today - dt.timedelta(days=1), project_id=project.id
        )
        progress = ProjectProgress(
            project_id=project.id,
            budget_minor=project.budget_minor,
            spent_minor=int(total["spend_minor"]),
            currency=project.currency,
            volume_target=project.volume_target,
            done=int(total["annotations"]),
            recent_annotations=int(recent["annotations"]),
            recent_days=settings.deadline_throughput_days,
            deadline=project.deadline,
            today=today,
        )
        for finding in (
            find_budget_finding(progress, settings),
            find_deadline_finding(progress, settings),
        ):
            if finding is not None:
                findings.append(finding)
    return findings


def evaluate_assignments(
    session: Session, contexts: dict[int, ProjectContext], now: dt.datetime
) -> list[Finding]:
    """Active assignments whose person has expired training or no passed qualification."""
    findings: list[Finding] = []
    for row in list_assignment_compliance(session, now=now):
        if row["project_id"] not in contexts:
            continue
        if row["expired_trainings"]:
            findings.append(
                Finding(
                    "training_expired",
                    row["project_id"],
                    row["annotator_id"],
                    "warning",
                    {"expired": row["expired_trainings"], "assignment_id": row["assignment_id"]},
                )
            )
        if not row["qualified"]:
            findings.append(
                Finding(
                    "qualification_missing",
                    row["project_id"],
                    row["annotator_id"],
                    "warning",
                    {
                        "task_type": row["task_type"],
                        "best_score": row["best_score"],
                        "assignment_id": row["assignment_id"],
                    },
                )
            )
    return findings


def store_findings(
    session: Session,
    findings: list[Finding],
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    parent: Alert | None = None,
) -> int:
    """Insert new alerts; refresh the evidence of open ones for the same rule and subject."""
    raised = 0
    for finding in findings:
        evidence = finding.evidence | {
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
        }
        # One alert per problem: an open one for the same rule and subject takes the new
        # numbers; a closed one still blocks the windows it covered.
        existing = get_alert_for_window(
            session, rule=finding.rule, subject_key=finding.subject_key, start=start, end=end
        )
        if existing is not None:
            alert = existing
            if existing.status in ACTIVE_STATUSES and end > existing.window_end:
                # The same problem, still there: one alert with the newest numbers.
                existing.evidence = evidence | {"first_seen": existing.evidence.get("first_seen")}
                existing.window_end = end
            if parent is not None and existing.parent_alert_id is None:
                existing.parent_alert_id = parent.id
        else:
            alert = Alert(
                rule=finding.rule,
                subject_key=finding.subject_key,
                project_id=finding.project_id,
                annotator_id=finding.annotator_id,
                window_start=start,
                window_end=end,
                severity=finding.severity,
                status="open",
                title=finding.title,
                evidence=evidence | {"first_seen": now.isoformat()},
                parent_alert_id=parent.id if parent else None,
            )
            session.add(alert)
            session.flush()
            session.add(
                AlertAction(
                    alert_id=alert.id,
                    action="raised",
                    to_status="open",
                    note="raised by the alert rules",
                    actor="system",
                    at=now,
                )
            )
            raised += 1
        if finding.children:
            raised += store_findings(session, finding.children, start, end, now, parent=alert)
    return raised
