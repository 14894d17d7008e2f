"""Pay rates and their corrections."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import PayRate, PayRateCorrection
from db.queries.shared import among


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
    return pd.DataFrame(rows, columns=columns)
