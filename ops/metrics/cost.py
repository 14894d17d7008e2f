"""Cost of annotation and review work at the pay rate in effect when it was done.

Rates: one row per (annotator_id, effective_from) with basis 'hourly' | 'per_item',
amount_minor (integer minor units per hour or per item) and currency. Events: one row
per piece of work with annotator_id, submitted_at, active_seconds and optionally
skipped, review_outcome, reviewer_id, review_seconds, reviewed_at. Money is integer
minor units (cents); timestamps are timezone-aware.
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
MILLISECONDS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class PricedEvents:
    """Events with per-event cost columns (integer minor units) and the count left unpriced."""

    events: pd.DataFrame
    n_unpriced: int


def price_events(events: pd.DataFrame, rates: pd.DataFrame) -> PricedEvents:
    """Per event: annotation_cost_minor and review_cost_minor (int minor units) at the rate then."""
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
    active_ms = _milliseconds(frame["active_seconds"])
    hourly = annotation_rate["basis"].to_numpy() == "hourly"
    per_item = annotation_rate["basis"].to_numpy() == "per_item"
    amount = annotation_rate["amount_minor"].fillna(0).to_numpy(dtype=np.int64)
    # A per-item rate pays for delivered items; a skipped item delivers nothing.
    annotation_cost = np.where(
        hourly,
        _cost_of_time(active_ms, amount),
        np.where(per_item & ~skipped, amount, 0),
    )
    annotation_priced = hourly | per_item

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
        # Review is paid by the hour; a reviewer with only a per-item rate has no price for
        # review time, so it is flagged rather than guessed.
        review_hourly = review_rate["basis"].to_numpy() == "hourly"
        review_amount = review_rate["amount_minor"].fillna(0).to_numpy(dtype=np.int64)
        review_ms = _milliseconds(review_rows["review_seconds"])
        positions = np.flatnonzero(reviewed)
        review_cost[positions] = np.where(review_hourly, _cost_of_time(review_ms, review_amount), 0)
        review_priced[positions] = review_hourly
        review_currency.iloc[positions] = review_rate["currency"].where(review_hourly).to_numpy()

    priced = frame.assign(
        annotation_cost_minor=annotation_cost.astype(np.int64),
        annotation_currency=annotation_rate["currency"].where(annotation_priced).to_numpy(),
        annotation_priced=annotation_priced,
        review_cost_minor=review_cost,
        review_currency=review_currency.to_numpy(),
        review_priced=review_priced,
        has_review=reviewed,
    )
    unpriced = ~annotation_priced | (reviewed & ~review_priced)
    return PricedEvents(events=priced, n_unpriced=int(unpriced.sum()))


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
        annotation_spend = int(group["annotation_cost_minor"].sum())
        review_spend = int(group["review_cost_minor"].sum())
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


def _cost_of_time(
    milliseconds: npt.NDArray[np.int64], amount_per_hour: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    # Integer arithmetic rounds half-up exactly; floats would misround x.5 cents at random.
    numerator = 2 * milliseconds * amount_per_hour + MILLISECONDS_PER_HOUR
    cost: npt.NDArray[np.int64] = numerator // (2 * MILLISECONDS_PER_HOUR)
    return cost


def _milliseconds(seconds: pd.Series) -> npt.NDArray[np.int64]:
    values = seconds.astype(np.float64).fillna(0.0).to_numpy()
    if (values < 0).any():
        raise ValueError("active and review seconds must not be negative")
    milliseconds: npt.NDArray[np.int64] = np.floor(values * 1000.0 + 0.5).astype(np.int64)
    return milliseconds


def _reviewed_mask(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    if "reviewer_id" not in frame.columns or "review_seconds" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    mask = frame["reviewer_id"].notna() & frame["review_seconds"].notna()
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
