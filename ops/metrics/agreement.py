"""Inter-annotator agreement: Krippendorff, Fleiss, Cohen, pairwise agreement, majority vote."""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
import numpy.typing as npt
import pandas as pd
from statsmodels.stats.inter_rater import fleiss_kappa

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
    else:
        if annotators[0] == annotators[1]:
            raise ValueError(f"a kappa pair needs two different annotators, got {annotators!r}")
        ordered = list(annotators)
    rank = {annotator: position for position, annotator in enumerate(ordered)}
    first = first.assign(_rank=first["annotator_id"].map(rank)).dropna(subset=["_rank"])
    n_labels, n_ranked = len(labels), len(ordered)
    # Every pair of ratings on one item, found at once: order by item, then pair each
    # rating with the later ones of its item (items hold a handful of ratings).
    item_codes = pd.factorize(first["item_id"], sort=False)[0]
    ranks = first["_rank"].to_numpy(dtype=np.int64)
    order = np.lexsort((ranks, item_codes))
    item_codes, ranks = item_codes[order], ranks[order]
    codes = first["_code"].to_numpy(dtype=np.int64)[order]
    left_parts, right_parts = [], []
    for offset in range(1, max(int(np.bincount(item_codes).max()) if len(item_codes) else 0, 1)):
        same = item_codes[offset:] == item_codes[:-offset]
        left_parts.append(np.flatnonzero(same))
        right_parts.append(np.flatnonzero(same) + offset)
    left = np.concatenate(left_parts) if left_parts else np.zeros(0, dtype=np.int64)
    right = np.concatenate(right_parts) if right_parts else np.zeros(0, dtype=np.int64)
    pair_keys = ranks[left] * n_ranked + ranks[right]
    present, pair_index = np.unique(pair_keys, return_inverse=True)
    cells = (pair_index * n_labels + codes[left]) * n_labels + codes[right]
    tables = np.bincount(cells, minlength=len(present) * n_labels * n_labels).astype(np.float64)
    tables = tables.reshape(len(present), n_labels, n_labels)
    # Only candidate annotators have a rank, always in pair order: every pair present is
    # a candidate, and only ``include_unshared`` adds the candidates with no shared item.
    wanted = (
        np.asarray(
            [a * n_ranked + b for a, b in itertools.combinations(range(n_ranked), 2)],
            dtype=np.int64,
        )
        if include_unshared
        else present
    )
    position = np.searchsorted(present, wanted)
    chosen = np.zeros((len(wanted), n_labels, n_labels), dtype=np.float64)
    if len(present):
        found = (position < len(present)) & (
            present[np.minimum(position, len(present) - 1)] == wanted
        )
        chosen[found] = tables[position[found]]
    figures = _kappas_from_tables(chosen, weights, _disagreement_weights(n_labels, weights))
    columns = [
        "annotator_a",
        "annotator_b",
        "n_shared",
        "kappa",
        "std_error",
        "observed_agreement",
        "expected_agreement",
    ]
    return pd.DataFrame(
        {
            "annotator_a": [ordered[int(key) // n_ranked] for key in wanted],
            "annotator_b": [ordered[int(key) % n_ranked] for key in wanted],
            "n_shared": chosen.sum(axis=(1, 2)).astype(np.int64),
            **figures,
        },
        columns=columns,
    )


def compute_majority_vote(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per item: majority label (None on a tie), n_ratings, n_votes, tied_labels."""
    counts = count_labels_per_item(frame)
    matrix = counts.to_numpy()
    labels = list(counts.columns)
    top = matrix.max(axis=1)
    winners = matrix == top[:, None]
    # Items share few winner patterns: build each pattern's tuple once, then index.
    patterns, pattern_codes = np.unique(winners, axis=0, return_inverse=True)
    pattern_labels = np.empty(len(patterns), dtype=object)
    pattern_labels[:] = [
        tuple(label for label, won in zip(labels, row, strict=True) if won) for row in patterns
    ]
    n_winners = winners.sum(axis=1)
    tied_labels = pattern_labels[pattern_codes.reshape(-1)]
    single = np.empty(len(patterns), dtype=object)
    single[:] = [group[0] if len(group) == 1 else None for group in pattern_labels]
    return pd.DataFrame(
        {
            "label": single[pattern_codes.reshape(-1)],
            "n_ratings": matrix.sum(axis=1),
            "n_votes": top,
            "is_tie": n_winners > 1,
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
    annotator_codes, _ = pd.factorize(frame["annotator_id"], sort=False)
    n_annotators = int(annotator_codes.max()) + 1 if len(annotator_codes) else 1
    pair_codes = item_position.astype(np.int64) * n_annotators + annotator_codes
    group_codes, groups = pd.factorize(pair_codes, sort=False)
    own = (
        np.bincount(
            group_codes.astype(np.int64) * counts.shape[1] + label_codes,
            minlength=len(groups) * counts.shape[1],
        )
        .reshape(len(groups), counts.shape[1])
        .astype(np.int64)
    )
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


def _kappas_from_tables(
    tables: npt.NDArray[np.float64],
    weights: KappaWeights,
    disagreement: npt.NDArray[np.float64],
) -> dict[str, npt.NDArray[np.float64]]:
    """Kappa, its standard error, observed and expected agreement of each (pair) table.

    NaN where undefined: no shared items, or chance agreement already perfect (both
    annotators used one and the same label throughout, so kappa is 0/0).
    """
    # These are statsmodels' cohens_kappa formulas (Fleiss, Cohen & Everitt 1969 for the
    # variance; the SAS weighted form), evaluated for every pair at once: cohens_kappa
    # builds a results object with frozen scipy distributions per call (milliseconds
    # each), which dominated the run time with hundreds of pairs. The unit tests compare
    # both on random tables.
    n_shared = tables.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        probs = tables / n_shared[:, None, None]
        freq_row = probs.sum(axis=2)
        freq_col = probs.sum(axis=1)
        expected = freq_row[:, :, None] * freq_col[:, None, :]
        observed_agreement = 1.0 - (disagreement * probs).sum(axis=(1, 2))
        expected_agreement = 1.0 - (disagreement * expected).sum(axis=(1, 2))
        if weights == "none":
            agree = np.diagonal(probs, axis1=1, axis2=2)
            agree_exp = np.diagonal(expected, axis1=1, axis2=2).sum(axis=1)
            kappa = (agree.sum(axis=1) - agree_exp) / (1.0 - agree_exp)
            slack = (1.0 - kappa)[:, None]
            term_a = (agree * (1.0 - (freq_row + freq_col) * slack) ** 2).sum(axis=1)
            off_diagonal = 1.0 - np.eye(tables.shape[1])
            term_b = probs * (freq_col[:, :, None] + freq_row[:, None, :]) ** 2
            term_b = (1.0 - kappa) ** 2 * (term_b * off_diagonal).sum(axis=(1, 2))
            term_c = (kappa - agree_exp * (1.0 - kappa)) ** 2
            variance = (term_a + term_b - term_c) / (1.0 - agree_exp) ** 2 / n_shared
        else:
            kappa = 1.0 - (disagreement * probs).sum(axis=(1, 2)) / (disagreement * expected).sum(
                axis=(1, 2)
            )
            agreement_weights = 1.0 - disagreement
            w_row = (freq_col[:, None, :] * agreement_weights).sum(axis=2)
            w_col = (freq_row[:, :, None] * agreement_weights).sum(axis=1)
            agree_wexp = (agreement_weights * expected).sum(axis=(1, 2))
            slack3 = (1.0 - kappa)[:, None, None]
            term_a = (
                probs * (agreement_weights - (w_col[:, None, :] + w_row[:, :, None]) * slack3) ** 2
            )
            variance = term_a.sum(axis=(1, 2)) - (kappa - agree_wexp * (1.0 - kappa)) ** 2
            variance /= (1.0 - agree_wexp) ** 2 * n_shared
    empty = n_shared == 0
    degenerate = ~empty & (expected_agreement >= 1.0 - 1e-12)
    kappa = np.where(empty | degenerate, np.nan, kappa)
    std_error = np.where(
        empty | degenerate | ~np.isfinite(variance), np.nan, np.sqrt(np.maximum(variance, 0.0))
    )
    return {
        "kappa": kappa,
        "std_error": std_error,
        "observed_agreement": np.where(empty, np.nan, observed_agreement),
        "expected_agreement": np.where(
            empty, np.nan, np.where(degenerate, 1.0, expected_agreement)
        ),
    }


def _optional_float(value: object) -> float | None:
    if not isinstance(value, int | float | np.integer | np.floating):
        return None
    number = float(value)
    return None if np.isnan(number) else number
