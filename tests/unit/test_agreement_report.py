"""The `annops agreement` report: CSV validation, JSON-ready values, plain-text rendering."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest

from ops.agreement_report import (
    build_agreement_report,
    format_agreement_report,
    read_agreement_csv,
)
from ops.metrics.agreement import AlphaLevel, KappaWeights

REFDATA = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"

PILOT_CSV = """\
item_id,annotator_id,label,gold
i1,a,x,x
i1,b,x,x
i1,c,y,x
i2,a,y,y
i2,b,y,y
i2,c,y,y
i3,a,x,x
i3,b,y,x
i4,a,x,
i4,a,x,
i4,b,x,
i4,c,x,
"""

REPORT_KEYS = {
    "n_items",
    "n_annotators",
    "n_labels",
    "n_categories",
    "categories",
    "n_gold_items",
    "percent_agreement",
    "krippendorff_alpha",
    "krippendorff_alpha_level",
    "fleiss_kappa",
    "fleiss_kappa_note",
    "cohen_kappa",
    "cohen_kappa_weights",
    "cohen_kappa_pairs",
    "majority_vote",
    "dawid_skene",
    "annotators",
    "disputed_items",
}


def write(tmp_path: Path, text: str | bytes, name: str = "ratings.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def pilot(tmp_path: Path) -> pd.DataFrame:
    return read_agreement_csv(write(tmp_path, PILOT_CSV))


def test_read_keeps_every_rating_as_text(pilot: pd.DataFrame) -> None:
    assert list(pilot.columns) == ["item_id", "annotator_id", "label", "gold"]
    assert len(pilot) == 12
    assert pilot.loc[0].to_numpy().tolist() == ["i1", "a", "x", "x"]
    # A blank gold cell means "not golden", not an empty label.
    assert pilot.loc[8, "gold"] is None


def test_read_accepts_bom_whitespace_blank_lines_and_extra_columns(tmp_path: Path) -> None:
    text = "\ufeffitem_id, annotator_id ,label,created_at\n1, a ,yes,2024\n\n1,b,no,2024\n"
    frame = read_agreement_csv(write(tmp_path, text))
    assert list(frame.columns) == ["item_id", "annotator_id", "label"]
    assert frame.values.tolist() == [["1", "a", "yes"], ["1", "b", "no"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("item_id,annotator_id,label\n", "no ratings after the header"),
        ("item_id,annotator_id\n1,a\n", "line 1 (header): missing column(s) label"),
        ("item_id,annotator_id,label\n1,a,x\n2,b,\n", "line 3, field 'label': empty"),
        ("item_id,annotator_id,label\n1,,x\n", "line 2, field 'annotator_id': empty"),
        ("item_id,annotator_id,label\n1,a,x,y\n", "line 2: 4 fields where the header has 3"),
        (
            "item_id,annotator_id,label,gold\n1,a,x,x\n1,b,x,y\n",
            "line 3, field 'gold': item '1' has gold 'y' here but 'x' on line 2",
        ),
        ("item_id,annotator_id,label,label\n1,a,x,y\n", "column(s) label repeated"),
        (b"item_id,annotator_id,label\n1,a,\xff\n", "not UTF-8"),
    ],
)
def test_read_rejects_bad_input_naming_file_line_and_field(
    tmp_path: Path, text: str | bytes, expected: str
) -> None:
    path = write(tmp_path, text, name="pilot-batch.csv")
    with pytest.raises(ValueError) as raised:
        read_agreement_csv(path)
    assert str(raised.value).startswith(str(path))
    assert expected in str(raised.value)


def assert_plain(value: Any, where: str = "report") -> None:
    """Only JSON types, and no NaN or infinity anywhere."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), where
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")
    else:
        assert value is None or type(value) in (bool, int, float, str), f"{where}: {value!r}"
        if isinstance(value, float):
            assert math.isfinite(value), where


def test_report_has_every_key_and_only_plain_values(pilot: pd.DataFrame) -> None:
    report = build_agreement_report(pilot)
    assert set(report) == REPORT_KEYS
    assert_plain(report)
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_report_counts_and_majority_vote(pilot: pd.DataFrame) -> None:
    report = build_agreement_report(pilot)
    assert (report["n_items"], report["n_annotators"], report["n_labels"]) == (4, 3, 12)
    assert report["categories"] == ["x", "y"]
    assert report["n_gold_items"] == 3
    # i3 is a tie (x, y) with gold x: half credit; i1 and i2 are right.
    assert report["majority_vote"] == {"unresolved_items": 1, "accuracy": pytest.approx(2.5 / 3)}


def test_report_counts_repeats_as_ratings_and_as_consistency(pilot: pd.DataFrame) -> None:
    report = build_agreement_report(pilot)
    # Items carry 3, 3, 2 and 4 ratings (a rated i4 twice): Fleiss is undefined.
    assert report["fleiss_kappa"] is None
    assert "between 2 and 4 ratings" in report["fleiss_kappa_note"]
    # Pairs: i1 3 pairs (1 agreeing), i2 3 (3), i3 1 (0), i4 6 (6) -> 10 / 13.
    assert report["percent_agreement"] == pytest.approx(10 / 13)
    annotators = {row["annotator_id"]: row for row in report["annotators"]}
    assert annotators["a"]["n"] == 5
    assert annotators["a"]["consistency"] == 1.0
    assert annotators["a"]["n_repeated_items"] == 1
    assert annotators["b"]["consistency"] is None


def test_report_gold_accuracy_per_annotator(pilot: pd.DataFrame) -> None:
    annotators = {row["annotator_id"]: row for row in build_agreement_report(pilot)["annotators"]}
    assert annotators["a"]["accuracy"] == 1.0
    assert annotators["a"]["n_gold"] == 3
    assert annotators["b"]["accuracy"] == pytest.approx(2 / 3)
    assert annotators["c"]["accuracy"] == pytest.approx(1 / 2)
    low, high = annotators["c"]["accuracy_ci_low"], annotators["c"]["accuracy_ci_high"]
    assert 0 < low < 0.5 < high < 1


def test_report_cohen_kappa_only_for_exactly_two_annotators(pilot: pd.DataFrame) -> None:
    report = build_agreement_report(pilot)
    assert report["cohen_kappa"] is None
    assert [(pair["annotator_a"], pair["annotator_b"]) for pair in report["cohen_kappa_pairs"]] == [
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    ]
    two = build_agreement_report(pilot[pilot["annotator_id"] != "c"])
    assert two["cohen_kappa"] == two["cohen_kappa_pairs"][0]["kappa"]
    assert two["cohen_kappa"] is not None


def test_report_without_gold_has_no_accuracy(pilot: pd.DataFrame) -> None:
    report = build_agreement_report(pilot.drop(columns="gold"))
    assert report["n_gold_items"] == 0
    assert report["majority_vote"]["accuracy"] is None
    assert report["dawid_skene"]["accuracy"] is None
    assert all(row["accuracy"] is None for row in report["annotators"])


def test_report_turns_undefined_statistics_into_none() -> None:
    frame = pd.DataFrame(
        {"item_id": ["1", "1", "2", "2"], "annotator_id": ["a", "b"] * 2, "label": ["x"] * 4}
    )
    report = build_agreement_report(frame)
    assert report["krippendorff_alpha"] is None
    assert report["fleiss_kappa"] is None
    assert report["cohen_kappa"] is None
    assert report["disputed_items"] == []
    assert_plain(report)


def test_report_on_a_single_rater_has_no_agreement_statistics() -> None:
    frame = pd.DataFrame(
        {"item_id": ["1", "2", "3"], "annotator_id": ["a"] * 3, "label": ["x", "y", "x"]}
    )
    report = build_agreement_report(frame)
    assert_plain(report)
    assert report["percent_agreement"] is None
    assert report["krippendorff_alpha"] is None
    assert report["fleiss_kappa"] is None
    assert "single rating" in report["fleiss_kappa_note"]
    assert report["cohen_kappa_pairs"] == []
    assert report["annotators"][0]["agreement_with_majority"] is None
    assert report["annotators"][0]["n_compared_with_majority"] == 0


def test_report_disputed_items_carry_label_counts(pilot: pd.DataFrame) -> None:
    disputed = build_agreement_report(pilot, top_disputed=1)["disputed_items"]
    assert disputed == [
        {
            "item_id": "i3",
            "n_ratings": 2,
            "agreement": 0.0,
            "gold": "x",
            "label_counts": {"x": 1, "y": 1},
        }
    ]


def test_report_passes_options_through(pilot: pd.DataFrame) -> None:
    report = build_agreement_report(pilot, alpha_level="ordinal", kappa_weights="quadratic")
    assert report["krippendorff_alpha_level"] == "ordinal"
    assert report["cohen_kappa_weights"] == "quadratic"
    # Values the types rule out, as an untyped caller could still pass them.
    with pytest.raises(ValueError, match="alpha_level"):
        build_agreement_report(pilot, alpha_level=cast(AlphaLevel, "circular"))
    with pytest.raises(ValueError, match="kappa_weights"):
        build_agreement_report(pilot, kappa_weights=cast(KappaWeights, "cubic"))


def test_report_rejects_frames_without_rating_columns() -> None:
    with pytest.raises(ValueError, match="missing column"):
        build_agreement_report(pd.DataFrame({"item_id": ["1"], "label": ["x"]}))


def test_report_on_reference_data_matches_published_values() -> None:
    kripp = build_agreement_report(
        read_agreement_csv(REFDATA / "krippendorff_wikipedia_3x15.csv"), alpha_level="interval"
    )
    assert round(kripp["krippendorff_alpha"], 6) == 0.810845
    snow = build_agreement_report(read_agreement_csv(REFDATA / "snow2008_temp.csv"))
    assert round(snow["majority_vote"]["accuracy"], 2) == 0.94
    assert snow["majority_vote"]["unresolved_items"] == 17
    assert snow["n_annotators"] == 76


def test_text_report_reads_like_the_numbers(pilot: pd.DataFrame) -> None:
    text = format_agreement_report(build_agreement_report(pilot))
    assert text.startswith("Agreement report\n")
    assert "items 4, annotators 3, ratings 12" in text
    assert "Fleiss' kappa                     n/a" in text
    assert "between 2 and 4 ratings" in text
    assert "majority vote: tied items         1" in text
    assert "majority vote: accuracy vs gold   0.833" in text
    assert "i3    2  0.000      x     x: 1, y: 1" in text
    assert text.endswith("\n")


def test_text_report_for_two_annotators_shows_kappa(pilot: pd.DataFrame) -> None:
    two = pilot[pilot["annotator_id"] != "c"]
    report = build_agreement_report(two)
    text = format_agreement_report(report)
    assert f"Cohen's kappa (none)              {report['cohen_kappa']:.3f}" in text
    assert "(1 pair)" in text
