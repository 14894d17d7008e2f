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
    # Items rated alike (the same labels from the same people) get the same posterior, so
    # EM runs once per distinct pattern, weighted by how many items share it: the same
    # sums, over thousands of patterns instead of up to millions of items.
    pattern_of_item, first_item, weights = _rating_patterns(ratings)
    patterns = ratings[first_item]
    # Start from the soft majority vote: each item's share of votes per label.
    posterior = np.asarray(patterns @ np.tile(np.eye(n_labels), (n_annotators, 1)))
    posterior /= posterior.sum(axis=1, keepdims=True)

    converged = False
    n_iterations = 0
    priors = np.full(n_labels, 1.0 / n_labels)
    confusion = np.full((n_annotators, n_labels, n_labels), 1.0 / n_labels)
    while n_iterations < max_iterations:
        n_iterations += 1
        priors, confusion = _estimate_parameters(
            posterior, weights, patterns, n_annotators, smoothing
        )
        updated = _estimate_posterior(priors, confusion, patterns)
        change = float(np.abs(updated - posterior).max())
        posterior = updated
        if change < tolerance:
            converged = True
            break
    # Parameters consistent with the final posterior, so accuracy and posterior agree.
    priors, confusion = _estimate_parameters(posterior, weights, patterns, n_annotators, smoothing)
    accuracy = np.einsum("k,akk->a", priors, confusion)
    posterior = posterior[pattern_of_item]
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


def _rating_patterns(
    ratings: sparse.csr_matrix,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], FloatArray]:
    """Per item its pattern; per pattern one item that has it and how many items do."""
    # A row's pattern is identified by two independent 64-bit hashes of its cells and
    # counts (a wrapping sum, so the order of the ratings does not matter); two different
    # patterns colliding in both is as likely as guessing 128 random bits.
    generator = np.random.default_rng(20261128)
    row_starts = ratings.indptr[:-1]
    keys = []
    for _ in range(2):
        cell_weights = generator.integers(1, 2**63, size=ratings.shape[1], dtype=np.uint64)
        with np.errstate(over="ignore"):
            cell_hash = cell_weights[ratings.indices] * ratings.data.astype(np.uint64)
            # Every item has at least one rating, so no row is empty.
            keys.append(np.add.reduceat(cell_hash, row_starts))
    return _group_rows(keys[0], keys[1])


def _group_rows(
    first_key: npt.NDArray[np.uint64], second_key: npt.NDArray[np.uint64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], FloatArray]:
    """Rows with equal key pairs grouped: per row its group, per group its first row, sizes."""
    group_of_row, distinct = pd.factorize(first_key, sort=False)
    first_row = np.empty(len(distinct), dtype=np.intp)
    # Written last to first, so each group keeps its first row.
    first_row[group_of_row[::-1]] = np.arange(len(group_of_row), dtype=np.intp)[::-1]
    if not np.array_equal(second_key, second_key[first_row][group_of_row]):
        # The first key alone merged rows the second tells apart: group by both.
        _, first_row, group_of_row = np.unique(
            np.stack([first_key, second_key], axis=1),
            axis=0,
            return_index=True,
            return_inverse=True,
        )
        group_of_row = group_of_row.reshape(-1)
    sizes = np.bincount(group_of_row, minlength=len(first_row))
    return group_of_row.astype(np.intp), first_row.astype(np.intp), sizes.astype(np.float64)


def _estimate_parameters(
    posterior: FloatArray,
    weights: FloatArray,
    patterns: sparse.csr_matrix,
    n_annotators: int,
    smoothing: float,
) -> tuple[FloatArray, FloatArray]:
    n_labels = posterior.shape[1]
    n_items = weights.sum()
    weighted = posterior * weights[:, None]
    priors = (weighted.sum(axis=0) + smoothing) / (n_items + n_labels * smoothing)
    # Soft counts: cell (a, l) collects, per true class k, the posterior mass of every item
    # that annotator a labelled l.
    soft: FloatArray = np.asarray(patterns.T @ weighted)
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
