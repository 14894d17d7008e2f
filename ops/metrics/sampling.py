"""Review sampling: how many items to review, and whose."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
import pandas as pd


def compute_review_sample_size(
    population: int,
    *,
    confidence: float = 0.95,
    margin: float = 0.05,
    proportion: float = 0.5,
) -> int:
    """Items to review out of a population (count): Cochran's n, finite-population corrected."""
    if population < 0:
        raise ValueError(f"population must not be negative, got {population}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if not 0 < margin < 1:
        raise ValueError(f"margin must be between 0 and 1, got {margin}")
    if not 0 <= proportion <= 1:
        raise ValueError(f"proportion must be between 0 and 1, got {proportion}")
    if population == 0:
        return 0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    infinite = z * z * proportion * (1 - proportion) / (margin * margin)
    # Cochran (1977), eq. 4.2: n = n0 / (1 + (n0 - 1) / N).
    corrected = infinite / (1 + (infinite - 1) / population)
    # Rounding up keeps the margin promise; the float guard stops 278.0000000001 -> 279.
    return max(1, min(population, math.ceil(corrected - 1e-9)))


def allocate_review_sample(
    annotators: pd.DataFrame,
    total: int,
    *,
    floor: int = 1,
    items_column: str = "n_items",
    lower_bound_column: str = "accuracy_ci_low",
) -> pd.Series:
    """Review items per annotator (count), summing to total, weighted to n_i * (1 - lower bound)."""
    # Weighting by the Wilson lower bound rather than the point estimate sends more review
    # to annotators who are either weak or barely measured; a missing bound (no gold yet)
    # counts as 0, the least trusted. The floor keeps everyone under some review.
    if total < 0:
        raise ValueError(f"total must not be negative, got {total}")
    if floor < 0:
        raise ValueError(f"floor must not be negative, got {floor}")
    items = annotators[items_column].to_numpy(dtype=np.int64)
    if (items < 0).any():
        raise ValueError(f"{items_column} must not be negative")
    lower = annotators[lower_bound_column].to_numpy(dtype=np.float64)
    lower = np.clip(np.nan_to_num(lower, nan=0.0), 0.0, 1.0)
    weights = items * (1.0 - lower)
    total = min(total, int(items.sum()))

    allocation = np.zeros(len(items), dtype=np.int64)
    floors = np.minimum(items, floor)
    if floors.sum() > total:
        # Not enough to give everyone the floor: the highest-weighted annotators go first.
        order = np.lexsort((np.arange(len(items)), -weights))
        for index in order:
            grant = min(floors[index], total - allocation.sum())
            allocation[index] = grant
        return _as_series(annotators, allocation)
    allocation += floors
    allocation += _apportion(total - int(floors.sum()), weights, items - floors, items)
    return _as_series(annotators, allocation)


def _apportion(
    amount: int,
    weights: npt.NDArray[np.float64],
    capacity: npt.NDArray[np.int64],
    fallback_weights: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    # Largest-remainder apportionment with caps: anyone whose share exceeds their remaining
    # items is capped, and the rest is re-shared among the others until it fits.
    grant = np.zeros(len(weights), dtype=np.int64)
    open_ = capacity > 0
    while amount > 0 and open_.any():
        active_weights = np.where(open_, weights, 0.0)
        if active_weights.sum() <= 0:
            # Everyone left has a perfect lower bound; share by volume instead.
            active_weights = np.where(open_, fallback_weights.astype(np.float64), 0.0)
        share = amount * active_weights / active_weights.sum()
        room = capacity - grant
        capped = open_ & (share >= room)
        if capped.any():
            amount -= int(room[capped].sum())
            grant[capped] = capacity[capped]
            open_ &= ~capped
            continue
        whole = np.floor(share).astype(np.int64)
        grant += whole
        leftover = amount - int(whole.sum())
        remainder = np.where(open_, share - whole, -1.0)
        order = np.lexsort((np.arange(len(weights)), -active_weights, -remainder))
        for index in order[:leftover]:
            grant[index] += 1
        amount = 0
    return grant


def _as_series(annotators: pd.DataFrame, allocation: npt.NDArray[np.int64]) -> pd.Series:
    return pd.Series(allocation, index=annotators.index, name="sample_size", dtype=np.int64)
