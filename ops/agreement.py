"""The agreement analysis of a set of ratings: one function, one typed result.

``annops agreement`` prints it (ops.agreement_report), the nightly job stores it per
project and the Quality page shows what was stored (ops.quality).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ops.metrics.accuracy import (
    compute_consistency,
    compute_gold_accuracy_table,
    count_gold_answers,
)
from ops.metrics.agreement import (
    ALPHA_LEVELS,
    KAPPA_WEIGHTS,
    AlphaLevel,
    KappaWeights,
    compute_agreement_with_majority,
    compute_fleiss_kappa,
    compute_krippendorff_alpha,
    compute_majority_vote,
    compute_majority_vote_accuracy,
    compute_pairwise_cohen_kappa,
    compute_percent_agreement,
    rank_disputed_items,
)
from ops.metrics.consensus import fit_dawid_skene
from ops.metrics.ratings import check_rating_frame, collect_gold_labels, order_labels

TEXT_COLUMNS: tuple[str, ...] = ("item_id", "annotator_id", "label", "gold")


@dataclass(frozen=True, kw_only=True)
class KappaPair:
    """Cohen's kappa of two annotators over the items both rated."""

    annotator_a: Hashable
    annotator_b: Hashable
    n_shared: int
    kappa: float | None
    std_error: float | None = None


@dataclass(frozen=True, kw_only=True)
class AnnotatorAgreement:
    """One annotator: ratings, agreement with the others' majority, gold accuracy with its
    95% Wilson interval, consistency on repeated items; None where not known."""

    annotator_id: Hashable
    n: int
    n_compared_with_majority: int
    agreement_with_majority: float | None
    n_gold: int | None = None
    accuracy: float | None = None
    accuracy_ci_low: float | None = None
    accuracy_ci_high: float | None = None
    consistency: float | None = None
    n_repeated_items: int | None = None
    dawid_skene_accuracy: float | None = None


@dataclass(frozen=True, kw_only=True)
class DisputedItem:
    """An item whose ratings split: how many, their pairwise agreement, its gold label."""

    item_id: Hashable
    n_ratings: int
    agreement: float | None
    gold: Hashable | None
    label_counts: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class Consensus:
    """Majority vote and Dawid-Skene over all items, against gold where there is some."""

    unresolved_items: int
    majority_accuracy: float | None
    dawid_skene_accuracy: float | None
    converged: bool
    n_iterations: int


@dataclass(frozen=True, kw_only=True)
class AgreementAnalysis:
    """Every agreement statistic of one set of ratings; None where one is undefined."""

    n_items: int
    n_annotators: int
    n_labels: int
    # Labels in scale order and golden items; None where not kept (stored figures).
    categories: list[Hashable] | None
    n_gold_items: int | None
    percent_agreement: float | None
    alpha: float | None
    alpha_level: AlphaLevel
    fleiss_kappa: float | None
    fleiss_kappa_note: str | None
    cohen_kappa: float | None
    kappa_weights: KappaWeights
    pairs: list[KappaPair]
    annotators: list[AnnotatorAgreement]
    disputed_items: list[DisputedItem]
    # Only when asked for: Dawid-Skene is the costly part.
    consensus: Consensus | None = None

    @classmethod
    def without_ratings(cls, note: str) -> AgreementAnalysis:
        """The analysis of no ratings at all; ``note`` says why there are none."""
        return cls(
            n_items=0,
            n_annotators=0,
            n_labels=0,
            categories=[],
            n_gold_items=0,
            percent_agreement=None,
            alpha=None,
            alpha_level="nominal",
            fleiss_kappa=None,
            fleiss_kappa_note=note,
            cohen_kappa=None,
            kappa_weights="none",
            pairs=[],
            annotators=[],
            disputed_items=[],
        )

    def to_report(self) -> dict[str, Any]:
        """The JSON document of `annops agreement --format json`: plain values, no NaN."""
        if self.consensus is None or self.categories is None:
            raise ValueError("the report needs a full analysis: analyse with consensus")
        consensus = self.consensus
        report = {
            "n_items": self.n_items,
            "n_annotators": self.n_annotators,
            "n_labels": self.n_labels,
            "n_categories": len(self.categories),
            "categories": self.categories,
            "n_gold_items": self.n_gold_items,
            "percent_agreement": self.percent_agreement,
            "krippendorff_alpha": self.alpha,
            "krippendorff_alpha_level": self.alpha_level,
            "fleiss_kappa": self.fleiss_kappa,
            "fleiss_kappa_note": self.fleiss_kappa_note,
            "cohen_kappa": self.cohen_kappa,
            "cohen_kappa_weights": self.kappa_weights,
            "cohen_kappa_pairs": [
                {
                    "annotator_a": pair.annotator_a,
                    "annotator_b": pair.annotator_b,
                    "n_shared": pair.n_shared,
                    "kappa": pair.kappa,
                    "std_error": pair.std_error,
                }
                for pair in self.pairs
            ],
            "majority_vote": {
                "unresolved_items": consensus.unresolved_items,
                "accuracy": consensus.majority_accuracy,
            },
            "dawid_skene": {
                "annotators": [
                    {"annotator_id": row.annotator_id, "accuracy": row.dawid_skene_accuracy}
                    for row in self.annotators
                ],
                "accuracy": consensus.dawid_skene_accuracy,
                "converged": consensus.converged,
                "n_iterations": consensus.n_iterations,
            },
            "annotators": [
                {
                    "annotator_id": row.annotator_id,
                    "n": row.n,
                    "n_gold": row.n_gold,
                    "accuracy": row.accuracy,
                    "accuracy_ci_low": row.accuracy_ci_low,
                    "accuracy_ci_high": row.accuracy_ci_high,
                    "agreement_with_majority": row.agreement_with_majority,
                    "n_compared_with_majority": row.n_compared_with_majority,
                    "consistency": row.consistency,
                    "n_repeated_items": row.n_repeated_items,
                }
                for row in self.annotators
            ],
            "disputed_items": [
                {
                    "item_id": item.item_id,
                    "n_ratings": item.n_ratings,
                    "agreement": item.agreement,
                    "gold": item.gold,
                    "label_counts": item.label_counts,
                }
                for item in self.disputed_items
            ],
        }
        plain: dict[str, Any] = to_plain(report)
        return plain


def analyse_agreement(
    frame: pd.DataFrame,
    *,
    alpha_level: AlphaLevel = "nominal",
    kappa_weights: KappaWeights = "none",
    top_disputed: int = 10,
    consensus: bool = True,
    gold: pd.Series | None = None,
) -> AgreementAnalysis:
    """Agreement, per-annotator figures, disputed items and (with ``consensus``) majority
    vote and Dawid-Skene of a rating frame (item_id, annotator_id, label[, gold]).

    ``gold`` is the gold label per item; by default it is collected from the frame's gold
    column, whose rows must not disagree.
    """
    if alpha_level not in ALPHA_LEVELS:
        raise ValueError(f"alpha_level must be one of {', '.join(ALPHA_LEVELS)}")
    if kappa_weights not in KAPPA_WEIGHTS:
        raise ValueError(f"kappa_weights must be one of {', '.join(KAPPA_WEIGHTS)}")
    if top_disputed < 0:
        raise ValueError(f"top_disputed must not be negative, got {top_disputed}")
    check_rating_frame(frame)
    if frame.empty:
        raise ValueError("no ratings to analyse")
    frame = _with_text_columns(frame.reset_index(drop=True))
    if gold is None:
        gold = collect_gold_labels(frame)
    annotator_ids = _in_order(frame["annotator_id"].unique())
    fleiss = compute_fleiss_kappa(frame)
    pairs = compute_pairwise_cohen_kappa(frame, weights=kappa_weights)
    annotators = _describe_annotators(frame, annotator_ids)
    found = None
    if consensus:
        majority = compute_majority_vote(frame)
        dawid_skene = fit_dawid_skene(frame)
        ds_accuracy: Any = dawid_skene.annotator_accuracy
        annotators = [
            replace(row, dawid_skene_accuracy=number(ds_accuracy[row.annotator_id]))
            for row in annotators
        ]
        found = Consensus(
            unresolved_items=int(majority["is_tie"].sum()),
            majority_accuracy=compute_majority_vote_accuracy(majority, gold) if len(gold) else None,
            dawid_skene_accuracy=_share_matching(dawid_skene.item_labels, gold),
            converged=bool(dawid_skene.converged),
            n_iterations=int(dawid_skene.n_iterations),
        )
    return AgreementAnalysis(
        n_items=int(frame["item_id"].nunique()),
        n_annotators=len(annotator_ids),
        n_labels=len(frame),
        categories=[plain_value(label) for label in order_labels(frame["label"])],
        n_gold_items=len(gold),
        percent_agreement=number(compute_percent_agreement(frame)),
        alpha=number(compute_krippendorff_alpha(frame, level=alpha_level)),
        alpha_level=alpha_level,
        fleiss_kappa=number(fleiss.kappa),
        fleiss_kappa_note=fleiss.note,
        cohen_kappa=(
            number(pairs["kappa"].iloc[0]) if len(annotator_ids) == 2 and len(pairs) == 1 else None
        ),
        kappa_weights=kappa_weights,
        pairs=[
            KappaPair(
                annotator_a=plain_value(row.annotator_a),
                annotator_b=plain_value(row.annotator_b),
                n_shared=whole(row.n_shared),
                kappa=number(row.kappa),
                std_error=number(row.std_error),
            )
            for row in pairs.itertuples(index=False)
        ],
        annotators=annotators,
        disputed_items=_describe_disputed(frame, gold, top_disputed),
        consensus=found,
    )


def _with_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The same ratings in types that make a million of them quick to analyse.

    Columns holding only text become Arrow-backed strings (hashed in C, not as Python
    objects); items and annotators become categories in first-seen order, so the many
    statistics that group by them reuse one factorization. Values and order are unchanged.
    """
    converted = {
        column: frame[column].astype("str")
        for column in TEXT_COLUMNS
        if column in frame.columns
        and frame[column].dtype == object
        and pd.api.types.infer_dtype(frame[column], skipna=True) == "string"
    }
    frame = frame.assign(**converted) if converted else frame
    return frame.assign(
        **{
            column: pd.Categorical(frame[column], categories=pd.unique(frame[column]))
            for column in ("item_id", "annotator_id")
        }
    )


def _in_order(values: Any) -> list[Hashable]:
    """Distinct annotator ids in their natural order: numbers as numbers, text as text."""
    distinct = [plain_value(value) for value in values]
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=str)


def _describe_annotators(
    frame: pd.DataFrame, annotator_ids: list[Hashable]
) -> list[AnnotatorAgreement]:
    per_annotator = pd.DataFrame(index=pd.Index(annotator_ids, name="annotator_id"))
    per_annotator["n"] = frame.groupby("annotator_id", sort=False, observed=True).size()
    per_annotator = per_annotator.join(compute_gold_accuracy_table(count_gold_answers(frame)))
    per_annotator["n_gold"] = per_annotator["answered"].fillna(0).astype(np.int64)
    majority = compute_agreement_with_majority(frame)
    per_annotator["agreement_with_majority"] = majority["agreement"]
    per_annotator["n_compared_with_majority"] = (
        majority["n_compared"].reindex(per_annotator.index).fillna(0).astype(np.int64)
    )
    consistency = compute_consistency(frame)
    per_annotator["consistency"] = consistency["consistency"]
    per_annotator["n_repeated_items"] = (
        consistency["n_repeated_items"].reindex(per_annotator.index).fillna(0).astype(np.int64)
    )
    return [
        AnnotatorAgreement(
            annotator_id=plain_value(row.Index),
            n=whole(row.n),
            n_compared_with_majority=whole(row.n_compared_with_majority),
            agreement_with_majority=number(row.agreement_with_majority),
            n_gold=whole(row.n_gold),
            accuracy=number(row.accuracy),
            accuracy_ci_low=number(row.accuracy_ci_low),
            accuracy_ci_high=number(row.accuracy_ci_high),
            consistency=number(row.consistency),
            n_repeated_items=whole(row.n_repeated_items),
        )
        for row in per_annotator.itertuples()
    ]


def _describe_disputed(frame: pd.DataFrame, gold: pd.Series, top: int) -> list[DisputedItem]:
    return [
        DisputedItem(
            item_id=plain_value(item),
            n_ratings=whole(row["n_ratings"]),
            agreement=number(row["agreement"]),
            gold=plain_value(gold.get(item)),
            label_counts={str(label): int(count) for label, count in row["label_counts"].items()},
        )
        for item, row in rank_disputed_items(frame, top=top).iterrows()
    ]


def _share_matching(predicted: pd.Series, gold: pd.Series) -> float | None:
    shared = gold.index.intersection(predicted.index)
    if shared.empty:
        return None
    matches = predicted[shared].astype(str).to_numpy() == gold[shared].astype(str).to_numpy()
    return float(matches.mean())


def plain_value(value: Any) -> Any:
    """A numpy or pandas scalar as the plain Python value; missing values as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def whole(value: Any) -> int:
    """A count as a plain int."""
    return int(value)


def number(value: Any) -> float | None:
    """A statistic as a float; None where it is missing or not finite."""
    value = plain_value(value)
    return None if value is None else float(value)


def to_plain(value: Any) -> Any:
    """``value`` with every nested scalar JSON-ready: plain Python, NaN as None."""
    # json.dumps knows neither numpy scalars nor NaN-as-null; the report promises both.
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    value = plain_value(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
