"""Qualifications, training, pay, feedback and staffing records on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial
from typing import TypedDict

import pytest
from sqlalchemy.orm import Session

from db.models import (
    Annotator,
    Assignment,
    GuidelineVersion,
    PayRate,
    PayRateCorrection,
    Project,
    QualificationResult,
    TrainingRecord,
)
from ops.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from ops.workforce import feedback, pay, qualifications, staffing, training
from ops.workforce.roster import list_training_due
from tests.db.workforce_helpers import (
    FINANCE,
    NOW,
    OPS,
    TODAY,
    annotator_principal,
    audit_entries,
    lead_of,
)
from tests.factories import (
    make_annotator,
    make_event,
    make_pay_rate,
    make_project,
    make_rollup,
    make_team,
)


# Keyword arguments of the record functions, for tables of bad input.
class QualificationInput(TypedDict, total=False):
    task_type: str
    n_items: int
    n_correct: int
    pass_mark: float
    taken_on: dt.date


class TrainingInput(TypedDict, total=False):
    kind: str
    topic: str
    completed_on: dt.date
    expires_on: dt.date
    today: dt.date


class PayRateInput(TypedDict, total=False):
    basis: str
    amount: str
    currency: str
    effective_on: dt.date
    reason: str


class FeedbackInput(TypedDict, total=False):
    category: str
    text: str
    follow_up_on: dt.date
    evidence_event_ids: Sequence[int]
    today: dt.date


class ReassignmentInput(TypedDict, total=False):
    from_project_id: int | None
    to_project_id: int | None
    reason_category: str
    notes: str
    role: str
    now: dt.datetime


# Stand-ins in the reassignment table for projects the test creates.
SOURCE_PROJECT, UNASSIGNED_PROJECT = -1, -2

# --- qualifications ---------------------------------------------------------------------


def test_a_qualification_result_is_scored_from_items_and_audited(session: Session) -> None:
    person = make_annotator(session)
    result = qualifications.record_qualification(
        session, OPS, person.id, task_type="Text_Classification", n_items=40, n_correct=33
    )
    assert result.task_type == "text_classification"
    assert result.score == pytest.approx(33 / 40)
    assert not result.passed
    qualifications.record_qualification(
        session, OPS, person.id, task_type="text_classification", n_items=40, n_correct=34
    )
    table = qualifications.list_qualifications(session, OPS, person.id)
    assert sorted(table["result"]) == ["fail", "pass"]
    assert (table["lower bound"] < table["score"]).all()
    assert len(audit_entries(session, "qualification.record")) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"task_type": " "}, "task_type"),
        ({"task_type": "Bad/Type"}, "task_type"),
        ({"n_items": 0, "n_correct": 0}, "n_items"),
        ({"n_correct": 41}, "n_correct"),
        ({"pass_mark": 1.5}, "pass_mark"),
        ({"pass_mark": 0}, "pass_mark"),
        ({"taken_on": TODAY + dt.timedelta(days=400)}, "taken_on"),
    ],
)
def test_qualification_input_is_checked(
    session: Session, overrides: QualificationInput, field: str
) -> None:
    person = make_annotator(session)
    values: QualificationInput = {"task_type": "ner", "n_items": 40, "n_correct": 30}
    values.update(overrides)
    with pytest.raises(ValidationError) as caught:
        qualifications.record_qualification(session, OPS, person.id, **values)
    assert caught.value.field == field


def test_finance_and_other_teams_leads_do_not_record_qualifications(session: Session) -> None:
    team, other = make_team(session), make_team(session)
    person = make_annotator(session, team_id=team.id)
    with pytest.raises(PermissionDenied):
        qualifications.record_qualification(
            session, FINANCE, person.id, task_type="ner", n_items=10, n_correct=9
        )
    with pytest.raises(NotFound):
        qualifications.record_qualification(
            session, lead_of(other.id), person.id, task_type="ner", n_items=10, n_correct=9
        )
    qualifications.record_qualification(
        session, lead_of(team.id), person.id, task_type="ner", n_items=10, n_correct=9
    )


# --- training -----------------------------------------------------------------------------


def test_training_is_recorded_with_its_guideline_version(session: Session) -> None:
    person = make_annotator(session)
    project = make_project(session)
    version = GuidelineVersion(
        project_id=project.id, version="v2", effective_from=NOW - dt.timedelta(days=5)
    )
    session.add(version)
    session.flush()
    record = training.record_training(
        session,
        OPS,
        person.id,
        kind="guideline_change",
        topic="v2 changes",
        project_id=project.id,
        guideline_version_id=version.id,
        completed_on=TODAY - dt.timedelta(days=1),
        expires_on=TODAY + dt.timedelta(days=365),
        today=TODAY,
    )
    assert record.expires_at == dt.datetime.combine(
        TODAY + dt.timedelta(days=365), dt.time(), tzinfo=dt.UTC
    )
    entry = audit_entries(session, "training.record")[-1]
    assert entry.after is not None and entry.after["guideline_version_id"] == version.id


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "seminar"}, "kind"),
        ({"topic": ""}, "topic"),
        ({"completed_on": TODAY + dt.timedelta(days=1)}, "completed_on"),
        ({"expires_on": TODAY - dt.timedelta(days=10)}, "expires_on"),
        ({"expires_on": TODAY - dt.timedelta(days=3)}, "expires_on"),
        ({"kind": "guideline_change"}, "project_id"),
    ],
)
def test_training_input_is_checked(session: Session, overrides: TrainingInput, field: str) -> None:
    person = make_annotator(session)
    values: TrainingInput = {
        "kind": "initial",
        "topic": "Fundamentals",
        "completed_on": TODAY - dt.timedelta(days=3),
        "today": TODAY,
    }
    values.update(overrides)
    with pytest.raises(ValidationError) as caught:
        training.record_training(session, OPS, person.id, **values)
    assert caught.value.field == field


def test_a_guideline_version_must_belong_to_the_project(session: Session) -> None:
    person = make_annotator(session)
    project, other = make_project(session), make_project(session)
    version = GuidelineVersion(project_id=other.id, version="v1", effective_from=NOW)
    session.add(version)
    session.flush()
    with pytest.raises(ValidationError) as caught:
        training.record_training(
            session,
            OPS,
            person.id,
            kind="guideline_change",
            topic="x",
            project_id=project.id,
            guideline_version_id=version.id,
            completed_on=TODAY,
            today=TODAY,
        )
    assert caught.value.field == "guideline_version_id"


def _train(
    session: Session, person_id: int, kind: str, expires: dt.datetime | None, **kw: object
) -> None:
    session.add(
        TrainingRecord(
            annotator_id=person_id,
            kind=kind,
            topic=f"{kind} topic",
            completed_at=NOW - dt.timedelta(days=400),
            expires_at=expires,
            **kw,
        )
    )
    session.flush()


def test_due_list_shows_expired_due_and_missing_training_in_scope(session: Session) -> None:
    team, other = make_team(session), make_team(session)
    expired = make_annotator(session, display_name="Expired Ed", team_id=team.id)
    due = make_annotator(session, display_name="Due Dana", team_id=team.id)
    fine = make_annotator(session, display_name="Fine Fay", team_id=team.id)
    elsewhere = make_annotator(session, display_name="Other Otto", team_id=other.id)
    _train(session, expired.id, "initial", NOW)  # expires this very moment
    _train(session, due.id, "initial", NOW + dt.timedelta(days=30))
    _train(session, fine.id, "initial", NOW + dt.timedelta(days=30, seconds=1))
    _train(session, elsewhere.id, "initial", NOW - dt.timedelta(days=1))
    # A newer record of the same kind replaces an expired one.
    _train(session, fine.id, "refresher", NOW - dt.timedelta(days=2))
    session.add(
        TrainingRecord(
            annotator_id=fine.id,
            kind="refresher",
            topic="again",
            completed_at=NOW - dt.timedelta(days=1),
            expires_at=NOW + dt.timedelta(days=300),
        )
    )
    project = make_project(session)
    session.add(
        GuidelineVersion(
            project_id=project.id,
            version="v2",
            effective_from=NOW - dt.timedelta(days=3),
            is_major=True,
            change_summary="sarcasm is negative",
        )
    )
    session.add(
        Assignment(
            annotator_id=fine.id, project_id=project.id, starts_on=TODAY - dt.timedelta(days=9)
        )
    )
    session.flush()
    rows = list_training_due(session, lead_of(team.id), now=NOW)
    seen = {(row.annotator, row.status, row.kind) for row in rows.itertuples()}
    assert seen == {
        ("Expired Ed", "expired", "initial"),
        ("Due Dana", "due", "initial"),
        ("Fine Fay", "missing", "guideline_change"),
    }
    assert list(rows["status"]) == ["expired", "missing", "due"]
    everyone = set(list_training_due(session, OPS, now=NOW)["annotator"])
    assert "Other Otto" in everyone
    # Training on the new version clears the missing one.
    session.add(
        TrainingRecord(
            annotator_id=fine.id,
            kind="guideline_change",
            topic="v2",
            project_id=project.id,
            completed_at=NOW - dt.timedelta(days=1),
        )
    )
    session.flush()
    assert "Fine Fay" not in set(list_training_due(session, OPS, now=NOW)["annotator"])


# --- pay ------------------------------------------------------------------------------------


def test_a_new_rate_is_a_new_row_after_the_latest(session: Session) -> None:
    person = make_annotator(session)
    first = make_pay_rate(session, person, amount_minor=1600)
    rate = pay.add_pay_rate(
        session,
        FINANCE,
        person.id,
        basis="hourly",
        amount="17.50",
        currency="usd",
        effective_on=dt.date(2026, 3, 1),
        reason="annual review",
    )
    assert (rate.amount_minor, rate.currency) == (1750, "USD")
    assert first.amount_minor == 1600
    history = pay.list_pay_history(session, OPS, person.id, now=NOW)
    assert list(history["rate"]) == ["USD 17.50", "USD 16.00"]
    assert list(history["in effect"]) == [True, False]
    assert history["until"].iloc[1] == "2026-03-01"
    assert audit_entries(session, "pay_rate.create")[-1].entity_id == str(rate.id)
    with pytest.raises(ValidationError, match="record a correction") as caught:
        pay.add_pay_rate(
            session,
            OPS,
            person.id,
            basis="hourly",
            amount="18",
            currency="USD",
            effective_on=dt.date(2026, 2, 1),
            reason="backdated",
        )
    assert caught.value.field == "effective_on"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"basis": "monthly"}, "basis"),
        ({"amount": "-3"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"currency": "dollars"}, "currency"),
        ({"reason": ""}, "reason"),
    ],
)
def test_pay_rate_input_is_checked(session: Session, overrides: PayRateInput, field: str) -> None:
    person = make_annotator(session)
    values: PayRateInput = {
        "basis": "hourly",
        "amount": "18.00",
        "currency": "USD",
        "effective_on": TODAY,
        "reason": "start",
    }
    values.update(overrides)
    with pytest.raises(ValidationError) as caught:
        pay.add_pay_rate(session, OPS, person.id, **values)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-3", "A pay rate is more than zero, e.g. 18.50; '-3' is not."),
        ("0", "A pay rate is more than zero, e.g. 18.50; '0' is not."),
        ("0.00", "A pay rate is more than zero, e.g. 18.50; '0.00' is not."),
        ("  ", "Give the rate's amount, e.g. 18.50."),
        ("lots", "'lots' is not an amount of money."),
    ],
)
def test_a_bad_pay_amount_gets_one_consistent_message(
    session: Session, amount: str, message: str
) -> None:
    person = make_annotator(session)
    with pytest.raises(ValidationError) as caught:
        pay.add_pay_rate(
            session,
            OPS,
            person.id,
            basis="hourly",
            amount=amount,
            currency="USD",
            effective_on=TODAY,
            reason="start",
        )
    assert (str(caught.value), caught.value.field) == (message, "amount")


def test_leads_neither_see_nor_set_pay(session: Session) -> None:
    team = make_team(session)
    person = make_annotator(session, team_id=team.id)
    with pytest.raises(PermissionDenied):
        pay.list_pay_history(session, lead_of(team.id), person.id)
    with pytest.raises(PermissionDenied):
        pay.add_pay_rate(
            session,
            lead_of(team.id),
            person.id,
            basis="hourly",
            amount="1",
            currency="USD",
            effective_on=TODAY,
            reason="x",
        )


def test_a_correction_keeps_the_old_terms_the_reason_and_the_author(session: Session) -> None:
    person = make_annotator(session)
    rate = make_pay_rate(session, person, amount_minor=1600)
    correction = pay.correct_pay_rate(
        session,
        FINANCE,
        rate.id,
        basis="hourly",
        amount="18.00",
        currency="USD",
        effective_on=dt.date(2026, 1, 1),
        reason="typed 16 instead of 18",
        expected_corrections=0,
    )
    assert rate.amount_minor == 1800
    assert correction.before["amount_minor"] == 1600
    assert correction.before["effective_from"].startswith("2026-01-01")
    assert correction.after["amount_minor"] == 1800
    assert correction.corrected_by == "finn"
    entry = audit_entries(session, "pay_rate.correct")[-1]
    assert entry.before is not None and entry.before["amount_minor"] == 1600
    assert entry.after is not None and entry.after["correction_reason"] == "typed 16 instead of 18"
    history = pay.list_pay_history(session, OPS, person.id, now=NOW)
    assert history["corrections"].iloc[0] == 1
    assert "was USD 16.00 per hour" in history["correction history"].iloc[0]


def test_a_second_correction_from_a_stale_view_is_refused(session: Session) -> None:
    person = make_annotator(session)
    rate = make_pay_rate(session, person, amount_minor=1600)
    # Both correct the rate as they saw it before either of them saved.
    correct = partial(
        pay.correct_pay_rate,
        basis="hourly",
        currency="USD",
        effective_on=dt.date(2026, 1, 1),
        reason="fixing a typo",
        expected_corrections=0,
    )
    correct(session, FINANCE, rate.id, amount="18")
    with pytest.raises(ConflictError, match=r"changed by finn at .* Reload"):
        correct(session, OPS, rate.id, amount="19")
    assert rate.amount_minor == 1800
    assert session.query(PayRateCorrection).filter_by(pay_rate_id=rate.id).count() == 1


def test_a_correction_must_change_something_and_stay_between_neighbours(
    session: Session,
) -> None:
    person = make_annotator(session)
    rate = make_pay_rate(session, person, amount_minor=1600)
    make_pay_rate(
        session, person, amount_minor=1700, effective_from=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    )
    correct = partial(
        pay.correct_pay_rate,
        basis="hourly",
        currency="USD",
        reason="a reason",
        expected_corrections=0,
    )
    with pytest.raises(ValidationError, match="Nothing changed"):
        correct(session, OPS, rate.id, amount="16", effective_on=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError, match="between the neighbouring rates") as caught:
        correct(session, OPS, rate.id, amount="16", effective_on=dt.date(2026, 2, 1))
    assert caught.value.field == "effective_on"
    with pytest.raises(ValidationError) as short:
        pay.correct_pay_rate(
            session,
            OPS,
            rate.id,
            basis="hourly",
            amount="17",
            currency="USD",
            effective_on=dt.date(2026, 1, 1),
            reason="ok",
            expected_corrections=0,
        )
    assert short.value.field == "reason"
    assert session.get(PayRate, rate.id) is not None and rate.amount_minor == 1600


# --- feedback -------------------------------------------------------------------------------


def test_feedback_copies_the_wrong_golden_items_as_evidence(session: Session) -> None:
    person = make_annotator(session)
    project = make_project(session)
    when = NOW - dt.timedelta(days=2)
    wrong = make_event(
        session, project, person, is_gold=True, gold_label="dog", label="cat", submitted_at=when
    )
    make_event(
        session, project, person, is_gold=True, gold_label="cat", label="cat", submitted_at=when
    )
    make_event(
        session,
        project,
        person,
        is_gold=True,
        gold_label="dog",
        label="cat",
        submitted_at=NOW - dt.timedelta(days=45),
    )
    offered = feedback.list_wrong_gold(session, OPS, person.id, now=NOW)
    assert list(offered["event_id"]) == [wrong.id]
    note = feedback.give_feedback(
        session,
        OPS,
        person.id,
        category="accuracy",
        text="Dogs in the background still count as dog.",
        follow_up_on=TODAY + dt.timedelta(days=7),
        evidence_event_ids=[wrong.id],
        today=TODAY,
    )
    assert note.evidence["golden_items"][0]["gold_label"] == "dog"
    assert audit_entries(session, "feedback.create")[-1].entity_id == str(note.id)
    listed = feedback.list_feedback(session, OPS, person.id)
    assert "said cat, gold dog" in listed["evidence"].iloc[0]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "vibes"}, "category"),
        ({"text": "too short"}, "text"),
        ({"follow_up_on": TODAY - dt.timedelta(days=1)}, "follow_up_on"),
        ({"evidence_event_ids": [999_999]}, "evidence"),
    ],
)
def test_feedback_input_is_checked(session: Session, overrides: FeedbackInput, field: str) -> None:
    person = make_annotator(session)
    values: FeedbackInput = {
        "category": "speed",
        "text": "Slow down on the edge cases please.",
        "today": TODAY,
    }
    values.update(overrides)
    with pytest.raises(ValidationError) as caught:
        feedback.give_feedback(session, OPS, person.id, **values)
    assert caught.value.field == field


def test_another_persons_event_is_not_evidence(session: Session) -> None:
    person, other = make_annotator(session), make_annotator(session)
    event = make_event(session, make_project(session), other, is_gold=True, gold_label="x")
    with pytest.raises(ValidationError, match="not this person's work"):
        feedback.give_feedback(
            session,
            OPS,
            person.id,
            category="accuracy",
            text="Look at this one please.",
            evidence_event_ids=[event.id],
            today=TODAY,
        )


def test_finance_sees_no_coaching_notes(session: Session) -> None:
    person = make_annotator(session)
    with pytest.raises(PermissionDenied):
        feedback.list_feedback(session, FINANCE, person.id)
    with pytest.raises(PermissionDenied):
        feedback.give_feedback(
            session, FINANCE, person.id, category="speed", text="Not finance's job at all."
        )


def test_the_annotator_acknowledges_their_own_feedback_once(session: Session) -> None:
    person, other = make_annotator(session), make_annotator(session)
    note = feedback.give_feedback(
        session, OPS, person.id, category="praise", text="Great consistency this week!"
    )
    me = annotator_principal(person.id)
    assert [item.id for item in feedback.list_my_feedback(session, me)] == [note.id]
    with pytest.raises(NotFound):
        feedback.acknowledge_feedback(session, annotator_principal(other.id), note.id)
    with pytest.raises(PermissionDenied):
        feedback.acknowledge_feedback(session, OPS, note.id)
    feedback.acknowledge_feedback(session, me, note.id, now=NOW)
    assert note.acknowledged_at == NOW
    entry = audit_entries(session, "feedback.acknowledge")[-1]
    assert entry.actor == "self"
    assert entry.before is not None and entry.before["acknowledged_at"] is None
    with pytest.raises(ConflictError, match="already acknowledged"):
        feedback.acknowledge_feedback(session, me, note.id)


# --- staffing -------------------------------------------------------------------------------


def qualify(session: Session, person: Annotator, project: Project, *, score: float = 0.9) -> None:
    """A qualification test for the project's task type and a current initial training."""
    session.add_all(
        [
            QualificationResult(
                annotator_id=person.id,
                task_type=project.task_type,
                score=score,
                pass_mark=0.85,
                n_items=20,
                taken_at=NOW - dt.timedelta(days=30),
            ),
            TrainingRecord(
                annotator_id=person.id,
                kind="initial",
                topic="Onboarding",
                completed_at=NOW - dt.timedelta(days=40),
                expires_at=NOW + dt.timedelta(days=300),
            ),
        ]
    )
    session.flush()


def test_a_reassignment_moves_the_person_and_freezes_their_metrics(session: Session) -> None:
    person = make_annotator(session)
    source, target = make_project(session), make_project(session)
    qualify(session, person, target)
    session.add(
        Assignment(
            annotator_id=person.id, project_id=source.id, starts_on=TODAY - dt.timedelta(days=60)
        )
    )
    make_rollup(
        session,
        source,
        person,
        day=TODAY - dt.timedelta(days=3),
        annotations=400,
        gold_answered=40,
        gold_correct=28,
    )
    make_rollup(
        session,
        target,
        person,
        day=TODAY - dt.timedelta(days=3),
        annotations=100,
        gold_answered=10,
        gold_correct=10,
    )
    session.flush()
    decision = staffing.record_reassignment(
        session,
        OPS,
        person.id,
        from_project_id=source.id,
        to_project_id=target.id,
        reason_category="quality",
        notes="Accuracy under target on defects.",
        now=NOW,
    )
    assert decision.evidence["from_project"]["gold_answered"] == 40
    assert decision.evidence["from_project"]["accuracy"] == pytest.approx(0.7)
    assert decision.evidence["overall"]["annotations"] == 500
    running = staffing.list_assignments(session, OPS, person.id, today=TODAY)
    assert set(running.loc[running["running"], "project"]) == {target.slug}, "the old one ended"
    assert set(running.loc[running["until"] == TODAY.isoformat(), "project"]) == {source.slug}
    tomorrow = staffing.list_assignments(
        session, OPS, person.id, today=TODAY + dt.timedelta(days=1)
    )
    assert set(tomorrow.loc[tomorrow["running"], "project"]) == {target.slug}
    current, joinable = staffing.reassignment_choices(session, OPS, person.id, today=TODAY)
    assert current == {target.id: target.slug} and source.id in joinable
    entry = audit_entries(session, "reassignment.create")[-1]
    assert entry.after is not None and entry.after["evidence"]["from_project"]["gold_correct"] == 28
    listed = staffing.list_reassignments(session, OPS, person.id)
    assert "gold 70.0%" in listed["evidence"].iloc[0]
    assert listed["notes"].iloc[0] == "Accuracy under target on defects."
    # Finance reads the decision but never its coaching notes.
    for_finance = staffing.list_reassignments(session, FINANCE, person.id)
    assert "notes" not in for_finance.columns
    assert "Accuracy under target" not in for_finance.to_string()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"from_project_id": None, "to_project_id": None}, "to_project_id"),
        ({"reason_category": "vibes"}, "reason_category"),
        ({"reason_category": "other", "notes": ""}, "notes"),
        ({"to_project_id": SOURCE_PROJECT}, "to_project_id"),
        ({"from_project_id": UNASSIGNED_PROJECT}, "from_project_id"),
        ({"role": "reviewer"}, "role"),
    ],
)
def test_reassignment_input_is_checked(
    session: Session, overrides: ReassignmentInput, field: str
) -> None:
    person = make_annotator(session)
    source, target, unassigned = make_project(session), make_project(session), make_project(session)
    session.add(Assignment(annotator_id=person.id, project_id=source.id, starts_on=TODAY))
    session.flush()
    values: ReassignmentInput = {
        "from_project_id": source.id,
        "to_project_id": target.id,
        "reason_category": "workload",
        "notes": "",
        "now": NOW,
    }
    values.update(overrides)
    stand_ins = {SOURCE_PROJECT: source.id, UNASSIGNED_PROJECT: unassigned.id}

    def resolve(project_id: int | None) -> int | None:
        return project_id if project_id is None else stand_ins.get(project_id, project_id)

    values["from_project_id"] = resolve(values["from_project_id"])
    values["to_project_id"] = resolve(values["to_project_id"])
    with pytest.raises(ValidationError) as caught:
        staffing.record_reassignment(session, OPS, person.id, **values)
    assert caught.value.field == field
    assert not audit_entries(session, "reassignment.create")


def test_reassignment_refuses_a_target_whose_requirements_are_not_met(session: Session) -> None:
    person = make_annotator(session)
    target = make_project(session, task_type="ner")
    target.min_tier = "reviewer"
    with pytest.raises(ValidationError) as caught:
        staffing.record_reassignment(
            session,
            OPS,
            person.id,
            from_project_id=None,
            to_project_id=target.id,
            reason_category="workload",
            now=NOW,
        )
    assert caught.value.field == "override_justification"
    message = str(caught.value)
    assert "needs at least the reviewer tier (they are annotator)" in message
    assert "no qualification test for ner" in message
    assert "no current initial training" in message
    assert not audit_entries(session, "reassignment.create")

    qualify(session, person, target, score=0.6)
    session.add(
        TrainingRecord(
            annotator_id=person.id,
            kind="refresher",
            topic="Yearly",
            completed_at=NOW - dt.timedelta(days=400),
            expires_at=NOW - dt.timedelta(days=35),
        )
    )
    person.tier = "reviewer"
    session.flush()
    unmet = staffing.check_requirements(session, OPS, person.id, target.id, now=NOW).unmet
    assert unmet == (
        "has not passed the ner qualification (best 60%, pass mark 85%)",
        "expired training: refresher",
    )


def test_an_override_with_a_justification_is_kept_and_audited(session: Session) -> None:
    person = make_annotator(session)
    target = make_project(session)
    decision = staffing.record_reassignment(
        session,
        OPS,
        person.id,
        from_project_id=None,
        to_project_id=target.id,
        reason_category="workload",
        override_justification="  Launch week; shadowed by a lead until tested.  ",
        now=NOW,
    )
    override = decision.evidence["requirements_override"]
    assert override["justification"] == "Launch week; shadowed by a lead until tested."
    assert "no current initial training" in override["unmet"]
    entry = audit_entries(session, "reassignment.override")[-1]
    assert entry.actor == "olga" and entry.entity_id == str(decision.id)
    assert entry.after is not None and entry.after["to_project"] == target.slug
    assert entry.after["justification"] == override["justification"]
    running = staffing.list_assignments(session, OPS, person.id, today=TODAY)
    assert list(running.loc[running["running"], "project"]) == [target.slug]


def test_a_met_requirement_needs_no_justification_and_records_no_override(
    session: Session,
) -> None:
    person = make_annotator(session)
    target = make_project(session)
    qualify(session, person, target)
    assert staffing.check_requirements(session, OPS, person.id, target.id, now=NOW).met
    decision = staffing.record_reassignment(
        session,
        OPS,
        person.id,
        from_project_id=None,
        to_project_id=target.id,
        reason_category="development",
        now=NOW,
    )
    assert "requirements_override" not in decision.evidence
    assert not audit_entries(session, "reassignment.override")


def test_only_ops_decide_reassignments(session: Session) -> None:
    team = make_team(session)
    person = make_annotator(session, team_id=team.id)
    project = make_project(session)
    for principal in (lead_of(team.id), FINANCE):
        with pytest.raises(PermissionDenied):
            staffing.record_reassignment(
                session,
                principal,
                person.id,
                from_project_id=None,
                to_project_id=project.id,
                reason_category="workload",
            )


def test_assign_and_end_an_assignment(session: Session) -> None:
    person = make_annotator(session)
    project = make_project(session)
    assignment = staffing.assign_to_project(
        session, OPS, person.id, project_id=project.id, starts_on=TODAY
    )
    with pytest.raises(ValidationError, match="already on"):
        staffing.assign_to_project(session, OPS, person.id, project_id=project.id, starts_on=TODAY)
    session.flush()
    staffing.end_assignment(session, OPS, assignment.id, ends_on=TODAY)
    assert assignment.ends_on == TODAY
    ended = staffing.list_assignments(session, OPS, person.id, today=TODAY)
    assert not ended["running"].any(), "ended today: not running today"
    assert staffing.reassignment_choices(session, OPS, person.id, today=TODAY)[0] == {}
    with pytest.raises(ConflictError, match="changed by olga"):
        staffing.end_assignment(session, OPS, assignment.id, ends_on=TODAY)
    assert [e.action for e in audit_entries(session, "assignment.end")] == ["assignment.end"]
    candidate = make_annotator(session, status="candidate")
    with pytest.raises(ValidationError, match="candidate"):
        staffing.assign_to_project(session, OPS, candidate.id, project_id=project.id)


def test_reassignment_offers_current_projects_to_leave_and_others_to_join(
    session: Session,
) -> None:
    person = make_annotator(session)
    on, off = make_project(session), make_project(session)
    paused = make_project(session)
    paused.status = "paused"
    assert staffing.reassignment_choices(session, OPS, person.id, today=TODAY)[0] == {}
    assert staffing.list_assignments(session, OPS, person.id, today=TODAY).empty
    session.add(Assignment(annotator_id=person.id, project_id=on.id, starts_on=TODAY))
    session.flush()
    current, joinable = staffing.reassignment_choices(session, OPS, person.id, today=TODAY)
    assert current == {on.id: on.slug}
    assert off.id in joinable and on.id not in joinable and paused.id not in joinable


def test_finance_records_no_training_and_leads_correct_no_pay(session: Session) -> None:
    team = make_team(session)
    person = make_annotator(session, team_id=team.id)
    with pytest.raises(PermissionDenied):
        training.record_training(
            session, FINANCE, person.id, kind="initial", topic="x", completed_on=TODAY
        )
    rate = make_pay_rate(session, person)
    with pytest.raises(PermissionDenied):
        pay.correct_pay_rate(
            session,
            lead_of(team.id),
            rate.id,
            basis="hourly",
            amount="20",
            currency="USD",
            effective_on=dt.date(2026, 1, 1),
            reason="not theirs to fix",
            expected_corrections=0,
        )
    assert not audit_entries(session, "training.record")
    assert not audit_entries(session, "pay_rate.correct")


def test_an_assignment_is_audited_and_only_ops_assign(session: Session) -> None:
    team = make_team(session)
    person = make_annotator(session, team_id=team.id)
    project = make_project(session)
    with pytest.raises(PermissionDenied):
        staffing.assign_to_project(session, lead_of(team.id), person.id, project_id=project.id)
    assignment = staffing.assign_to_project(
        session, OPS, person.id, project_id=project.id, role="annotator", starts_on=TODAY
    )
    entry = audit_entries(session, "assignment.create")[-1]
    assert entry.entity_id == str(assignment.id) and entry.actor == "olga"
    with pytest.raises(ValidationError, match="promote first") as caught:
        staffing.assign_to_project(
            session, OPS, person.id, project_id=make_project(session).id, role="reviewer"
        )
    assert caught.value.field == "role"
