"""Gold accuracy with Wilson intervals, and consistency on repeated items."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ops.metrics import (
    compute_consistency,
    compute_gold_accuracy,
    compute_gold_accuracy_table,
    count_gold_answers,
)

Z_95 = 1.959963984540054


def wilson_by_hand(correct: int, answered: int) -> tuple[float, float]:
    # Wilson (1927) score interval written out, independent of statsmodels.
    share = correct / answered
    centre = (share + Z_95**2 / (2 * answered)) / (1 + Z_95**2 / answered)
    half = (
        Z_95
        / (1 + Z_95**2 / answered)
        * math.sqrt(share * (1 - share) / answered + Z_95**2 / (4 * answered**2))
    )
    return centre - half, centre + half


@pytest.mark.parametrize(
    ("correct", "answered", "accuracy", "low", "high"),
    [
        (0, 10, 0.0, 0.0, 0.2775328),
        (5, 10, 0.5, 0.2365931, 0.7634069),
        (10, 10, 1.0, 0.7224672, 1.0),
        (1, 1, 1.0, 0.2065493, 1.0),
        (45, 50, 0.9, 0.7863977, 0.9565242),
    ],
)
def test_gold_accuracy_has_wilson_interval(
    correct: int, answered: int, accuracy: float, low: float, high: float
) -> None:
    result = compute_gold_accuracy(correct, answered)
    assert result.accuracy == pytest.approx(accuracy)
    assert result.ci_low == pytest.approx(low, abs=1e-7)
    assert result.ci_high == pytest.approx(high, abs=1e-7)
    assert (result.ci_low, result.ci_high) == pytest.approx(wilson_by_hand(correct, answered))


def test_gold_accuracy_without_answers_is_none() -> None:
    result = compute_gold_accuracy(0, 0)
    assert (result.accuracy, result.ci_low, result.ci_high) == (None, None, None)


def test_wider_confidence_gives_wider_interval() -> None:
    narrow = compute_gold_accuracy(40, 50, confidence=0.90)
    wide = compute_gold_accuracy(40, 50, confidence=0.99)
    assert narrow.ci_low is not None and narrow.ci_high is not None
    assert wide.ci_low is not None and wide.ci_high is not None
    assert wide.ci_low < narrow.ci_low
    assert wide.ci_high > narrow.ci_high


@pytest.mark.parametrize(
    ("correct", "answered", "confidence"),
    [(3, 2, 0.95), (-1, 2, 0.95), (1, 2, 1.0), (1, 2, 0.0)],
)
def test_gold_accuracy_rejects_impossible_input(
    correct: int, answered: int, confidence: float
) -> None:
    with pytest.raises(ValueError):
        compute_gold_accuracy(correct, answered, confidence=confidence)


def test_gold_accuracy_table_matches_scalar_version_row_by_row() -> None:
    counts = pd.DataFrame(
        {"correct": [0, 5, 45, 0], "answered": [10, 10, 50, 0]}, index=["a", "b", "c", "d"]
    )
    table = compute_gold_accuracy_table(counts)
    for annotator, row in table.iterrows():
        scalar = compute_gold_accuracy(int(row["correct"]), int(row["answered"]))
        if scalar.accuracy is None:
            assert annotator == "d"
            assert np.isnan(row[["accuracy", "accuracy_ci_low", "accuracy_ci_high"]]).all()
        else:
            assert row["accuracy"] == pytest.approx(scalar.accuracy)
            assert row["accuracy_ci_low"] == pytest.approx(scalar.ci_low)
            assert row["accuracy_ci_high"] == pytest.approx(scalar.ci_high)
    assert list(table.index) == ["a", "b", "c", "d"]


def test_count_gold_answers_counts_only_golden_rows() -> None:
    frame = pd.DataFrame(
        {
            "item_id": ["i1", "i1", "i2", "i2", "i3"],
            "annotator_id": ["a", "b", "a", "b", "a"],
            "label": ["x", "y", "x", "x", "y"],
            "gold": ["x", "x", "", "", "y"],
        }
    )
    counts = count_gold_answers(frame)
    assert counts.loc["a"].to_numpy().tolist() == [2, 2]
    assert counts.loc["b"].to_numpy().tolist() == [1, 0]


def test_count_gold_answers_without_gold_column_is_empty() -> None:
    frame = pd.DataFrame({"item_id": ["i1"], "annotator_id": ["a"], "label": ["x"]})
    counts = count_gold_answers(frame)
    assert counts.empty
    assert list(counts.columns) == ["answered", "correct"]


@pytest.mark.parametrize(
    ("labels_by_item", "repeated", "consistent"),
    [
        # annotator a's ratings per item; items rated once are not repeated items
        ({"i1": ["x", "x"]}, 1, 1),
        ({"i1": ["x", "y"]}, 1, 0),
        ({"i1": ["x", "x", "y"]}, 1, 0),
        ({"i1": ["x", "x"], "i2": ["y", "y"], "i3": ["x", "y"], "i4": ["z"]}, 3, 2),
    ],
)
def test_consistency_counts_repeated_items_with_identical_labels(
    labels_by_item: dict[str, list[str]], repeated: int, consistent: int
) -> None:
    rows = [(item, "a", label) for item, labels in labels_by_item.items() for label in labels]
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])
    result = compute_consistency(frame).loc["a"]
    assert result["n_repeated_items"] == repeated
    assert result["n_consistent_items"] == consistent
    assert result["consistency"] == pytest.approx(consistent / repeated)


def test_consistency_is_per_annotator_and_skips_those_without_repeats() -> None:
    frame = pd.DataFrame(
        {
            "item_id": ["i1", "i1", "i1", "i1", "i2"],
            "annotator_id": ["a", "a", "b", "b", "c"],
            "label": ["x", "x", "x", "y", "x"],
        }
    )
    result = compute_consistency(frame)
    assert result["consistency"].to_dict() == {"a": 1.0, "b": 0.0}
