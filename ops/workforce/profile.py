"""The annotator profile: who the person is, and their key numbers and trends from rollups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from db.models import utcnow
from db.queries.people import get_team, list_annotator_choices, list_identities, list_skills
from db.queries.rollups import load_weekly_rollup_frame
from db.queries.staffing import load_current_assignment_frame
from ops.home import Figure
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.permissions import Principal, people_scope, require
from ops.workforce.common import load_annotator, may_see
from ops.workforce.evidence import PersonMetrics, measure_person

OVERVIEW_WINDOW_DAYS = 30
TREND_DAYS = 120


@dataclass(frozen=True)
class Profile:
    """One person's record as the viewer may see it; contact details only where allowed."""

    id: int
    display_name: str
    tier: str
    status: str
    team_id: int | None
    team: str
    employment_type: str
    country: str
    email: str | None
    phone: str | None
    show_contact: bool
    archived: bool
    version_id: int
    updated_by: str | None
    updated_at: dt.datetime
    skills: tuple[str, ...]
    domains: tuple[str, ...]
    languages: tuple[str, ...]
    identities: tuple[str, ...]
    current_projects: tuple[str, ...]
    # Changes made to the pay history so far; a new rate saved from this view passes it.
    pay_version: int = 0


def list_people(
    session: Session, principal: Principal, *, include_archived: bool = False
) -> list[tuple[int, str]]:
    """(id, name) of everyone the principal may open a profile of, by name."""
    require(principal, "annotator.view")
    return list_annotator_choices(
        session, scope=people_scope(principal), include_archived=include_archived
    )


def get_profile(
    session: Session, principal: Principal, annotator_id: int, *, now: dt.datetime | None = None
) -> Profile:
    """The person's record; NotFound outside the principal's scope."""
    annotator = load_annotator(session, principal, annotator_id, fresh=True)
    assert may_see(principal, annotator)
    now = now or utcnow()
    contact = principal.can("contact.view")
    skills = list_skills(session, annotator_id=annotator.id)
    team = get_team(session, team_id=annotator.team_id) if annotator.team_id else None
    assignments = load_current_assignment_frame(
        session, annotator_ids=[annotator.id], today=now.date()
    )
    return Profile(
        id=annotator.id,
        display_name=annotator.display_name,
        tier=annotator.tier,
        status=annotator.status,
        team_id=annotator.team_id,
        team=team.name if team else "",
        employment_type=annotator.employment_type,
        country=annotator.country or "",
        email=annotator.email if contact else None,
        phone=annotator.phone if contact else None,
        show_contact=contact,
        archived=annotator.archived_at is not None,
        version_id=annotator.version_id,
        pay_version=annotator.pay_version,
        updated_by=annotator.updated_by,
        updated_at=annotator.updated_at,
        skills=tuple(s.name for s in skills if s.kind == "skill"),
        domains=tuple(s.name for s in skills if s.kind == "domain"),
        languages=tuple(s.name for s in skills if s.kind == "language"),
        identities=tuple(
            f"{i.platform}:{i.external_id}"
            for i in list_identities(session, annotator_ids=[annotator.id])
        ),
        current_projects=tuple(
            f"{row.project} ({row.role})" for row in assignments.itertuples(index=False)
        ),
    )


def overview_figures(metrics: PersonMetrics) -> list[Figure]:
    """The key numbers of the last 30 days, each with its context."""
    low, high = metrics.accuracy_ci_low, metrics.accuracy_ci_high
    accuracy = (
        Figure("Gold accuracy", "—", "no gold answers in this window")
        if metrics.accuracy is None or low is None or high is None
        else Figure(
            "Gold accuracy",
            f"{metrics.accuracy:.1%}",
            f"95% Wilson interval {low:.1%}–{high:.1%}, {metrics.gold_answered:,} gold answers",
        )
    )
    per_hour = metrics.per_active_hour
    acceptance = metrics.review_acceptance
    return [
        Figure("Annotations", f"{metrics.annotations:,}", f"{metrics.since} to {metrics.until}"),
        Figure(
            "Per active hour",
            f"{per_hour:.1f}" if per_hour is not None else "—",
            f"{metrics.active_hours:.1f} active hours",
        ),
        accuracy,
        Figure(
            "Review acceptance",
            f"{acceptance:.0%}" if acceptance is not None else "—",
            f"{metrics.accepted:,} of {metrics.reviewed:,} reviewed",
        ),
        Figure(
            "Calibration agreement",
            f"{metrics.calibration_agreement:.0%}"
            if metrics.calibration_agreement is not None
            else "—",
            f"last {metrics.calibration_sessions} session(s)",
        ),
        Figure("Training", metrics.training.summary.split(":")[0], metrics.training.summary),
        Figure("Open alerts", f"{metrics.open_alerts}"),
    ]


def profile_metrics(
    session: Session, principal: Principal, annotator_id: int, *, now: dt.datetime | None = None
) -> PersonMetrics:
    """The last 30 days of the person's work."""
    load_annotator(session, principal, annotator_id)
    return measure_person(
        session, annotator_id, now=now or utcnow(), window_days=OVERVIEW_WINDOW_DAYS
    )


def weekly_trend(daily: pd.DataFrame) -> pd.DataFrame:
    """One row per ISO week (Monday) from daily rollup sums: annotations, annotations per
    active hour, gold accuracy (fraction) with its Wilson interval."""
    columns = [
        "week",
        "annotations",
        "per_active_hour",
        "gold_answered",
        "accuracy",
        "accuracy_ci_low",
        "accuracy_ci_high",
    ]
    if daily.empty:
        return pd.DataFrame(columns=columns)
    days = pd.to_datetime(daily["day"])
    week = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date
    grouped = (
        daily.assign(week=week)
        .groupby("week", as_index=False)[
            ["annotations", "active_seconds", "gold_answered", "gold_correct"]
        ]
        .sum()
    )
    hours = grouped["active_seconds"] / 3600
    grouped["per_active_hour"] = (grouped["annotations"] / hours).where(hours > 0)
    table = compute_gold_accuracy_table(
        grouped, correct_column="gold_correct", answered_column="gold_answered"
    )
    return table[columns]


def profile_trend(
    session: Session, principal: Principal, annotator_id: int, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """Weekly work and gold accuracy over the last 120 days."""
    load_annotator(session, principal, annotator_id)
    since = (now or utcnow()).date() - dt.timedelta(days=TREND_DAYS)
    return weekly_trend(load_weekly_rollup_frame(session, annotator_id=annotator_id, since=since))
