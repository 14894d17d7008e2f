"""Confusion against gold: counts of (gold label, label given) as a square matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Confusion:
    """One pair of labels a person mixes up: gold ``expected``, answered ``given``."""

    expected: str
    given: str
    count: int
    share_of_expected: float  # of the golden items expecting ``expected``


def confusion_counts(pairs: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Square matrix, rows gold label, columns label given, over ``labels`` (plus any label
    in ``pairs`` not listed); ``pairs`` has gold_label, label, answered; zeros where none."""
    every = list(dict.fromkeys([*labels, *pairs["gold_label"], *pairs["label"]]))
    matrix = pairs.pivot_table(
        index="gold_label", columns="label", values="answered", aggfunc="sum", fill_value=0
    ).reindex(index=every, columns=every, fill_value=0)
    matrix.index.name, matrix.columns.name = "gold label", "label given"
    return matrix.astype("int64")


def row_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Each row of a confusion matrix as shares of its total; rows without items are NaN."""
    totals = counts.sum(axis=1)
    return counts.div(totals.where(totals > 0), axis=0)


def most_confused(counts: pd.DataFrame, *, top: int = 3) -> list[Confusion]:
    """The off-diagonal cells with the most answers, largest first."""
    totals = {str(label): int(total) for label, total in counts.sum(axis=1).items()}
    found = [
        Confusion(str(expected), str(given), int(n), int(n) / totals[str(expected)])
        for expected, row in counts.iterrows()
        for given, n in row.items()
        if expected != given and n > 0
    ]
    return sorted(found, key=lambda c: (-c.count, -c.share_of_expected, c.expected))[:top]
