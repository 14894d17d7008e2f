"""Confusion against gold: a square matrix over the project's labels, rates per row."""

from __future__ import annotations

import math

import pandas as pd

from ops.metrics.confusion import Confusion, confusion_counts, most_confused, row_rates

PAIRS = pd.DataFrame(
    {
        "gold_label": ["cat", "cat", "dog", "dog", "bird"],
        "label": ["cat", "dog", "dog", "cat", "cat"],
        "answered": [8, 2, 5, 5, 1],
    }
)


def test_the_matrix_is_square_over_the_project_labels_with_zeros() -> None:
    counts = confusion_counts(PAIRS, ["bird", "cat", "dog", "fish"])
    assert list(counts.index) == list(counts.columns) == ["bird", "cat", "dog", "fish"]
    assert counts.loc["cat", "dog"] == 2 and counts.loc["fish", "fish"] == 0
    assert int(counts.to_numpy().sum()) == 21


def test_row_rates_are_shares_of_each_gold_label() -> None:
    rates = row_rates(confusion_counts(PAIRS, ["bird", "cat", "dog", "fish"]))
    assert rates.loc["cat", "cat"] == 0.8 and rates.loc["dog", "cat"] == 0.5
    # No golden item expects fish.
    assert math.isnan(float(rates.loc["fish", "fish"]))  # type: ignore[arg-type]


def test_the_most_confused_pairs_come_first() -> None:
    counts = confusion_counts(PAIRS, ["bird", "cat", "dog"])
    assert most_confused(counts) == [
        Confusion("dog", "cat", 5, 0.5),
        Confusion("cat", "dog", 2, 0.2),
        Confusion("bird", "cat", 1, 1.0),
    ]
    assert most_confused(confusion_counts(PAIRS.iloc[[0, 2]], ["cat", "dog"])) == []
