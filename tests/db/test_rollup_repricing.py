"""The spend job's re-pricing: rates entered late or corrected reach the rolled-up costs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import DailyRollup, PayRate, PayRateCorrection
from ops import rollups
from ops.workforce import pay
from tests.db.test_rollups import table
from tests.db.workforce_helpers import FINANCE
from tests.factories import make_annotator, make_event, make_pay_rate, make_project

DAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def daily_work_cost(session: Session, person_id: int, days: int) -> list[int]:
    every = costs(session)
    return [every[(person_id, DAY.date() + dt.timedelta(days=day))][0] for day in range(days)]


def costs(session: Session) -> dict[tuple[int, dt.date], tuple[int, int, str | None]]:
    rows = session.scalars(select(DailyRollup)).all()
    return {
        (row.annotator_id, row.day): (row.cost_minor, row.review_cost_minor, row.currency)
        for row in rows
    }


def test_a_rate_entered_late_reprices_past_work_and_reviews(session: Session) -> None:
    project = make_project(session)
    worker, reviewer, bystander = (make_annotator(session) for _ in range(3))
    make_pay_rate(session, bystander, amount_minor=7200)
    for day in range(3):
        make_event(
            session,
            project,
            worker,
            submitted_at=DAY + dt.timedelta(days=day),
            active_seconds=100,
            reviewer_id=reviewer.id,
            review_outcome="accepted",
            review_seconds=36,
            reviewed_at=DAY + dt.timedelta(days=day, hours=1),
        )
    make_event(session, project, bystander, active_seconds=50)
    rollups.rebuild(session)
    assert rollups.reprice(session) == 0  # the rebuild priced with every rate there is
    before = costs(session)
    assert before[(worker.id, DAY.date())] == (0, 0, None)  # nobody has a rate yet

    # Finance records the worker's rate from day 2 on, and the reviewer's from the start.
    make_pay_rate(
        session, worker, amount_minor=3600, effective_from=DAY + dt.timedelta(days=1, hours=-1)
    )
    make_pay_rate(session, reviewer, amount_minor=10_000, effective_from=DAY - dt.timedelta(days=1))
    assert rollups.refresh(session) == 0  # no new events: the incremental run sees nothing
    assert costs(session) == before
    # Three worker days are touched (two by the new rate, all three by the reviewer's).
    assert rollups.reprice(session) == 3
    after = costs(session)
    # Day 1 is before the worker's rate: only the review is priced, in its currency.
    assert after[(worker.id, DAY.date())] == (0, 100, "USD")
    assert after[(worker.id, DAY.date() + dt.timedelta(days=1))] == (100, 100, "USD")
    assert after[(worker.id, DAY.date() + dt.timedelta(days=2))] == (100, 100, "USD")
    # Work nobody's new rate touches keeps its row as it was.
    assert (
        after[(bystander.id, DAY.date())] == before[(bystander.id, DAY.date())] == (100, 0, "USD")
    )
    incremental = table(session)
    rollups.rebuild(session)
    assert table(session) == incremental
    assert rollups.reprice(session) == 0


def test_a_corrected_rate_reprices_from_the_earlier_of_its_old_and_new_start(
    session: Session,
) -> None:
    project = make_project(session)
    person = make_annotator(session)
    make_pay_rate(session, person, amount_minor=3600, effective_from=DAY - dt.timedelta(days=10))
    second = make_pay_rate(
        session, person, amount_minor=7200, effective_from=DAY + dt.timedelta(days=2)
    )
    for day in range(4):
        make_event(
            session, project, person, submitted_at=DAY + dt.timedelta(days=day), active_seconds=10
        )
    rollups.rebuild(session)
    assert daily_work_cost(session, person.id, 4) == [10, 10, 20, 20]
    # The second rate really started a day earlier, at a different amount.
    old_terms = {
        "basis": second.basis,
        "amount_minor": second.amount_minor,
        "currency": second.currency,
        "effective_from": second.effective_from.isoformat(),
    }
    second.amount_minor = 10_800
    second.effective_from = DAY + dt.timedelta(days=1)
    session.add(
        PayRateCorrection(
            pay_rate_id=second.id,
            before=old_terms,
            after={**old_terms, "amount_minor": 10_800},
            reason="entered the wrong start and amount",
        )
    )
    session.flush()
    assert rollups.reprice(session) == 3
    assert daily_work_cost(session, person.id, 4) == [10, 30, 30, 30]
    incremental = table(session)
    rollups.rebuild(session)
    assert table(session) == incremental
    assert session.scalar(select(PayRate.amount_minor).where(PayRate.id == second.id)) == 10_800


def test_a_correction_that_moves_a_start_later_gives_the_days_back_to_the_earlier_rate(
    session: Session,
) -> None:
    project = make_project(session)
    person = make_annotator(session)
    make_pay_rate(session, person, amount_minor=3600, effective_from=DAY - dt.timedelta(days=10))
    second = make_pay_rate(session, person, amount_minor=7200, effective_from=DAY)
    for day in range(3):
        make_event(
            session, project, person, submitted_at=DAY + dt.timedelta(days=day), active_seconds=10
        )
    rollups.rebuild(session)
    old_start = second.effective_from.isoformat()
    second.effective_from = DAY + dt.timedelta(days=2)
    session.add(
        PayRateCorrection(
            pay_rate_id=second.id,
            before={"effective_from": old_start},
            after={"effective_from": second.effective_from.isoformat()},
            reason="started later than entered",
        )
    )
    session.flush()
    assert rollups.reprice(session) == 3
    assert daily_work_cost(session, person.id, 3) == [10, 10, 20]


def test_a_correction_or_a_late_rate_reaches_spend_when_it_is_saved(session: Session) -> None:
    """Finance corrects a rate or enters one late: the rolled-up costs follow in the same
    transaction, without waiting for the nightly spend job."""
    project = make_project(session)
    person, other = make_annotator(session), make_annotator(session)
    first = make_pay_rate(session, person, amount_minor=3600, effective_from=DAY)
    for day in range(3):
        for who in (person, other):
            make_event(
                session, project, who, submitted_at=DAY + dt.timedelta(days=day), active_seconds=10
            )
    rollups.rebuild(session)
    assert daily_work_cost(session, person.id, 3) == [10, 10, 10]

    pay.correct_pay_rate(
        session,
        FINANCE,
        first.id,
        basis="hourly",
        amount="54.00",
        currency="USD",
        effective_on=DAY.date(),
        reason="entered 36.00 instead of 54.00",
        expected_corrections=0,
    )
    assert daily_work_cost(session, person.id, 3) == [15, 15, 15]

    pay.add_pay_rate(
        session,
        FINANCE,
        other.id,
        basis="hourly",
        amount="72.00",
        currency="USD",
        effective_on=(DAY + dt.timedelta(days=1)).date(),
        reason="contract signed late",
    )
    assert daily_work_cost(session, other.id, 3) == [0, 20, 20]
    assert rollups.reprice(session) == 0  # nothing left for the nightly run
    incremental = table(session)
    rollups.rebuild(session)
    assert table(session) == incremental
