"""Pay rates and their corrections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from db.models import Annotator, PayRate, PayRateCorrection
from db.queries.shared import among, rows_frame
from db.scope import PeopleScope


def list_pay_rates(session: Session, *, annotator_id: int) -> list[PayRate]:
    """One person's pay rates, oldest first."""
    return list(
        session.scalars(
            select(PayRate)
            .where(PayRate.annotator_id == annotator_id)
            .order_by(PayRate.effective_from, PayRate.id)
        )
    )


def list_pay_rate_corrections(
    session: Session, *, pay_rate_ids: Sequence[int]
) -> list[PayRateCorrection]:
    """Corrections of the given rates, oldest first."""
    return list(
        session.scalars(
            select(PayRateCorrection)
            .where(PayRateCorrection.pay_rate_id.in_(list(pay_rate_ids)))
            .order_by(PayRateCorrection.corrected_at, PayRateCorrection.id)
        )
    )


def load_pay_rate_frame(session: Session, *, annotator_ids: Sequence[int]) -> pd.DataFrame:
    """Every pay rate of the given people: annotator_id, effective_from, basis,
    amount_minor, currency."""
    columns = ["annotator_id", "effective_from", "basis", "amount_minor", "currency"]
    rows = session.execute(
        select(*(getattr(PayRate, name) for name in columns)).where(
            among(PayRate.annotator_id, annotator_ids)
        )
    ).all()
    return rows_frame(rows, columns)


def bump_pay_version(session: Session, *, annotator_id: int, expected: int) -> bool:
    """Count one more change to a person's pay history, if it is still at ``expected``.

    False when someone else changed it first. On PostgreSQL a concurrent bump waits for
    the other transaction and then finds the version moved on.
    """
    # A plain table UPDATE: the person's own record version (profile edits) is untouched.
    people: Table = Annotator.__table__  # type: ignore[assignment]
    result = session.execute(
        update(people)
        .where(people.c.id == annotator_id, people.c.pay_version == expected)
        .values(pay_version=people.c.pay_version + 1)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def get_pay_version(session: Session, *, annotator_id: int) -> int:
    """The number of changes made to a person's pay history."""
    return int(
        session.scalar(select(Annotator.pay_version).where(Annotator.id == annotator_id)) or 0
    )


def load_pay_changes_frame(
    session: Session, *, scope: PeopleScope, since: dt.datetime, until: dt.datetime
) -> pd.DataFrame:
    """Pay rates of people in ``scope`` that took effect in [since, until), with the
    person's name and the rate each replaced (the person's latest rate that took effect
    before it; NULL for a first rate): annotator_id, annotator, effective_from, basis,
    amount_minor, currency, reason, previous_basis, previous_amount_minor,
    previous_currency."""
    # A person has one rate per effective_from (unique), so the row before in their
    # history is the latest rate that took effect strictly earlier.
    rates = (
        select(
            PayRate.annotator_id,
            PayRate.effective_from,
            PayRate.basis,
            PayRate.amount_minor,
            PayRate.currency,
            PayRate.reason,
            func.lag(PayRate.basis)
            .over(partition_by=PayRate.annotator_id, order_by=PayRate.effective_from)
            .label("previous_basis"),
            func.lag(PayRate.amount_minor)
            .over(partition_by=PayRate.annotator_id, order_by=PayRate.effective_from)
            .label("previous_amount_minor"),
            func.lag(PayRate.currency)
            .over(partition_by=PayRate.annotator_id, order_by=PayRate.effective_from)
            .label("previous_currency"),
        )
        .where(scope.where(PayRate.annotator_id))
        .subquery()
    )
    result = session.execute(
        select(
            rates.c.annotator_id,
            Annotator.display_name.label("annotator"),
            rates.c.effective_from,
            rates.c.basis,
            rates.c.amount_minor,
            rates.c.currency,
            rates.c.reason,
            rates.c.previous_basis,
            rates.c.previous_amount_minor,
            rates.c.previous_currency,
        )
        .join(Annotator, Annotator.id == rates.c.annotator_id)
        .where(rates.c.effective_from >= since, rates.c.effective_from < until)
        .order_by(rates.c.effective_from, Annotator.display_name)
    )
    return rows_frame(result.all(), list(result.keys()))
