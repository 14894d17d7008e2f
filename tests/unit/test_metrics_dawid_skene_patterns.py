"""Dawid-Skene run once per rating pattern equals the textbook EM run once per item."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ops.metrics.consensus import fit_dawid_skene
from ops.metrics.ratings import encode_labels


def textbook_dawid_skene(
    frame: pd.DataFrame, *, iterations: int, smoothing: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Item by item, rating by rating: posterior per item and confusion per annotator."""
    codes, labels = encode_labels(frame)
    items, item_index = np.unique(frame["item_id"].to_numpy(dtype=str), return_inverse=True)
    people, person_index = np.unique(frame["annotator_id"].to_numpy(dtype=str), return_inverse=True)
    n_items, n_people, n_labels = len(items), len(people), len(labels)
    posterior = np.zeros((n_items, n_labels))
    for item, label in zip(item_index, codes, strict=True):
        posterior[item, label] += 1
    posterior /= posterior.sum(axis=1, keepdims=True)
    for _ in range(iterations):
        priors = (posterior.sum(axis=0) + smoothing) / (n_items + n_labels * smoothing)
        counts = np.full((n_people, n_labels, n_labels), smoothing)
        for item, person, label in zip(item_index, person_index, codes, strict=True):
            counts[person, :, label] += posterior[item]
        confusion = counts / counts.sum(axis=2, keepdims=True)
        log_posterior = np.tile(np.log(priors), (n_items, 1))
        for item, person, label in zip(item_index, person_index, codes, strict=True):
            log_posterior[item] += np.log(confusion[person, :, label])
        log_posterior -= log_posterior.max(axis=1, keepdims=True)
        posterior = np.exp(log_posterior)
        posterior /= posterior.sum(axis=1, keepdims=True)
    order = pd.Index(items).get_indexer(pd.unique(frame["item_id"].to_numpy(dtype=str)))
    return posterior[order], confusion


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_patterns_give_the_textbook_posterior(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, 400)
    accuracy = [0.9, 0.75, 0.6, 0.85]
    rows = []
    for item, true_label in enumerate(truth):
        # Few people and labels: many items share a rating pattern.
        for person in rng.choice(4, size=int(rng.integers(1, 4)), replace=False):
            right = rng.random() < accuracy[person]
            label = true_label if right else rng.integers(0, 3)
            rows.append((f"item-{item}", f"p{person}", f"class-{label}"))
        if item % 7 == 0:  # a repeated rating
            rows.append(rows[-1])
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])
    fitted = fit_dawid_skene(frame, max_iterations=30, tolerance=0.0)
    assert fitted.n_iterations == 30
    posterior, _ = textbook_dawid_skene(frame, iterations=30)
    np.testing.assert_allclose(fitted.posterior.to_numpy(), posterior, atol=1e-10)
    assert list(fitted.posterior.index) == list(pd.unique(frame["item_id"]))


def test_rows_are_grouped_by_both_keys_even_when_the_first_collides() -> None:
    from ops.metrics.consensus import _group_rows

    first = np.array([7, 7, 9, 7, 9], dtype=np.uint64)
    second = np.array([1, 2, 5, 1, 5], dtype=np.uint64)  # rows 0 and 1 share only the first
    groups, first_rows, sizes = _group_rows(first, second)
    assert groups[0] == groups[3] != groups[1]
    assert groups[2] == groups[4]
    assert len(first_rows) == 3 and sizes.sum() == 5
    assert sorted(first_rows.tolist()) == [0, 1, 2]
    assert sorted(sizes.tolist()) == [1.0, 2.0, 2.0]
    # Without a collision the cheap path gives groups in first-seen order.
    groups, first_rows, sizes = _group_rows(first, np.array([1, 1, 5, 1, 5], dtype=np.uint64))
    assert groups.tolist() == [0, 0, 1, 0, 1] and first_rows.tolist() == [0, 2]
    assert sizes.tolist() == [3.0, 2.0]
