"""Cost of work at the pay rate in effect at the time, in integer minor units."""

from __future__ import annotations

import pandas as pd
import pytest

from ops.metrics import (
    cost_by_currency,
    cost_by_rollup_row,
    price_events,
    summarise_cost,
    to_minor_units,
)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def make_rates() -> pd.DataFrame:
    rows = [
        ("a", utc("2024-01-01"), "hourly", 1200, "USD"),
        # Midnight UTC, written in Paris winter time (+01:00).
        ("a", pd.Timestamp("2024-02-01 01:00", tz="Europe/Paris"), "hourly", 1800, "USD"),
        ("b", utc("2024-01-01"), "per_item", 25, "USD"),
        ("r", utc("2024-01-01"), "hourly", 3600, "USD"),
        ("q", utc("2024-01-01"), "per_item", 40, "USD"),
    ]
    frame = pd.DataFrame(
        rows, columns=["annotator_id", "effective_from", "basis", "amount_minor", "currency"]
    )
    frame["effective_from"] = pd.to_datetime(frame["effective_from"], utc=True)
    return frame


EVENTS = [
    # annotator, submitted_at, seconds, skipped, reviewer, review seconds, outcome, annotation cost
    ("a", "2024-01-15 12:00", 90, False, None, None, None, 30),
    ("a", "2024-02-01 00:00", 90, False, None, None, None, 45),  # new rate from this instant
    ("a", "2024-01-31 23:59:59", 1, False, None, None, None, 0),  # 0.33 cents
    ("a", "2024-01-20 12:00", 1.5, False, None, None, None, 1),  # 0.5 cents rounds up
    ("b", "2024-01-10 12:00", 600, False, "r", 30, "accepted", 25),
    ("b", "2024-01-10 13:00", 20, True, None, None, None, 0),  # skipped: nothing delivered
    ("c", "2024-01-10 12:00", 60, False, None, None, None, 0),  # no rate at all
    ("a", "2023-12-31 12:00", 60, False, None, None, None, 0),  # before a's first rate
    ("b", "2024-01-12 12:00", 60, False, "q", 60, "corrected", 25),  # q is paid per review
    ("a", "2024-01-16 12:00", 45, False, "r", 45, "rejected", 15),
]


def make_events() -> pd.DataFrame:
    frame = pd.DataFrame(
        [row[:-1] for row in EVENTS],
        columns=[
            "annotator_id",
            "submitted_at",
            "active_seconds",
            "skipped",
            "reviewer_id",
            "review_seconds",
            "review_outcome",
        ],
    )
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], format="ISO8601", utc=True)
    return frame


def minor(values: pd.Series) -> list[int]:
    return [to_minor_units(int(value)) for value in values]


def test_each_event_is_priced_at_the_rate_then_in_effect() -> None:
    priced = price_events(make_events(), make_rates())
    assert minor(priced.events["annotation_cost_exact"]) == [row[-1] for row in EVENTS]
    assert priced.events["annotation_cost_exact"].dtype == "int64"
    # r is paid 36.00 an hour for review time, q 0.40 for each review.
    assert minor(priced.events["review_cost_exact"]) == [0, 0, 0, 0, 30, 0, 0, 0, 40, 45]


def test_unpriced_events_cost_nothing_and_are_counted() -> None:
    priced = price_events(make_events(), make_rates())
    # c has no rate, a had none yet in 2023.
    assert priced.n_unpriced == 2
    assert priced.events["annotation_priced"].tolist() == [True] * 6 + [False, False, True, True]
    assert priced.events["review_priced"].tolist()[8] is True


def test_a_review_in_another_currency_than_the_work_is_left_out_of_its_row() -> None:
    rates = make_rates()
    rates.loc[rates["annotator_id"] == "q", "currency"] = "EUR"
    events = make_events().iloc[[8]].assign(project_id=7)
    rows = cost_by_rollup_row(price_events(events, rates))
    # b's work is in dollars; q's review, in euros, is not added to it.
    assert rows[
        ["cost_minor", "review_cost_minor", "currency", "unpriced_events"]
    ].values.tolist() == [[25, 0, "USD", 1]]
    assert cost_by_currency(rows) == {"USD": 25}


def test_a_review_of_work_without_a_rate_takes_the_reviewers_currency() -> None:
    events = (
        make_events()
        .iloc[[6]]
        .assign(project_id=7, reviewer_id="r", review_seconds=60, review_outcome="accepted")
    )
    rows = cost_by_rollup_row(price_events(events, make_rates()))
    assert rows[
        ["cost_minor", "review_cost_minor", "currency", "unpriced_events"]
    ].values.tolist() == [[0, 60, "USD", 1]]


def test_per_item_work_pays_answers_only() -> None:
    events = make_events().iloc[[4, 4, 4]].assign(label=pd.Series(["x", None, "y"]).to_numpy())
    priced = price_events(events, make_rates())
    assert minor(priced.events["annotation_cost_exact"]) == [25, 0, 25]


def test_rollup_rows_round_once_and_keep_one_currency() -> None:
    # Three 0.5-cent pieces of work on one day: rounded once that is 2 cents, not 3.
    events = make_events().iloc[[3, 3, 3]].assign(project_id=7)
    rows = cost_by_rollup_row(price_events(events, make_rates()))
    assert rows[["cost_minor", "review_cost_minor", "currency"]].values.tolist() == [[2, 0, "USD"]]
    assert cost_by_currency(rows) == {"USD": 2}


@pytest.mark.parametrize(
    ("seconds", "amount_per_hour", "cents"),
    [
        (1800, 1, 1),  # exactly 0.5: half-up
        (1799, 1, 0),
        (5400, 1, 2),  # exactly 1.5: half-up, not to even
        (3600, 1999, 1999),
        (0.9, 10_000, 3),  # 2.5 cents
        (0, 5000, 0),
    ],
)
def test_hourly_cost_rounds_half_up_per_event(
    seconds: float, amount_per_hour: int, cents: int
) -> None:
    rates = pd.DataFrame(
        {
            "annotator_id": ["a"],
            "effective_from": [utc("2024-01-01")],
            "basis": ["hourly"],
            "amount_minor": [amount_per_hour],
            "currency": ["EUR"],
        }
    )
    events = pd.DataFrame(
        {"annotator_id": ["a"], "submitted_at": [utc("2024-03-01")], "active_seconds": [seconds]}
    )
    assert minor(price_events(events, rates).events["annotation_cost_exact"]) == [cents]


def test_review_uses_the_reviewers_rate_at_review_time() -> None:
    rates = pd.concat(
        [
            make_rates(),
            pd.DataFrame(
                {
                    "annotator_id": ["r"],
                    "effective_from": [utc("2024-03-01")],
                    "basis": ["hourly"],
                    "amount_minor": [7200],
                    "currency": ["USD"],
                }
            ),
        ],
        ignore_index=True,
    )
    events = make_events().iloc[[4]].assign(reviewed_at=[utc("2024-03-02")])
    priced = price_events(events, rates)
    assert minor(priced.events["review_cost_exact"]) == [60]
    without_review_time = price_events(make_events().iloc[[4]], rates)
    assert minor(without_review_time.events["review_cost_exact"]) == [30]


def test_summary_divides_spend_by_submitted_and_accepted_annotations() -> None:
    summary = summarise_cost(price_events(make_events(), make_rates()))
    row = summary.iloc[0]
    # 140.83 cents of work, rounded once.
    assert row["annotation_spend_minor"] == 141
    assert row["review_spend_minor"] == 30 + 40 + 45
    assert row["spend_minor"] == 256
    assert row["submitted_annotations"] == 9
    assert row["accepted_annotations"] == 1
    assert row["cost_per_annotation_minor"] == pytest.approx(141 / 9)
    assert row["cost_per_accepted_annotation_minor"] == pytest.approx(256)
    assert row["unpriced_events"] == 2
    assert row["currency"] == "USD"


def test_summary_by_group() -> None:
    summary = summarise_cost(price_events(make_events(), make_rates()), by=("annotator_id",))
    assert summary.loc["b", "spend_minor"] == 25 + 30 + 25 + 40
    assert pd.isna(summary["currency"]["c"])
    assert summary.loc["c", "unpriced_events"] == 1
    assert pd.isna(summary["cost_per_accepted_annotation_minor"]["a"])


def test_summary_refuses_to_add_currencies() -> None:
    rates = pd.concat(
        [
            make_rates(),
            pd.DataFrame(
                {
                    "annotator_id": ["e"],
                    "effective_from": [utc("2024-01-01")],
                    "basis": ["per_item"],
                    "amount_minor": [30],
                    "currency": ["EUR"],
                }
            ),
        ],
        ignore_index=True,
    )
    events = pd.concat(
        [make_events(), make_events().iloc[[0]].assign(annotator_id="e")], ignore_index=True
    )
    priced = price_events(events, rates)
    with pytest.raises(ValueError, match="EUR, USD"):
        summarise_cost(priced)
    assert summarise_cost(priced, by=("annotator_id",)).loc["e", "currency"] == "EUR"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount_minor": [12.5]}, "integer minor units"),
        ({"amount_minor": [-1]}, "negative"),
        ({"basis": ["weekly"]}, "unknown basis weekly"),
        ({"effective_from": [pd.Timestamp("2024-01-01")]}, "timezone-aware"),
    ],
)
def test_bad_rates_are_rejected(
    change: dict[str, list[float | str | pd.Timestamp]], message: str
) -> None:
    rates = pd.DataFrame(
        {
            "annotator_id": ["a"],
            "effective_from": [utc("2024-01-01")],
            "basis": ["hourly"],
            "amount_minor": [100],
            "currency": ["USD"],
        }
    ).assign(**change)
    events = pd.DataFrame(
        {"annotator_id": ["a"], "submitted_at": [utc("2024-03-01")], "active_seconds": [60]}
    )
    with pytest.raises(ValueError, match=message):
        price_events(events, rates)


def test_events_need_timezone_aware_times() -> None:
    events = make_events()
    events["submitted_at"] = events["submitted_at"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="timezone-aware"):
        price_events(events, make_rates())
