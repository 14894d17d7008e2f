"""Reports on planted data whose truth is known: accuracy intervals, throughput and costs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from db.models import AnnotationEvent, Annotator, Project
from ops import rollups
from ops.errors import NotFound, PermissionDenied
from ops.permissions import SYSTEM, Principal
from ops.reports import annotator_report, spend_report
from tests.factories import make_annotator, make_pay_rate, make_project, make_team

SEED = 20261128
DAY = dt.datetime(2026, 2, 26, 8, 0, tzinfo=dt.UTC)
# True gold accuracy of each planted annotator, and how they are paid (minor units).
PLANTED = {
    "ana@planted.example": (0.55, "hourly", 3600),
    "ben@planted.example": (0.70, "hourly", 7200),
    "cy@planted.example": (0.82, "per_item", 25),
    "dee@planted.example": (0.90, "hourly", 3600),
    "eli@planted.example": (0.97, "hourly", 7200),
}
GOLD_PER_PERSON = 400
REVIEWER_RATE = 3600


@dataclass
class Planted:
    project: Project
    people: dict[str, Annotator]
    events: list[dict[str, Any]]


def plant(session: Session, *, slug: str = "planted", budget: str | None = "1000") -> Planted:
    """Gold answers at known accuracy over four days spanning two months, with known costs."""
    rng = np.random.default_rng(SEED)
    project = make_project(session, slug=slug, name="Planted", budget=budget)
    team = make_team(session)
    reviewer = make_annotator(session, email="rev@planted.example", display_name="Reviewer")
    make_pay_rate(
        session, reviewer, amount_minor=REVIEWER_RATE, effective_from=DAY - dt.timedelta(days=30)
    )
    people = {}
    events: list[dict[str, Any]] = []
    for position, (email, (accuracy, basis, amount)) in enumerate(PLANTED.items()):
        person = make_annotator(
            session,
            email=email,
            display_name=email.split("@")[0].title(),
            team_id=team.id if position < 2 else None,
        )
        make_pay_rate(
            session,
            person,
            basis=basis,
            amount_minor=amount,
            effective_from=DAY - dt.timedelta(days=30),
        )
        people[email] = person
        correct = rng.random(GOLD_PER_PERSON) < accuracy
        seconds = rng.integers(5, 60, GOLD_PER_PERSON + 20)
        for index in range(GOLD_PER_PERSON + 20):
            gold = index < GOLD_PER_PERSON
            skipped = not gold and index % 4 == 0
            label = None if skipped else ("cat" if not gold or correct[index] else "dog")
            reviewed = index % 10 == 0
            events.append(
                {
                    "project_id": project.id,
                    "item_id": f"item-{index}",
                    "annotator_id": person.id,
                    "label": label,
                    # Four days, the first three in February, the last in March.
                    "submitted_at": DAY + dt.timedelta(days=index % 4, minutes=index),
                    "active_seconds": float(seconds[index]),
                    "skipped": skipped,
                    "escalated": index % 25 == 0,
                    "external_id": f"{email}-{index}",
                    "is_gold": gold,
                    "gold_label": "cat" if gold else None,
                    "reviewer_id": reviewer.id if reviewed else None,
                    "review_outcome": ("accepted" if index % 20 == 0 else "rejected")
                    if reviewed
                    else None,
                    "review_seconds": 36.0 if reviewed else None,
                    "reviewed_at": DAY + dt.timedelta(days=index % 4, minutes=index + 5)
                    if reviewed
                    else None,
                }
            )
    session.execute(insert(AnnotationEvent), events)
    rollups.rebuild(session)
    return Planted(project=project, people=people, events=events)


def expected_cost(events: list[dict[str, Any]], email: str) -> int:
    """Minor units by hand: rates were chosen so every event costs a whole number."""
    _, basis, amount = PLANTED[email]
    if basis == "per_item":
        return sum(amount for event in events if not event["skipped"])
    return sum(int(event["active_seconds"]) * amount // 3600 for event in events)


def own(planted: Planted, email: str) -> list[dict[str, Any]]:
    return [e for e in planted.events if e["annotator_id"] == planted.people[email].id]


def test_wilson_intervals_contain_the_planted_accuracy(session: Session) -> None:
    planted = plant(session)
    rows = {row.annotator: row for row in annotator_report(session, SYSTEM, project_slug="planted")}
    assert list(rows) == sorted(PLANTED)
    for email, (accuracy, _, _) in PLANTED.items():
        row = rows[email]
        events = own(planted, email)
        gold = [e for e in events if e["is_gold"]]
        correct = sum(e["label"] == e["gold_label"] for e in gold)
        assert (row.gold_answered, row.gold_correct) == (GOLD_PER_PERSON, correct)
        assert row.gold_accuracy == pytest.approx(correct / GOLD_PER_PERSON)
        assert row.gold_ci_low is not None and row.gold_ci_high is not None
        assert row.gold_ci_low < accuracy < row.gold_ci_high, email
        # 400 answers: the interval is narrow enough to tell 0.55 from 0.70 from 0.82 ...
        assert row.gold_ci_high - row.gold_ci_low < 0.11
    ordered = [rows[email] for email in PLANTED]
    for lower, higher in zip(ordered, ordered[1:], strict=False):
        assert lower.gold_ci_high is not None and higher.gold_ci_low is not None
        assert lower.gold_ci_high < higher.gold_ci_low


def test_throughput_and_rates_match_the_planted_events(session: Session) -> None:
    planted = plant(session)
    rows = {row.annotator: row for row in annotator_report(session, SYSTEM, project_slug="planted")}
    for email in PLANTED:
        row, events = rows[email], own(planted, email)
        submitted = [e for e in events if not e["skipped"]]
        seconds = sum(e["active_seconds"] for e in events)
        assert row.annotations == len(submitted) == GOLD_PER_PERSON + 15
        assert row.skipped == 5
        assert row.active_hours == pytest.approx(seconds / 3600)
        assert row.annotations_per_hour == pytest.approx(len(submitted) / (seconds / 3600))
        assert row.median_seconds == float(np.median([e["active_seconds"] for e in submitted]))
        assert row.escalation_rate == pytest.approx(17 / 420)  # index % 25 == 0
        assert row.review_acceptance_rate == pytest.approx(21 / 42)  # every 20th of every 10th
        assert row.currency == "USD"


def test_costs_match_hand_computed_values(session: Session) -> None:
    planted = plant(session)
    rows = {row.annotator: row for row in annotator_report(session, SYSTEM, project_slug="planted")}
    for email in PLANTED:
        cost_minor = expected_cost(own(planted, email), email)
        assert rows[email].cost == cost_minor / 100
        assert rows[email].cost_per_annotation == round(cost_minor / 100 / 415, 4)
    # Per-item pay: 415 delivered items at 25 cents; skipped items are not paid.
    assert rows["cy@planted.example"].cost == 103.75


def test_since_keeps_only_later_days(session: Session) -> None:
    planted = plant(session)
    since = (DAY + dt.timedelta(days=3)).date()
    rows = {
        row.annotator: row
        for row in annotator_report(session, SYSTEM, project_slug="planted", since=since)
    }
    for email in PLANTED:
        late = [e for e in own(planted, email) if e["submitted_at"].date() >= since]
        assert rows[email].annotations == sum(not e["skipped"] for e in late) == 105
        assert rows[email].median_seconds == float(
            np.median([e["active_seconds"] for e in late if not e["skipped"]])
        )


def test_who_may_see_which_annotators(session: Session) -> None:
    planted = plant(session)
    team_id = planted.people["ana@planted.example"].team_id
    lead = Principal(username="lead", role="lead", team_id=team_id)
    rows = annotator_report(session, lead, project_slug="planted")
    # A lead sees their team by name: emails are contact details, which leads may not see.
    assert [row.annotator for row in rows] == ["Ana", "Ben"]
    # A lead sees no pay.
    assert {row.cost for row in rows} == {None} and {row.currency for row in rows} == {None}
    # A lead whose login is not linked to a team sees nobody.
    assert (
        annotator_report(session, Principal(username="l2", role="lead"), project_slug="planted")
        == []
    )
    with pytest.raises(PermissionDenied):
        annotator_report(session, Principal(username="a", role="annotator"), project_slug="planted")
    with pytest.raises(NotFound, match="No project 'nope'"):
        annotator_report(session, SYSTEM, project_slug="nope")


def test_spend_per_month_with_budget_used(session: Session) -> None:
    planted = plant(session)
    rows = spend_report(session, SYSTEM, project_slug="planted")
    assert [row.accepted > 0 for row in rows] == [True, False]
    assert [(row.month, row.currency) for row in rows] == [
        ("2026-02", "USD"),
        ("2026-03", "USD"),
    ]
    to_date = 0
    for row in rows:
        events = [e for e in planted.events if e["submitted_at"].strftime("%Y-%m") == row.month]
        work = sum(
            expected_cost(
                [e for e in events if e["annotator_id"] == planted.people[email].id], email
            )
            for email in PLANTED
        )
        review = sum(REVIEWER_RATE * 36 // 3600 for e in events if e["reviewer_id"] is not None)
        submitted = sum(not e["skipped"] for e in events)
        accepted = sum(e["review_outcome"] == "accepted" for e in events)
        to_date += work + review
        assert row.annotation_spend == work / 100
        assert row.review_spend == review / 100
        assert row.spend == (work + review) / 100
        assert (row.annotations, row.accepted, row.unpriced_annotations) == (
            submitted,
            accepted,
            0,
        )
        assert row.cost_per_annotation == round(work / 100 / submitted, 4)
        # Every accepted review is on a day-0 item, so March has none: no cost per accepted one.
        assert row.cost_per_accepted_annotation == (
            round((work + review) / 100 / accepted, 4) if accepted else None
        )
        assert row.spend_to_date == to_date / 100
        assert row.budget == 1000.0
        assert row.budget_used == pytest.approx(to_date / 100_000)
    with pytest.raises(PermissionDenied):
        spend_report(session, Principal(username="l", role="lead"))


def test_spend_without_a_budget_or_a_rate(session: Session) -> None:
    project = make_project(session, slug="unbudgeted", name="Unbudgeted")
    person = make_annotator(session)
    session.execute(
        insert(AnnotationEvent),
        [
            {
                "project_id": project.id,
                "item_id": "i",
                "annotator_id": person.id,
                "label": "x",
                "submitted_at": DAY,
                "active_seconds": 60.0,
                "external_id": "only",
            }
        ],
    )
    rollups.rebuild(session)
    [row] = spend_report(session, SYSTEM, project_slug="unbudgeted")
    assert (row.currency, row.spend, row.annotations, row.unpriced_annotations) == (
        "USD",
        0.0,
        1,
        1,
    )
    assert row.cost_per_annotation is None and row.budget is None
    assert row.budget_used is None
