"""Agreement statistics on small hand-checkable rating tables."""

from __future__ import annotations

from typing import cast

import krippendorff
import numpy as np
import pandas as pd
import pytest

from ops.metrics import (
    collect_gold_labels,
    compute_agreement_with_majority,
    compute_cohen_kappa,
    compute_fleiss_kappa,
    compute_item_agreement,
    compute_krippendorff_alpha,
    compute_majority_vote,
    compute_majority_vote_accuracy,
    compute_pairwise_cohen_kappa,
    compute_percent_agreement,
    order_labels,
    rank_disputed_items,
)
from ops.metrics.agreement import KappaWeights


def ratings(table: dict[str, list[tuple[str, str]]]) -> pd.DataFrame:
    """Long frame from {item: [(annotator, label), ...]}."""
    rows = [(item, annotator, label) for item, pairs in table.items() for annotator, label in pairs]
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def unnamed(table: dict[str, list[str]]) -> pd.DataFrame:
    """Long frame from {item: [label, ...]}, each label from a different annotator."""
    return ratings(
        {
            item: [(f"r{index}", label) for index, label in enumerate(labels)]
            for item, labels in table.items()
        }
    )


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"i1": ["x", "x"], "i2": ["x", "y"]}, 0.5),
        ({"i1": ["x", "x", "y"]}, 1 / 3),
        ({"i1": ["x", "x", "x"], "i2": ["x", "y"]}, 3 / 4),
        ({"i1": ["x", "y", "z"]}, 0.0),
        ({"i1": ["x"], "i2": ["y"]}, None),
    ],
)
def test_percent_agreement_pools_rating_pairs(
    table: dict[str, list[str]], expected: float | None
) -> None:
    actual = compute_percent_agreement(unnamed(table))
    if expected is None:
        assert actual is None
    else:
        assert actual == pytest.approx(expected)


def test_item_agreement_is_share_of_agreeing_pairs_per_item() -> None:
    frame = unnamed({"i1": ["x", "x", "y"], "i2": ["x", "x"], "i3": ["y"], "i4": ["x", "y"]})
    agreement = compute_item_agreement(frame)
    assert agreement["i1"] == pytest.approx(1 / 3)
    assert agreement["i2"] == 1.0
    assert np.isnan(agreement["i3"])
    assert agreement["i4"] == 0.0


@pytest.mark.parametrize(
    ("labels", "winner", "tied"),
    [
        (["x", "x", "y"], "x", ("x",)),
        (["x", "y"], None, ("x", "y")),
        (["x", "y", "y", "z"], "y", ("y",)),
        (["x", "y", "z"], None, ("x", "y", "z")),
        (["x"], "x", ("x",)),
    ],
)
def test_majority_vote_leaves_ties_unresolved(
    labels: list[str], winner: str | None, tied: tuple[str, ...]
) -> None:
    majority = compute_majority_vote(unnamed({"i1": labels})).loc["i1"]
    assert majority["label"] == winner
    assert majority["tied_labels"] == tied
    assert majority["is_tie"] == (winner is None)
    assert majority["n_ratings"] == len(labels)


def test_majority_vote_accuracy_gives_ties_fair_coin_credit() -> None:
    frame = unnamed(
        {
            "i1": ["x", "x", "y"],  # majority x, gold x: 1
            "i2": ["x", "y"],  # tie with gold among the tied: 1/2
            "i3": ["x", "y"],  # tie, gold z absent: 0
            "i4": ["y", "y", "x"],  # majority y, gold x: 0
            "i5": ["x", "x"],  # no gold: not scored
        }
    )
    gold = pd.Series({"i1": "x", "i2": "x", "i3": "z", "i4": "x"})
    accuracy = compute_majority_vote_accuracy(compute_majority_vote(frame), gold)
    assert accuracy == pytest.approx(1.5 / 4)


def test_majority_vote_accuracy_without_gold_is_none() -> None:
    frame = unnamed({"i1": ["x", "x"]})
    assert (
        compute_majority_vote_accuracy(compute_majority_vote(frame), pd.Series(dtype=object))
        is None
    )


def test_agreement_with_majority_leaves_the_annotator_out() -> None:
    frame = ratings(
        {
            "i1": [("a", "x"), ("b", "x"), ("c", "y")],
            "i2": [("a", "x"), ("b", "y"), ("c", "y")],
            "i3": [("a", "z"), ("b", "z"), ("c", "z")],
        }
    )
    result = compute_agreement_with_majority(frame)
    # a: i1 others tie (x, y); i2 others y -> disagree; i3 agree.
    # b: i1 tie; i2 others (x, y) tie; i3 agree. c: i1 others x -> disagree; i2 tie; i3 agree.
    assert result.loc["a", ["n_compared", "n_agreed"]].to_numpy().tolist() == [2, 1]
    assert result.loc["b", ["n_compared", "n_agreed"]].to_numpy().tolist() == [1, 1]
    assert result.loc["c", ["n_compared", "n_agreed"]].to_numpy().tolist() == [2, 1]
    assert result["agreement"].to_dict() == {"a": 0.5, "b": 1.0, "c": 0.5}


def test_agreement_with_majority_removes_all_of_an_annotators_repeats() -> None:
    # a's two x ratings must not outvote b's y in a's own comparison.
    frame = ratings({"i1": [("a", "x"), ("a", "x"), ("b", "y")]})
    result = compute_agreement_with_majority(frame)
    assert result.loc["a", ["n_compared", "n_agreed"]].to_numpy().tolist() == [2, 0]
    assert result.loc["b", ["n_compared", "n_agreed"]].to_numpy().tolist() == [1, 0]


def test_agreement_with_majority_is_nan_when_never_compared() -> None:
    frame = ratings({"i1": [("a", "x")], "i2": [("b", "x"), ("c", "y")]})
    result = compute_agreement_with_majority(frame)
    assert result.loc["a", "n_compared"] == 0
    assert np.isnan(result["agreement"]["a"])


def grant_table_frame() -> pd.DataFrame:
    cells = [("yes", "yes", 20), ("yes", "no", 5), ("no", "yes", 10), ("no", "no", 15)]
    rows: list[tuple[str, str, str]] = []
    for label_a, label_b, count in cells:
        for _ in range(count):
            item = f"i{len(rows) // 2}"
            rows += [(item, "A", label_a), (item, "B", label_b)]
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def test_cohen_kappa_standard_error_matches_fleiss_cohen_everitt_by_hand() -> None:
    # Worked by hand for the 2x2 table (20, 5 / 10, 15): var = 0.2016 / 12.5 = 0.016128.
    result = compute_cohen_kappa(grant_table_frame(), "A", "B")
    assert result.n_shared == 50
    assert result.kappa == pytest.approx(0.4)
    assert result.std_error == pytest.approx(np.sqrt(0.016128))
    assert result.observed_agreement == pytest.approx(0.7)
    assert result.expected_agreement == pytest.approx(0.5)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_kappa_equals_unweighted_for_two_labels(weights: KappaWeights) -> None:
    frame = grant_table_frame()
    weighted = compute_cohen_kappa(frame, "A", "B", weights=weights)
    assert weighted.kappa == pytest.approx(0.4)


def test_weighted_kappa_credits_near_misses_on_an_ordinal_scale() -> None:
    # A and B are one step apart on every disagreement, so weighting raises kappa.
    frame = ratings(
        {
            f"i{index}": [("A", a), ("B", b)]
            for index, (a, b) in enumerate(
                [("1", "1"), ("2", "2"), ("3", "3"), ("1", "2"), ("2", "3"), ("3", "2")]
            )
        }
    )
    unweighted, linear, quadratic = (
        compute_cohen_kappa(frame, "A", "B", weights=w).kappa
        for w in ("none", "linear", "quadratic")
    )
    assert unweighted is not None and linear is not None and quadratic is not None
    assert unweighted < linear < quadratic


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["10", "9", "8", "9"], ["8", "9", "10"]),
        ([3, 1, 2], [1, 2, 3]),
        (["-1", "0.5", "2"], ["-1", "0.5", "2"]),
        (["b", "a", "10", "9"], ["10", "9", "a", "b"]),
        (["yes", "no"], ["no", "yes"]),
    ],
)
def test_order_labels_reads_numbers_as_numbers(
    labels: list[object], expected: list[object]
) -> None:
    assert order_labels(labels) == expected


def test_weighted_kappa_orders_numeric_labels_numerically() -> None:
    # As text "10" sorts before "9"; on the scale it is the far end.
    frame = ratings(
        {
            f"i{i}": [("A", a), ("B", b)]
            for i, (a, b) in enumerate(
                [("8", "8"), ("9", "9"), ("10", "10"), ("8", "9"), ("9", "10"), ("10", "9")]
            )
        }
    )
    as_numbers = frame.assign(label=frame["label"].astype(int))
    text = compute_cohen_kappa(frame, "A", "B", weights="linear")
    numbers = compute_cohen_kappa(as_numbers, "A", "B", weights="linear")
    assert text.kappa == pytest.approx(numbers.kappa)
    # Three one-step misses out of six, each weighted 1/2 on the 8-9-10 scale.
    assert text.observed_agreement == pytest.approx(1 - 3 * 0.5 / 6)


@pytest.mark.parametrize(
    ("pairs", "kappa", "std_error"),
    [
        ([("x", "x"), ("y", "y"), ("x", "x")], 1.0, 0.0),
        ([("x", "y"), ("y", "x")], -1.0, None),
    ],
)
def test_cohen_kappa_extremes(
    pairs: list[tuple[str, str]], kappa: float, std_error: float | None
) -> None:
    frame = ratings({f"i{i}": [("A", a), ("B", b)] for i, (a, b) in enumerate(pairs)})
    result = compute_cohen_kappa(frame, "A", "B")
    assert result.kappa == pytest.approx(kappa)
    if std_error is not None:
        assert result.std_error == pytest.approx(std_error)


def test_cohen_kappa_is_undefined_when_both_use_one_label() -> None:
    frame = ratings({f"i{i}": [("A", "x"), ("B", "x")] for i in range(4)})
    result = compute_cohen_kappa(frame, "A", "B")
    assert result.kappa is None
    assert result.std_error is None
    assert result.observed_agreement == 1.0


def test_cohen_kappa_without_shared_items_is_none() -> None:
    frame = ratings({"i1": [("A", "x")], "i2": [("B", "x")], "i3": [("A", "y"), ("C", "y")]})
    result = compute_cohen_kappa(frame, "A", "B")
    assert result.n_shared == 0
    assert result.kappa is None


def test_cohen_kappa_uses_first_of_repeated_ratings() -> None:
    frame = ratings({"i1": [("A", "x"), ("A", "y"), ("B", "x")], "i2": [("A", "y"), ("B", "y")]})
    result = compute_cohen_kappa(frame, "A", "B")
    assert result.n_shared == 2
    assert result.kappa == pytest.approx(1.0)


def test_pairwise_kappa_lists_each_pair_with_shared_items_once() -> None:
    frame = ratings(
        {
            "i1": [("b", "x"), ("a", "x"), ("c", "y")],
            "i2": [("a", "y"), ("b", "y")],
            "i3": [("d", "x")],
        }
    )
    pairs = compute_pairwise_cohen_kappa(frame)
    assert pairs[["annotator_a", "annotator_b", "n_shared"]].values.tolist() == [
        ["a", "b", 2],
        ["a", "c", 1],
        ["b", "c", 1],
    ]
    assert pairs.loc[0, "kappa"] == pytest.approx(1.0)


def test_pairwise_kappa_rejects_unknown_weights() -> None:
    with pytest.raises(ValueError, match="weights"):
        # A value the type rules out, as an untyped caller could still pass it.
        compute_pairwise_cohen_kappa(
            unnamed({"i1": ["x", "y"]}), weights=cast(KappaWeights, "cubic")
        )


@pytest.mark.parametrize(
    ("table", "kappa"),
    [
        ({"i1": ["x", "x"], "i2": ["y", "y"]}, 1.0),
        ({"i1": ["x", "y"], "i2": ["x", "y"]}, -1.0),
        # P_bar = (1 + 1/3) / 2 = 2/3; p = (4/6, 2/6), P_e = 5/9; kappa = (2/3 - 5/9) / (4/9).
        ({"i1": ["x", "x", "x"], "i2": ["x", "y", "y"]}, 0.25),
    ],
)
def test_fleiss_kappa_hand_checked(table: dict[str, list[str]], kappa: float) -> None:
    result = compute_fleiss_kappa(unnamed(table))
    assert result.note is None
    assert result.kappa == pytest.approx(kappa)


@pytest.mark.parametrize(
    ("table", "note_part"),
    [
        ({"i1": ["x", "x"], "i2": ["x", "y", "y"]}, "between 2 and 3 ratings"),
        ({"i1": ["x"], "i2": ["y"]}, "single rating"),
        ({"i1": ["x", "x"], "i2": ["x", "x"]}, "same label"),
    ],
)
def test_fleiss_kappa_is_none_with_a_note_when_undefined(
    table: dict[str, list[str]], note_part: str
) -> None:
    result = compute_fleiss_kappa(unnamed(table))
    assert result.kappa is None
    assert result.note is not None
    assert note_part in result.note


def test_krippendorff_alpha_matches_package_reliability_matrix() -> None:
    generator = np.random.default_rng(7)
    matrix = generator.integers(1, 6, size=(4, 30)).astype(float)
    matrix[generator.random(matrix.shape) < 0.3] = np.nan
    rows = [
        (f"i{item}", f"a{coder}", str(int(matrix[coder, item])))
        for coder in range(matrix.shape[0])
        for item in range(matrix.shape[1])
        if not np.isnan(matrix[coder, item])
    ]
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])
    for level in ("nominal", "ordinal", "interval", "ratio"):
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
        actual = compute_krippendorff_alpha(frame, level=level)
        assert actual == pytest.approx(expected), level


def test_krippendorff_alpha_counts_a_repeated_rating_as_another_value() -> None:
    repeated = ratings({"i1": [("a", "x"), ("a", "x")], "i2": [("a", "x"), ("b", "y")]})
    separate = ratings({"i1": [("a", "x"), ("c", "x")], "i2": [("a", "x"), ("b", "y")]})
    assert compute_krippendorff_alpha(repeated) == pytest.approx(
        compute_krippendorff_alpha(separate)
    )


@pytest.mark.parametrize(
    "table",
    [
        {"i1": ["x", "x"], "i2": ["x", "x", "x"]},  # one label only
        {"i1": ["x"], "i2": ["y"]},  # single rater per item: nothing pairable
        {"i1": ["x", "x"], "i2": ["y"]},  # y is never pairable
    ],
)
def test_krippendorff_alpha_undefined_is_none(table: dict[str, list[str]]) -> None:
    assert compute_krippendorff_alpha(unnamed(table)) is None


def test_krippendorff_interval_level_needs_numeric_labels() -> None:
    with pytest.raises(ValueError, match="not a number"):
        compute_krippendorff_alpha(unnamed({"i1": ["x", "y"], "i2": ["x", "x"]}), level="interval")


def test_rank_disputed_items_orders_by_disagreement_then_evidence() -> None:
    frame = unnamed(
        {
            "i1": ["x", "y"],
            "i2": ["x", "x", "y"],
            "i3": ["x", "x"],
            "i4": ["x", "y", "z", "x"],
            "i5": ["x", "y", "x", "y"],
        }
    )
    disputed = rank_disputed_items(frame, top=3)
    assert list(disputed.index) == ["i1", "i4", "i5"]
    assert disputed.loc["i4", "label_counts"] == {"x": 2, "y": 1, "z": 1}
    assert disputed.loc["i4", "agreement"] == pytest.approx(1 / 6)
    everything = rank_disputed_items(frame, top=None)
    assert "i3" not in everything.index
    assert len(everything) == 4


def test_collect_gold_labels_rejects_conflicting_gold() -> None:
    frame = unnamed({"i1": ["x", "y"]}).assign(gold=["x", "y"])
    with pytest.raises(ValueError, match="conflicting gold"):
        collect_gold_labels(frame)
