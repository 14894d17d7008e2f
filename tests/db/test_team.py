"""Team scorecards and drill-downs: a lead sees their team only, numbers come from the
rollups, and feedback from the composer carries each wrong golden item once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Annotator, AuditEntry, Project
from ops import rollups
from ops.errors import NotFound, PermissionDenied
from ops.permissions import Principal
from ops.quality import compute_project_agreements
from ops.team import person_drilldown, team_choices, team_project_slugs, team_scorecard
from ops.workforce.feedback import give_feedback
from tests.factories import make_annotator, make_event, make_project, make_team

NOW = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)


@dataclass
class World:
    ours: Project
    theirs: Project
    mixer: Annotator
    steady: Annotator
    outsider: Annotator
    lead: Principal
    ops: Principal


@pytest.fixture
def world(session: Session) -> World:
    text, vision = make_team(session, name="Text"), make_team(session, name="Vision")
    ours, theirs = make_project(session, slug="text-intent"), make_project(session, slug="vision")
    mixer = make_annotator(session, display_name="Mia Mixer", team_id=text.id)
    steady = make_annotator(session, display_name="Sam Steady", team_id=text.id)
    outsider = make_annotator(session, display_name="Otto Outside", team_id=vision.id)
    day = NOW - dt.timedelta(days=3)
    # Mia answers "dog" items as "cat" 6 times out of 10; one item twice.
    for index in range(10):
        make_event(
            session,
            ours,
            mixer,
            item_id="g-repeat" if index < 2 else f"g-{index}",
            is_gold=True,
            gold_label="dog",
            label="cat" if index < 6 else "dog",
            submitted_at=day + dt.timedelta(minutes=index),
        )
    for index in range(10):
        make_event(
            session,
            ours,
            steady,
            is_gold=True,
            gold_label="cat",
            label="cat",
            submitted_at=day + dt.timedelta(minutes=index),
            escalated=index == 0,
        )
    for _ in range(5):
        make_event(session, theirs, outsider, is_gold=True, gold_label="bird", label="bird")
    rollups.rebuild(session)
    compute_project_agreements(session, now=NOW, window_days=28)
    return World(
        ours,
        theirs,
        mixer,
        steady,
        outsider,
        Principal(username="lead", role="lead", team_id=text.id),
        Principal(username="ops", role="ops"),
    )


def test_a_lead_sees_a_row_per_person_of_their_team(session: Session, world: World) -> None:
    card = team_scorecard(session, world.lead, now=NOW)
    by_name = {member.name: member for member in card.members}
    assert set(by_name) == {"Mia Mixer", "Sam Steady"}
    mia, sam = by_name["Mia Mixer"], by_name["Sam Steady"]
    assert (mia.gold_answered, mia.accuracy) == (10, 0.4)
    assert mia.accuracy_low is not None and mia.accuracy_low < 0.4 < (mia.accuracy_high or 0)
    assert sam.escalation_rate == 0.1 and sam.per_active_hour == pytest.approx(120.0)
    assert len(mia.weekly_accuracy) == 8 and mia.weekly_accuracy[-1] == 0.4
    # From the nightly figures: Mia labeled one item twice, the same way; Sam repeated none.
    assert (mia.consistency, sam.consistency) == (1.0, None)
    assert card.agreement_as_of == NOW.date() - dt.timedelta(days=1)
    assert list(card.frame["name"]) == ["Mia Mixer", "Sam Steady"]
    ops_names = {member.name for member in team_scorecard(session, world.ops, now=NOW).members}
    assert "Otto Outside" in ops_names
    vision = world.outsider.team_id
    narrowed = team_scorecard(session, world.ops, team_id=vision, now=NOW)
    assert [member.name for member in narrowed.members] == ["Otto Outside"]
    # A lead asking for another team still gets their own.
    asked = team_scorecard(session, world.lead, team_id=vision, now=NOW)
    assert {member.name for member in asked.members} == {"Mia Mixer", "Sam Steady"}
    assert [name for _id, name in team_choices(session, world.lead)] == ["Text"]


def test_the_drilldown_finds_the_label_a_person_confuses(session: Session, world: World) -> None:
    detail = person_drilldown(session, world.lead, world.mixer.id, now=NOW)
    assert detail.project_slug == "text-intent"
    # The project's label set: Sam's "cat" items make cat a row even without Mia's.
    assert list(detail.counts.index) == ["cat", "dog"]
    assert detail.counts.loc["dog", "cat"] == 6 and detail.rates.loc["dog", "cat"] == 0.6
    assert detail.confused[0].expected == "dog" and detail.confused[0].given == "cat"
    # The twice-answered golden item is offered once.
    assert sorted(detail.wrong_gold["item_id"]) == ["g-2", "g-3", "g-4", "g-5", "g-repeat"]


def test_a_lead_cannot_open_someone_outside_their_team(session: Session, world: World) -> None:
    with pytest.raises(NotFound):
        person_drilldown(session, world.lead, world.outsider.id, now=NOW)
    with pytest.raises(PermissionDenied):
        team_scorecard(session, Principal(username="fin", role="finance"), now=NOW)


def test_feedback_attaches_each_golden_item_once_and_is_audited(
    session: Session, world: World
) -> None:
    detail = person_drilldown(session, world.lead, world.mixer.id, now=NOW)
    chosen = [int(event_id) for event_id in detail.wrong_gold["event_id"]]
    note = give_feedback(
        session,
        world.lead,
        world.mixer.id,
        category="accuracy",
        text="Dogs with pointed ears are still dogs: check the ears guide.",
        evidence_event_ids=[*chosen, chosen[0]],
        today=NOW.date(),
    )
    items = [item["item_id"] for item in note.evidence["golden_items"]]
    assert sorted(items) == sorted(set(items)) and len(items) == 5
    audited = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "feedback.create")
    ).all()
    assert [entry.actor for entry in audited] == ["lead"]


def test_quality_opens_on_a_project_of_the_leads_team(session: Session, world: World) -> None:
    assert team_project_slugs(session, world.lead, now=NOW)[0] == "text-intent"
    vision_lead = Principal(username="vl", role="lead", team_id=world.outsider.team_id)
    assert team_project_slugs(session, vision_lead, now=NOW)[0] == "vision"
    assert set(team_project_slugs(session, world.ops, now=NOW)) >= {"text-intent", "vision"}
