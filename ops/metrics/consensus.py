"""Consensus without gold: Dawid-Skene EM over per-annotator confusion matrices."""

# Dawid-Skene is written here with numpy rather than taken from crowd-kit: crowd-kit pulls in
# transformers and nltk, far more than a dashboard should install for one EM loop.
# benchmarks/compare_dawid_skene_crowdkit.py checks this implementation against it.

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from ops.metrics.ratings import check_rating_frame, encode_labels

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DawidSkeneResult:
    """Fitted Dawid-Skene model: class priors, confusion per annotator, posterior per item."""

    labels: list[Hashable]
    priors: FloatArray
    # confusion[a, k, l]: probability that annotator a answers label l when the truth is k.
    confusion: FloatArray
    annotators: list[Hashable]
    posterior: pd.DataFrame
    annotator_accuracy: pd.Series
    n_iterations: int
    converged: bool

    @property
    def item_labels(self) -> pd.Series:
        """One row per item: the most probable true label (first in scale order on a tie)."""
        codes = self.posterior.to_numpy().argmax(axis=1)
        return pd.Series(
            [self.labels[code] for code in codes], index=self.posterior.index, name="label"
        )


def fit_dawid_skene(
    frame: pd.DataFrame,
    *,
    max_iterations: int = 500,
    tolerance: float = 1e-6,
    smoothing: float = 0.01,
) -> DawidSkeneResult:
    """Fit Dawid-Skene on long ratings; accuracy per annotator = sum_k prior_k * confusion[k, k]."""
    check_rating_frame(frame)
    if frame.empty:
        raise ValueError("Dawid-Skene needs at least one rating")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
    if not smoothing > 0:
        # Without a pseudo-count a confusion cell can be exactly zero and its log -inf.
        raise ValueError(f"smoothing must be positive, got {smoothing}")
    label_codes, labels = encode_labels(frame)
    item_codes, items = pd.factorize(frame["item_id"], sort=False)
    annotator_codes, annotators = pd.factorize(frame["annotator_id"], sort=False)
    n_items, n_annotators, n_labels = len(items), len(annotators), len(labels)

    # ratings[i, a * L + l]: how often annotator a gave item i label l. Both EM steps are
    # products with this sparse matrix, so an iteration costs one pass over the ratings.
    ratings = sparse.csr_matrix(
        (
            np.ones(len(item_codes)),
            (item_codes, annotator_codes.astype(np.int64) * n_labels + label_codes),
        ),
        shape=(n_items, n_annotators * n_labels),
    )
    # Start from the soft majority vote: each item's share of votes per label.
    posterior = _accumulate(item_codes, np.eye(n_labels)[label_codes], n_items)
    posterior /= posterior.sum(axis=1, keepdims=True)

    converged = False
    n_iterations = 0
    priors = np.full(n_labels, 1.0 / n_labels)
    confusion = np.full((n_annotators, n_labels, n_labels), 1.0 / n_labels)
    while n_iterations < max_iterations:
        n_iterations += 1
        priors, confusion = _estimate_parameters(posterior, ratings, n_annotators, smoothing)
        updated = _estimate_posterior(priors, confusion, ratings)
        change = float(np.abs(updated - posterior).max())
        posterior = updated
        if change < tolerance:
            converged = True
            break
    # Parameters consistent with the final posterior, so accuracy and posterior agree.
    priors, confusion = _estimate_parameters(posterior, ratings, n_annotators, smoothing)
    accuracy = np.einsum("k,akk->a", priors, confusion)
    return DawidSkeneResult(
        labels=labels,
        priors=priors,
        confusion=confusion,
        annotators=list(annotators),
        posterior=pd.DataFrame(
            posterior,
            index=pd.Index(items, name="item_id"),
            columns=pd.Index(labels, name="label"),
        ),
        annotator_accuracy=pd.Series(
            accuracy, index=pd.Index(annotators, name="annotator_id"), name="accuracy"
        ),
        n_iterations=n_iterations,
        converged=converged,
    )


def _estimate_parameters(
    posterior: FloatArray,
    ratings: sparse.csr_matrix,
    n_annotators: int,
    smoothing: float,
) -> tuple[FloatArray, FloatArray]:
    n_labels = posterior.shape[1]
    priors = (posterior.sum(axis=0) + smoothing) / (posterior.shape[0] + n_labels * smoothing)
    # Soft counts: cell (a, l) collects, per true class k, the posterior mass of every item
    # that annotator a labelled l.
    soft: FloatArray = np.asarray(ratings.T @ posterior)
    counts = soft.reshape(n_annotators, n_labels, n_labels).transpose(0, 2, 1)
    # The pseudo-count keeps an annotator with few ratings from getting a confusion row of
    # exact zeros (log of zero) for a class they never met.
    counts = counts + smoothing
    row_totals = counts.sum(axis=2, keepdims=True)
    confusion = np.divide(
        counts, row_totals, out=np.full_like(counts, 1.0 / n_labels), where=row_totals > 0
    )
    return priors, confusion


def _estimate_posterior(
    priors: FloatArray, confusion: FloatArray, ratings: sparse.csr_matrix
) -> FloatArray:
    n_annotators, n_labels, _ = confusion.shape
    # Each rating (a, l) adds log P(l | truth k) for every k, summed per item.
    log_confusion = np.log(confusion).transpose(0, 2, 1).reshape(n_annotators * n_labels, n_labels)
    evidence: FloatArray = np.asarray(ratings @ log_confusion)
    log_posterior = evidence + np.log(priors)
    log_posterior -= log_posterior.max(axis=1, keepdims=True)
    posterior = np.exp(log_posterior)
    posterior /= posterior.sum(axis=1, keepdims=True)
    return posterior


def _accumulate(groups: npt.NDArray[np.intp], values: FloatArray, n_groups: int) -> FloatArray:
    """Row sums of ``values`` per group; one bincount per column (np.add.at is far slower)."""
    if values.shape[1] == 0:
        return np.zeros((n_groups, 0), dtype=np.float64)
    return np.stack(
        [
            np.bincount(groups, weights=values[:, column], minlength=n_groups)
            for column in range(values.shape[1])
        ],
        axis=1,
    )
