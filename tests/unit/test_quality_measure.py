"""The figures the nightly agreement job stores, on published data and edge cases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from ops.agreement_report import read_agreement_csv
from ops.quality import agreement_window, measure_agreement, repeat_consistency

REFDATA = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"


def published(name: str) -> dict[str, float]:
    figures: dict[str, float] = json.loads((REFDATA / f"{name}.json").read_text())["published"]
    return figures


def test_fleiss_example_is_reproduced_and_json_ready() -> None:
    frame = read_agreement_csv(REFDATA / "fleiss_wikipedia_10x14.csv")
    figures = measure_agreement(frame)
    assert figures["fleiss_kappa"] == pytest.approx(
        published("fleiss_wikipedia_10x14")["fleiss_kappa"], abs=5e-4
    )
    assert figures["fleiss_kappa_note"] is None
    assert (figures["n_items"], figures["n_labels"], figures["n_annotators"]) == (10, 140, 14)
    assert len(figures["cohen_pairs"]) == 14 * 13 // 2
    assert [row["item_id"] for row in figures["disputed_items"][:3]] == ["8", "7", "2"]
    assert {row["n"] for row in figures["annotators"]} == {10}
    # Stored as JSON: only plain Python values.
    assert json.loads(json.dumps(figures)) == figures


def test_krippendorff_example_with_missing_ratings() -> None:
    frame = read_agreement_csv(REFDATA / "krippendorff_wikipedia_3x15.csv")
    figures = measure_agreement(frame)
    assert figures["alpha"] == pytest.approx(
        published("krippendorff_wikipedia_3x15")["nominal"], abs=5e-7
    )
    assert figures["fleiss_kappa"] is None
    assert "same number of ratings" in figures["fleiss_kappa_note"]


def test_cohen_pair_and_gold_of_disputed_items() -> None:
    frame = pd.DataFrame(
        {
            "item_id": ["a", "a", "b", "b", "c", "c"],
            "annotator_id": [1, 2, 1, 2, 1, 2],
            "label": ["x", "y", "x", "x", "y", "y"],
            "gold": ["y", "y", None, None, None, None],
        },
        dtype=object,
    )
    figures = measure_agreement(frame)
    [pair] = figures["cohen_pairs"]
    # p_o = 2/3, p_e = 2/3 * 1/3 + 1/3 * 2/3 = 4/9, kappa = (2/9) / (5/9) = 0.4.
    assert (pair["annotator_a"], pair["annotator_b"], pair["n_shared"]) == (1, 2, 3)
    assert pair["kappa"] == pytest.approx(0.4)
    assert figures["disputed_items"] == [
        {
            "item_id": "a",
            "n_ratings": 2,
            "agreement": 0.0,
            "gold": "y",
            "label_counts": {"x": 1, "y": 1},
        }
    ]
    assert figures["percent_agreement"] == pytest.approx(2 / 3)


def test_no_labels_gives_empty_figures_with_a_reason() -> None:
    empty = pd.DataFrame(columns=["item_id", "annotator_id", "label", "gold"])
    figures = measure_agreement(empty)
    assert figures["n_labels"] == 0 and figures["alpha"] is None
    assert figures["fleiss_kappa_note"] == "no labels in the window"
    assert figures["cohen_pairs"] == figures["annotators"] == figures["disputed_items"] == []


@pytest.mark.parametrize(
    ("now", "days", "expected"),
    [
        (
            dt.datetime(2026, 3, 10, 2, 30, tzinfo=dt.UTC),
            30,
            (dt.date(2026, 2, 8), dt.date(2026, 3, 9)),
        ),
        (
            dt.datetime(2026, 3, 10, 23, 59, tzinfo=dt.UTC),
            1,
            (dt.date(2026, 3, 9), dt.date(2026, 3, 9)),
        ),
        # 01:00 in UTC+2 is still the previous UTC day.
        (
            dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            7,
            (dt.date(2026, 3, 2), dt.date(2026, 3, 8)),
        ),
    ],
)
def test_window_is_the_last_full_utc_days(
    now: dt.datetime, days: int, expected: tuple[dt.date, dt.date]
) -> None:
    assert agreement_window(now, days) == expected


def test_window_needs_a_day() -> None:
    with pytest.raises(ValueError, match="window_days must be at least 1"):
        agreement_window(dt.datetime(2026, 3, 10, tzinfo=dt.UTC), 0)


def test_consistency_counts_repeated_items_per_annotator() -> None:
    frame = pd.DataFrame(
        {
            "item_id": ["a", "a", "b", "b", "c", "a", "a"],
            "annotator_id": [1, 1, 1, 1, 1, 2, 2],
            "label": ["x", "x", "x", "y", "x", "x", "x"],
            "gold": [None] * 7,
        }
    )
    assert repeat_consistency(frame) == {1: (2, 1), 2: (1, 1)}
    figures = measure_agreement(frame)
    by_person = {person["annotator_id"]: person for person in figures["annotators"]}
    assert (by_person[1]["n_repeated"], by_person[1]["n_consistent"]) == (2, 1)
