"""Writes the demo to an empty database: people, projects, events, and what the jobs
would have computed from them, all in one transaction."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import (
    AnnotationEvent,
    Annotator,
    AnnotatorIdentity,
    AnnotatorSkill,
    AppSetting,
    Assignment,
    Base,
    CalibrationItem,
    CalibrationLabel,
    CalibrationResult,
    CalibrationSession,
    FeedbackNote,
    GuidelineVersion,
    ImportBatch,
    PayRate,
    Project,
    QualificationResult,
    Team,
    TierChange,
    TrainingRecord,
    User,
)
from db.queries import demo_data
from db.queries.rollups import sum_rollups
from db.queries.settings import get_setting
from ops import audit, rollups
from ops.alerts.engine import evaluate_alerts
from ops.auth import hash_password
from ops.demo.generator import EventTarget, event_frames
from ops.demo.story import PROJECTS, TEAMS, DemoConfig, Person, cast_people, guideline_history
from ops.errors import AnnopsError
from ops.permissions import Principal
from ops.quality import compute_project_agreements
from ops.settings import get_settings

DEMO_KEY = "demo"
DEMO_ACTOR = Principal(username="demo", role="admin")
COUNTRIES = ("DE", "PL", "IN", "KE", "PH", "BR", "US")
LANGUAGES = ("en", "de", "es", "fr")

Progress = Callable[[str, int, int], None]
Rows = dict[type[Base], list[dict[str, Any]]]


class DemoRefused(AnnopsError):
    """The database holds data that is not the demo's; nothing was changed."""


@dataclass(frozen=True)
class _Cast:
    """The people and projects once stored, for the steps that build on them."""

    config: DemoConfig
    people: list[Person]
    projects: dict[str, Project]
    versions: dict[str, list[GuidelineVersion]]


def database_state(session: Session) -> str:
    """'empty', 'demo' (holds only demo data) or 'other'."""
    if get_setting(session, key=DEMO_KEY) is None:
        models = (Project, Annotator, User, AnnotationEvent)
        return "other" if any(demo_data.has_rows(session, model=m) for m in models) else "empty"
    foreign_writes = demo_data.count_audit_entries_not_by(
        session,
        actor=DEMO_ACTOR.username,
        except_actions=(*audit.ACCESS_ACTIONS, "demo.reset"),
    )
    foreign_imports = demo_data.count_import_batches_not_from(session, source="demo")
    return "demo" if not foreign_writes and not foreign_imports else "other"


def wipe_demo(session: Session) -> None:
    """Delete every row of every annops table but the audit log; callers check
    database_state first. The log is append-only: it keeps the old demo's entries and
    records the reset."""
    demo_data.delete_all_rows(session)
    audit.record(session, DEMO_ACTOR, "demo.reset", ("demo", None))


def load_demo(
    factory: sessionmaker[Session],
    config: DemoConfig,
    *,
    progress: Progress | None = None,
    passwords: dict[str, str] | None = None,
) -> dict[str, str]:
    """Fill an empty database with the demo; returns {username: password} of the demo logins.

    Runs in one transaction: on any error nothing is left behind.
    """
    report = progress or (lambda _step, _done, _total: None)
    # One random stream each for the cast, their records and the events, so a change to
    # one part of the story leaves the others as they were.
    cast_rng, records_rng, events_rng = (
        np.random.default_rng(stream) for stream in np.random.SeedSequence(config.seed).spawn(3)
    )
    with transaction(factory) as session:
        if database_state(session) != "empty":
            raise DemoRefused(
                "The database is not empty; the demo only fills an empty database "
                "(use --reset to rebuild an existing demo)."
            )
        report("people and projects", 0, 1)
        people = cast_people(config, cast_rng)
        projects, versions = _add_projects(session, config)
        teams = _add_people(session, config, people, projects, records_rng)
        report("people and projects", 1, 1)
        cast = _Cast(config, people, projects, versions)
        total = _add_events(session, cast, events_rng, report)
        report("daily rollups", 0, 1)
        rollups.rebuild(session)
        report("daily rollups", 1, 1)
        _set_budgets(session, projects, config.end)
        _add_calibrations(session, cast, records_rng)
        report("alerts", 0, 1)
        evaluate_alerts(session, now=_at(config.end, 0))
        report("alerts", 1, 1)
        # What the nightly agreement job would have stored, so the Quality page has figures.
        report("project agreement", 0, 1)
        compute_project_agreements(
            session, now=_at(config.end, 0), window_days=get_settings().agreement_window_days
        )
        report("project agreement", 1, 1)
        logins = _add_users(session, people, teams, passwords)
        session.add(
            AppSetting(
                key=DEMO_KEY,
                value={
                    "seed": config.seed,
                    "events": config.events,
                    "annotators": config.annotators,
                    "end": config.end.isoformat(),
                },
                updated_by=DEMO_ACTOR.username,
            )
        )
        audit.record(
            session,
            DEMO_ACTOR,
            "demo.load",
            ("database", None),
            after={"seed": config.seed, "events": total},
        )
        demo_data.analyze_tables(session)
    return logins


def _at(day: dt.date, hour: float = 9.0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(hours=hour)


def _add_projects(
    session: Session, config: DemoConfig
) -> tuple[dict[str, Project], dict[str, list[GuidelineVersion]]]:
    projects: dict[str, Project] = {}
    versions: dict[str, list[GuidelineVersion]] = {}
    for spec in PROJECTS:
        project = Project(
            slug=spec.slug,
            name=spec.name,
            client=spec.client,
            domain=spec.domain,
            task_type=spec.task_type,
            complexity=spec.complexity,
            required_skills=list(spec.required_skills),
            min_tier="annotator",
            quality_target=spec.quality_target,
            currency="USD",
            starts_on=config.end - dt.timedelta(days=spec.started_days_ago),
            alert_settings={},
            updated_by=DEMO_ACTOR.username,
        )
        session.add(project)
        session.flush()
        projects[spec.slug] = project
        versions[spec.slug] = [
            GuidelineVersion(
                project_id=project.id,
                version=guideline.version,
                effective_from=_at(config.end - dt.timedelta(days=guideline.days_ago), 0),
                change_summary=guideline.summary,
                is_major=guideline.is_major,
                created_by=DEMO_ACTOR.username,
            )
            for guideline in guideline_history(spec)
        ]
        session.add_all(versions[spec.slug])
    session.flush()
    return projects, versions


# Hours a week each kind of worker gives to annotation in the demo.
WEEKLY_HOURS = {"employee": 38.0, "contractor": 25.0, "vendor": 30.0}


def _add_people(
    session: Session,
    config: DemoConfig,
    people: list[Person],
    projects: dict[str, Project],
    rng: np.random.Generator,
) -> dict[str, Team]:
    """The pool and everything known about each person, written in bulk."""
    teams = {name: Team(name=name) for name in TEAMS}
    session.add_all(teams.values())
    session.flush()
    annotator_rows = [
        {
            "email": person.email,
            "display_name": person.name,
            "status": person.profile.status,
            "tier": person.profile.tier,
            "team_id": teams[person.profile.team].id,
            "employment_type": person.profile.employment,
            "weekly_capacity_hours": WEEKLY_HOURS[person.profile.employment],
            "country": COUNTRIES[index % len(COUNTRIES)],
            "phone": f"+1-555-01{index:02d}",
            "updated_by": DEMO_ACTOR.username,
        }
        for index, person in enumerate(people)
    ]
    demo_data.insert_rows(session, model=Annotator, rows=annotator_rows)
    ids = demo_data.get_annotator_ids_by_email(session)
    rows: Rows = defaultdict(list)
    start = config.end - dt.timedelta(days=150)
    for index, person in enumerate(people):
        person.id = annotator_id = ids[person.email]
        rows[AnnotatorIdentity].append(
            {
                "annotator_id": annotator_id,
                "platform": "labelstudio",
                "external_id": str(1000 + index),
                "email": person.email,
            }
        )
        skills = [("domain", skill) for skill in person.profile.skills]
        # The kinds of labeling each person does, so the pool's skill filter has values.
        skills += [
            ("skill", name)
            for name in sorted(
                {projects[slug].task_type.replace("_", " ") for slug in person.profile.projects}
            )
        ]
        skills.append(("language", LANGUAGES[index % len(LANGUAGES)]))
        for kind, name in skills:
            level = 4 if kind == "domain" else 5
            rows[AnnotatorSkill].append(
                {"annotator_id": annotator_id, "kind": kind, "name": name, "level": level}
            )
        _add_pay(rows, config, person, index, start, rng)
        _add_records(rows, config, person, projects, start, rng)
    for model, model_rows in rows.items():
        demo_data.insert_rows(session, model=model, rows=model_rows)
    return teams


def _add_pay(
    rows: Rows,
    config: DemoConfig,
    person: Person,
    index: int,
    start: dt.date,
    rng: np.random.Generator,
) -> None:
    if person.profile.employment == "vendor":
        basis, amount = "per_item", int(rng.integers(6, 10))
    else:
        base = {"lead": 2600, "reviewer": 2100, "annotator": 1600}[person.profile.tier]
        basis, amount = "hourly", base + int(rng.integers(0, 5)) * 50
    rates = [(amount, _at(start, 0), "Starting rate")]
    # Most of the pool got a raise two months ago; pay history is kept, never overwritten.
    if person.profile.status != "candidate" and index % 10 < 7:
        raised = max(amount + 1, int(round(amount * (1.05 + 0.05 * (index % 2)))))
        rates.append((raised, _at(config.end - dt.timedelta(days=60), 0), "Annual rate review"))
    for amount_minor, effective_from, reason in rates:
        rows[PayRate].append(
            {
                "annotator_id": person.id,
                "basis": basis,
                "amount_minor": amount_minor,
                "currency": "USD",
                "effective_from": effective_from,
                "reason": reason,
                "created_by": DEMO_ACTOR.username,
            }
        )


def _add_records(
    rows: Rows,
    config: DemoConfig,
    person: Person,
    projects: dict[str, Project],
    start: dt.date,
    rng: np.random.Generator,
) -> None:
    """Assignments, qualifications, training, promotions and feedback of one person."""
    profile = person.profile
    for slug in profile.projects:
        rows[Assignment].append(
            {
                "annotator_id": person.id,
                "project_id": projects[slug].id,
                "role": "reviewer" if profile.tier != "annotator" else "annotator",
                "starts_on": projects[slug].starts_on or start,
                "created_by": DEMO_ACTOR.username,
            }
        )
    task_types = {projects[slug].task_type for slug in profile.projects} or {"text_classification"}
    for task_type in sorted(task_types):
        score = float(np.clip(profile.accuracy + rng.normal(0, 0.02), 0, 1))
        if profile.status == "candidate":
            score = float(np.clip(rng.normal(0.8, 0.08), 0, 1))
        rows[QualificationResult].append(
            {
                "annotator_id": person.id,
                "task_type": task_type,
                "score": round(score, 3),
                "pass_mark": 0.85,
                "n_items": 40,
                "taken_at": _at(start - dt.timedelta(days=7), 10),
                "recorded_by": DEMO_ACTOR.username,
            }
        )
    if profile.status == "candidate":
        return
    _add_training(rows, config, person, projects, start)
    if profile.tier != "annotator":
        steps = ["annotator", "reviewer"] + (["lead"] if profile.tier == "lead" else [])
        for step_index, (before, after) in enumerate(zip(steps, steps[1:], strict=False)):
            rows[TierChange].append(
                {
                    "annotator_id": person.id,
                    "from_tier": before,
                    "to_tier": after,
                    "effective_at": _at(start - dt.timedelta(days=400 - 200 * step_index), 9),
                    "justification": (
                        f"Met the {after} criteria: sustained gold accuracy above 0.93 "
                        "and calibration agreement above 0.9."
                    ),
                    "evidence": {"gold_accuracy_ci_low": 0.93, "calibration_agreement": 0.92},
                    "decided_by": DEMO_ACTOR.username,
                }
            )
    _add_feedback(rows, config, person)


def _add_training(
    rows: Rows, config: DemoConfig, person: Person, projects: dict[str, Project], start: dt.date
) -> None:
    # (kind, topic, project, completed on, hour, valid for days)
    courses: list[tuple[str, str, Project | None, dt.date, int, int]] = [
        (
            "initial",
            "Annotation fundamentals and tooling",
            None,
            start - dt.timedelta(days=3),
            14,
            365,
        )
    ]
    if "defect-inspection" in person.profile.skills:
        # Domain training lasts 180 days; Priya's ran out three weeks ago.
        completed = config.end - dt.timedelta(days=201 if person.key == "priya" else 90)
        topic = "Weld defect taxonomy: critical vs cosmetic"
        courses.append(("domain", topic, projects["defect-inspection"], completed, 14, 180))
    if "retail-sentiment" in person.profile.projects:
        completed = config.end - dt.timedelta(days=18)
        topic = "Sentiment guidelines v2: sarcasm and mixed reviews"
        courses.append(
            ("guideline_change", topic, projects["retail-sentiment"], completed, 15, 365)
        )
    for kind, topic, project, completed, hour, valid_days in courses:
        rows[TrainingRecord].append(
            {
                "annotator_id": person.id,
                "kind": kind,
                "topic": topic,
                "project_id": project.id if project is not None else None,
                "completed_at": _at(completed, hour),
                "expires_at": _at(completed + dt.timedelta(days=valid_days), hour),
                "recorded_by": DEMO_ACTOR.username,
            }
        )


def _add_feedback(rows: Rows, config: DemoConfig, person: Person) -> None:
    if person.key in ("rex", "dana"):
        rows[FeedbackNote].append(
            {
                "annotator_id": person.id,
                "category": "speed",
                "text": (
                    "Your pace is far above the team's, but several golden items were missed. "
                    "Please slow down and re-read the edge cases section."
                ),
                "evidence": {"window_days": 14},
                "follow_up_on": config.end + dt.timedelta(days=7),
                "acknowledged_at": None,
                "author": DEMO_ACTOR.username,
                "created_at": _at(config.end - dt.timedelta(days=10), 11),
            }
        )
    if person.key == "amara":
        rows[FeedbackNote].append(
            {
                "annotator_id": person.id,
                "category": "praise",
                "text": (
                    "Consistently accurate on the sarcasm cases after the v2 change. Thank you!"
                ),
                "evidence": {},
                "follow_up_on": None,
                "acknowledged_at": _at(config.end - dt.timedelta(days=4), 16),
                "author": DEMO_ACTOR.username,
                "created_at": _at(config.end - dt.timedelta(days=5), 10),
            }
        )


def _add_events(session: Session, cast: _Cast, rng: np.random.Generator, report: Progress) -> int:
    """Generate and write the events chunk by chunk, one import batch per project."""
    config, projects = cast.config, cast.projects
    batches = {
        slug: ImportBatch(
            source="demo",
            file_name=f"demo seed {config.seed}",
            sha256=f"{config.seed:064d}",
            project_id=project.id,
            imported_by=DEMO_ACTOR.username,
            status="committed",
            finished_at=_at(config.end),
        )
        for slug, project in projects.items()
    }
    session.add_all(batches.values())
    session.flush()
    targets = {
        slug: EventTarget(
            project_id=project.id,
            import_batch_id=batches[slug].id,
            guideline_versions=tuple((v.id, v.effective_from) for v in cast.versions[slug]),
        )
        for slug, project in projects.items()
    }
    written = dict.fromkeys(batches, 0)

    def frames() -> Iterator[pd.DataFrame]:
        for slug, frame in event_frames(config, cast.people, targets, rng):
            yield frame
            written[slug] += len(frame)
            report("annotation events", sum(written.values()), config.events)
        report("indexes", 0, 1)

    total = demo_data.insert_event_frames(session, frames=frames())
    report("indexes", 1, 1)
    for slug, batch in batches.items():
        batch.n_rows = batch.n_inserted = written[slug]
    return total


def _set_budgets(session: Session, projects: dict[str, Project], end: dt.date) -> None:
    """Budgets, volume targets and deadlines chosen from the generated work, so each
    project's story (on track, or burning budget and late) holds at any size."""
    recent_days = 14
    for spec in PROJECTS:
        project = projects[spec.slug]
        totals = sum_rollups(session, since=dt.date.min, project_id=project.id)
        recent = sum_rollups(
            session, since=end - dt.timedelta(days=recent_days), project_id=project.id
        )
        spent_share, done_share = spec.burn
        project.budget_minor = int(max(totals["spend_minor"], 1) / spent_share)
        project.volume_target = int(max(totals["annotations"], 1) / done_share)
        per_day = max(recent["annotations"], 1) / recent_days
        days_needed = (project.volume_target - totals["annotations"]) / per_day
        # Healthy projects have slack; the one burning budget is also running late.
        slack = 0.3 if spec.slug == "street-scenes" else 1.25
        project.deadline = end + dt.timedelta(days=max(7, int(days_needed * slack)))


def _add_calibrations(session: Session, cast: _Cast, rng: np.random.Generator) -> None:
    """Monthly calibration rounds: everyone labels the same 20 items."""
    config, people, projects, versions = cast.config, cast.people, cast.projects, cast.versions
    for spec in PROJECTS:
        participants = [p for p in people if spec.slug in p.profile.projects][:10]
        if len(participants) < 2:
            continue
        for round_index, days_ago in enumerate((80, 50, 20)):
            if days_ago >= spec.started_days_ago:
                continue
            held = _at(config.end - dt.timedelta(days=days_ago), 15)
            version = [v for v in versions[spec.slug] if v.effective_from <= held][-1]
            calibration = CalibrationSession(
                project_id=projects[spec.slug].id,
                name=f"{spec.name} calibration #{round_index + 1}",
                held_at=held,
                guideline_version_id=version.id,
                created_by=DEMO_ACTOR.username,
                discussion_notes=(
                    "Discussed the disputed items; clarified the edge cases in the guideline."
                ),
            )
            session.add(calibration)
            session.flush()
            item_ids = [f"cal-{spec.slug}-{round_index}-{item:02d}" for item in range(20)]
            truth = rng.integers(0, len(spec.labels), size=20)
            session.add_all(
                CalibrationItem(
                    session_id=calibration.id,
                    item_id=item_id,
                    reference_label=spec.labels[truth[item]],
                )
                for item, item_id in enumerate(item_ids)
            )
            matrix = np.full((len(participants), 20), np.nan)
            for row, person in enumerate(participants):
                correct = rng.random(20) < person.profile.accuracy
                given = np.where(
                    correct,
                    truth,
                    (truth + rng.integers(1, len(spec.labels), 20)) % len(spec.labels),
                )
                matrix[row] = given
                session.add_all(
                    CalibrationLabel(
                        session_id=calibration.id,
                        annotator_id=person.id,
                        item_id=item_id,
                        label=spec.labels[int(given[item])],
                    )
                    for item, item_id in enumerate(item_ids)
                )
                session.add(
                    CalibrationResult(
                        session_id=calibration.id,
                        annotator_id=person.id,
                        agreement=float(np.mean(given == truth)),
                        n_items=20,
                    )
                )
            calibration.group_agreement = float(
                krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
            )


def _add_users(
    session: Session,
    people: list[Person],
    teams: dict[str, Team],
    passwords: dict[str, str] | None,
) -> dict[str, str]:
    """One login per role; passwords are random unless the caller supplies them."""
    amara = next(p for p in people if p.key == "amara")
    specs = [
        ("admin", "admin", None, None),
        ("ops", "ops", None, None),
        ("lead", "lead", None, teams["Text"].id),
        ("finance", "finance", None, None),
        ("annotator", "annotator", amara.id, None),
    ]
    logins: dict[str, str] = {}
    for username, role, annotator_id, team_id in specs:
        password = (passwords or {}).get(username) or secrets.token_urlsafe(9)
        logins[username] = password
        session.add(
            User(
                username=username,
                role=role,
                password_hash=hash_password(password),
                annotator_id=annotator_id,
                team_id=team_id,
            )
        )
    return logins
