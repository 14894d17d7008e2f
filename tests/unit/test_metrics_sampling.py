"""Review sample size (Cochran) and its allocation toward low scorers."""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.metrics import allocate_review_sample, compute_review_sample_size


class CochranOptions(TypedDict, total=False):
    confidence: float
    margin: float
    proportion: float


@pytest.mark.parametrize(
    ("population", "options", "expected"),
    [
        # n0 = 1.96^2 * 0.25 / 0.05^2 = 384.15; n = n0 / (1 + (n0 - 1) / N), rounded up.
        (10**9, {}, 385),
        (1000, {}, 278),
        (100, {}, 80),
        (10, {}, 10),
        # Cochran's (n0 - 1) / N, not n0 / N: 27.04 -> 28 here, where n0 / N gives 26.97 -> 27.
        (29, {}, 28),
        (1, {}, 1),
        (0, {}, 0),
        # z(99%) = 2.5758: n0 = 663.5.
        (10**9, {"confidence": 0.99}, 664),
        # p = 0.1: n0 = 1.96^2 * 0.09 / 0.0025 = 138.3.
        (10**9, {"proportion": 0.1}, 139),
        (10**9, {"margin": 0.1}, 97),
        (500, {"margin": 0.03}, 341),
    ],
)
def test_cochran_sample_size(population: int, options: CochranOptions, expected: int) -> None:
    assert compute_review_sample_size(population, **options) == expected


@pytest.mark.parametrize(
    ("population", "options"),
    [(100, {"confidence": 1.0}), (100, {"margin": 0.0}), (100, {"proportion": 1.5}), (-1, {})],
)
def test_cochran_rejects_impossible_options(population: int, options: CochranOptions) -> None:
    with pytest.raises(ValueError):
        compute_review_sample_size(population, **options)


def pool(items: list[int], lower: list[float]) -> pd.DataFrame:
    index = pd.Index([f"a{i}" for i in range(len(items))], name="annotator_id")
    return pd.DataFrame({"n_items": items, "accuracy_ci_low": lower}, index=index)


def test_allocation_sends_more_review_to_low_scorers() -> None:
    # Equal volume; weights are proportional to 1 - lower bound: 0.1, 0.3, 0.6.
    allocation = allocate_review_sample(pool([500, 500, 500], [0.9, 0.7, 0.4]), 100, floor=0)
    assert allocation.tolist() == [10, 30, 60]


def test_allocation_weights_volume_too() -> None:
    allocation = allocate_review_sample(pool([100, 300], [0.8, 0.8]), 40, floor=0)
    assert allocation.tolist() == [10, 30]


def test_floor_gives_everyone_some_review() -> None:
    allocation = allocate_review_sample(pool([1000, 1000, 1000], [0.99, 0.5, 0.5]), 30, floor=3)
    assert allocation["a0"] >= 3
    assert allocation.sum() == 30


def test_never_more_than_an_annotators_items() -> None:
    # Weights 5, 10, 20 give shares 10, 20, 40 of 70, but a0 has only 5 items; the other
    # 65 are re-shared 1:2 as 21.67 and 43.33, and the larger remainder takes the last one.
    allocation = allocate_review_sample(pool([5, 100, 100], [0.0, 0.9, 0.8]), 70, floor=0)
    assert allocation.tolist() == [5, 22, 43]


def test_total_beyond_all_items_reviews_everything() -> None:
    allocation = allocate_review_sample(pool([3, 4], [0.5, 0.9]), 100)
    assert allocation.tolist() == [3, 4]


def test_missing_lower_bound_counts_as_least_trusted() -> None:
    allocation = allocate_review_sample(pool([100, 100], [np.nan, 0.5]), 30, floor=0)
    assert allocation.tolist() == [20, 10]


def test_floor_larger_than_total_goes_to_highest_weights() -> None:
    allocation = allocate_review_sample(pool([50, 50, 50], [0.9, 0.2, 0.5]), 2, floor=1)
    assert allocation.tolist() == [0, 1, 1]


def test_perfect_lower_bounds_fall_back_to_volume() -> None:
    allocation = allocate_review_sample(pool([10, 30], [1.0, 1.0]), 8, floor=0)
    assert allocation.tolist() == [2, 6]


@settings(max_examples=200, deadline=None)
@given(
    annotators=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=500),
            st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0)),
        ),
        min_size=1,
        max_size=12,
    ),
    total=st.integers(min_value=0, max_value=3000),
    floor=st.integers(min_value=0, max_value=5),
)
def test_allocation_invariants(
    annotators: list[tuple[int, float | None]], total: int, floor: int
) -> None:
    items = [count for count, _ in annotators]
    lower = [np.nan if bound is None else bound for _, bound in annotators]
    allocation = allocate_review_sample(pool(items, lower), total, floor=floor).to_numpy()
    assert allocation.sum() == min(total, sum(items))
    assert (allocation >= 0).all()
    assert (allocation <= np.array(items)).all()
    if sum(min(count, floor) for count in items) <= total:
        assert (allocation >= np.minimum(items, floor)).all()
