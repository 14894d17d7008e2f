"""Cost of annotation and review work at the pay rate in effect when it was done.

This module and the rollup SQL (db.rollup_sql.aggregate_select) implement one rule,
written out in the README ("How cost is computed"); a property test holds the two to
the same answer to the minor unit. The rule, in short:

- Work is paid at the annotator's rate in effect when it was submitted. Hourly: every
  active second, skipped items included. Per item: each answered annotation (not
  skipped, with a label).
- A review (an event with a review outcome and a reviewer) is paid at the reviewer's
  rate in effect when it was reviewed (when it was submitted, if the review time is
  unknown). Hourly: the review seconds. Per item: each review.
- Seconds become whole milliseconds (half up). An event's exact cost is an integer in
  1/3,600,000 of a minor unit (milliseconds x rate per hour, or rate per item x
  3,600,000); exact costs are summed and rounded half up to minor units once per total.
- A stored total (a rollup row: annotator x project x UTC day of submission) holds one
  currency: that of the annotator's rate for the day's work or, for work no rate
  covers, that of its reviewers' rates (the alphabetically last code where there are
  several). Cost in another currency is left out of the row and counted as unpriced;
  amounts in different currencies are never added.

Rates: one row per (annotator_id, effective_from) with basis 'hourly' | 'per_item',
amount_minor (integer minor units per hour or per item) and currency. Events: one row
per piece of work with annotator_id, submitted_at, active_seconds and optionally
project_id, skipped, label, review_outcome, reviewer_id, review_seconds, reviewed_at.
Money is integer minor units (cents); timestamps are timezone-aware.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

PAY_BASES: tuple[str, ...] = ("hourly", "per_item")
RATE_COLUMNS: tuple[str, ...] = (
    "annotator_id",
    "effective_from",
    "basis",
    "amount_minor",
    "currency",
)
EVENT_COLUMNS: tuple[str, ...] = ("annotator_id", "submitted_at", "active_seconds")
# Exact costs are counted in 1/COST_SCALE of a minor unit: milliseconds x rate per hour.
COST_SCALE = 3_600_000


@dataclass(frozen=True)
class PricedEvents:
    """Events with per-event exact cost columns and the count left unpriced.

    annotation_cost_exact and review_cost_exact are integers in 1/COST_SCALE of a minor
    unit of annotation_currency; round totals with to_minor_units.
    """

    events: pd.DataFrame
    n_unpriced: int


def to_minor_units(exact: int) -> int:
    """An exact cost total (1/COST_SCALE of a minor unit) in minor units, half up."""
    return (int(exact) + COST_SCALE // 2) // COST_SCALE


def price_events(events: pd.DataFrame, rates: pd.DataFrame) -> PricedEvents:
    """Per event: exact annotation and review cost at the rates then in effect."""
    _check_columns(events, EVENT_COLUMNS, "events")
    _check_rates(rates)
    frame = events.reset_index(drop=True)
    frame["submitted_at"] = _as_utc(frame["submitted_at"], "events.submitted_at")
    rate_table = rates.loc[:, list(RATE_COLUMNS)].copy()
    rate_table["effective_from"] = _as_utc(rate_table["effective_from"], "rates.effective_from")
    rate_table = rate_table.sort_values("effective_from", kind="stable")

    annotation_rate = _rate_in_effect(frame["annotator_id"], frame["submitted_at"], rate_table)
    skipped = (
        frame["skipped"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "skipped" in frame.columns
        else np.zeros(len(frame), dtype=bool)
    )
    labelled = (
        frame["label"].notna().to_numpy(dtype=bool)
        if "label" in frame.columns
        else np.ones(len(frame), dtype=bool)
    )
    active_ms = milliseconds(frame["active_seconds"])
    hourly = annotation_rate["basis"].to_numpy() == "hourly"
    per_item = annotation_rate["basis"].to_numpy() == "per_item"
    amount = annotation_rate["amount_minor"].fillna(0).to_numpy(dtype=np.int64)
    # A per-item rate pays for delivered answers; a skipped or empty item delivers nothing.
    annotation_cost = np.where(
        hourly,
        active_ms * amount,
        np.where(per_item & ~skipped & labelled, amount * COST_SCALE, 0),
    )
    annotation_priced = hourly | per_item
    annotation_currency = annotation_rate["currency"].where(annotation_priced)

    reviewed = _reviewed_mask(frame)
    review_cost = np.zeros(len(frame), dtype=np.int64)
    review_priced = np.zeros(len(frame), dtype=bool)
    review_currency = pd.Series(None, index=frame.index, dtype=object)
    if reviewed.any():
        review_rows = frame.loc[reviewed]
        review_time = review_rows["submitted_at"]
        if "reviewed_at" in frame.columns and review_rows["reviewed_at"].notna().any():
            reviewed_at = _as_utc(review_rows["reviewed_at"], "events.reviewed_at")
            review_time = reviewed_at.where(reviewed_at.notna(), review_time)
        review_rate = _rate_in_effect(
            review_rows["reviewer_id"].astype(rate_table["annotator_id"].dtype),
            review_time,
            rate_table,
        )
        positions = np.flatnonzero(reviewed)
        review_hourly = review_rate["basis"].to_numpy() == "hourly"
        review_per_item = review_rate["basis"].to_numpy() == "per_item"
        review_amount = review_rate["amount_minor"].fillna(0).to_numpy(dtype=np.int64)
        review_ms = milliseconds(
            review_rows["review_seconds"]
            if "review_seconds" in review_rows.columns
            else pd.Series(0.0, index=review_rows.index)
        )
        review_cost[positions] = np.where(
            review_hourly,
            review_ms * review_amount,
            np.where(review_per_item, review_amount * COST_SCALE, 0),
        )
        review_priced[positions] = review_hourly | review_per_item
        review_currency.iloc[positions] = (
            review_rate["currency"].where(review_hourly | review_per_item).to_numpy()
        )

    priced = frame.assign(
        annotation_cost_exact=annotation_cost.astype(np.int64),
        annotation_currency=annotation_currency.to_numpy(),
        annotation_priced=annotation_priced,
        review_cost_exact=review_cost,
        review_currency=review_currency.to_numpy(),
        review_priced=review_priced,
        has_review=reviewed,
    )
    unpriced = ~annotation_priced | (reviewed & ~review_priced)
    return PricedEvents(events=priced, n_unpriced=int(unpriced.sum()))


ROLLUP_COST_COLUMNS: tuple[str, ...] = (
    "annotator_id",
    "project_id",
    "day",
    "cost_minor",
    "review_cost_minor",
    "currency",
    "unpriced_events",
)


def cost_by_rollup_row(priced: PricedEvents) -> pd.DataFrame:
    """One row per annotator x project x UTC day of submission: cost and review cost
    (int minor units) in the row's currency, as the daily rollups store them, and how
    many events have work or a review that no rate in that currency priced."""
    _check_columns(priced.events, ("project_id",), "events")
    keys = ["annotator_id", "project_id", "day"]
    frame = priced.events.assign(day=priced.events["submitted_at"].dt.tz_convert("UTC").dt.date)
    if frame.empty:
        return pd.DataFrame(columns=list(ROLLUP_COST_COLUMNS))
    groups = frame.groupby(keys, sort=True)
    row_currency = groups["annotation_currency"].transform("max")
    row_currency = row_currency.where(
        row_currency.notna(), groups["review_currency"].transform("max")
    )
    work_counted = frame["annotation_currency"].eq(row_currency).fillna(False).astype(bool)
    review_counted = frame["review_currency"].eq(row_currency).fillna(False).astype(bool)
    frame = frame.assign(
        currency=row_currency,
        _work=frame["annotation_cost_exact"].where(work_counted, 0),
        _review=frame["review_cost_exact"].where(review_counted, 0),
        _unpriced=~work_counted | (frame["has_review"] & ~review_counted),
    )
    rows = frame.groupby(keys, sort=True, dropna=False).agg(
        exact_work=("_work", "sum"),
        exact_review=("_review", "sum"),
        currency=("currency", "first"),
        unpriced_events=("_unpriced", "sum"),
    )
    result = rows.reset_index()
    result["cost_minor"] = [to_minor_units(int(value)) for value in result["exact_work"]]
    result["review_cost_minor"] = [to_minor_units(int(value)) for value in result["exact_review"]]
    result["currency"] = result["currency"].astype(object).where(result["currency"].notna(), None)
    return result.loc[:, list(ROLLUP_COST_COLUMNS)].astype(
        {"cost_minor": "int64", "review_cost_minor": "int64", "unpriced_events": "int64"}
    )


def cost_by_currency(rows: pd.DataFrame) -> dict[str, int]:
    """Work and review cost (int minor units) per currency of cost_by_rollup_row's rows."""
    totals: dict[str, int] = {}
    for currency, work, review in zip(
        rows["currency"], rows["cost_minor"], rows["review_cost_minor"], strict=True
    ):
        if currency is not None:
            totals[str(currency)] = totals.get(str(currency), 0) + int(work) + int(review)
    return dict(sorted(totals.items()))


def summarise_cost(priced: PricedEvents, *, by: Sequence[str] = ()) -> pd.DataFrame:
    """One row per group: spend (int minor units), counts, cost per (accepted) annotation."""
    # Cost per annotation divides labelling spend by submitted annotations; cost per
    # accepted annotation loads everything (rework events and review time included) onto
    # the annotations a reviewer accepted.
    if isinstance(by, str):
        raise TypeError("by must be a sequence of column names, e.g. ('project_id',)")
    frame = priced.events
    keys = list(by) if by else ["_all"]
    outcome = (
        frame["review_outcome"]
        if "review_outcome" in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    skipped = (
        frame["skipped"].astype("boolean").fillna(False).astype(bool)
        if "skipped" in frame.columns
        else pd.Series(False, index=frame.index)
    )
    work = frame.assign(
        _all=0,
        _submitted=~skipped,
        _accepted=(outcome == "accepted") & ~skipped,
        _unpriced=~frame["annotation_priced"] | (frame["has_review"] & ~frame["review_priced"]),
    )
    rows = []
    for key, group in work.groupby(keys, sort=True, dropna=False):
        currencies = set(group["annotation_currency"].dropna()) | set(
            group["review_currency"].dropna()
        )
        if len(currencies) > 1:
            raise ValueError(
                f"group {key!r} mixes currencies {', '.join(sorted(currencies))}; "
                "summarise each currency separately (add a currency column to by)"
            )
        annotation_spend = to_minor_units(int(group["annotation_cost_exact"].sum()))
        review_spend = to_minor_units(int(group["review_cost_exact"].sum()))
        submitted = int(group["_submitted"].sum())
        accepted = int(group["_accepted"].sum())
        spend = annotation_spend + review_spend
        row: dict[str, object] = dict(
            zip(keys, key if isinstance(key, tuple) else (key,), strict=True)
        )
        row.update(
            currency=next(iter(currencies)) if currencies else None,
            annotation_spend_minor=annotation_spend,
            review_spend_minor=review_spend,
            spend_minor=spend,
            submitted_annotations=submitted,
            accepted_annotations=accepted,
            cost_per_annotation_minor=annotation_spend / submitted if submitted else None,
            cost_per_accepted_annotation_minor=spend / accepted if accepted else None,
            unpriced_events=int(group["_unpriced"].sum()),
        )
        rows.append(row)
    columns = [
        *keys,
        "currency",
        "annotation_spend_minor",
        "review_spend_minor",
        "spend_minor",
        "submitted_annotations",
        "accepted_annotations",
        "cost_per_annotation_minor",
        "cost_per_accepted_annotation_minor",
        "unpriced_events",
    ]
    summary = pd.DataFrame(rows, columns=columns)
    return summary.set_index(list(by)) if by else summary.drop(columns="_all")


def _rate_in_effect(
    annotator_ids: pd.Series, times: pd.Series, rate_table: pd.DataFrame
) -> pd.DataFrame:
    left = pd.DataFrame(
        {
            "_position": np.arange(len(times)),
            "annotator_id": annotator_ids.reset_index(drop=True).astype(
                rate_table["annotator_id"].dtype
            ),
            "_at": times.reset_index(drop=True).dt.as_unit("ns"),
        }
    )
    right = rate_table.assign(effective_from=rate_table["effective_from"].dt.as_unit("ns"))
    # A rate applies from its effective instant onward, until the next one for that person.
    matched = pd.merge_asof(
        left.sort_values("_at", kind="stable"),
        right,
        left_on="_at",
        right_on="effective_from",
        by="annotator_id",
        direction="backward",
        allow_exact_matches=True,
    )
    return matched.sort_values("_position").reset_index(drop=True)


def milliseconds(seconds: pd.Series) -> npt.NDArray[np.int64]:
    """Seconds as whole milliseconds, half up (missing seconds are 0)."""
    values = seconds.astype(np.float64).fillna(0.0).to_numpy()
    if (values < 0).any():
        raise ValueError("active and review seconds must not be negative")
    # floor(x * 1000 + 0.5) in float64, as the rollup SQL computes it on both databases.
    whole: npt.NDArray[np.int64] = np.floor(values * 1000.0 + 0.5).astype(np.int64)
    return whole


def _reviewed_mask(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Events with a review outcome and a reviewer."""
    if "reviewer_id" not in frame.columns or "review_outcome" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    mask = frame["reviewer_id"].notna() & frame["review_outcome"].notna()
    return mask.to_numpy(dtype=bool)


def _check_rates(rates: pd.DataFrame) -> None:
    _check_columns(rates, RATE_COLUMNS, "rates")
    bad_basis = sorted(set(rates["basis"]) - set(PAY_BASES), key=str)
    if bad_basis:
        raise ValueError(
            f"rates has unknown basis {', '.join(map(str, bad_basis))}; "
            f"use {' or '.join(PAY_BASES)}"
        )
    if not pd.api.types.is_integer_dtype(rates["amount_minor"]):
        raise ValueError("rates.amount_minor must be integer minor units (cents), not float")
    if (rates["amount_minor"] < 0).any():
        raise ValueError("rates.amount_minor must not be negative")


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame is missing column(s) {', '.join(missing)}")


def _as_utc(timestamps: pd.Series, name: str) -> pd.Series:
    if not isinstance(timestamps.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"{name} must be timezone-aware datetimes (UTC), got {timestamps.dtype}")
    converted: pd.Series = timestamps.dt.tz_convert("UTC")
    return converted
