"""Models round-trip on both databases, and their constraints hold."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.models import (
    AnnotatorIdentity,
    Assignment,
    PayRate,
    Project,
    QualificationResult,
)
from tests.factories import make_annotator, make_event, make_pay_rate, make_project


def test_event_round_trip_keeps_aware_utc_and_values(session: Session) -> None:
    project = make_project(session)
    annotator = make_annotator(session)
    submitted = dt.datetime(
        2026, 5, 1, 12, 30, 5, 123000, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    event = make_event(
        session,
        project,
        annotator,
        submitted_at=submitted,
        label="critical_defect",
        is_gold=True,
        gold_label="critical_defect",
        active_seconds=12.5,
    )
    session.expire_all()
    loaded = session.get(type(event), event.id)
    assert loaded is not None
    assert loaded.submitted_at == submitted
    assert loaded.submitted_at.utcoffset() == dt.timedelta(0)
    assert (loaded.label, loaded.is_gold, loaded.active_seconds) == ("critical_defect", True, 12.5)


def test_naive_datetime_is_refused(session: Session) -> None:
    project = make_project(session)
    annotator = make_annotator(session)
    with pytest.raises(StatementError, match="naive datetime"):
        make_event(session, project, annotator, submitted_at=dt.datetime(2026, 5, 1, 12))


def test_one_identity_per_platform_account(session: Session) -> None:
    first = make_annotator(session)
    second = make_annotator(session)
    session.add(AnnotatorIdentity(annotator_id=first.id, platform="labelstudio", external_id="7"))
    session.flush()
    session.add(AnnotatorIdentity(annotator_id=second.id, platform="labelstudio", external_id="7"))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (QualificationResult, {"task_type": "t", "score": 1.2, "pass_mark": 0.8}),
        (QualificationResult, {"task_type": "t", "score": 0.9, "pass_mark": -0.1}),
        (PayRate, {"basis": "hourly", "amount_minor": -1, "currency": "USD"}),
        (PayRate, {"basis": "weekly", "amount_minor": 100, "currency": "USD"}),
        (PayRate, {"basis": "hourly", "amount_minor": 100, "currency": "DOLLARS"}),
    ],
)
def test_check_constraints_refuse_bad_values(
    session: Session, model: type, values: dict[str, object]
) -> None:
    annotator = make_annotator(session)
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    extra = {"taken_at": moment} if model is QualificationResult else {"effective_from": moment}
    session.add(model(annotator_id=annotator.id, **values, **extra))
    # PostgreSQL refuses an over-long code by the column type, SQLite by the check.
    with pytest.raises((IntegrityError, DataError)):
        session.flush()


def test_project_quality_target_must_be_a_fraction(session: Session) -> None:
    project = make_project(session)
    project.quality_target = 1.5
    with pytest.raises(IntegrityError):
        session.flush()


def test_pay_history_allows_one_rate_per_moment(session: Session) -> None:
    annotator = make_annotator(session)
    make_pay_rate(session, annotator)
    with pytest.raises(IntegrityError):
        make_pay_rate(session, annotator, amount_minor=2000)


def test_assignment_cannot_end_before_it_starts(session: Session) -> None:
    project = make_project(session)
    annotator = make_annotator(session)
    session.add(
        Assignment(
            annotator_id=annotator.id,
            project_id=project.id,
            starts_on=dt.date(2026, 3, 1),
            ends_on=dt.date(2026, 2, 1),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_stale_project_save_is_detected(session: Session) -> None:
    project = make_project(session)
    connection = session.connection()
    # Another writer bumps the version behind this session's back.
    connection.execute(
        update(Project).where(Project.id == project.id).values(version_id=project.version_id + 1)
    )
    project.name = "Renamed"
    with pytest.raises(StaleDataError):
        session.flush()


def test_money_is_stored_as_integer_minor_units(session: Session) -> None:
    project = make_project(session, budget="12345.67", currency="eur")
    session.expire_all()
    budget = session.scalar(select(Project.budget_minor).where(Project.id == project.id))
    assert budget == 1234567
    assert isinstance(budget, int)
    stored = session.get(Project, project.id)
    assert stored is not None and stored.currency == "EUR"
