"""Change days and shared drops: exact tests held to scipy, statsmodels and brute force."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom, norm
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.meta_analysis import combine_effects

from ops.metrics.changepoint import compare_before_after, estimate_typical_drop, find_change_day

START = dt.date(2026, 3, 1)


def daily_frame(answered: np.ndarray, correct: np.ndarray) -> pd.DataFrame:
    """One row per annotator (array row) per day (array column) with gold answers."""
    annotator, day = np.nonzero(answered)
    return pd.DataFrame(
        {
            "annotator_id": annotator + 1,
            "day": [START + dt.timedelta(days=int(d)) for d in day],
            "gold_answered": answered[annotator, day],
            "gold_correct": correct[annotator, day],
        }
    )


def test_one_annotator_is_the_hypergeometric_lower_tail() -> None:
    test = compare_before_after(np.array([80]), np.array([74]), np.array([20]), np.array([14]))
    assert test.p_value == pytest.approx(hypergeom.cdf(14, 100, 88, 20), rel=1e-12)
    assert test.expected_correct_after == pytest.approx(20 * 88 / 100)
    assert (test.accuracy_before, test.accuracy_after) == (74 / 80, 14 / 20)


def test_several_annotators_match_brute_force_enumeration() -> None:
    before_n, before_c = np.array([6, 5, 7]), np.array([5, 5, 4])
    after_n, after_c = np.array([4, 3, 2]), np.array([2, 2, 1])
    total, correct = before_n + after_n, before_c + after_c
    supports = [
        range(max(0, n - (t - c)), min(n, c) + 1)
        for t, c, n in zip(total, correct, after_n, strict=True)
    ]
    tail = 0.0
    for counts in itertools.product(*supports):
        if sum(counts) <= after_c.sum():
            tail += float(
                np.prod(
                    [
                        hypergeom.pmf(k, t, c, n)
                        for k, t, c, n in zip(counts, total, correct, after_n, strict=True)
                    ]
                )
            )
    test = compare_before_after(before_n, before_c, after_n, after_c)
    assert test.p_value == pytest.approx(tail, rel=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_statistic_is_the_cochran_mantel_haenszel_z(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before_n, after_n = rng.integers(20, 200, 8), rng.integers(10, 100, 8)
    before_c, after_c = rng.binomial(before_n, 0.9), rng.binomial(after_n, 0.85)
    test = compare_before_after(before_n, before_c, after_n, after_c)
    tables = [
        np.array([[after_c[i], after_n[i] - after_c[i]], [before_c[i], before_n[i] - before_c[i]]])
        for i in range(8)
    ]
    cmh = StratifiedTable(tables).test_null_odds(correction=False)
    assert test.statistic**2 == pytest.approx(cmh.statistic, rel=1e-9)
    # The normal approximation is close in the middle; the exact tail is what decides.
    assert test.p_value == pytest.approx(cmh.pvalue / 2, abs=0.03)


def test_the_exact_tail_is_larger_than_the_normal_one_when_few_are_wrong() -> None:
    # A 90% accurate person, 30 answers after the day with 8 wrong where 3 were expected:
    # the normal approximation would call this five times as surprising as it is.
    test = compare_before_after(np.array([300]), np.array([272]), np.array([30]), np.array([22]))
    assert test.p_value == pytest.approx(hypergeom.cdf(22, 330, 294, 30), rel=1e-12)
    assert test.p_value > 4 * norm.cdf(test.statistic)


def test_a_planted_change_day_is_found_and_corrected_for_the_choice() -> None:
    rng = np.random.default_rng(4)
    answered = rng.integers(8, 15, size=(6, 14))
    accuracy = np.where(np.arange(14) >= 10, 0.7, 0.93)
    correct = rng.binomial(answered, accuracy)
    scan = find_change_day(daily_frame(answered, correct), min_answered=30)
    assert scan is not None
    assert scan.change_day == START + dt.timedelta(days=10)
    assert scan.candidate_days == 13
    assert scan.p_value == pytest.approx(min(1.0, 13 * scan.drop.p_value))
    assert scan.p_value < 1e-6
    assert scan.drop.accuracy_before > 0.9 > 0.75 > scan.drop.accuracy_after
    assert sorted(scan.annotators["annotator_id"]) == [1, 2, 3, 4, 5, 6]
    assert int(scan.annotators["answered_after"].sum()) == int(answered[:, 10:].sum())


def test_days_without_enough_answers_on_both_sides_are_not_candidates() -> None:
    answered = np.full((3, 6), 5)
    correct = answered.copy()
    # 15 answers a day: 30 before needs two days, 30 after needs the last two.
    scan = find_change_day(daily_frame(answered, correct), min_answered=30)
    assert scan is not None and scan.candidate_days == 3
    assert find_change_day(daily_frame(answered, correct), min_answered=50) is None
    assert find_change_day(daily_frame(answered[:, :0], correct[:, :0]), min_answered=1) is None


def test_a_weaker_newcomer_does_not_fake_a_drop() -> None:
    # The pool's accuracy falls when a 60% person joins, but nobody got worse.
    answered = np.zeros((4, 14), dtype=int)
    answered[:3, :] = 10
    answered[3, 7:] = 30
    accuracy = np.array([[0.9], [0.9], [0.9], [0.6]])
    correct = np.round(answered * accuracy).astype(int)
    daily = daily_frame(answered, correct)
    pooled = daily.groupby("day")[["gold_correct", "gold_answered"]].sum()
    rates = (pooled["gold_correct"] / pooled["gold_answered"]).to_numpy()
    assert rates[:7].mean() - rates[7:].mean() > 0.15
    scan = find_change_day(daily, min_answered=30)
    assert scan is not None and scan.p_value > 0.5


def test_typical_drop_is_dersimonian_laird() -> None:
    rng = np.random.default_rng(5)
    before_n, after_n = rng.integers(50, 200, 10), rng.integers(20, 80, 10)
    before_c = rng.binomial(before_n, 0.92)
    after_c = rng.binomial(after_n, rng.uniform(0.6, 0.9, 10))
    typical = estimate_typical_drop(before_n, before_c, after_n, after_c)
    before_p, after_p = (before_c + 1) / (before_n + 2), (after_c + 1) / (after_n + 2)
    variance = before_p * (1 - before_p) / (before_n + 2) + after_p * (1 - after_p) / (after_n + 2)
    reference = combine_effects(before_c / before_n - after_c / after_n, variance, method_re="dl")
    assert typical.between_annotators > 0
    assert typical.between_annotators == pytest.approx(reference.tau2)
    assert typical.mean == pytest.approx(reference.mean_effect_re)
    assert typical.standard_error == pytest.approx(reference.sd_eff_w_re)


def test_one_person_falling_hard_is_not_a_typical_drop() -> None:
    before_n, after_n = np.full(8, 150), np.full(8, 40)
    before_c = np.full(8, 138)  # 92%
    steady = np.full(8, 37)
    one = steady.copy()
    one[0] = 16  # 40%
    everyone = np.full(8, 31)  # 77.5%
    alone = estimate_typical_drop(before_n, before_c, after_n, one)
    shared = estimate_typical_drop(before_n, before_c, after_n, everyone)
    assert alone.between_annotators > 0 and alone.p_value > 0.05
    assert shared.between_annotators == 0 and shared.p_value < 1e-6
    assert shared.mean == pytest.approx(0.92 - 31 / 40)
    # Yet the pool as a whole did credibly drop: that test alone cannot tell the two apart.
    assert compare_before_after(before_n, before_c, after_n, one).p_value < 0.001
