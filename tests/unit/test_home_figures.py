"""How the home page shows an estimated count."""

from __future__ import annotations

import pytest

from ops.home import approximate_count


@pytest.mark.parametrize(
    ("estimate", "shown"),
    [
        (9_840_506, "≈ 9.8 million"),
        (1_000_000, "≈ 1.0 million"),
        (12_345_678_901, "≈ 12,345.7 million"),
        (999_499, "≈ 999,000"),
        (254_321, "≈ 254,000"),
        (200_500, "≈ 200,000"),
    ],
)
def test_an_estimate_is_rounded_and_marked_as_one(estimate: int, shown: str) -> None:
    assert approximate_count(estimate) == shown
