"""Daily digests per role, built as the recipient: each role reads what it may and no more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from db.models import Alert, TrainingRecord
from ops import rollups
from ops.alerts import evaluate_alerts
from ops.auth import principal_for
from ops.notify.digests import ROLE_DIGESTS, DigestPeriod, build_digest, section_titles
from ops.notify.messages import Message
from ops.workforce.feedback import give_feedback
from tests.db.notify_helpers import World, build_world
from tests.factories import make_pay_rate

NOW = dt.datetime(2026, 3, 27, 8, 0, tzinfo=dt.UTC)
PERIOD = DigestPeriod(since=NOW - dt.timedelta(days=1), now=NOW)
REX_FEEDBACK = "Slow down on the weld seams and check each edge case before submitting."
ADA_FEEDBACK = "Great consistency this week on the tricky porosity items, keep it up."


@dataclass
class Scene:
    world: World
    alert: Alert


@pytest.fixture
def scene(session: Session) -> Scene:
    world = build_world(session, now=NOW)
    world.project.budget_minor = 2_000_00
    world.project.currency = "USD"
    for person in (world.careless, world.steady, world.other):
        make_pay_rate(session, person, amount_minor=90_00)
    rollups.rebuild(session)
    evaluate_alerts(session, now=NOW)
    [alert] = session.query(Alert).all()
    session.add_all(
        [
            Alert(
                rule="budget_burn",
                subject_key=f"project:{world.project.id}",
                project_id=world.project.id,
                window_start=NOW.date(),
                window_end=NOW.date(),
                severity="warning",
                title="Budget burning ahead of progress",
                evidence={
                    "spent_minor": 1_500_00,
                    "budget_minor": 2_000_00,
                    "currency": "USD",
                    "spent_share": 0.75,
                    "done_share": 0.4,
                    "forecast_at_completion_minor": 3_750_00,
                },
            ),
            TrainingRecord(
                annotator_id=world.careless.id,
                kind="refresher",
                topic="Weld seam refresher",
                completed_at=NOW - dt.timedelta(days=355),
                expires_at=NOW + dt.timedelta(days=10),
            ),
        ]
    )
    lead = principal_for(world.users["lead_a"])
    give_feedback(
        session, lead, world.careless.id, category="accuracy", text=REX_FEEDBACK, today=NOW.date()
    )
    give_feedback(
        session, lead, world.steady.id, category="praise", text=ADA_FEEDBACK, today=NOW.date()
    )
    session.flush()
    return Scene(world, alert)


def digest_of(session: Session, scene: Scene, who: str) -> Message | None:
    return build_digest(session, principal_for(scene.world.users[who]), PERIOD)


def sections(message: Message) -> list[str]:
    return message.details["digest"]["sections"]  # type: ignore[no-any-return]


def test_ops_hear_of_new_critical_alerts_and_project_risks(session: Session, scene: Scene) -> None:
    message = digest_of(session, scene, "ops")
    assert message is not None
    assert sections(message) == ["New critical alerts", "Deadline and budget risks"]
    assert (
        f"#{scene.alert.id} [critical] Fast but inaccurate: Rex Turner in weld-qa (open) "
        f"http://localhost:8501/alerts?alert={scene.alert.id}" in message.body
    )
    assert (
        "Budget burning ahead of progress: weld-qa has spent USD 1,500.00 of its USD 2,000.00 "
        "budget (75.0%) for 40.0% of the work. At the cost so far, finishing costs "
        "USD 3,750.00." in message.body
    )
    assert message.subject == (
        "annops digest 2026-03-27: new critical alerts, deadline and budget risks"
    )
    assert REX_FEEDBACK not in message.body
    assert message.body.rstrip().endswith("http://localhost:8501/notification_settings")


def test_a_lead_hears_only_of_their_own_team(session: Session, scene: Scene) -> None:
    message = digest_of(session, scene, "lead_a")
    assert message is not None
    assert sections(message) == ["Your team's alerts", "Feedback not acknowledged"]
    assert f"#{scene.alert.id} [critical] Fast but inaccurate: Rex Turner" in message.body
    assert "1 alert about your team open or acknowledged in all." in message.body
    assert "Rex Turner: accuracy feedback of" in message.body
    assert "Ada Steady: praise feedback of" in message.body
    assert f"/annotator?annotator={scene.world.careless.id}" in message.body
    # Project-level alerts are not about the lead's people.
    assert "Budget burning" not in message.body
    # The other team's lead: nothing about Rex, nothing to tell at all.
    assert digest_of(session, scene, "lead_b") is None


def test_finance_gets_money_and_never_coaching(session: Session, scene: Scene) -> None:
    message = digest_of(session, scene, "finance")
    assert message is not None
    assert sections(message) == ["Budget burn", "Month-to-date spend against budget"]
    assert "weld-qa: USD " in message.body and "of USD 2,000.00 spent" in message.body
    assert "in 2026-03 for 150 annotations" in message.body
    for coaching in (REX_FEEDBACK, ADA_FEEDBACK, "Fast but inaccurate", "Rex", "feedback"):
        assert coaching not in message.body


def test_an_annotator_hears_of_their_own_feedback_and_training(
    session: Session, scene: Scene
) -> None:
    message = digest_of(session, scene, "annotator")
    assert message is not None
    assert sections(message) == ["Feedback for you", "Training coming due"]
    assert f"accuracy from lee: {REX_FEEDBACK}" in message.body
    assert "1 feedback note waiting for you to acknowledge." in message.body
    assert "due: refresher Weld seam refresher, expires 2026-04-06" in message.body
    assert ADA_FEEDBACK not in message.body
    assert "Fast but inaccurate" not in message.body


def test_every_role_has_a_digest_and_says_what_it_holds(session: Session, scene: Scene) -> None:
    assert set(ROLE_DIGESTS) == {"admin", "ops", "lead", "finance", "annotator"}
    assert section_titles(principal_for(scene.world.users["finance"])) == (
        "Budget burn",
        "Month-to-date spend against budget",
    )
    admin = digest_of(session, scene, "admin")
    assert admin is not None and sections(admin)[:2] == [
        "New critical alerts",
        "Deadline and budget risks",
    ]
