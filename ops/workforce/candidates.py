"""Who could staff a project: the people in the viewer's scope ranked for it, with the
reason for each rank, and the reason each person left out is left out.

A person is a candidate when they are active (or on probation), not already on the
project, not off today, at least the project's minimum tier, have every required skill,
passed the qualification test of the project's task type, have a current initial
training and no expired training that the project needs: the requirements that
``ops.workforce.staffing.check_requirements`` checks when ops approves the move, read here
for everyone in scope at once. Candidates are ranked by the lower bound of their recent gold
accuracy (95% Wilson interval: a short record cannot outrank a long good one), then by
the hours they have left this week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import TIERS, Project, utcnow
from db.queries import rollups as rollup_queries
from db.queries import staffing as staffing_queries
from db.scope import PeopleScope
from ops.errors import NotFound
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.permissions import Principal, people_scope, require
from ops.workforce.availability import capacity_left_this_week

# Recent gold accuracy reads this many days of rollups.
ACCURACY_DAYS = 30


@dataclass(frozen=True)
class Candidate:
    """A person who could join the project, with the facts that rank them."""

    rank: int
    annotator_id: int
    name: str
    team: str
    tier: str
    qualification_score: float
    gold_accuracy: float | None
    gold_ci_low: float | None
    gold_ci_high: float | None
    gold_answered: int
    capacity_left_hours: float | None
    other_projects: tuple[str, ...]
    reasons: str


@dataclass(frozen=True)
class Excluded:
    """A person in scope who cannot join the project now, and why."""

    annotator_id: int
    name: str
    team: str
    reasons: str


@dataclass(frozen=True)
class StaffingPlan:
    """Candidates in rank order and everyone else in scope with the reason they are out."""

    project_id: int
    project_slug: str
    candidates: tuple[Candidate, ...]
    excluded: tuple[Excluded, ...]
    on_project: tuple[str, ...]
    accuracy_since: dt.date
    scope_note: str


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Column by column: to_dict("records") boxes every cell one at a time.
    names = [str(name) for name in frame.columns]
    values = zip(*(frame[name].tolist() for name in frame.columns), strict=True)
    return [dict(zip(names, row, strict=True)) for row in values]


def _by_person(frame: pd.DataFrame) -> dict[int, dict[str, Any]]:
    return {int(row["annotator_id"]): row for row in _records(frame)}


def _gold(figures: dict[str, Any]) -> tuple[float, float, float]:
    """Accuracy and its interval from a row of compute_gold_accuracy_table."""
    return (
        float(figures["accuracy"]),
        float(figures["accuracy_ci_low"]),
        float(figures["accuracy_ci_high"]),
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def plan_staffing(
    session: Session, principal: Principal, project_id: int, *, now: dt.datetime | None = None
) -> StaffingPlan:
    """Rank the people in the principal's scope for the project."""
    return scope_staffing_plan(session, staffing_scope(principal), project_id, now=now)


def staffing_scope(principal: Principal) -> PeopleScope:
    """Whose staffing the principal may see: the people a plan ranks for them."""
    require(principal, "staffing.view")
    return people_scope(principal)


def scope_staffing_plan(
    session: Session, scope: PeopleScope, project_id: int, *, now: dt.datetime | None = None
) -> StaffingPlan:
    """Rank the people in ``scope`` (from staffing_scope) for the project: the plan is the
    same for every viewer of one scope."""
    now = now or utcnow()
    today = now.date()
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"No project {project_id}.")
    pool = staffing_queries.load_staffing_pool_frame(session, scope=scope)
    qualification = _by_person(
        staffing_queries.load_best_qualification_frame(
            session, scope=scope, task_type=project.task_type
        )
    )
    expired = staffing_queries.load_expired_training_frame(
        session, scope=scope, now=now, project_id=project.id
    )
    expired_of: dict[int, list[str]] = {}
    for row in _records(expired):
        expired_of.setdefault(int(row["annotator_id"]), []).append(str(row["kind"]))
    initial = set(
        staffing_queries.list_current_initial_training(
            session, scope=scope, now=now, project_id=project.id
        )
    )
    skills = staffing_queries.load_scoped_skill_frame(session, scope=scope)
    names_of: dict[int, set[str]] = {}
    for row in _records(skills):
        names_of.setdefault(int(row["annotator_id"]), set()).add(str(row["name"]))
    monday = today - dt.timedelta(days=today.weekday())
    time_off = staffing_queries.load_time_off_frame(
        session, scope=scope, since=min(monday, today), until=monday + dt.timedelta(days=6)
    )
    off_of: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for row in _records(time_off):
        off_of.setdefault(int(row["annotator_id"]), []).append((row["starts_on"], row["ends_on"]))
    running = staffing_queries.load_running_assignment_frame(session, scope=scope, today=today)
    projects_of: dict[int, list[str]] = {}
    on_project: set[int] = set()
    for row in _records(running):
        if int(row["project_id"]) == project.id:
            on_project.add(int(row["annotator_id"]))
        else:
            projects_of.setdefault(int(row["annotator_id"]), []).append(str(row["project"]))
    accuracy_since = today - dt.timedelta(days=ACCURACY_DAYS)
    # This week's Monday is always inside the accuracy window: one read answers both.
    totals = rollup_queries.load_scoped_staffing_totals_frame(
        session,
        scope=scope,
        since=accuracy_since,
        until=today,
        week_since=max(monday, accuracy_since),
    )
    # Everyone's interval at once: one call per candidate costs more than the reads.
    recent = _by_person(
        compute_gold_accuracy_table(
            totals, correct_column="gold_correct", answered_column="gold_answered"
        )
    )
    required = tuple(project.required_skills or ())
    candidates: list[Candidate] = []
    excluded: list[Excluded] = []
    on_names: list[str] = []
    for person in _records(pool):
        person_id = int(person["annotator_id"])
        name = str(person["display_name"])
        team = "" if pd.isna(person["team"]) else str(person["team"])
        if person_id in on_project:
            on_names.append(name)
            continue
        out: list[str] = []
        if person["status"] not in ("active", "probation"):
            out.append(f"status {person['status']}")
        if TIERS.index(str(person["tier"])) < TIERS.index(project.min_tier):
            out.append(f"tier {person['tier']}, the project needs {project.min_tier}")
        missing = [skill for skill in required if skill not in names_of.get(person_id, set())]
        if missing:
            out.append("lacks skill " + ", ".join(missing))
        if person_id not in qualification:
            out.append(f"no {project.task_type} qualification test")
            score = 0.0
        else:
            score = float(qualification[person_id]["best_score"])
            if not int(qualification[person_id]["passed"]):
                out.append(f"failed the {project.task_type} qualification (best {score:.0%})")
        if person_id in expired_of:
            out.append("training expired: " + ", ".join(sorted(set(expired_of[person_id]))))
        elif person_id not in initial:
            out.append("no current initial training")
        stretches = off_of.get(person_id, [])
        off_now = [end for start, end in stretches if start <= today <= end]
        if off_now:
            out.append(f"off until {max(off_now):%d %b}")
        if out:
            excluded.append(Excluded(person_id, name, team, "; ".join(out)))
            continue
        figures = recent.get(person_id, {})
        answered = int(figures.get("gold_answered", 0))
        accuracy = _gold(figures) if answered else None
        worked = float(figures.get("week_active_seconds", 0.0)) / 3600
        capacity = capacity_left_this_week(
            weekly_hours=None
            if pd.isna(person["weekly_capacity_hours"])
            else float(person["weekly_capacity_hours"]),
            worked_hours=worked,
            time_off=stretches,
            today=today,
        )
        others = tuple(projects_of.get(person_id, ()))
        reasons = [
            f"passed {project.task_type} ({score:.0%})",
            "training current",
            f"tier {person['tier']} (needs {project.min_tier})",
        ]
        if required:
            reasons.append("has " + ", ".join(required))
        reasons.append(
            f"gold {_percent(accuracy[0])} ({_percent(accuracy[1])}–"
            f"{_percent(accuracy[2])}) on {answered:,} answers in {ACCURACY_DAYS} days"
            if accuracy is not None
            else f"no gold answers in {ACCURACY_DAYS} days"
        )
        reasons.append(
            "weekly capacity not recorded"
            if capacity is None
            else f"{capacity:.1f} h left this week"
        )
        if others:
            reasons.append("also on " + ", ".join(others))
        candidates.append(
            Candidate(
                rank=0,
                annotator_id=person_id,
                name=name,
                team=team,
                tier=str(person["tier"]),
                qualification_score=score,
                gold_accuracy=None if accuracy is None else accuracy[0],
                gold_ci_low=None if accuracy is None else accuracy[1],
                gold_ci_high=None if accuracy is None else accuracy[2],
                gold_answered=answered,
                capacity_left_hours=capacity,
                other_projects=others,
                reasons="; ".join(reasons),
            )
        )

    def order(item: Candidate) -> tuple[float, float, str]:
        # No gold record ranks below any record; no recorded capacity below any capacity.
        low = -1.0 if item.gold_ci_low is None else item.gold_ci_low
        capacity = -1.0 if item.capacity_left_hours is None else item.capacity_left_hours
        return (-low, -capacity, item.name)

    candidates.sort(key=order)
    return StaffingPlan(
        project_id=project.id,
        project_slug=project.slug,
        candidates=tuple(
            replace(item, rank=index) for index, item in enumerate(candidates, start=1)
        ),
        excluded=tuple(excluded),
        on_project=tuple(on_names),
        accuracy_since=accuracy_since,
        scope_note="Your team only." if scope.kind == "team" else "Everyone in the pool.",
    )
