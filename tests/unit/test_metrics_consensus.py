"""Dawid-Skene consensus, and Wilson intervals, on annotators with planted accuracy."""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd
import pytest

from ops.metrics import (
    compute_gold_accuracy_table,
    compute_majority_vote,
    compute_majority_vote_accuracy,
    count_gold_answers,
    fit_dawid_skene,
)

SEED = 3


class DawidSkeneOptions(TypedDict, total=False):
    max_iterations: int
    tolerance: float
    smoothing: float


def simulate_annotators(
    seed: int,
    *,
    n_items: int = 2000,
    n_annotators: int = 40,
    ratings_per_item: int = 5,
    n_classes: int = 3,
    gold_share: float = 0.25,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Long ratings with a gold column, planted accuracy per annotator, true label per item."""
    generator = np.random.default_rng(seed)
    truth = generator.integers(0, n_classes, n_items)
    planted = np.linspace(0.55, 0.95, n_annotators)
    rows = []
    for item in range(n_items):
        for annotator in generator.choice(n_annotators, ratings_per_item, replace=False):
            if generator.random() < planted[annotator]:
                label = truth[item]
            else:
                label = (truth[item] + generator.integers(1, n_classes)) % n_classes
            rows.append((f"i{item:04d}", f"a{annotator:02d}", f"c{label}"))
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])
    true_labels = pd.Series({f"i{item:04d}": f"c{truth[item]}" for item in range(n_items)})
    golden = set(true_labels.index[generator.random(n_items) < gold_share])
    frame["gold"] = [true_labels[item] if item in golden else "" for item in frame["item_id"]]
    accuracy = pd.Series(planted, index=[f"a{index:02d}" for index in range(n_annotators)])
    return frame, accuracy, true_labels


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    return simulate_annotators(SEED)


def test_wilson_intervals_cover_planted_accuracy_for_most_annotators(
    simulated: tuple[pd.DataFrame, pd.Series, pd.Series],
) -> None:
    frame, planted, _ = simulated
    table = compute_gold_accuracy_table(count_gold_answers(frame)).reindex(planted.index)
    covered = (table["accuracy_ci_low"] <= planted) & (planted <= table["accuracy_ci_high"])
    # 95% intervals over 40 annotators: 38 expected; 33 or fewer happens 1 time in 300.
    assert covered.sum() >= 34
    # ...and they are informative: about 45-60 gold answers each gives widths near 0.2.
    assert (table["accuracy_ci_high"] - table["accuracy_ci_low"]).mean() < 0.25


def test_dawid_skene_recovers_planted_accuracy(
    simulated: tuple[pd.DataFrame, pd.Series, pd.Series],
) -> None:
    frame, planted, truth = simulated
    result = fit_dawid_skene(frame)
    estimated = result.annotator_accuracy.reindex(planted.index)
    assert result.converged
    assert (estimated - planted).abs().max() < 0.10
    assert (estimated - planted).abs().mean() < 0.04
    # Closer still to what each annotator actually achieved on this sample.
    achieved = (frame["label"] == frame["item_id"].map(truth)).groupby(frame["annotator_id"]).mean()
    assert (estimated - achieved.reindex(planted.index)).abs().max() < 0.05


def test_dawid_skene_beats_majority_vote_on_unequal_annotators(
    simulated: tuple[pd.DataFrame, pd.Series, pd.Series],
) -> None:
    frame, _, truth = simulated
    labels = fit_dawid_skene(frame).item_labels
    dawid_skene = (labels == truth[labels.index]).mean()
    majority = compute_majority_vote_accuracy(compute_majority_vote(frame), truth)
    assert majority is not None
    assert dawid_skene > majority


def test_dawid_skene_is_deterministic() -> None:
    frame, _, _ = simulate_annotators(11, n_items=300, n_annotators=10)
    first, second = fit_dawid_skene(frame), fit_dawid_skene(frame)
    assert first.n_iterations == second.n_iterations
    assert np.array_equal(first.posterior.to_numpy(), second.posterior.to_numpy())
    assert first.annotator_accuracy.equals(second.annotator_accuracy)


def test_dawid_skene_outputs_are_probabilities() -> None:
    frame, _, _ = simulate_annotators(5, n_items=200, n_annotators=8, n_classes=4)
    result = fit_dawid_skene(frame)
    assert np.allclose(result.posterior.sum(axis=1), 1.0)
    assert np.allclose(result.confusion.sum(axis=2), 1.0)
    assert result.priors.sum() == pytest.approx(1.0)
    recomputed = [
        float(np.sum(result.priors * np.diag(result.confusion[index])))
        for index in range(len(result.annotators))
    ]
    assert result.annotator_accuracy.tolist() == pytest.approx(recomputed)


def test_dawid_skene_finds_an_annotator_who_always_flips() -> None:
    rows = []
    for item in range(60):
        truth = "yes" if item % 3 else "no"
        flipped = "no" if truth == "yes" else "yes"
        rows += [(f"i{item}", "good1", truth), (f"i{item}", "good2", truth)]
        rows += [(f"i{item}", "good3", truth if item % 10 else flipped)]
        rows += [(f"i{item}", "contrarian", flipped)]
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])
    accuracy = fit_dawid_skene(frame).annotator_accuracy
    assert accuracy["contrarian"] < 0.1
    assert accuracy["good1"] > 0.95
    assert accuracy["good3"] == pytest.approx(0.9, abs=0.05)


def test_dawid_skene_handles_an_annotator_with_one_rating() -> None:
    frame, _, _ = simulate_annotators(9, n_items=200, n_annotators=8)
    consensus = fit_dawid_skene(frame).item_labels["i0000"]
    wrong = next(label for label in ("c0", "c1", "c2") if label != consensus)
    estimates = {}
    for answer in (consensus, wrong):
        lonely = pd.DataFrame([("i0000", "newcomer", answer, "")], columns=frame.columns)
        result = fit_dawid_skene(pd.concat([frame, lonely], ignore_index=True))
        assert np.isfinite(result.posterior.to_numpy()).all()
        assert result.item_labels["i0000"] == consensus
        estimates[answer] = result.annotator_accuracy["newcomer"]
    # One right answer is evidence, not proof: above chance (1/3), well short of certain.
    assert 1 / 3 < estimates[consensus] < 0.9
    assert estimates[wrong] < 1 / 3


def test_dawid_skene_with_unanimous_raters_is_certain() -> None:
    frame = pd.DataFrame(
        [(f"i{item}", rater, "x" if item % 2 else "y") for item in range(20) for rater in "abc"],
        columns=["item_id", "annotator_id", "label"],
    )
    result = fit_dawid_skene(frame)
    assert result.item_labels.tolist() == ["y", "x"] * 10
    assert (result.posterior.max(axis=1) > 0.999).all()
    assert (result.annotator_accuracy > 0.99).all()


@pytest.mark.parametrize(
    "options",
    [{"smoothing": 0.0}, {"max_iterations": 0}],
)
def test_dawid_skene_rejects_bad_options(options: DawidSkeneOptions) -> None:
    frame = pd.DataFrame({"item_id": ["i"], "annotator_id": ["a"], "label": ["x"]})
    with pytest.raises(ValueError):
        fit_dawid_skene(frame, **options)


def test_dawid_skene_rejects_empty_ratings() -> None:
    frame = pd.DataFrame({"item_id": [], "annotator_id": [], "label": []})
    with pytest.raises(ValueError, match="at least one rating"):
        fit_dawid_skene(frame)
