"""The day a project's gold accuracy most likely dropped, tested within each annotator.

Input is one row per annotator per day of one project with gold answers; every
comparison is of each annotator with themself before and after a day, so people of
different skill working on different days cannot fake a drop.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import hypergeom, norm

# While the exact distribution is built up, probabilities this much smaller than the most
# likely total are dropped; p-values stay exact far below any threshold anyone would set.
_NEGLIGIBLE = 1e-40


@dataclass(frozen=True)
class DropTest:
    """Gold answers before and after a day, and the exact test that they got worse.

    Counts are of annotators with gold answers on both sides; accuracies are fractions.
    """

    answered_before: int
    correct_before: int
    answered_after: int
    correct_after: int
    expected_correct_after: float
    statistic: float
    p_value: float

    @property
    def accuracy_before(self) -> float:
        return self.correct_before / self.answered_before

    @property
    def accuracy_after(self) -> float:
        return self.correct_after / self.answered_after


@dataclass(frozen=True)
class ChangeScan:
    """The most likely day a drop started, its test, and the test corrected for the choice.

    ``annotators``: one row per annotator with gold answers on both sides of the day:
    annotator_id, answered_before, correct_before, answered_after, correct_after.
    """

    change_day: dt.date
    candidate_days: int
    drop: DropTest
    p_value: float
    annotators: pd.DataFrame


@dataclass(frozen=True)
class TypicalDrop:
    """How far the typical annotator's accuracy fell (fractions), allowing people to differ.

    ``between_annotators`` is the variance of the true drops across annotators; a drop
    that only some people had shows up there rather than in ``mean``.
    """

    mean: float
    standard_error: float
    between_annotators: float
    p_value: float


def compare_before_after(
    answered_before: np.ndarray,
    correct_before: np.ndarray,
    answered_after: np.ndarray,
    correct_after: np.ndarray,
) -> DropTest:
    """Per annotator (one array element each): exact one-sided test of fewer correct after.

    Under no change an annotator's wrong answers are spread over their gold answers at
    random, so their correct answers after the day are hypergeometric given their own
    totals; the test is the exact distribution of the sum over annotators (the exact
    form of the Cochran-Mantel-Haenszel test, stratified by annotator). ``statistic`` is
    the usual CMH z: (observed - expected) / standard deviation, negative for a drop.
    """
    before_n = np.asarray(answered_before, dtype=np.int64)
    before_c = np.asarray(correct_before, dtype=np.int64)
    after_n = np.asarray(answered_after, dtype=np.int64)
    after_c = np.asarray(correct_after, dtype=np.int64)
    expected, statistic = _cmh_score(before_n, before_c, after_n, after_c)
    observed = int(after_c.sum())
    return DropTest(
        answered_before=int(before_n.sum()),
        correct_before=int(before_c.sum()),
        answered_after=int(after_n.sum()),
        correct_after=observed,
        expected_correct_after=expected,
        statistic=statistic,
        p_value=_lower_tail(before_n + after_n, before_c + after_c, after_n, observed),
    )


def _cmh_score(
    before_n: np.ndarray, before_c: np.ndarray, after_n: np.ndarray, after_c: np.ndarray
) -> tuple[float, float]:
    """Expected correct answers after the day under no change, and the CMH z."""
    total = before_n + after_n
    correct = before_c + after_c
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(total > 0, after_n * correct / total, 0.0)
        variance = np.where(
            total > 1,
            after_n * correct * (total - correct) * (total - after_n) / (total**2 * (total - 1)),
            0.0,
        )
    spread = math.sqrt(float(variance.sum()))
    statistic = (float(after_c.sum()) - float(expected.sum())) / spread if spread > 0 else 0.0
    return float(expected.sum()), statistic


def estimate_typical_drop(
    answered_before: np.ndarray,
    correct_before: np.ndarray,
    answered_after: np.ndarray,
    correct_after: np.ndarray,
) -> TypicalDrop:
    """Per annotator (one array element each): random-effects mean of their accuracy drops.

    Each annotator's drop (accuracy before minus after) is one estimate; DerSimonian and
    Laird's random-effects mean weighs them by precision and widens its error by how much
    they disagree, so one person's large drop among steady colleagues does not read as
    everyone's. The one-sided p-value tests that the typical drop is above zero.
    statsmodels' ``combine_effects(method_re="dl")`` does not truncate a negative
    between-annotator variance at zero, which gives negative weights when annotators
    agree more than chance would have them; hence the few lines here.
    """
    before_n = np.asarray(answered_before, dtype=float)
    after_n = np.asarray(answered_after, dtype=float)
    before_c = np.asarray(correct_before, dtype=float)
    after_c = np.asarray(correct_after, dtype=float)
    drops = before_c / before_n - after_c / after_n
    # Agresti-Caffo: one correct and one wrong answer added for the variance only, so a
    # person at 100% on either side still has an honest, non-zero uncertainty.
    before_p = (before_c + 1) / (before_n + 2)
    after_p = (after_c + 1) / (after_n + 2)
    variance = before_p * (1 - before_p) / (before_n + 2) + after_p * (1 - after_p) / (after_n + 2)
    weights = 1 / variance
    fixed_mean = float((weights * drops).sum() / weights.sum())
    q = float((weights * (drops - fixed_mean) ** 2).sum())
    scale = float(weights.sum() - (weights**2).sum() / weights.sum())
    between = max(0.0, (q - (len(drops) - 1)) / scale) if scale > 0 else 0.0
    weights = 1 / (variance + between)
    mean = float((weights * drops).sum() / weights.sum())
    standard_error = math.sqrt(1 / float(weights.sum()))
    return TypicalDrop(
        mean=mean,
        standard_error=standard_error,
        between_annotators=between,
        p_value=float(norm.sf(mean / standard_error)),
    )


def _lower_tail(total: np.ndarray, correct: np.ndarray, drawn: np.ndarray, observed: int) -> float:
    """P(sum of independent hypergeometric counts <= observed), by exact convolution.

    scipy has the hypergeometric distribution but no sum of differently sized ones, and
    statsmodels' stratified tables only give the normal approximation, which is far
    too small in the lower tail when few gold answers are wrong (as at 90% accuracy).
    """
    # Annotators whose count after the day is fixed carry no evidence, only an offset.
    fixed = (drawn == 0) | (drawn == total) | (correct == 0) | (correct == total)
    offset = int((drawn[fixed] * correct[fixed] // np.maximum(total[fixed], 1)).sum())
    total, correct, drawn = total[~fixed], correct[~fixed], drawn[~fixed]
    if len(total) == 0:
        return 1.0 if observed >= offset else 0.0
    low = np.maximum(0, drawn - (total - correct))
    # One row per annotator: the probability of low + j correct answers after the day.
    steps = np.arange(int((np.minimum(drawn, correct) - low).max()) + 1)
    pmfs = hypergeom.pmf(low[:, None] + steps, total[:, None], correct[:, None], drawn[:, None])
    distribution = np.ones(1)
    offset += int(low.sum())
    for pmf in pmfs:
        distribution = np.convolve(distribution, pmf)
        kept = np.flatnonzero(distribution >= distribution.max() * _NEGLIGIBLE)
        distribution = distribution[kept[0] : kept[-1] + 1]
        offset += int(kept[0])
    index = observed - offset
    if index < 0:
        return 0.0
    return float(min(1.0, distribution[: index + 1].sum()))


def find_change_day(daily: pd.DataFrame, *, min_answered: int) -> ChangeScan | None:
    """One project's daily gold answers per annotator in, the most likely drop day out.

    ``daily``: one row per annotator per day (annotator_id, day, gold_answered,
    gold_correct). Each day with gold answers before it is a candidate for the first day
    of a drop if the annotators answering on both sides gave at least ``min_answered``
    gold answers on each side. The day with the smallest exact p-value is the most
    likely; having picked the smallest of several p-values, the evidence is weaker than
    that p-value says, so ``p_value`` multiplies it by the number of candidate days
    (Bonferroni). That bound holds however the candidate splits depend on each other,
    and over the dozen days of a window it costs little against an exact correction.
    None when no day has enough answers on both sides.
    """
    rows = daily[daily["gold_answered"] > 0]
    if rows.empty:
        return None
    annotator_codes, annotator_ids = pd.factorize(rows["annotator_id"], sort=True)
    day_codes, days = pd.factorize(rows["day"], sort=True)
    shape = (len(annotator_ids), len(days))
    # One row per annotator, one column per day with gold answers.
    answered = np.zeros(shape, dtype=np.int64)
    correct = np.zeros(shape, dtype=np.int64)
    np.add.at(answered, (annotator_codes, day_codes), rows["gold_answered"].to_numpy())
    np.add.at(correct, (annotator_codes, day_codes), rows["gold_correct"].to_numpy())
    # Column i of the cumulative sums: everything before day i; the rest is after.
    before_answered = np.cumsum(answered, axis=1) - answered
    before_correct = np.cumsum(correct, axis=1) - correct
    after_answered = answered.sum(axis=1, keepdims=True) - before_answered
    after_correct = correct.sum(axis=1, keepdims=True) - before_correct
    scores: list[tuple[float, int, np.ndarray]] = []
    for index in range(1, len(days)):
        # Only annotators with gold answers on both sides say anything about a change.
        both = (before_answered[:, index] > 0) & (after_answered[:, index] > 0)
        if (
            before_answered[both, index].sum() >= min_answered
            and after_answered[both, index].sum() >= min_answered
        ):
            split = (before_answered, before_correct, after_answered, after_correct)
            scores.append((_cmh_score(*(a[both, index] for a in split))[1], index, both))
    if not scores:
        return None
    # Where accuracy went up (z >= 0) the p-value of a drop is one half or so; the exact
    # tail, the costly part, is only worked out where it went down.
    downward = [score for score in scores if score[0] < 0] or [min(scores)]
    tests = [
        (
            compare_before_after(
                before_answered[both, index],
                before_correct[both, index],
                after_answered[both, index],
                after_correct[both, index],
            ),
            index,
            both,
        )
        for _statistic, index, both in downward
    ]
    test, index, both = min(tests, key=lambda item: (item[0].p_value, item[0].statistic))
    annotators = pd.DataFrame(
        {
            "annotator_id": np.asarray(annotator_ids)[both],
            "answered_before": before_answered[both, index],
            "correct_before": before_correct[both, index],
            "answered_after": after_answered[both, index],
            "correct_after": after_correct[both, index],
        }
    )
    return ChangeScan(
        change_day=pd.Timestamp(days[index]).date(),
        candidate_days=len(scores),
        drop=test,
        p_value=min(1.0, test.p_value * len(scores)),
        annotators=annotators,
    )
