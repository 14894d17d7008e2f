"""Inter-annotator agreement: Krippendorff, Fleiss, Cohen, pairwise agreement, majority vote."""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal, cast

import krippendorff
import numpy as np
import numpy.typing as npt
import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa

from ops.metrics.ratings import (
    check_rating_frame,
    count_labels_per_item,
    encode_labels,
    read_label_values,
)

AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]
KappaWeights = Literal["none", "linear", "quadratic"]

ALPHA_LEVELS: tuple[AlphaLevel, ...] = ("nominal", "ordinal", "interval", "ratio")
KAPPA_WEIGHTS: tuple[KappaWeights, ...] = ("none", "linear", "quadratic")


@dataclass(frozen=True)
class FleissKappa:
    """Fleiss' kappa over all items, or None with a note saying why it is undefined."""

    kappa: float | None
    note: str | None
    ratings_per_item: int | None


@dataclass(frozen=True)
class CohenKappa:
    """Cohen's kappa for one pair of annotators on the items both rated."""

    annotator_a: Hashable
    annotator_b: Hashable
    n_shared: int
    kappa: float | None
    std_error: float | None
    observed_agreement: float | None
    expected_agreement: float | None


def compute_krippendorff_alpha(
    frame: pd.DataFrame, *, level: AlphaLevel = "nominal"
) -> float | None:
    """Krippendorff's alpha over all items (1 perfect, 0 chance); None when undefined."""
    if level not in ALPHA_LEVELS:
        raise ValueError(f"level must be one of {', '.join(ALPHA_LEVELS)}, got {level!r}")
    counts = count_labels_per_item(frame)
    # Alpha only pairs values within an item, so single-rated items and labels used only
    # there carry no information; dropping them keeps the undefined cases explicit.
    counts = counts[counts.sum(axis=1) >= 2]
    counts = counts.loc[:, counts.sum(axis=0) > 0]
    if counts.shape[1] < 2:
        return None
    # The package's value-count form is used instead of a coder-by-item matrix so that a
    # repeated (item, annotator) rating counts as one more pairable value, as in Fleiss.
    domain: npt.NDArray[np.float64]
    if level in ("interval", "ratio"):
        domain = read_label_values(counts.columns)
    else:
        domain = np.arange(counts.shape[1], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = float(
            krippendorff.alpha(
                value_counts=counts.to_numpy(),
                value_domain=domain,
                level_of_measurement=level,
            )
        )
    return alpha if np.isfinite(alpha) else None


def compute_fleiss_kappa(frame: pd.DataFrame) -> FleissKappa:
    """Fleiss' kappa over all items (1 perfect, 0 chance) when every item has equal ratings."""
    counts = count_labels_per_item(frame)
    if counts.empty:
        return FleissKappa(kappa=None, note="no ratings", ratings_per_item=None)
    per_item = counts.sum(axis=1)
    fewest, most = int(per_item.min()), int(per_item.max())
    if fewest != most:
        return FleissKappa(
            kappa=None,
            note=(
                f"items have between {fewest} and {most} ratings; Fleiss' kappa needs the "
                "same number of ratings on every item (Krippendorff's alpha does not)"
            ),
            ratings_per_item=None,
        )
    if most < 2:
        return FleissKappa(
            kappa=None,
            note="every item has a single rating; agreement needs at least two per item",
            ratings_per_item=most,
        )
    if (counts.sum(axis=0) > 0).sum() < 2:
        return FleissKappa(
            kappa=None,
            note="every rating has the same label, so chance agreement is 1 and kappa is undefined",
            ratings_per_item=most,
        )
    kappa = float(fleiss_kappa(counts.to_numpy(), method="fleiss"))
    return FleissKappa(kappa=kappa, note=None, ratings_per_item=most)


def compute_item_agreement(frame: pd.DataFrame) -> pd.Series:
    """One row per item: share of agreeing rating pairs (Fleiss' P_i); NaN below two ratings."""
    table = count_labels_per_item(frame)
    counts = table.to_numpy(dtype=np.float64)
    n_ratings = counts.sum(axis=1)
    pairs = n_ratings * (n_ratings - 1)
    agreeing = (counts * (counts - 1)).sum(axis=1)
    agreement = np.full(len(counts), np.nan)
    np.divide(agreeing, pairs, out=agreement, where=pairs > 0)
    return pd.Series(agreement, index=table.index, name="agreement")


def compute_percent_agreement(frame: pd.DataFrame) -> float | None:
    """Share of agreeing rating pairs pooled over all items (fraction); None without pairs."""
    counts = count_labels_per_item(frame).to_numpy(dtype=np.float64)
    n_ratings = counts.sum(axis=1)
    pairs = float((n_ratings * (n_ratings - 1)).sum())
    if pairs == 0:
        return None
    return float((counts * (counts - 1)).sum()) / pairs


def compute_cohen_kappa(
    frame: pd.DataFrame,
    annotator_a: Hashable,
    annotator_b: Hashable,
    *,
    weights: KappaWeights = "none",
) -> CohenKappa:
    """Cohen's kappa for one annotator pair on their shared items, with its standard error."""
    pairs = compute_pairwise_cohen_kappa(
        frame, weights=weights, annotators=(annotator_a, annotator_b), include_unshared=True
    )
    row = pairs.iloc[0]
    return CohenKappa(
        annotator_a=annotator_a,
        annotator_b=annotator_b,
        n_shared=int(row["n_shared"]),
        kappa=_optional_float(row["kappa"]),
        std_error=_optional_float(row["std_error"]),
        observed_agreement=_optional_float(row["observed_agreement"]),
        expected_agreement=_optional_float(row["expected_agreement"]),
    )


def compute_pairwise_cohen_kappa(
    frame: pd.DataFrame,
    *,
    weights: KappaWeights = "none",
    annotators: tuple[Hashable, Hashable] | None = None,
    include_unshared: bool = False,
) -> pd.DataFrame:
    """One row per annotator pair: n_shared items, kappa, std_error, observed/expected agreement."""
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(KAPPA_WEIGHTS)}, got {weights!r}")
    check_rating_frame(frame)
    label_codes, labels = encode_labels(frame)
    # A pair needs one label per annotator per item; a repeated rating is consistency
    # evidence, and the first one in row order stands for the annotator here.
    first = (
        frame.assign(_code=label_codes)
        .drop_duplicates(["item_id", "annotator_id"], keep="first")
        .loc[:, ["item_id", "annotator_id", "_code"]]
    )
    if annotators is None:
        ordered = sorted(first["annotator_id"].unique(), key=str)
        candidates = list(itertools.combinations(range(len(ordered)), 2))
    else:
        if annotators[0] == annotators[1]:
            raise ValueError(f"a kappa pair needs two different annotators, got {annotators!r}")
        ordered = list(annotators)
        candidates = [(0, 1)]
    rank = {annotator: position for position, annotator in enumerate(ordered)}
    first = first.assign(_rank=first["annotator_id"].map(rank)).dropna(subset=["_rank"])
    # One self-join on item finds every pair's shared items at once.
    joined = first.merge(first, on="item_id", suffixes=("_a", "_b"))
    joined = joined[joined["_rank_a"] < joined["_rank_b"]]
    shared_by_pair: dict[tuple[int, int], pd.DataFrame] = {}
    for ranks, group in joined.groupby(["_rank_a", "_rank_b"], sort=False):
        rank_a, rank_b = (int(rank) for rank in cast(tuple[float, float], ranks))
        shared_by_pair[(rank_a, rank_b)] = group
    disagreement = _disagreement_weights(len(labels), weights)
    rows = []
    for rank_a, rank_b in candidates:
        shared = shared_by_pair.get((rank_a, rank_b))
        if shared is None and not include_unshared:
            continue
        table = np.zeros((len(labels), len(labels)), dtype=np.float64)
        if shared is not None:
            np.add.at(table, (shared["_code_a"].to_numpy(), shared["_code_b"].to_numpy()), 1)
        rows.append(
            {
                "annotator_a": ordered[rank_a],
                "annotator_b": ordered[rank_b],
                "n_shared": 0 if shared is None else len(shared),
                **_kappa_from_table(table, weights, disagreement),
            }
        )
    columns = [
        "annotator_a",
        "annotator_b",
        "n_shared",
        "kappa",
        "std_error",
        "observed_agreement",
        "expected_agreement",
    ]
    return pd.DataFrame(rows, columns=columns)


def compute_majority_vote(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per item: majority label (None on a tie), n_ratings, n_votes, tied_labels."""
    counts = count_labels_per_item(frame)
    matrix = counts.to_numpy()
    labels = list(counts.columns)
    top = matrix.max(axis=1)
    winners = matrix == top[:, None]
    tied_labels = [
        tuple(label for label, won in zip(labels, row, strict=True) if won) for row in winners
    ]
    return pd.DataFrame(
        {
            "label": [group[0] if len(group) == 1 else None for group in tied_labels],
            "n_ratings": matrix.sum(axis=1),
            "n_votes": top,
            "is_tie": [len(group) > 1 for group in tied_labels],
            "tied_labels": tied_labels,
        },
        index=counts.index,
    )


def compute_majority_vote_accuracy(majority: pd.DataFrame, gold: pd.Series) -> float | None:
    """Share of golden items whose majority vote matches gold (fraction); None without gold."""
    # A tie goes to adjudication; until then it earns the credit a fair coin between the
    # tied labels would: 1/2 for a two-way tie that includes gold, nothing if gold is absent.
    golden = majority.join(gold.rename("gold"), how="inner")
    if golden.empty:
        return None
    credit = [
        (1.0 / len(tied) if str(answer) in {str(label) for label in tied} else 0.0)
        for tied, answer in zip(golden["tied_labels"], golden["gold"], strict=True)
    ]
    return float(np.mean(credit))


def compute_agreement_with_majority(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per annotator: n_compared ratings, n_agreed, agreement with the others' majority."""
    check_rating_frame(frame)
    counts = count_labels_per_item(frame)
    label_codes, _ = encode_labels(frame)
    item_position = pd.Index(counts.index).get_indexer(frame["item_id"])
    group_codes, groups = pd.factorize(
        pd.MultiIndex.from_arrays([frame["item_id"], frame["annotator_id"]]), sort=False
    )
    own = np.zeros((len(groups), counts.shape[1]), dtype=np.int64)
    np.add.at(own, (group_codes, label_codes), 1)
    group_item = np.zeros(len(groups), dtype=np.intp)
    group_item[group_codes] = item_position
    # Leave-one-out: every rating this annotator gave the item is removed, so an annotator
    # never votes in the majority they are compared with.
    others = counts.to_numpy()[group_item] - own
    top = others.max(axis=1)
    resolved = (top > 0) & ((others == top[:, None]).sum(axis=1) == 1)
    majority = others.argmax(axis=1)
    compared = resolved[group_codes]
    agreed = compared & (majority[group_codes] == label_codes)
    grouped = pd.DataFrame(
        {"annotator_id": frame["annotator_id"].to_numpy(), "compared": compared, "agreed": agreed}
    ).groupby("annotator_id", sort=False)
    result = pd.DataFrame(
        {"n_compared": grouped["compared"].sum(), "n_agreed": grouped["agreed"].sum()}
    ).astype(np.int64)
    n_compared = result["n_compared"].to_numpy(dtype=np.float64)
    agreement = np.full(len(result), np.nan)
    np.divide(
        result["n_agreed"].to_numpy(dtype=np.float64),
        n_compared,
        out=agreement,
        where=n_compared > 0,
    )
    result["agreement"] = agreement
    return result


def rank_disputed_items(frame: pd.DataFrame, *, top: int | None = 10) -> pd.DataFrame:
    """Items with split labels, most disputed first: n_ratings, agreement, label_counts."""
    counts = count_labels_per_item(frame)
    agreement = compute_item_agreement(frame)
    n_ratings = counts.sum(axis=1)
    n_distinct = (counts > 0).sum(axis=1)
    disputed = pd.DataFrame(
        {
            "n_ratings": n_ratings,
            "n_distinct_labels": n_distinct,
            "agreement": agreement,
            "_order": np.arange(len(counts)),
        }
    )
    disputed = disputed[disputed["n_distinct_labels"] >= 2]
    # Lowest pairwise agreement first; among equals the item with more ratings is the
    # firmer evidence of a real dispute; first-seen order breaks the remaining ties.
    disputed = disputed.sort_values(
        ["agreement", "n_ratings", "_order"], ascending=[True, False, True], kind="stable"
    )
    if top is not None:
        disputed = disputed.head(top)
    label_counts = pd.Series(
        [_sorted_label_counts(counts.loc[item]) for item in disputed.index],
        index=disputed.index,
        dtype=object,
    )
    return disputed.drop(columns="_order").assign(label_counts=label_counts)


def _sorted_label_counts(row: pd.Series) -> dict[Hashable, int]:
    nonzero = row[row > 0]
    order = sorted(range(len(nonzero)), key=lambda index: -int(nonzero.iloc[index]))
    return {nonzero.index[index]: int(nonzero.iloc[index]) for index in order}


def _disagreement_weights(n_labels: int, weights: KappaWeights) -> npt.NDArray[np.float64]:
    # Distances are over the scale-ordered label index, as in Cohen (1968) and scikit-learn,
    # scaled to [0, 1] so observed and expected agreement read as fractions.
    index = np.arange(n_labels, dtype=np.float64)
    distance = np.abs(index[:, None] - index[None, :])
    span = max(n_labels - 1, 1)
    if weights == "linear":
        return distance / span
    if weights == "quadratic":
        return (distance / span) ** 2
    return (distance > 0).astype(np.float64)


def _kappa_from_table(
    table: npt.NDArray[np.float64],
    weights: KappaWeights,
    disagreement: npt.NDArray[np.float64],
) -> dict[str, float | None]:
    undefined: dict[str, float | None] = {
        "kappa": None,
        "std_error": None,
        "observed_agreement": None,
        "expected_agreement": None,
    }
    total = table.sum()
    if total == 0:
        return undefined
    observed = table / total
    expected = observed.sum(axis=1)[:, None] * observed.sum(axis=0)[None, :]
    observed_agreement = 1.0 - float((disagreement * observed).sum())
    expected_agreement = 1.0 - float((disagreement * expected).sum())
    if expected_agreement >= 1.0 - 1e-12:
        # Both annotators used one and the same label throughout: chance agreement is
        # already perfect, so kappa is 0/0.
        return {**undefined, "observed_agreement": observed_agreement, "expected_agreement": 1.0}
    wt = None if weights == "none" else weights
    # statsmodels also derives a z-test with std under H0, which divides by zero when
    # agreement is perfect; only kappa and its variance are used here.
    with np.errstate(divide="ignore", invalid="ignore"):
        result = cohens_kappa(table, wt=wt)
    variance = float(result["var_kappa"])
    return {
        "kappa": float(result["kappa"]),
        "std_error": float(np.sqrt(max(variance, 0.0))) if np.isfinite(variance) else None,
        "observed_agreement": observed_agreement,
        "expected_agreement": expected_agreement,
    }


def _optional_float(value: object) -> float | None:
    if not isinstance(value, int | float | np.integer | np.floating):
        return None
    number = float(value)
    return None if np.isnan(number) else number
