"""Calibration rounds: each participant against the reference labels, and which items
to discuss."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ops.metrics.agreement import compute_item_agreement
from ops.metrics.ratings import check_rating_frame, count_labels_per_item


def compute_reference_agreement(frame: pd.DataFrame, reference: pd.Series) -> pd.DataFrame:
    """One row per annotator: n_items rated that have a reference, n_agreed, agreement
    (fraction); annotators who rated no referenced item are left out."""
    check_rating_frame(frame)
    known = reference.dropna()
    rated = frame[frame["item_id"].isin(known.index)]
    if rated.empty:
        return pd.DataFrame(
            {"n_items": [], "n_agreed": [], "agreement": []},
            index=pd.Index([], name="annotator_id"),
        ).astype({"n_items": np.int64, "n_agreed": np.int64, "agreement": float})
    agreed = (
        rated["label"].astype(str).to_numpy() == rated["item_id"].map(known).astype(str).to_numpy()
    )
    grouped = pd.Series(agreed, index=rated.index).groupby(rated["annotator_id"], sort=True)
    result = pd.DataFrame({"n_items": grouped.size(), "n_agreed": grouped.sum()}).astype(np.int64)
    result["agreement"] = result["n_agreed"] / result["n_items"]
    result.index.name = "annotator_id"
    return result


def rank_calibration_items(frame: pd.DataFrame, reference: pd.Series) -> pd.DataFrame:
    """Items worth discussing, most contested first: split labels among participants, or
    participants away from the reference. One row per such item: n_ratings, agreement
    (share of agreeing rating pairs), matching_reference (fraction; NaN without one),
    label_counts."""
    counts = count_labels_per_item(frame)
    agreement = compute_item_agreement(frame)
    n_ratings = counts.sum(axis=1)
    known = reference.reindex(counts.index)
    labels = [str(label) for label in counts.columns]
    matrix = counts.to_numpy()
    shares = np.full(len(counts), np.nan)
    for position, expected in enumerate(known.to_numpy()):
        if expected is None or pd.isna(expected):
            continue
        text = str(expected)
        matched = matrix[position, labels.index(text)] if text in labels else 0
        shares[position] = matched / matrix[position].sum()
    matching = pd.Series(shares, index=counts.index)
    split = (counts > 0).sum(axis=1) >= 2
    off_reference = matching.notna() & (matching < 1)
    table = pd.DataFrame(
        {
            "reference": known,
            "n_ratings": n_ratings,
            "agreement": agreement,
            "matching_reference": matching,
            "_order": np.arange(len(counts)),
        }
    )[split | off_reference]
    table = table.sort_values(
        ["matching_reference", "agreement", "n_ratings", "_order"],
        ascending=[True, True, False, True],
        na_position="last",
        kind="stable",
    )
    table["label_counts"] = pd.Series(
        [
            dict(
                sorted(
                    (
                        (str(label), int(count))
                        for label, count in counts.loc[item].items()
                        if count
                    ),
                    key=lambda pair: -pair[1],
                )
            )
            for item in table.index
        ],
        index=table.index,
        dtype=object,
    )
    return table.drop(columns="_order")
