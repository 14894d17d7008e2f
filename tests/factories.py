"""make_<thing>(session, **overrides): test data through the same functions the app uses."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from db.models import AnnotationEvent, Annotator, DailyRollup, PayRate, Project, Team, User
from db.rollup_sql import refresh_project_day_spend
from ops.auth import create_user
from ops.permissions import SYSTEM
from ops.projects import add_project

_counter = itertools.count(1)


def make_project(session: Session, **overrides: Any) -> Project:
    number = next(_counter)
    values: dict[str, Any] = {"slug": f"project-{number}", "name": f"Project {number}"}
    values.update(overrides)
    project = add_project(session, SYSTEM, **values)
    session.flush()
    return project


def make_team(session: Session, **overrides: Any) -> Team:
    team = Team(name=overrides.pop("name", f"Team {next(_counter)}"), **overrides)
    session.add(team)
    session.flush()
    return team


def make_annotator(session: Session, **overrides: Any) -> Annotator:
    number = next(_counter)
    values: dict[str, Any] = {
        "email": f"person{number}@example.org",
        "display_name": f"Person {number}",
        "status": "active",
    }
    values.update(overrides)
    annotator = Annotator(**values)
    session.add(annotator)
    session.flush()
    return annotator


def make_user(session: Session, **overrides: Any) -> User:
    values: dict[str, Any] = {
        "username": f"user{next(_counter)}",
        "role": "ops",
        "password": "correct horse battery",
    }
    values.update(overrides)
    user = create_user(session, SYSTEM, **values)
    session.flush()
    return user


def make_pay_rate(session: Session, annotator: Annotator, **overrides: Any) -> PayRate:
    values: dict[str, Any] = {
        "basis": "hourly",
        "amount_minor": 1800,
        "currency": "USD",
        "effective_from": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    }
    values.update(overrides)
    rate = PayRate(annotator_id=annotator.id, **values)
    session.add(rate)
    session.flush()
    return rate


def make_event(
    session: Session, project: Project, annotator: Annotator, **overrides: Any
) -> AnnotationEvent:
    number = next(_counter)
    values: dict[str, Any] = {
        "item_id": f"item-{number}",
        "label": "cat",
        "submitted_at": dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC),
        "active_seconds": 30.0,
        "external_id": f"test-{number}",
    }
    values.update(overrides)
    event = AnnotationEvent(project_id=project.id, annotator_id=annotator.id, **values)
    session.add(event)
    session.flush()
    return event


def make_rollup(
    session: Session, project: Project, annotator: Annotator, **overrides: Any
) -> DailyRollup:
    values: dict[str, Any] = {"day": dt.date(2026, 3, 2), "annotations": 100}
    values.update(overrides)
    rollup = DailyRollup(project_id=project.id, annotator_id=annotator.id, **values)
    session.add(rollup)
    session.flush()
    # As the rollup refresh does: the project's spend of that day follows its rows.
    refresh_project_day_spend(session, days=[(project.id, rollup.day)])
    return rollup
