"""Pay-rate history: effective-dated, never overwritten. A new rate starts after the
latest one; a past rate changes only through a correction that keeps what it said
before, who changed it and why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import PAY_BASES, Annotator, PayRate, PayRateCorrection, utcnow
from db.queries.pay import (
    bump_pay_version,
    get_pay_version,
    list_pay_rate_corrections,
    list_pay_rates,
)
from ops import audit, rollups
from ops.errors import ConflictError, NotFound, ValidationError
from ops.money import format_money, parse_amount, quote_amount, to_major, validate_currency
from ops.permissions import Principal
from ops.workforce.common import (
    changed_message,
    load_annotator,
    require_active,
    require_text,
    start_of_day,
)


def _terms(rate: PayRate) -> dict[str, Any]:
    return {
        "basis": rate.basis,
        "amount_minor": rate.amount_minor,
        "currency": rate.currency,
        "effective_from": rate.effective_from.isoformat(),
    }


def _describe(terms: dict[str, Any]) -> str:
    per = "hour" if terms["basis"] == "hourly" else "item"
    start = str(terms["effective_from"])[:10]
    return f"{format_money(terms['amount_minor'], terms['currency'])} per {per} from {start}"


def list_pay_history(
    session: Session, principal: Principal, annotator_id: int, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """Every rate of one person, newest first, with the period it applies to and its
    corrections; ``corrections`` is also the token a correction must quote."""
    load_annotator(session, principal, annotator_id, action="pay.view")
    now = now or utcnow()
    rates = list_pay_rates(session, annotator_id=annotator_id)
    fixes = list_pay_rate_corrections(session, pay_rate_ids=[rate.id for rate in rates])
    columns = [
        "id",
        "from",
        "until",
        "basis",
        "amount",
        "rate",
        "currency",
        "in effect",
        "reason",
        "recorded by",
        "corrections",
        "correction history",
    ]
    rows = []
    for index, rate in enumerate(rates):
        following = rates[index + 1].effective_from if index + 1 < len(rates) else None
        mine = [fix for fix in fixes if fix.pay_rate_id == rate.id]
        rows.append(
            {
                "id": rate.id,
                "from": rate.effective_from.date().isoformat(),
                "until": following.date().isoformat() if following else "",
                "basis": rate.basis,
                "amount": str(to_major(rate.amount_minor, rate.currency)),
                "rate": format_money(rate.amount_minor, rate.currency),
                "currency": rate.currency,
                "in effect": rate.effective_from <= now and (following is None or following > now),
                "reason": rate.reason,
                "recorded by": rate.created_by or "",
                "corrections": len(mine),
                "correction history": "; ".join(
                    f"{fix.corrected_at:%Y-%m-%d} {fix.corrected_by}: was {_describe(fix.before)}"
                    f" ({fix.reason})"
                    for fix in mine
                ),
            }
        )
    return pd.DataFrame(list(reversed(rows)), columns=columns)


def add_pay_rate(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    basis: str,
    amount: str,
    currency: str,
    effective_on: dt.date,
    reason: str,
    expected_pay_version: int | None = None,
) -> PayRate:
    """A new rate from ``effective_on``; it must start after the person's latest rate.

    ``expected_pay_version`` is the pay history version the editor saw (Profile's
    pay_version); if the history changed since, or changes while this is saved, the new
    rate is refused and nothing is stored.
    """
    annotator = load_annotator(session, actor, annotator_id, action="pay.edit")
    require_active(annotator)
    terms = _validated_terms(basis, amount, currency, effective_on)
    reason = require_text(reason, "reason", "Say why the rate changes, e.g. 'annual review'.")
    _claim_pay_history(session, annotator, expected_pay_version)
    rates = list_pay_rates(session, annotator_id=annotator.id)
    if rates and terms["effective_from"] <= rates[-1].effective_from:
        raise ValidationError(
            f"A new rate must start after the latest one "
            f"({rates[-1].effective_from:%Y-%m-%d}); to change a past rate, record a correction.",
            field="effective_on",
        )
    rate = PayRate(
        annotator_id=annotator.id,
        basis=terms["basis"],
        amount_minor=terms["amount_minor"],
        currency=terms["currency"],
        effective_from=terms["effective_from"],
        reason=reason[:200],
        created_by=actor.username,
    )
    session.add(rate)
    audit.record(session, actor, "pay_rate.create", rate)
    # A rate that starts in the past re-prices the work it covers, in this transaction.
    session.flush()
    rollups.reprice(session)
    return rate


def correct_pay_rate(
    session: Session,
    actor: Principal,
    pay_rate_id: int,
    *,
    basis: str,
    amount: str,
    currency: str,
    effective_on: dt.date,
    reason: str,
    expected_corrections: int,
) -> PayRateCorrection:
    """Correct a recorded rate; the old terms, the reason and the author are kept.

    ``expected_corrections`` is the number of corrections the editor saw; if someone
    corrected the rate in the meantime the correction is refused.
    """
    rate = session.get(PayRate, pay_rate_id, populate_existing=True, with_for_update=True)
    if rate is None:
        raise NotFound(f"No pay rate {pay_rate_id}.")
    annotator = load_annotator(session, actor, rate.annotator_id, action="pay.edit")
    # A correction moves a start that a concurrent new rate was checked against.
    _claim_pay_history(session, annotator, None)
    fixes = list_pay_rate_corrections(session, pay_rate_ids=[rate.id])
    if len(fixes) != expected_corrections:
        latest = fixes[-1] if fixes else None
        raise ConflictError(
            changed_message(
                f"The rate from {rate.effective_from:%Y-%m-%d}",
                latest.corrected_by if latest else None,
                latest.corrected_at if latest else None,
            )
        )
    terms = _validated_terms(basis, amount, currency, effective_on)
    reason = require_text(
        reason,
        "reason",
        "Say what was wrong, e.g. 'entered 16.00 instead of 18.00'; it is kept with the rate.",
        minimum=5,
    )
    before = _terms(rate)
    after = {**terms, "effective_from": terms["effective_from"].isoformat()}
    if before == after:
        raise ValidationError(
            "Nothing changed; edit the amount, basis, currency or start.", field="amount"
        )
    others = [r for r in list_pay_rates(session, annotator_id=rate.annotator_id) if r is not rate]
    earlier = [r.effective_from for r in others if r.effective_from < rate.effective_from]
    later = [r.effective_from for r in others if r.effective_from > rate.effective_from]
    start = terms["effective_from"]
    if (earlier and start <= max(earlier)) or (later and start >= min(later)):
        low = f"{max(earlier):%Y-%m-%d}" if earlier else "the beginning"
        high = f"{min(later):%Y-%m-%d}" if later else "now"
        raise ValidationError(
            f"The corrected start must stay between the neighbouring rates ({low} and {high}).",
            field="effective_on",
        )
    correction = PayRateCorrection(
        pay_rate_id=rate.id,
        before=before,
        after=after,
        reason=reason,
        corrected_by=actor.username,
    )
    session.add(correction)
    rate.basis = terms["basis"]
    rate.amount_minor = terms["amount_minor"]
    rate.currency = terms["currency"]
    rate.effective_from = terms["effective_from"]
    session.flush()
    audit.record(
        session,
        actor,
        "pay_rate.correct",
        rate,
        before=before,
        # The rate's own reason column is why it was set; why it was corrected is apart.
        after={**after, "correction_reason": reason, "correction_id": correction.id},
    )
    # Spend, Home and the reports read the rollups' costs: they change with the rate now.
    rollups.reprice(session)
    return correction


def _at_most_zero(amount: str) -> bool:
    """True for an amount that reads as a number of zero or less (anything else is left
    to parse_amount, which names what is wrong with it)."""
    try:
        value = Decimal(str(amount).replace(",", "").strip())
    except InvalidOperation:
        return False
    return value.is_finite() and value <= 0


def _claim_pay_history(session: Session, annotator: Annotator, expected: int | None) -> None:
    """Count this change in the person's pay history version, or raise ConflictError when
    the history is not at the version the editor saw, or someone else is changing it."""
    current = get_pay_version(session, annotator_id=annotator.id)
    if expected is not None and expected != current:
        raise ConflictError(_pay_changed(annotator))
    if not bump_pay_version(session, annotator_id=annotator.id, expected=current):
        raise ConflictError(_pay_changed(annotator))


def _pay_changed(annotator: Annotator) -> str:
    return changed_message(f"The pay history of {annotator.display_name}", None, None)


def _validated_terms(
    basis: str, amount: str, currency: str, effective_on: dt.date
) -> dict[str, Any]:
    if basis not in PAY_BASES:
        raise ValidationError(f"Basis must be one of {', '.join(PAY_BASES)}.", field="basis")
    code = validate_currency(currency)
    if not str(amount).strip():
        raise ValidationError("Give the rate's amount, e.g. 18.50.", field="amount")
    if _at_most_zero(amount):
        raise ValidationError(
            f"A pay rate is more than zero, e.g. 18.50; {quote_amount(amount)} is not.",
            field="amount",
        )
    amount_minor = parse_amount(amount, code, field="amount")
    return {
        "basis": basis,
        "amount_minor": amount_minor,
        "currency": code,
        "effective_from": start_of_day(effective_on),
    }
