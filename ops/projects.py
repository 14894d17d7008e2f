"""Projects: create and list, with validation, permission checks and audit; and each
project's progress, forecasts and requirements as the Projects page shows them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from db.models import COMPLEXITIES, Project, utcnow
from db.queries import projects as project_queries
from db.queries import rollups as rollup_queries
from db.queries import staffing as staffing_queries
from db.queries import team as team_queries
from ops import audit
from ops.errors import NotFound, ValidationError
from ops.metrics.forecast import (
    CompletionForecast,
    forecast_completion,
    forecast_cost_at_completion,
    people_needed,
    projection_band,
)
from ops.money import parse_amount, validate_currency
from ops.permissions import Principal, people_scope, require
from ops.rollups import last_refreshed

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
# Longest project name the database keeps (projects.name).
MAX_NAME_LENGTH = 200


def add_project(
    session: Session,
    actor: Principal,
    *,
    slug: str,
    name: str,
    task_type: str = "classification",
    quality_target: float = 0.9,
    budget: str | None = None,
    currency: str = "USD",
    complexity: str = "moderate",
    domain: str | None = None,
) -> Project:
    """Create a project; the slug is how the CLI and imports name it."""
    require(actor, "project.create")
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(
            f"Slug {slug!r} must be 3-60 lower-case letters, digits or dashes, "
            "starting and ending with a letter or digit (e.g. defect-inspection).",
            field="slug",
        )
    if not name.strip():
        raise ValidationError("Project name must not be empty.", field="name")
    if len(name.strip()) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"Project name must be at most {MAX_NAME_LENGTH} characters "
            f"(it has {len(name.strip()):,}).",
            field="name",
        )
    if not 0 < quality_target <= 1:
        raise ValidationError(
            f"Quality target {quality_target} must be a fraction in (0, 1], e.g. 0.95.",
            field="quality_target",
        )
    if complexity not in COMPLEXITIES:
        raise ValidationError(
            f"Complexity {complexity!r} must be one of {', '.join(COMPLEXITIES)}.",
            field="complexity",
        )
    currency = validate_currency(currency)
    budget_minor = None if budget is None else parse_amount(budget, currency, field="budget")
    if project_queries.get_project(session, slug=slug) is not None:
        raise ValidationError(f"A project with slug {slug!r} already exists.", field="slug")
    project = Project(
        slug=slug,
        name=name.strip(),
        task_type=task_type,
        quality_target=quality_target,
        budget_minor=budget_minor,
        currency=currency,
        complexity=complexity,
        domain=domain,
        required_skills=[],
        alert_settings={},
        updated_by=actor.username,
    )
    session.add(project)
    audit.record(session, actor, "project.create", project)
    return project


# A lead's projects are those their team is assigned to today and those it worked on in
# this many days, so the quality of work just finished stays in view.
RECENT_WORK_DAYS = 90
# What a lead reads where their team has no project.
NO_TEAM_PROJECTS = (
    "No project to show: your team is not assigned to a project today and did no work in "
    f"the last {RECENT_WORK_DAYS} days."
)


def list_projects(
    session: Session, actor: Principal, *, today: dt.date | None = None
) -> list[Project]:
    """Projects the actor may see: every project, or for a lead their team's (assigned
    today or worked on in the last RECENT_WORK_DAYS days)."""
    require(actor, "project.view")
    projects = project_queries.list_projects(session)
    scope = people_scope(actor)
    if scope.everyone:
        return projects
    if scope.nobody:
        return []
    today = today or utcnow().date()
    staffed = set(staffing_queries.list_project_ids_staffed_by(session, scope=scope, today=today))
    since = today - dt.timedelta(days=RECENT_WORK_DAYS)
    worked = {
        slug
        for slug, _ in team_queries.list_scope_project_activity(session, scope=scope, since=since)
    }
    return [project for project in projects if project.id in staffed or project.slug in worked]


def visible_project_ids(
    session: Session, principal: Principal, *, today: dt.date | None = None
) -> set[int] | None:
    """The ids of the projects list_projects gives ``principal``, or None when that is
    every project: the one check of "may this principal open that project"."""
    if people_scope(principal).everyone:
        return None
    return {project.id for project in list_projects(session, principal, today=today)}


def set_alert_settings(
    session: Session, actor: Principal, *, slug: str, overrides: Mapping[str, object]
) -> Project:
    """Replace a project's alert threshold overrides; values equal to a default are dropped."""
    from dataclasses import asdict

    from ops.alerts.rules import AlertSettings

    require(actor, "project.edit")
    project = project_queries.get_project(session, slug=slug)
    if project is None:
        raise ValidationError(f"No project {slug!r}.", field="project")
    settings = AlertSettings.for_project(dict(overrides))
    defaults = asdict(AlertSettings())
    kept = {key: value for key, value in asdict(settings).items() if value != defaults[key]}
    before = {"alert_settings": dict(project.alert_settings)}
    project.alert_settings = kept
    project.updated_by = actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "project.alert_settings",
        project,
        before=before,
        after={"alert_settings": kept},
    )
    return project


def alert_settings_for(session: Session, actor: Principal, *, slug: str) -> dict[str, int | float]:
    """A project's effective alert thresholds: defaults with its overrides applied."""
    from dataclasses import asdict

    from ops.alerts.rules import AlertSettings

    require(actor, "project.view")
    project = project_queries.get_project(session, slug=slug)
    if project is None:
        raise ValidationError(f"No project {slug!r}.", field="project")
    return dict(asdict(AlertSettings.for_project(project.alert_settings)))


# --- the Projects page: progress, forecasts and requirements of one project --------------

# Throughput, and so the completion forecast, reads this many calendar days before today.
THROUGHPUT_DAYS = 14


@dataclass(frozen=True)
class ProjectChoice:
    """A project the principal may open, as the picker shows it."""

    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class ProjectOverview:
    """One project as its page shows it; money fields None where the viewer may not see it."""

    id: int
    slug: str
    name: str
    client: str
    status: str
    task_type: str
    domain: str
    complexity: str
    required_skills: tuple[str, ...]
    min_tier: str
    quality_target: float
    currency: str
    volume_target: int | None
    done: int
    remaining: int | None
    deadline: dt.date | None
    days_left: int | None
    today: dt.date
    throughput_since: dt.date
    per_day: float  # mean annotations per calendar day over the throughput window
    contributors: int  # people with work on the project in the throughput window
    assigned: int  # people assigned to it today
    forecast: CompletionForecast | None  # at the daily rate of the people assigned now
    forecast_at_recent_pace: CompletionForecast | None
    people_needed: int | None
    per_person_per_day: float | None
    show_money: bool
    budget_minor: int | None
    spent_minor: int | None
    forecast_cost_minor: int | None
    daily: pd.DataFrame  # day, annotations, cumulative (and spend_minor when money is shown)
    last_work_day: dt.date | None
    refreshed: dt.datetime | None  # when the rollups were last brought up to date

    @property
    def late_by_days(self) -> int | None:
        if self.forecast is None or self.forecast.finish is None or self.deadline is None:
            return None
        return (self.forecast.finish - self.deadline).days


def list_visible_projects(
    session: Session, principal: Principal, *, today: dt.date | None = None
) -> list[ProjectChoice]:
    """Projects the principal may open, as list_projects says."""
    return [
        ProjectChoice(project.id, project.slug, project.name)
        for project in list_projects(session, principal, today=today)
    ]


def project_overview(
    session: Session, principal: Principal, project_id: int, *, now: dt.datetime | None = None
) -> ProjectOverview:
    """Progress, throughput, completion and cost forecasts and requirements of a project.

    Numbers come from the daily rollups. The completion forecast runs at the recent daily
    throughput scaled by the people assigned today over the people who did that work, so
    an approved staffing proposal moves it at once (ops.metrics.forecast says how).
    """
    now = now or utcnow()
    today = now.date()
    visible = {choice.id for choice in list_visible_projects(session, principal, today=today)}
    project = session.get(Project, project_id)
    if project is None or project_id not in visible:
        raise NotFound(f"No project {project_id} that you may see.")
    daily = rollup_queries.load_project_daily_frame(session, project_id=project.id)
    done = int(daily["annotations"].sum())
    since = today - dt.timedelta(days=THROUGHPUT_DAYS)
    until = today - dt.timedelta(days=1)
    window = pd.Series(0, index=pd.date_range(since, until, freq="D"), dtype="int64")
    if not daily.empty:
        by_day = daily.set_index(pd.to_datetime(daily["day"]))["annotations"]
        window = window.add(by_day.reindex(window.index, fill_value=0), fill_value=0)
    contributors = rollup_queries.count_project_contributors(
        session, project_id=project.id, since=since, until=until
    )
    assigned = staffing_queries.count_running_assignments(
        session, project_id=project.id, today=today
    )
    per_day = float(window.mean())
    remaining = None if project.volume_target is None else max(project.volume_target - done, 0)
    per_person = per_day / contributors if contributors else None
    forecast = recent = None
    if remaining is not None:
        recent = forecast_completion(window.to_numpy(), remaining=remaining, today=today)
        scale = assigned / contributors if contributors else 0.0
        forecast = forecast_completion(
            window.to_numpy(), remaining=remaining, today=today, scale=scale
        )
    days_left = None if project.deadline is None else (project.deadline - today).days
    needed = (
        people_needed(remaining=remaining, days_left=days_left, per_person_per_day=per_person)
        if remaining is not None and days_left is not None and per_person
        else None
    )
    show_money = principal.can("spend.view")
    spent = int(daily["spend_minor"].sum())
    chart = daily[["day", "annotations"]].assign(cumulative=daily["annotations"].cumsum())
    if show_money:
        chart = chart.assign(spend_minor=daily["spend_minor"])
    return ProjectOverview(
        id=project.id,
        slug=project.slug,
        name=project.name,
        client=project.client or "",
        status=project.status,
        task_type=project.task_type,
        domain=project.domain or "",
        complexity=project.complexity,
        required_skills=tuple(project.required_skills or ()),
        min_tier=project.min_tier,
        quality_target=project.quality_target,
        currency=project.currency,
        volume_target=project.volume_target,
        done=done,
        remaining=remaining,
        deadline=project.deadline,
        days_left=days_left,
        today=today,
        throughput_since=since,
        per_day=per_day,
        contributors=contributors,
        assigned=assigned,
        forecast=forecast,
        forecast_at_recent_pace=recent,
        people_needed=needed,
        per_person_per_day=per_person,
        show_money=show_money,
        budget_minor=project.budget_minor if show_money else None,
        spent_minor=spent if show_money else None,
        forecast_cost_minor=forecast_cost_at_completion(
            spent_minor=spent, done=done, volume_target=project.volume_target
        )
        if show_money
        else None,
        daily=chart.reset_index(drop=True),
        last_work_day=None if daily.empty else daily["day"].iloc[-1],
        refreshed=last_refreshed(session),
    )


def projection(overview: ProjectOverview) -> pd.DataFrame:
    """The forecast as a band of cumulative volume from today until the latest likely
    finish (or the deadline, if later); empty without a target or a forecast."""
    forecast = overview.forecast
    if overview.volume_target is None or forecast is None or forecast.per_day <= 0:
        return pd.DataFrame(columns=["day", "expected", "low", "high"])
    last = max(
        day
        for day in (forecast.finish_late, forecast.finish, overview.deadline, overview.today)
        if day is not None
    )
    return projection_band(
        done=overview.done,
        target=overview.volume_target,
        per_day=forecast.per_day,
        per_day_sd=forecast.per_day_sd,
        today=overview.today,
        days=(last - overview.today).days,
    )
