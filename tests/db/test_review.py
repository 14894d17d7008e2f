"""Review sampling and retroactive correction on a real database."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    AnnotationEvent,
    Annotator,
    Assignment,
    AuditEntry,
    DailyRollup,
    GuidelineVersion,
    Project,
)
from ops import rollups
from ops.errors import NotFound, PermissionDenied, ValidationError
from ops.metrics.sampling import compute_review_sample_size
from ops.permissions import Principal
from ops.review import (
    Criteria,
    find_affected_work,
    plan_review_sample,
    request_rereview,
    rereview_progress,
)
from tests.factories import make_annotator, make_event, make_pay_rate, make_project, make_team

OPS = Principal(username="olga", role="ops")
DAY = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
# The project, a strong and a weak annotator on it.
Work = tuple[Project, Annotator, Annotator]


class Narrowing(TypedDict, total=False):
    """Criteria fields besides the project."""

    annotator_emails: tuple[str, ...]
    since: dt.date
    until: dt.date
    guideline_version: str


@pytest.fixture
def work(session: Session) -> Work:
    project = make_project(session)
    strong, weak = make_annotator(session), make_annotator(session)
    make_pay_rate(session, strong, amount_minor=3600)
    make_pay_rate(session, weak, basis="per_item", amount_minor=7)
    version = GuidelineVersion(
        project_id=project.id, version="v1", effective_from=DAY - dt.timedelta(days=30)
    )
    session.add(version)
    session.flush()
    for index in range(300):
        person = strong if index % 2 else weak
        make_event(
            session,
            project,
            person,
            submitted_at=DAY + dt.timedelta(minutes=index),
            item_id=f"item-{index}",
            label="cat",
            guideline_version_id=version.id if index < 100 else None,
            active_seconds=10,
        )
    for index in range(40):
        for person, correct in ((strong, index < 39), (weak, index < 24)):
            make_event(
                session,
                project,
                person,
                submitted_at=DAY,
                is_gold=True,
                gold_label="cat",
                label="cat" if correct else "dog",
            )
    make_event(
        session, project, strong, submitted_at=DAY, review_outcome="accepted", reviewer_id=weak.id
    )
    make_event(session, project, strong, submitted_at=DAY, skipped=True, label=None)
    rollups.rebuild(session)
    return project, strong, weak


def test_sample_is_cochran_sized_and_leans_on_the_weak(session: Session, work: Work) -> None:
    project, strong, weak = work
    plan = plan_review_sample(
        session, OPS, project_slug=project.slug, since=DAY.date(), until=DAY.date()
    )
    assert plan.population == 300  # gold, reviewed and skipped work is not sampled
    assert plan.sample_size == compute_review_sample_size(300) == 169
    by_person = dict(zip(plan.allocation["annotator"], plan.allocation["sample"], strict=True))
    assert by_person[weak.email] > by_person[strong.email] > 0
    assert len(plan.items) == 169 and plan.items["external_id"].is_unique
    again = plan_review_sample(
        session, OPS, project_slug=project.slug, since=DAY.date(), until=DAY.date()
    )
    assert list(again.items["external_id"]) == list(plan.items["external_id"])


def test_affected_work_costs_and_rereview_tracking(session: Session, work: Work) -> None:
    project, strong, weak = work
    criteria = Criteria(project_slug=project.slug, guideline_version="v1")
    affected = find_affected_work(session, OPS, criteria)
    assert affected.n_events == 100
    # 50 hourly events of 10 s at 36.00/h = 10 cents each; 50 per-item events at 7 cents.
    assert affected.costs == {"USD": 50 * 10 + 50 * 7}
    request = request_rereview(session, OPS, criteria, reason="v1 rule 4 was wrong")
    marked = session.scalar(
        select(func.count()).where(AnnotationEvent.rereview_request_id == request.id)
    )
    assert marked == 100
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "rereview.create")).one()
    # Two items come back re-labeled, one of them with a different label.
    later = request.created_at + dt.timedelta(hours=1)
    make_event(session, project, strong, item_id="item-0", label="dog", submitted_at=later)
    make_event(session, project, strong, item_id="item-1", label="cat", submitted_at=later)
    [row] = rereview_progress(session, OPS, project_slug=project.slug).to_dict("records")
    assert (row["annotations"], row["came back"], row["corrected"], row["pending"]) == (
        100,
        2,
        1,
        98,
    )


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({}, "Narrow the selection"),
        ({"annotator_emails": ("ghost@example.org",)}, "may see has the email ghost@example.org"),
        ({"guideline_version": "v9"}, "no guideline version 'v9'"),
        ({"since": dt.date(2026, 3, 5), "until": dt.date(2026, 3, 1)}, "ends before it starts"),
    ],
)
def test_bad_criteria_are_explained(
    session: Session, work: Work, criteria: Narrowing, message: str
) -> None:
    project, _strong, _weak = work
    with pytest.raises(ValidationError, match=message):
        find_affected_work(session, OPS, Criteria(project_slug=project.slug, **criteria))


def test_roles(session: Session, work: Work) -> None:
    project, _strong, _weak = work
    criteria = Criteria(project_slug=project.slug, guideline_version="v1")
    with pytest.raises(PermissionDenied):
        find_affected_work(session, Principal(username="f", role="finance"), criteria)
    with pytest.raises(PermissionDenied):
        request_rereview(session, Principal(username="l", role="lead"), criteria, reason="x")
    with pytest.raises(ValidationError, match="Say what went wrong"):
        request_rereview(session, OPS, criteria, reason=" ")


def test_work_without_pay_rates_costs_nothing_and_can_be_sent_back(session: Session) -> None:
    project = make_project(session)
    person = make_annotator(session)
    for index in range(3):
        make_event(session, project, person, submitted_at=DAY + dt.timedelta(minutes=index))
    criteria = Criteria(project_slug=project.slug, annotator_emails=(person.email or "",))
    affected = find_affected_work(session, OPS, criteria)
    assert (affected.n_events, affected.costs, affected.n_unpriced) == (3, {}, 3)
    assert request_rereview(session, OPS, criteria, reason="wrong tool config").n_events == 3


def test_a_lead_finds_only_their_teams_work_and_no_cost(session: Session, work: Work) -> None:
    project, strong, weak = work
    team, other = make_team(session), make_team(session)
    strong.team_id, weak.team_id = team.id, other.id
    # The team works on the project, so it is one of its lead's projects.
    session.add(Assignment(annotator_id=strong.id, project_id=project.id, starts_on=DAY.date()))
    session.flush()
    lead = Principal(username="lee", role="lead", team_id=team.id)
    criteria = Criteria(project_slug=project.slug, guideline_version="v1")
    # Another team's lead finds no such project.
    stranger = Principal(username="sam", role="lead", team_id=make_team(session).id)
    with pytest.raises(NotFound, match=project.slug):
        find_affected_work(session, stranger, criteria)
    with pytest.raises(NotFound, match=project.slug):
        rereview_progress(session, stranger, project_slug=project.slug)
    affected = find_affected_work(session, lead, criteria)
    assert affected.n_events == 50  # only the strong annotator's half
    assert affected.costs is None
    # Names, not emails: a lead may not see contact details.
    assert list(affected.by_annotator["annotator"]) == [strong.display_name]
    assert set(affected.items["annotator"]) == {strong.display_name}
    # Someone of another team reads exactly like an email nobody has.
    messages = []
    for email in (weak.email or "", "ghost@example.org"):
        with pytest.raises(ValidationError) as refused:
            find_affected_work(
                session, lead, Criteria(project_slug=project.slug, annotator_emails=(email,))
            )
        messages.append(str(refused.value).replace(email, "EMAIL"))
    assert messages[0] == messages[1]
    plan = plan_review_sample(
        session, lead, project_slug=project.slug, since=DAY.date(), until=DAY.date()
    )
    assert set(plan.allocation["annotator"]) == {strong.display_name}
    # A lead without a team finds nothing at all.
    nobody = Principal(username="l2", role="lead")
    assert find_affected_work(session, nobody, criteria).n_events == 0
    request_rereview(session, OPS, criteria, reason="v1 rule 4 was wrong")
    assert "cost" in rereview_progress(session, OPS, project_slug=project.slug).columns
    assert "cost" not in rereview_progress(session, lead, project_slug=project.slug).columns
    with pytest.raises(PermissionDenied):
        find_affected_work(session, Principal(username="f", role="finance"), criteria)


def test_affected_work_prices_reviews_at_the_reviewers_rate_per_currency(
    session: Session,
) -> None:
    project = make_project(session)
    paid_in_euro, paid_in_dollars, reviewer = (make_annotator(session) for _ in range(3))
    make_pay_rate(session, paid_in_euro, basis="per_item", amount_minor=30, currency="EUR")
    make_pay_rate(session, paid_in_dollars, amount_minor=3600, currency="USD")
    # The reviewer is paid per review, in dollars: only dollar work's reviews are priced.
    make_pay_rate(session, reviewer, basis="per_item", amount_minor=5, currency="USD")
    for index, person in enumerate([paid_in_euro, paid_in_dollars] * 3):
        make_event(
            session,
            project,
            person,
            submitted_at=DAY + dt.timedelta(minutes=index),
            active_seconds=10,
            reviewer_id=reviewer.id,
            review_outcome="accepted",
            reviewed_at=DAY + dt.timedelta(hours=1),
        )
    rollups.rebuild(session)
    emails = (paid_in_euro.email or "", paid_in_dollars.email or "")
    affected = find_affected_work(
        session, OPS, Criteria(project_slug=project.slug, annotator_emails=emails)
    )
    # 3 x 0.30 EUR of work; 3 x 0.10 USD of work and 3 x 0.05 USD of review.
    assert affected.costs == {"EUR": 90, "USD": 30 + 15}
    # The euro work's reviews have no rate in euros.
    assert affected.n_unpriced == 3
    spend = {
        row.currency: row.cost_minor + row.review_cost_minor
        for row in session.scalars(select(DailyRollup).where(DailyRollup.project_id == project.id))
    }
    assert spend == affected.costs
