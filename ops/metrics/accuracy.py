"""Gold accuracy with Wilson intervals, and consistency on repeated items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from ops.metrics.ratings import check_rating_frame, select_gold_rows


@dataclass(frozen=True)
class GoldAccuracy:
    """Accuracy on golden items: a fraction in [0, 1] with its Wilson interval."""

    correct: int
    answered: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None


def compute_gold_accuracy(correct: int, answered: int, *, confidence: float = 0.95) -> GoldAccuracy:
    """One annotator: correct / answered golden items (fraction) with a Wilson interval."""
    _check_counts(np.asarray([correct]), np.asarray([answered]))
    _check_confidence(confidence)
    if answered == 0:
        return GoldAccuracy(correct=0, answered=0, accuracy=None, ci_low=None, ci_high=None)
    low, high = proportion_confint(correct, answered, alpha=1 - confidence, method="wilson")
    return GoldAccuracy(
        correct=int(correct),
        answered=int(answered),
        accuracy=correct / answered,
        ci_low=float(low),
        ci_high=float(high),
    )


def compute_gold_accuracy_table(
    counts: pd.DataFrame,
    *,
    correct_column: str = "correct",
    answered_column: str = "answered",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per row of counts: accuracy and its Wilson interval (fractions; NaN if none answered)."""
    correct = counts[correct_column].to_numpy(dtype=np.int64)
    answered = counts[answered_column].to_numpy(dtype=np.int64)
    _check_counts(correct, answered)
    _check_confidence(confidence)
    accuracy = np.full(len(counts), np.nan)
    low = np.full(len(counts), np.nan)
    high = np.full(len(counts), np.nan)
    answered_any = answered > 0
    if answered_any.any():
        accuracy[answered_any] = correct[answered_any] / answered[answered_any]
        low[answered_any], high[answered_any] = proportion_confint(
            correct[answered_any], answered[answered_any], alpha=1 - confidence, method="wilson"
        )
    result = counts.copy()
    result["accuracy"] = accuracy
    result["accuracy_ci_low"] = low
    result["accuracy_ci_high"] = high
    return result


def count_gold_answers(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per annotator with a gold answer: answered and correct golden ratings (counts)."""
    check_rating_frame(frame)
    golden = select_gold_rows(frame)
    if golden.empty:
        empty = pd.Index([], name="annotator_id", dtype=frame["annotator_id"].dtype)
        return pd.DataFrame({"answered": [], "correct": []}, index=empty, dtype=np.int64)
    is_correct = golden["label"].astype(str) == golden["gold"].astype(str)
    grouped = is_correct.groupby(golden["annotator_id"], sort=False)
    counts = pd.DataFrame({"answered": grouped.size(), "correct": grouped.sum()})
    counts.index.name = "annotator_id"
    return counts.astype({"answered": np.int64, "correct": np.int64})


def compute_consistency(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per annotator with a repeated item: repeated and consistent items, their share."""
    # A repeated item is an (annotator, item) pair rated two or more times; it is consistent
    # only if every one of those ratings carries the same label.
    check_rating_frame(frame)
    per_pair = frame.groupby(["annotator_id", "item_id"], sort=False)["label"].agg(
        ["size", "nunique"]
    )
    repeated = per_pair[per_pair["size"] >= 2]
    grouped = (repeated["nunique"] == 1).groupby(level="annotator_id", sort=False)
    result = pd.DataFrame(
        {"n_repeated_items": grouped.size(), "n_consistent_items": grouped.sum()}
    ).astype(np.int64)
    result["consistency"] = result["n_consistent_items"] / result["n_repeated_items"]
    result.index.name = "annotator_id"
    return result


def _check_counts(correct: np.ndarray, answered: np.ndarray) -> None:
    if (correct < 0).any() or (answered < 0).any():
        raise ValueError("gold counts must not be negative")
    if (correct > answered).any():
        raise ValueError("correct gold answers cannot exceed answered gold items")


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
