"""Projects: create and list, with validation, permission checks and audit."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.orm import Session

from db.models import COMPLEXITIES, Project
from db.queries import projects as project_queries
from ops import audit
from ops.errors import ValidationError
from ops.money import parse_amount, validate_currency
from ops.permissions import Principal, require

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


def list_projects(session: Session, actor: Principal) -> list[Project]:
    """Projects the actor may see."""
    require(actor, "project.view")
    return project_queries.list_projects(session)


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
