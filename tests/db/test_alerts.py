"""Alerts from rollups: once per problem, linked under systematic issues, triaged with history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import (
    Alert,
    AlertAction,
    Annotator,
    Assignment,
    AuditEntry,
    FeedbackNote,
    Project,
    ReassignmentDecision,
    Team,
)
from ops import rollups
from ops.alerts import (
    AlertFilter,
    alert_metric_series,
    change_status,
    count_alerts,
    evaluate_alerts,
    get_alert,
    give_feedback_on_alert,
    list_alerts,
    propose_reassignment,
)
from ops.alerts.triage import list_alert_table
from ops.errors import NotFound, PermissionDenied, ValidationError
from ops.home import summarise_home
from ops.jobs import run_job
from ops.permissions import NO_TEAM, Principal
from ops.workforce.proposals import approve_proposal
from tests.factories import make_annotator, make_event, make_project, make_team

NOW = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
OPS = Principal(username="olga", role="ops")
FINANCE = Principal(username="fin", role="finance")
# The careless annotator's project, the careless one, a steady colleague, and their team.
Careless = tuple[Project, Annotator, Annotator, Team]


def plant_work(
    session: Session,
    project: Project,
    annotator: Annotator,
    *,
    days: int,
    gold_per_day: int,
    correct_share: float,
    seconds: float = 20.0,
) -> None:
    """Gold answers spread over the last ``days`` days before NOW."""
    for day in range(days):
        when = NOW - dt.timedelta(days=day + 1)
        correct = round(gold_per_day * correct_share)
        for index in range(gold_per_day):
            make_event(
                session,
                project,
                annotator,
                submitted_at=when + dt.timedelta(minutes=index),
                is_gold=True,
                gold_label="cat",
                label="cat" if index < correct else "dog",
                active_seconds=seconds,
            )


@pytest.fixture
def careless(session: Session) -> Careless:
    team = make_team(session)
    project = make_project(session, quality_target=0.9)
    person = make_annotator(session, team_id=team.id)
    steady = make_annotator(session, team_id=team.id)
    plant_work(session, project, person, days=10, gold_per_day=5, correct_share=0.6)
    plant_work(session, project, steady, days=10, gold_per_day=5, correct_share=1.0)
    rollups.rebuild(session)
    return project, person, steady, team


def test_evaluation_raises_once_and_is_idempotent(session: Session, careless: Careless) -> None:
    project, person, steady, _team = careless
    assert evaluate_alerts(session, now=NOW) == 1
    [alert] = session.scalars(select(Alert)).all()
    assert (alert.rule, alert.annotator_id, alert.project_id) == (
        "gold_below_target",
        person.id,
        project.id,
    )
    assert alert.evidence["gold_answered"] == 50 and alert.evidence["gold_correct"] == 30
    assert alert.evidence["ci_high"] < 0.9
    assert evaluate_alerts(session, now=NOW) == 0
    assert evaluate_alerts(session, now=NOW + dt.timedelta(days=1)) == 0
    assert len(session.scalars(select(Alert)).all()) == 1


def test_triage_lifecycle_is_recorded_and_audited(session: Session, careless: Careless) -> None:
    evaluate_alerts(session, now=NOW)
    alert = session.scalars(select(Alert)).one()
    change_status(session, OPS, alert.id, "acknowledged")
    assert alert.assignee == "olga"
    with pytest.raises(ValidationError, match="Say why"):
        change_status(session, OPS, alert.id, "resolved")
    change_status(session, OPS, alert.id, "resolved", note="Retrained on the edge cases.")
    with pytest.raises(ValidationError, match="cannot become acknowledged"):
        change_status(session, OPS, alert.id, "acknowledged")
    detail = get_alert(session, OPS, alert.id)
    assert [entry.action for entry in detail.history] == ["raised", "acknowledge", "resolve"]
    assert detail.history[-1].note == "Retrained on the edge cases."
    audits = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "alerts")
    ).all()
    assert audits == ["alert.acknowledge", "alert.resolve"]
    # Resolved, the same problem in the same window does not fire again.
    assert evaluate_alerts(session, now=NOW) == 0


def test_feedback_and_reassignment_carry_the_alert_as_evidence(
    session: Session, careless: Careless
) -> None:
    project, person, _steady, _team = careless
    session.add(
        Assignment(annotator_id=person.id, project_id=project.id, starts_on=dt.date(2026, 1, 1))
    )
    evaluate_alerts(session, now=NOW)
    alert = session.scalars(select(Alert).where(Alert.rule == "gold_below_target")).one()
    note = give_feedback_on_alert(
        session, OPS, alert.id, category="accuracy", text="Re-read section 3."
    )
    proposal = propose_reassignment(
        session, OPS, alert.id, to_project_slug=None, reason_category="quality"
    )
    # A proposal: nobody moves until ops approves it.
    assert proposal.status == "pending" and proposal.from_project_id == project.id
    assert session.scalars(select(ReassignmentDecision)).all() == []
    approve_proposal(session, OPS, proposal.id, now=NOW)
    decision = session.scalars(select(ReassignmentDecision)).one()
    assert note.annotator_id == person.id and note.evidence["alert_id"] == alert.id
    assert (
        decision.evidence["alert"]["gold_correct"] == 30 and decision.from_project_id == project.id
    )
    assert "overall" in decision.evidence  # the staffing service's own snapshot
    assert session.scalars(select(FeedbackNote)).one().alert_id == alert.id
    assert decision.alert_id == alert.id
    actions = session.scalars(
        select(AlertAction.action).where(AlertAction.alert_id == alert.id)
    ).all()
    assert actions == ["raised", "feedback", "proposal"]
    # The audit entries hold what was stored, the alert and its evidence included.
    for action, row in (("feedback.create", note), ("reassignment.create", decision)):
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).one()
        assert entry.after is not None
        assert entry.after["alert_id"] == alert.id
        assert entry.after["evidence"] == row.evidence
    assert note.evidence["gold_correct"] == 30


def test_roles_and_team_scope(session: Session, careless: Careless) -> None:
    _project, _person, _steady, team = careless
    evaluate_alerts(session, now=NOW)
    alert = session.scalars(select(Alert)).one()
    with pytest.raises(PermissionDenied):
        list_alerts(session, FINANCE)
    with pytest.raises(PermissionDenied):
        change_status(session, FINANCE, alert.id, "acknowledged")
    own_lead = Principal(username="lee", role="lead", team_id=team.id)
    other_lead = Principal(username="lou", role="lead", team_id=make_team(session).id)
    assert [row.id for row in list_alerts(session, own_lead)] == [alert.id]
    assert list_alerts(session, other_lead) == []
    # The page's list is the same rows, in the same scope.
    assert list(list_alert_table(session, own_lead)["id"]) == [alert.id]
    assert list_alert_table(session, other_lead).empty
    with pytest.raises(PermissionDenied):
        list_alert_table(session, FINANCE)
    with pytest.raises(NotFound):
        change_status(session, other_lead, alert.id, "acknowledged")
    with pytest.raises(NotFound):
        propose_reassignment(
            session, other_lead, alert.id, to_project_slug=None, reason_category="quality"
        )
    # A lead may propose for their own people; only ops and admin decide.
    with pytest.raises(ValidationError, match="Reason must be one of"):
        propose_reassignment(session, own_lead, alert.id, to_project_slug=None, reason_category="q")
    with pytest.raises(PermissionDenied):
        propose_reassignment(
            session, FINANCE, alert.id, to_project_slug=None, reason_category="quality"
        )


def plant_systematic(session: Session, team: Team | None = None) -> tuple[Project, list[Annotator]]:
    """Five people of a project, four of whom drop together; the first two in ``team``."""
    project = make_project(session, quality_target=0.8)
    people = [
        make_annotator(session, team_id=team.id if team is not None and index < 2 else None)
        for index in range(5)
    ]
    for index, person in enumerate(people):
        # A good baseline six weeks back, then four of five drop in the last ten days.
        for day in range(15, 50):
            when = NOW - dt.timedelta(days=day)
            for minute in range(2):
                make_event(
                    session,
                    project,
                    person,
                    submitted_at=when + dt.timedelta(minutes=minute),
                    is_gold=True,
                    gold_label="cat",
                    label="cat" if (day + minute) % 20 else "dog",
                )
        plant_work(
            session,
            project,
            person,
            days=10,
            gold_per_day=4,
            correct_share=0.5 if index < 4 else 1.0,
        )
    rollups.rebuild(session)
    evaluate_alerts(session, now=NOW)
    return project, people


def test_systematic_issue_links_the_individual_alerts(session: Session) -> None:
    project, people = plant_systematic(session)
    top = list_alerts(session, OPS, AlertFilter(project_slug=project.slug))
    assert [row.rule for row in top] == ["systematic_issue"]
    detail = get_alert(session, OPS, top[0].id)
    assert len(detail.linked) == 4
    assert {row.annotator_id for row in detail.linked} == {p.id for p in people[:4]}
    everything = list_alerts(session, OPS, AlertFilter(include_children=True))
    assert len(everything) == 5


def test_a_lead_sees_their_peoples_alerts_linked_under_a_project_alert(session: Session) -> None:
    team = make_team(session)
    project, people = plant_systematic(session, team)
    lead = Principal(username="lee", role="lead", team_id=team.id)
    rows = list_alerts(session, lead)
    assert {row.annotator_id for row in rows} == {people[0].id, people[1].id}
    assert all(row.parent_alert_id is not None for row in rows)
    # The project alert itself is not theirs to see, nor are its other children.
    parent = rows[0].parent_alert_id
    assert parent is not None
    with pytest.raises(NotFound):
        get_alert(session, lead, parent)
    # Home's figure is the number the Alerts page lists with its default filter.
    for principal, expected in ((OPS, 1), (lead, 2)):
        listed = list_alerts(session, principal, AlertFilter(status="open"))
        figures = {f.label: f.value for f in summarise_home(session, principal, now=NOW).figures}
        assert len(listed) == expected
        assert figures["Open alerts"] == str(expected), principal.role
        assert count_alerts(session, principal, AlertFilter(status="open")) == expected
    # A lead without a team sees no alert at all, and Home says why.
    no_team = Principal(username="l2", role="lead")
    assert list_alerts(session, no_team) == []
    assert summarise_home(session, no_team, now=NOW).intro == NO_TEAM


def test_nobody_without_alert_rights_reads_an_alerts_metric_series(
    session: Session, careless: Careless
) -> None:
    evaluate_alerts(session, now=NOW)
    alert = session.scalars(select(Alert)).one()
    assert alert_metric_series(session, OPS, alert.id).kind == "accuracy"
    for role in ("finance", "annotator"):
        with pytest.raises(PermissionDenied):
            alert_metric_series(session, Principal(username=role, role=role), alert.id)
    with pytest.raises(NotFound):
        alert_metric_series(
            session, Principal(username="lou", role="lead", team_id=make_team(session).id), alert.id
        )


def test_a_young_project_dropping_together_gets_one_systematic_alert(
    fresh_factory: sessionmaker[Session],
) -> None:
    """Twelve days old, so no baseline: six people go from 90% to 60% on the same day."""
    change = NOW - dt.timedelta(days=4)
    with fresh_factory() as session, session.begin():
        project = make_project(session, slug="young", quality_target=0.9)
        people = [make_annotator(session) for _ in range(6)]
        for person in people:
            for days_back in range(1, 13):
                when = NOW - dt.timedelta(days=days_back)
                wrong = 4 if when >= change else 1
                for index in range(10):
                    make_event(
                        session,
                        project,
                        person,
                        submitted_at=when + dt.timedelta(minutes=index),
                        is_gold=True,
                        gold_label="cat",
                        label="dog" if index < wrong else "cat",
                    )
        ids = {person.id for person in people}
    assert run_job("rollup", factory=fresh_factory, now=NOW).status == "succeeded"
    assert run_job("alerts", factory=fresh_factory, now=NOW).rows == 7
    with fresh_factory() as session:
        [top] = list_alerts(session, OPS, AlertFilter(project_slug="young"))
        assert top.rule == "systematic_issue"
        detail = get_alert(session, OPS, top.id)
    evidence = detail.alert.evidence
    assert evidence["method"] == "change day within the window"
    assert evidence["change_day"] == change.date().isoformat()
    assert (evidence["accuracy_before"], evidence["accuracy_after"]) == (0.9, 0.6)
    assert (evidence["annotators_dropped"], evidence["annotators_measured"]) == (6, 6)
    assert evidence["p_value"] < 0.001 and "Bonferroni" in evidence["test"]
    # Each person is also under the target over the window; they hang under the one alert.
    assert {(row.rule, row.annotator_id) for row in detail.linked} == {
        ("gold_below_target", person) for person in ids
    }
    # The next day's run takes the newest numbers into the same alerts.
    tomorrow = NOW + dt.timedelta(days=1)
    assert run_job("alerts", factory=fresh_factory, now=tomorrow).rows == 0
    with fresh_factory() as session:
        assert len(list_alerts(session, OPS, AlertFilter(include_children=True))) == 7


def test_project_thresholds_are_validated_audited_and_used(
    session: Session, careless: Careless
) -> None:
    from ops.projects import alert_settings_for, set_alert_settings

    project, _person, _steady, _team = careless
    set_alert_settings(
        session, OPS, slug=project.slug, overrides={"min_gold": 60, "window_days": 14}
    )
    assert project.alert_settings == {"min_gold": 60}
    assert alert_settings_for(session, OPS, slug=project.slug)["min_gold"] == 60
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "project.alert_settings")
    ).one()
    assert entry.before == {"alert_settings": {}} and entry.after == {
        "alert_settings": {"min_gold": 60}
    }
    # 50 gold answers are now too few to judge anyone.
    assert evaluate_alerts(session, now=NOW) == 0
    with pytest.raises(ValidationError, match="Unknown alert setting"):
        set_alert_settings(session, OPS, slug=project.slug, overrides={"min_golds": 1})
    with pytest.raises(PermissionDenied):
        set_alert_settings(session, FINANCE, slug=project.slug, overrides={"min_gold": 1})
