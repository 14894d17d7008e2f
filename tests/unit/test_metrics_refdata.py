"""Published reference values (tests/fixtures/refdata), at the precision each source prints."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ops.metrics import (
    collect_gold_labels,
    compute_cohen_kappa,
    compute_fleiss_kappa,
    compute_item_agreement,
    compute_krippendorff_alpha,
    compute_majority_vote,
    compute_majority_vote_accuracy,
    count_labels_per_item,
    fit_dawid_skene,
)
from ops.metrics.agreement import KappaWeights

# A copy of the published reference data ships with the tests, so they never skip.
REFDATA = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"


def load_ratings(name: str) -> pd.DataFrame:
    # Read as text, the way `annops agreement` reads a CSV.
    return pd.read_csv(REFDATA / f"{name}.csv", dtype=str, keep_default_na=False)


def load_sidecar(name: str) -> dict[str, Any]:
    sidecar: dict[str, Any] = json.loads((REFDATA / f"{name}.json").read_text())
    return sidecar


def cohen(weights: KappaWeights, field: str) -> Callable[[pd.DataFrame], float | None]:
    def compute(frame: pd.DataFrame) -> float | None:
        result = compute_cohen_kappa(frame, "A", "B", weights=weights)
        value: float | None = getattr(result, field)
        return value

    return compute


def majority_accuracy(frame: pd.DataFrame) -> float | None:
    return compute_majority_vote_accuracy(compute_majority_vote(frame), collect_gold_labels(frame))


# (sidecar, key under "published", decimals the source prints, statistic)
PUBLISHED: list[tuple[str, str, int, Callable[[pd.DataFrame], float | None]]] = [
    # scikit-learn's test asserts these with decimal=4.
    ("cohen_sklearn_weighted_3class", "unweighted", 4, cohen("none", "kappa")),
    ("cohen_sklearn_weighted_3class", "linear", 4, cohen("linear", "kappa")),
    ("cohen_sklearn_weighted_3class", "quadratic", 4, cohen("quadratic", "kappa")),
    # Wikipedia prints p_o = 0.70, p_e = 0.50, kappa = 0.40.
    ("cohen_wikipedia_grant_2x2", "p_o", 2, cohen("none", "observed_agreement")),
    ("cohen_wikipedia_grant_2x2", "p_e", 2, cohen("none", "expected_agreement")),
    ("cohen_wikipedia_grant_2x2", "cohen_kappa", 2, cohen("none", "kappa")),
    # Wikipedia and statsmodels: 0.210 (decimal=3).
    ("fleiss_wikipedia_10x14", "fleiss_kappa", 3, lambda frame: compute_fleiss_kappa(frame).kappa),
    # fast-krippendorff asserts 6 decimals.
    (
        "krippendorff_wikipedia_3x15",
        "nominal",
        6,
        lambda frame: compute_krippendorff_alpha(frame, level="nominal"),
    ),
    (
        "krippendorff_wikipedia_3x15",
        "interval",
        6,
        lambda frame: compute_krippendorff_alpha(frame, level="interval"),
    ),
    # Snow et al. (2008) report .94 for 10-annotator majority vote on TEMP.
    ("snow2008_temp", "majority_vote_accuracy_10_annotators", 2, majority_accuracy),
]

# Published values that are lists, checked element by element in their own tests.
PUBLISHED_LISTS = {("fleiss_wikipedia_10x14", "P_i")}


@pytest.mark.parametrize(
    ("name", "key", "decimals", "statistic"),
    PUBLISHED,
    ids=[f"{name}:{key}" for name, key, _, _ in PUBLISHED],
)
def test_published_value_is_reproduced(
    name: str, key: str, decimals: int, statistic: Callable[[pd.DataFrame], float | None]
) -> None:
    expected = load_sidecar(name)["published"][key]
    actual = statistic(load_ratings(name))
    assert actual is not None
    assert round(actual, decimals) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("weights", "observed"),
    # The only disagreements are 4 items one step apart: weight 1, 1/2 and 1/4 of 4 in 100.
    [("none", 0.96), ("linear", 0.98), ("quadratic", 0.99)],
)
def test_weighted_agreement_shares_are_consistent_with_kappa(
    weights: KappaWeights, observed: float
) -> None:
    result = compute_cohen_kappa(
        load_ratings("cohen_sklearn_weighted_3class"), "A", "B", weights=weights
    )
    assert result.observed_agreement == pytest.approx(observed)
    assert result.kappa is not None
    assert result.observed_agreement is not None
    assert result.expected_agreement is not None
    assert result.kappa == pytest.approx(
        (result.observed_agreement - result.expected_agreement) / (1 - result.expected_agreement)
    )


def test_fleiss_per_item_agreement_matches_published_p_i() -> None:
    expected = load_sidecar("fleiss_wikipedia_10x14")["published"]["P_i"]
    actual = compute_item_agreement(load_ratings("fleiss_wikipedia_10x14"))
    assert [round(value, 3) for value in actual] == pytest.approx(expected, abs=1e-12)


def test_every_published_value_has_a_test() -> None:
    covered = {(name, key) for name, key, _, _ in PUBLISHED} | PUBLISHED_LISTS
    published = {
        (path.stem, key)
        for path in REFDATA.glob("*.json")
        for key in json.loads(path.read_text()).get("published", {})
    }
    assert published - covered == set()


def test_long_fleiss_csv_reproduces_published_count_table() -> None:
    counts = pd.read_csv(REFDATA / "fleiss_wikipedia_10x14_counts.csv", dtype={"item_id": str})
    expected = counts.set_index("item_id").to_numpy()
    actual = count_labels_per_item(load_ratings("fleiss_wikipedia_10x14"))
    assert list(actual.index) == list(counts["item_id"])
    assert list(actual.columns) == ["1", "2", "3", "4", "5"]
    assert (actual.to_numpy() == expected).all()


def computed_decimals(value: float) -> int:
    # Sidecar "computed" figures are rounded to the digits they print.
    text = repr(value)
    return len(text.split(".")[1]) if "." in text else 0


# Library figures recorded in the sidecars, as regression checks beyond the published ones.
COMPUTED: list[tuple[str, tuple[str, ...], Callable[[pd.DataFrame], float | None]]] = [
    ("cohen_sklearn_weighted_3class", ("sklearn", "unweighted"), cohen("none", "kappa")),
    ("cohen_sklearn_weighted_3class", ("sklearn", "linear"), cohen("linear", "kappa")),
    ("cohen_sklearn_weighted_3class", ("sklearn", "quadratic"), cohen("quadratic", "kappa")),
    (
        "fleiss_wikipedia_10x14",
        ("fleiss_kappa_statsmodels",),
        lambda frame: compute_fleiss_kappa(frame).kappa,
    ),
    *[
        (
            "krippendorff_wikipedia_3x15",
            ("krippendorff_pkg", level),
            lambda frame, level=level: compute_krippendorff_alpha(frame, level=level),
        )
        for level in ("nominal", "ordinal", "interval", "ratio")
    ],
    (
        "snow2008_temp",
        ("majority_vote", "accuracy_ties_half_credit"),
        majority_accuracy,
    ),
    (
        "snow2008_temp",
        ("majority_vote", "n_ties"),
        lambda frame: float(compute_majority_vote(frame)["is_tie"].sum()),
    ),
    (
        "snow2008_temp",
        ("fleiss_kappa_statsmodels",),
        lambda frame: compute_fleiss_kappa(frame).kappa,
    ),
    ("snow2008_temp", ("krippendorff_alpha_nominal",), compute_krippendorff_alpha),
]


@pytest.mark.parametrize(
    ("name", "path", "statistic"),
    COMPUTED,
    ids=[f"{name}:{'.'.join(path)}" for name, path, _ in COMPUTED],
)
def test_computed_value_matches_reference_library(
    name: str, path: tuple[str, ...], statistic: Callable[[pd.DataFrame], float | None]
) -> None:
    expected: Any = load_sidecar(name)["computed"]
    for key in path:
        expected = expected[key]
    actual = statistic(load_ratings(name))
    assert actual is not None
    assert round(actual, computed_decimals(expected)) == pytest.approx(expected, abs=1e-12)


def test_snow_dawid_skene_matches_crowd_kit_accuracy() -> None:
    frame = load_ratings("snow2008_temp")
    expected = load_sidecar("snow2008_temp")["computed"][
        "crowdkit_dawid_skene_accuracy(n_iter=100,tol=1e-5)"
    ]
    gold = collect_gold_labels(frame)
    predicted = fit_dawid_skene(frame).item_labels
    accuracy = (predicted[gold.index] == gold).mean()
    assert round(float(accuracy), 6) == pytest.approx(expected, abs=1e-12)
    # Dawid-Skene should beat the majority vote on TEMP, as Zhou et al. (2012) report.
    majority = majority_accuracy(frame)
    assert majority is not None and accuracy > majority
