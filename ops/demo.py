"""A deterministic, realistic demo: the stories annops exists to catch, at any size.

Same seed and same end date give the same data. Events are generated with numpy
in chunks and bulk-loaded (COPY on PostgreSQL), so ten million rows take minutes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from db import queries
from db.bulk import indexes_deferred, insert_frames
from db.models import (
    AnnotationEvent,
    Annotator,
    AnnotatorIdentity,
    AnnotatorSkill,
    AppSetting,
    Assignment,
    AuditEntry,
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
from ops import audit, rollups
from ops.alerts.engine import evaluate_alerts
from ops.auth import hash_password
from ops.errors import AnnopsError
from ops.permissions import Principal
from ops.quality import compute_project_agreements
from ops.settings import get_settings

DEMO_KEY = "demo"
EVENTS_TABLE: Table = AnnotationEvent.__table__  # type: ignore[assignment]
DEMO_ACTOR = Principal(username="demo", role="admin")
HISTORY_DAYS = 120
EVENT_CHUNK = 500_000
# A missing value inside object arrays; written to the database as NULL.
NO_VALUE = np.array(None, dtype=object)

Progress = Callable[[str, int, int], None]


class DemoRefused(AnnopsError):
    """The database holds data that is not the demo's; nothing was changed."""


@dataclass(frozen=True)
class DemoConfig:
    """Size, seed and end date of the demo story."""

    annotators: int = 60
    events: int = 200_000
    seed: int = 7
    end: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    def __post_init__(self) -> None:
        if self.annotators < 20:
            raise AnnopsError("The demo needs at least 20 annotators to tell its stories.")
        if self.events < 5_000:
            raise AnnopsError("The demo needs at least 5000 events to tell its stories.")


@dataclass(frozen=True)
class ProjectSpec:
    slug: str
    name: str
    client: str
    domain: str
    task_type: str
    complexity: str
    labels: tuple[str, ...]
    share: float
    base_seconds: float
    quality_target: float
    started_days_ago: int
    required_skills: tuple[str, ...] = ()
    # Budget and volume are set from the generated work so the story holds at any size:
    # (share of budget already spent, share of volume already done).
    burn: tuple[float, float] = (0.5, 0.5)


PROJECTS = (
    ProjectSpec(
        "defect-inspection",
        "Weld seam defect inspection",
        "Northwind Fabrication",
        "manufacturing",
        "image_classification",
        "complex",
        ("critical_defect", "cosmetic_blemish", "no_defect"),
        0.25,
        45.0,
        0.92,
        110,
        ("defect-inspection",),
        (0.48, 0.55),
    ),
    ProjectSpec(
        "retail-sentiment",
        "Retail review sentiment",
        "Bluebird Retail",
        "e-commerce",
        "text_classification",
        "moderate",
        ("positive", "negative", "neutral", "mixed"),
        0.30,
        24.0,
        0.90,
        118,
        (),
        (0.55, 0.6),
    ),
    ProjectSpec(
        "street-scenes",
        "Street scene tagging",
        "Metro Mobility Lab",
        "autonomous-driving",
        "image_classification",
        "simple",
        ("car", "pedestrian", "cyclist", "empty"),
        0.25,
        11.0,
        0.88,
        60,
        (),
        (0.86, 0.42),
    ),
    ProjectSpec(
        "support-intents",
        "Support ticket intents",
        "Helio Software",
        "customer-support",
        "text_classification",
        "simple",
        ("billing", "technical", "account", "other"),
        0.20,
        18.0,
        0.90,
        100,
        (),
        (0.45, 0.5),
    ),
)

TEAMS = ("Vision", "Text", "Mixed", "Vendor pool")
FIRST_NAMES = [
    "Lena",
    "Mateo",
    "Aisha",
    "Jonas",
    "Mei",
    "Tomasz",
    "Ines",
    "Kwame",
    "Sofia",
    "Ravi",
    "Elif",
    "Noah",
    "Yara",
    "Diego",
    "Hana",
    "Luca",
    "Zainab",
    "Oskar",
    "Nia",
    "Arjun",
    "Freya",
    "Emil",
    "Leila",
    "Bruno",
    "Chloe",
    "Omar",
    "Ingrid",
    "Tariq",
    "Maya",
    "Felix",
    "Ana",
    "Sven",
    "Rosa",
    "Idris",
    "Clara",
    "Yusuf",
    "Elena",
    "Kofi",
    "Mira",
    "Pavel",
    "Selin",
    "Hugo",
    "Asha",
    "Nils",
    "Lucia",
    "Imran",
    "Greta",
    "Samir",
    "Talia",
    "Victor",
    "Farah",
    "Anton",
    "Keiko",
    "Marco",
    "Ada",
    "Joel",
    "Nadia",
    "Rafael",
    "Eva",
    "Ken",
]
LAST_NAMES = [
    "Fischer",
    "Alvarez",
    "Rahman",
    "Berg",
    "Chen",
    "Nowak",
    "Moreau",
    "Mensah",
    "Rossi",
    "Iyer",
    "Demir",
    "Weber",
    "Haddad",
    "Torres",
    "Sato",
    "Bianchi",
    "Bello",
    "Lund",
    "Okoro",
    "Patel",
    "Hansen",
    "Kowalski",
    "Amini",
    "Costa",
    "Dubois",
    "Farouk",
    "Larsen",
    "Aziz",
    "Cohen",
    "Wagner",
    "Silva",
    "Nilsson",
    "Garcia",
    "Idowu",
    "Keller",
    "Yilmaz",
    "Popescu",
    "Owusu",
    "Novak",
]

# Named people the stories are about: (display name, role in the story).
STORY_PEOPLE = {
    "amara": "Amara Okafor",  # steady high performer, qualifies for reviewer
    "rex": "Rex Turner",  # fast but inaccurate
    "dana": "Dana Voss",  # fast but inaccurate
    "milo": "Milo Park",  # fast but inaccurate
    "priya": "Priya Nair",  # domain training expired, still assigned
}


@dataclass
class Person:
    key: str
    name: str
    email: str
    team: str
    tier: str
    status: str
    employment: str
    accuracy: float
    speed: float  # multiplier on time per item; < 1 is faster
    productivity: float
    skills: tuple[str, ...]
    projects: tuple[str, ...]
    id: int = 0


# --- database state ---------------------------------------------------------------------


def database_state(session: Session) -> str:
    """'empty', 'demo' (holds only demo data) or 'other'."""
    has_demo = session.get(AppSetting, DEMO_KEY) is not None
    counts = [
        session.scalar(select(func.count()).select_from(model))
        for model in (Project, Annotator, User, AnnotationEvent)
    ]
    if not has_demo:
        return "empty" if not any(counts) else "other"
    foreign_writes = session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.actor != DEMO_ACTOR.username,
            AuditEntry.action.not_in(audit.ACCESS_ACTIONS + ("demo.reset",)),
        )
    )
    foreign_imports = session.scalar(
        select(func.count(ImportBatch.id)).where(ImportBatch.source != "demo")
    )
    return "demo" if not foreign_writes and not foreign_imports else "other"


def wipe_demo(session: Session) -> None:
    """Delete every row of every annops table but the audit log; callers check
    database_state first. The log is append-only: it keeps the old demo's entries and
    records the reset."""
    session.execute(update(AnnotationEvent).values(rereview_request_id=None))
    for table in reversed(Base.metadata.sorted_tables):
        if table is not AuditEntry.__table__:
            session.execute(delete(table))
    audit.record(session, DEMO_ACTOR, "demo.reset", ("demo", None))


# --- the story ---------------------------------------------------------------------------


def cast_people(config: DemoConfig, rng: np.random.Generator) -> list[Person]:
    """The annotator pool, with the named story people in fixed places."""
    people: list[Person] = []
    used: set[str] = set()

    def name_for(index: int) -> str:
        while True:
            first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
            last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
            candidate = f"{first} {last}"
            if candidate not in used and candidate not in STORY_PEOPLE.values():
                used.add(candidate)
                return candidate

    def add(key: str, name: str, **kwargs: Any) -> None:
        email = name.lower().replace(" ", ".") + "@annotators.example"
        people.append(Person(key=key, name=name, email=email, **kwargs))

    # Team leads, one per team.
    for team in TEAMS:
        lead_projects = {
            "Vision": ("defect-inspection", "street-scenes"),
            "Text": ("retail-sentiment", "support-intents"),
            "Mixed": ("retail-sentiment", "street-scenes"),
            "Vendor pool": ("street-scenes",),
        }[team]
        add(
            f"lead-{team}",
            name_for(len(people)),
            team=team,
            tier="lead",
            status="active",
            employment="employee",
            accuracy=0.95,
            speed=1.1,
            productivity=0.3,
            skills=("defect-inspection",) if team == "Vision" else (),
            projects=lead_projects,
        )
    add(
        "amara",
        STORY_PEOPLE["amara"],
        team="Text",
        tier="annotator",
        status="active",
        employment="employee",
        accuracy=0.975,
        speed=0.95,
        productivity=1.6,
        skills=(),
        projects=("retail-sentiment", "support-intents"),
    )
    for key in ("rex", "dana", "milo"):
        add(
            key,
            STORY_PEOPLE[key],
            team="Mixed" if key != "rex" else "Vision",
            tier="annotator",
            status="active",
            employment="contractor",
            accuracy=0.70,
            speed=0.38,
            productivity=1.4,
            skills=(),
            projects=("street-scenes", "retail-sentiment")
            if key != "rex"
            else ("defect-inspection",),
        )
    add(
        "priya",
        STORY_PEOPLE["priya"],
        team="Vision",
        tier="annotator",
        status="active",
        employment="employee",
        accuracy=0.93,
        speed=1.0,
        productivity=1.0,
        skills=("defect-inspection",),
        projects=("defect-inspection",),
    )
    n_reviewers = max(4, config.annotators // 8)
    n_candidates = 3
    n_inactive = 2
    regular = config.annotators - len(people) - n_candidates - n_inactive
    for index in range(regular):
        team = TEAMS[index % len(TEAMS)]
        domain_expert = team == "Vision" and index % 3 == 0
        if team == "Vision":
            projects: tuple[str, ...] = ("defect-inspection",) if index % 2 else ("street-scenes",)
            if index % 8 == 0:
                projects = ("defect-inspection", "street-scenes")
        elif team == "Text":
            projects = ("retail-sentiment",) if index % 2 else ("support-intents",)
        elif team == "Mixed":
            projects = ("retail-sentiment", "street-scenes") if index % 2 else ("support-intents",)
        else:
            projects = ("street-scenes",)
        add(
            f"pool-{index}",
            name_for(index),
            team=team,
            tier="reviewer" if index < n_reviewers else "annotator",
            status="probation" if index % 17 == 5 else "active",
            employment="vendor"
            if team == "Vendor pool"
            else ("employee" if index % 3 else "contractor"),
            accuracy=float(np.clip(rng.normal(0.925, 0.025), 0.85, 0.97)),
            speed=float(np.clip(rng.normal(1.0, 0.15), 0.7, 1.4)),
            productivity=float(np.clip(rng.normal(1.0, 0.25), 0.4, 1.6)),
            skills=("defect-inspection",) if domain_expert else (),
            projects=projects,
        )
    for index in range(n_candidates):
        add(
            f"candidate-{index}",
            name_for(index),
            team=TEAMS[index % len(TEAMS)],
            tier="annotator",
            status="candidate",
            employment="contractor",
            accuracy=0.85,
            speed=1.0,
            productivity=0.0,
            skills=(),
            projects=(),
        )
    for index in range(n_inactive):
        add(
            f"inactive-{index}",
            name_for(index),
            team=TEAMS[index % len(TEAMS)],
            tier="annotator",
            status="inactive",
            employment="contractor",
            accuracy=0.9,
            speed=1.0,
            productivity=0.0,
            skills=(),
            projects=(),
        )
    return people


def _at(day: dt.date, hour: float = 9.0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(hours=hour)


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
    rng = np.random.default_rng(config.seed)
    with factory() as session, session.begin():
        state = database_state(session)
        if state != "empty":
            raise DemoRefused(
                "The database is not empty; the demo only fills an empty database "
                "(use --reset to rebuild an existing demo)."
            )
        report("people and projects", 0, 1)
        people = cast_people(config, rng)
        projects, versions = _add_projects(session, config)
        teams = _add_people(session, config, people, projects, rng)
        report("people and projects", 1, 1)
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
        total = 0
        with indexes_deferred(session, EVENTS_TABLE):
            for frame in _event_frames(config, people, projects, versions, batches, rng):
                total += insert_frames(session, EVENTS_TABLE, [frame])
                report("annotation events", total, config.events)
            report("indexes", 0, 1)
        report("indexes", 1, 1)
        for slug, batch in batches.items():
            batch.n_rows = batch.n_inserted = int(
                session.scalar(
                    select(func.count(AnnotationEvent.id)).where(
                        AnnotationEvent.import_batch_id == batch.id
                    )
                )
                or 0
            )
            del slug
        report("daily rollups", 0, 1)
        rollups.rebuild(session)
        report("daily rollups", 1, 1)
        _set_budgets(session, projects, config.end)
        _add_calibrations(session, config, people, projects, versions, rng)
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
    return logins


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
        first = GuidelineVersion(
            project_id=project.id,
            version="v1",
            effective_from=_at(config.end - dt.timedelta(days=spec.started_days_ago), 0),
            change_summary="First release of the labeling guidelines.",
            created_by=DEMO_ACTOR.username,
        )
        versions[spec.slug] = [first]
        if spec.slug == "retail-sentiment":
            versions[spec.slug].append(
                GuidelineVersion(
                    project_id=project.id,
                    version="v2",
                    effective_from=_at(config.end - dt.timedelta(days=30), 0),
                    change_summary=(
                        "Sarcastic praise is now 'negative'; reviews with both praise and "
                        "complaint are 'mixed' instead of 'neutral'."
                    ),
                    is_major=True,
                    created_by=DEMO_ACTOR.username,
                )
            )
        if spec.slug == "defect-inspection":
            versions[spec.slug].append(
                GuidelineVersion(
                    project_id=project.id,
                    version="v1.1",
                    effective_from=_at(config.end - dt.timedelta(days=70), 0),
                    change_summary="Added reference photos for porosity and spatter.",
                    created_by=DEMO_ACTOR.username,
                )
            )
        session.add_all(versions[spec.slug])
    session.flush()
    return projects, versions


def _add_people(
    session: Session,
    config: DemoConfig,
    people: list[Person],
    projects: dict[str, Project],
    rng: np.random.Generator,
) -> dict[str, Team]:
    teams = {name: Team(name=name) for name in TEAMS}
    session.add_all(teams.values())
    session.flush()
    start = config.end - dt.timedelta(days=150)
    for index, person in enumerate(people):
        annotator = Annotator(
            email=person.email,
            display_name=person.name,
            status=person.status,
            tier=person.tier,
            team_id=teams[person.team].id,
            employment_type=person.employment,
            country=("DE", "PL", "IN", "KE", "PH", "BR", "US")[index % 7],
            phone=f"+1-555-01{index:02d}",
            updated_by=DEMO_ACTOR.username,
        )
        session.add(annotator)
        session.flush()
        person.id = annotator.id
        session.add(
            AnnotatorIdentity(
                annotator_id=annotator.id,
                platform="labelstudio",
                external_id=str(1000 + index),
                email=person.email,
            )
        )
        for skill in person.skills:
            session.add(
                AnnotatorSkill(annotator_id=annotator.id, kind="domain", name=skill, level=4)
            )
        session.add(
            AnnotatorSkill(
                annotator_id=annotator.id,
                kind="language",
                name=("en", "de", "es", "fr")[index % 4],
                level=5,
            )
        )
        _add_pay(session, config, person, index, start, rng)
        _add_records(session, config, person, projects, start, rng)
    return teams


def _add_pay(
    session: Session,
    config: DemoConfig,
    person: Person,
    index: int,
    start: dt.date,
    rng: np.random.Generator,
) -> None:
    if person.employment == "vendor":
        basis, amount = "per_item", int(rng.integers(6, 10))
    else:
        base = {"lead": 2600, "reviewer": 2100, "annotator": 1600}[person.tier]
        basis, amount = "hourly", base + int(rng.integers(0, 5)) * 50
    session.add(
        PayRate(
            annotator_id=person.id,
            basis=basis,
            amount_minor=amount,
            currency="USD",
            effective_from=_at(start, 0),
            reason="Starting rate",
            created_by=DEMO_ACTOR.username,
        )
    )
    # Most of the pool got a raise two months ago; pay history is kept, never overwritten.
    if person.status != "candidate" and index % 10 < 7:
        raise_amount = max(amount + 1, int(round(amount * (1.05 + 0.05 * (index % 2)))))
        session.add(
            PayRate(
                annotator_id=person.id,
                basis=basis,
                amount_minor=raise_amount,
                currency="USD",
                effective_from=_at(config.end - dt.timedelta(days=60), 0),
                reason="Annual rate review",
                created_by=DEMO_ACTOR.username,
            )
        )


def _add_records(
    session: Session,
    config: DemoConfig,
    person: Person,
    projects: dict[str, Project],
    start: dt.date,
    rng: np.random.Generator,
) -> None:
    for slug in person.projects:
        project = projects[slug]
        session.add(
            Assignment(
                annotator_id=person.id,
                project_id=project.id,
                role="reviewer" if person.tier != "annotator" else "annotator",
                starts_on=project.starts_on or start,
                created_by=DEMO_ACTOR.username,
            )
        )
    task_types = {projects[slug].task_type for slug in person.projects} or {"text_classification"}
    for task_type in sorted(task_types):
        score = float(np.clip(person.accuracy + rng.normal(0, 0.02), 0, 1))
        if person.status == "candidate":
            score = float(np.clip(rng.normal(0.8, 0.08), 0, 1))
        session.add(
            QualificationResult(
                annotator_id=person.id,
                task_type=task_type,
                score=round(score, 3),
                pass_mark=0.85,
                n_items=40,
                taken_at=_at(start - dt.timedelta(days=7), 10),
                recorded_by=DEMO_ACTOR.username,
            )
        )
    if person.status == "candidate":
        return
    session.add(
        TrainingRecord(
            annotator_id=person.id,
            kind="initial",
            topic="Annotation fundamentals and tooling",
            completed_at=_at(start - dt.timedelta(days=3), 14),
            expires_at=_at(start - dt.timedelta(days=3) + dt.timedelta(days=365), 14),
            recorded_by=DEMO_ACTOR.username,
        )
    )
    if "defect-inspection" in person.skills:
        # Domain training lasts 180 days; Priya's ran out three weeks ago.
        completed = config.end - dt.timedelta(days=201 if person.key == "priya" else 90)
        session.add(
            TrainingRecord(
                annotator_id=person.id,
                kind="domain",
                topic="Weld defect taxonomy: critical vs cosmetic",
                project_id=projects["defect-inspection"].id,
                completed_at=_at(completed, 14),
                expires_at=_at(completed + dt.timedelta(days=180), 14),
                recorded_by=DEMO_ACTOR.username,
            )
        )
    if "retail-sentiment" in person.projects:
        completed = config.end - dt.timedelta(days=18)
        session.add(
            TrainingRecord(
                annotator_id=person.id,
                kind="guideline_change",
                topic="Sentiment guidelines v2: sarcasm and mixed reviews",
                project_id=projects["retail-sentiment"].id,
                completed_at=_at(completed, 15),
                expires_at=_at(completed + dt.timedelta(days=365), 15),
                recorded_by=DEMO_ACTOR.username,
            )
        )
    if person.tier != "annotator":
        steps = ["annotator", "reviewer"] + (["lead"] if person.tier == "lead" else [])
        for step_index, (before, after) in enumerate(zip(steps, steps[1:], strict=False)):
            session.add(
                TierChange(
                    annotator_id=person.id,
                    from_tier=before,
                    to_tier=after,
                    effective_at=_at(start - dt.timedelta(days=400 - 200 * step_index), 9),
                    justification=(
                        f"Met the {after} criteria: sustained gold accuracy above 0.93 "
                        "and calibration agreement above 0.9."
                    ),
                    evidence={"gold_accuracy_ci_low": 0.93, "calibration_agreement": 0.92},
                    decided_by=DEMO_ACTOR.username,
                )
            )
    if person.key in ("rex", "dana"):
        session.add(
            FeedbackNote(
                annotator_id=person.id,
                category="speed",
                text=(
                    "Your pace is far above the team's, but several golden items were missed. "
                    "Please slow down and re-read the edge cases section."
                ),
                evidence={"window_days": 14},
                follow_up_on=config.end + dt.timedelta(days=7),
                author=DEMO_ACTOR.username,
                created_at=_at(config.end - dt.timedelta(days=10), 11),
            )
        )
    if person.key == "amara":
        session.add(
            FeedbackNote(
                annotator_id=person.id,
                category="praise",
                text="Consistently accurate on the sarcasm cases after the v2 change. Thank you!",
                evidence={},
                acknowledged_at=_at(config.end - dt.timedelta(days=4), 16),
                author=DEMO_ACTOR.username,
                created_at=_at(config.end - dt.timedelta(days=5), 10),
            )
        )


def _event_frames(
    config: DemoConfig,
    people: list[Person],
    projects: dict[str, Project],
    versions: dict[str, list[GuidelineVersion]],
    batches: dict[str, ImportBatch],
    rng: np.random.Generator,
) -> Iterator[pd.DataFrame]:
    """Annotation events, project by project, in chunks of at most EVENT_CHUNK rows."""
    shares = np.array([spec.share for spec in PROJECTS])
    counts = np.floor(shares / shares.sum() * config.events).astype(int)
    counts[0] += config.events - counts.sum()
    external = 0
    for spec, count in zip(PROJECTS, counts, strict=True):
        workers = [p for p in people if spec.slug in p.projects]
        reviewers = [p for p in workers if p.tier != "annotator"]
        if not workers:
            continue
        remaining = int(count)
        # A fixed item pool per project: several people label the same items (agreement),
        # and one item in ten is a hidden golden item.
        n_items = max(200, int(count) // 2)
        item_truth = rng.integers(0, len(spec.labels), size=n_items)
        if spec.slug == "defect-inspection":
            item_truth = rng.choice(3, size=n_items, p=[0.2, 0.35, 0.45])
        n_gold = max(30, n_items // 10)
        while remaining > 0:
            size = min(EVENT_CHUNK, remaining)
            frame = _event_chunk(
                config,
                spec,
                size,
                external,
                workers,
                reviewers,
                item_truth,
                n_gold,
                projects[spec.slug],
                versions[spec.slug],
                batches[spec.slug],
                rng,
            )
            external += size
            remaining -= size
            yield frame


def _event_chunk(
    config: DemoConfig,
    spec: ProjectSpec,
    size: int,
    first_external: int,
    workers: list[Person],
    reviewers: list[Person],
    item_truth: np.ndarray,
    n_gold: int,
    project: Project,
    versions: list[GuidelineVersion],
    batch: ImportBatch,
    rng: np.random.Generator,
) -> pd.DataFrame:
    labels = np.array(spec.labels, dtype=object)
    weights = np.array([p.productivity for p in workers])
    who = rng.choice(len(workers), size=size, p=weights / weights.sum())
    accuracy = np.array([p.accuracy for p in workers])[who]
    speed = np.array([p.speed for p in workers])[who]
    annotator_ids = np.array([p.id for p in workers])[who]

    # Working days only, busier towards the present; 08:00-18:00 UTC.
    days_back = spec.started_days_ago
    day_offsets = rng.integers(0, days_back, size=size)
    start_day = np.datetime64(config.end - dt.timedelta(days=days_back))
    days = start_day + day_offsets.astype("timedelta64[D]")
    weekend = np.is_busday(days) == False  # noqa: E712 - numpy elementwise
    days = np.where(weekend, np.busday_offset(days, 0, roll="forward"), days)
    days = np.minimum(days, np.datetime64(config.end - dt.timedelta(days=1)))
    seconds = rng.integers(8 * 3600, 18 * 3600, size=size).astype("timedelta64[s]")
    submitted = days.astype("datetime64[s]") + seconds
    days_ago = (np.datetime64(config.end) - days).astype(int)

    if spec.slug == "retail-sentiment":
        # Guideline v2 (30 days ago) confused most of the team for about ten days.
        # Amara had read the draft of v2 and kept her accuracy.
        steady = np.array([index % 4 == 0 or p.key == "amara" for index, p in enumerate(workers)])
        affected = ~steady[who]
        window = (days_ago <= 30) & (days_ago > 20)
        accuracy = np.where(affected & window, accuracy - 0.25, accuracy)

    items = rng.integers(0, len(item_truth), size=size)
    truth = item_truth[items]
    correct = rng.random(size) < accuracy
    wrong = (truth + rng.integers(1, len(labels), size=size)) % len(labels)
    if spec.slug == "defect-inspection":
        # Without domain training people call cosmetic blemishes critical defects.
        generalist = np.array(["defect-inspection" not in p.skills for p in workers])[who]
        blemish = truth == 1
        confuses = generalist & blemish & (rng.random(size) < 0.35)
        correct = correct & ~confuses
        wrong = np.where(confuses, 0, wrong)
    label_index = np.where(correct, truth, wrong)
    label = labels[label_index]

    active = spec.base_seconds * speed * rng.lognormal(0.0, 0.35, size=size)
    skipped = rng.random(size) < 0.03
    escalation_rate = np.where(speed < 0.5, 0.002, 0.02)
    if spec.slug == "retail-sentiment":
        escalation_rate = np.where((days_ago <= 30) & (days_ago > 20), 0.07, escalation_rate)
    escalated = (rng.random(size) < escalation_rate) & ~skipped
    label = np.where(skipped, NO_VALUE, label)

    is_gold = items < n_gold
    gold_label = np.where(is_gold, labels[truth], NO_VALUE)

    version_ids = np.full(size, versions[0].id)
    for version in sorted(versions, key=lambda v: v.effective_from)[1:]:
        effective = np.datetime64(version.effective_from.replace(tzinfo=None), "s")
        version_ids = np.where(submitted >= effective, version.id, version_ids)

    reviewed = (rng.random(size) < 0.12) & ~skipped & ~is_gold & bool(reviewers)
    outcome = np.where(
        label_index == truth,
        np.where(rng.random(size) < 0.96, "accepted", "corrected"),
        np.where(rng.random(size) < 0.7, "corrected", "rejected"),
    )
    outcome = np.where(reviewed, outcome, NO_VALUE)
    reviewer_ids = np.array([p.id for p in reviewers] or [0])[
        rng.integers(0, max(1, len(reviewers)), size=size)
    ]
    review_seconds = np.where(reviewed, active * rng.uniform(0.3, 0.6, size=size), np.nan)
    review_delay = rng.integers(3600, 36 * 3600, size=size).astype("timedelta64[s]")
    reviewed_at = np.minimum(submitted + review_delay, np.datetime64(config.end, "s"))

    utc_submitted = pd.to_datetime(submitted).tz_localize("UTC")
    frame = pd.DataFrame(
        {
            "project_id": project.id,
            "item_id": np.char.add(f"{spec.slug}-", np.char.zfill(items.astype(str), 6)),
            "annotator_id": annotator_ids,
            "label": label,
            "submitted_at": utc_submitted,
            "active_seconds": np.round(active, 1),
            "skipped": skipped,
            "escalated": escalated,
            "guideline_version_id": version_ids,
            "import_batch_id": batch.id,
            "external_id": np.char.add(
                "demo-", np.arange(first_external, first_external + size).astype(str)
            ),
            "is_gold": is_gold,
            "gold_label": gold_label,
            "reviewer_id": pd.array(np.where(reviewed, reviewer_ids, 0), dtype="Int64"),
            "review_outcome": outcome,
            "review_seconds": np.round(review_seconds, 1),
            "reviewed_at": pd.to_datetime(reviewed_at).tz_localize("UTC"),
        }
    )
    frame.loc[~reviewed, "reviewer_id"] = pd.NA
    frame.loc[~reviewed, "reviewed_at"] = pd.NaT
    return frame


def _set_budgets(session: Session, projects: dict[str, Project], end: dt.date) -> None:
    """Budgets, volume targets and deadlines chosen from the generated work, so each
    project's story (on track, or burning budget and late) holds at any size."""
    recent_days = 14
    for spec in PROJECTS:
        project = projects[spec.slug]
        totals = queries.sum_rollups(session, since=dt.date.min, project_id=project.id)
        recent = queries.sum_rollups(
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


def _add_calibrations(
    session: Session,
    config: DemoConfig,
    people: list[Person],
    projects: dict[str, Project],
    versions: dict[str, list[GuidelineVersion]],
    rng: np.random.Generator,
) -> None:
    """Monthly calibration rounds: everyone labels the same 20 items."""
    for spec in PROJECTS:
        participants = [p for p in people if spec.slug in p.projects][:10]
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
            truth = rng.integers(0, len(spec.labels), size=20)
            for item in range(20):
                session.add(
                    CalibrationItem(
                        session_id=calibration.id,
                        item_id=f"cal-{spec.slug}-{round_index}-{item:02d}",
                        reference_label=spec.labels[truth[item]],
                    )
                )
            matrix = np.full((len(participants), 20), np.nan)
            for row, person in enumerate(participants):
                correct = rng.random(20) < person.accuracy
                given = np.where(
                    correct,
                    truth,
                    (truth + rng.integers(1, len(spec.labels), 20)) % len(spec.labels),
                )
                matrix[row] = given
                for item in range(20):
                    session.add(
                        CalibrationLabel(
                            session_id=calibration.id,
                            annotator_id=person.id,
                            item_id=f"cal-{spec.slug}-{round_index}-{item:02d}",
                            label=spec.labels[int(given[item])],
                        )
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
