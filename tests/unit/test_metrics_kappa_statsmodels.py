"""Pairwise Cohen's kappa and its standard error equal statsmodels' cohens_kappa, pair by pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from ops.metrics.agreement import KappaWeights, compute_pairwise_cohen_kappa
from ops.metrics.ratings import order_labels


def random_ratings(seed: int) -> pd.DataFrame:
    """Five annotators, each rating a random subset of 60 items, labels skewed by item."""
    rng = np.random.default_rng(seed)
    labels = ["1", "2", "3", "4"][: 2 + seed % 3]
    rows = []
    for item in range(60):
        truth = rng.integers(len(labels))
        for annotator in range(5):
            if rng.random() < 0.6:
                noisy = truth if rng.random() < 0.7 else rng.integers(len(labels))
                rows.append((f"item-{item}", f"a{annotator}", labels[noisy]))
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"], dtype=object)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
def test_every_pair_matches_statsmodels(seed: int, weights: KappaWeights) -> None:
    frame = random_ratings(seed)
    labels = order_labels(frame["label"])
    pairs = compute_pairwise_cohen_kappa(frame, weights=weights)
    assert len(pairs) == 10
    wide = frame.pivot_table(
        index="item_id", columns="annotator_id", values="label", aggfunc="first"
    )
    for row in pairs.itertuples(index=False):
        both = wide[[row.annotator_a, row.annotator_b]].dropna()
        table = pd.crosstab(
            pd.Categorical(both[row.annotator_a], categories=labels),
            pd.Categorical(both[row.annotator_b], categories=labels),
            dropna=False,
        ).to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = cohens_kappa(table, wt=None if weights == "none" else weights)
        assert row.n_shared == len(both)
        assert row.kappa == pytest.approx(expected["kappa"], abs=1e-12)
        assert row.std_error == pytest.approx(np.sqrt(expected["var_kappa"]), abs=1e-12)
