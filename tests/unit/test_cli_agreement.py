"""`annops agreement FILE`: published reference values through the command line, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ops.cli import app

REFDATA = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"
runner = CliRunner()


def agreement(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["agreement", *args])
    return result.exit_code, result.stdout, result.stderr


def published(name: str) -> dict[str, Any]:
    sidecar: dict[str, Any] = json.loads((REFDATA / f"{name}.json").read_text())
    return sidecar


def json_report(*args: str) -> dict[str, Any]:
    code, out, err = agreement(*args, "--format", "json")
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def test_cohen_grant_example_through_the_command() -> None:
    expected = published("cohen_wikipedia_grant_2x2")["published"]
    report = json_report(str(REFDATA / "cohen_wikipedia_grant_2x2.csv"))
    assert report["n_items"] == 50 and report["n_annotators"] == 2 and report["n_labels"] == 100
    assert report["cohen_kappa"] == pytest.approx(expected["cohen_kappa"], abs=1e-9)
    [pair] = report["cohen_kappa_pairs"]
    assert (pair["annotator_a"], pair["annotator_b"], pair["n_shared"]) == ("A", "B", 50)


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
def test_kappa_weights_option_reaches_the_statistic(weights: str) -> None:
    expected = published("cohen_sklearn_weighted_3class")["published"]
    key = "unweighted" if weights == "none" else weights
    report = json_report(
        str(REFDATA / "cohen_sklearn_weighted_3class.csv"), "--kappa-weights", weights
    )
    assert report["cohen_kappa_weights"] == weights
    assert report["cohen_kappa"] == pytest.approx(expected[key], abs=5e-5)


def test_fleiss_example_and_its_disputed_items() -> None:
    expected = published("fleiss_wikipedia_10x14")["published"]
    report = json_report(str(REFDATA / "fleiss_wikipedia_10x14.csv"), "--top-disputed", "3")
    assert report["fleiss_kappa"] == pytest.approx(expected["fleiss_kappa"], abs=5e-4)
    assert report["fleiss_kappa_note"] is None
    # Fourteen annotators: Cohen's kappa is per pair only.
    assert report["cohen_kappa"] is None
    assert len(report["cohen_kappa_pairs"]) == 14 * 13 // 2
    disputed = report["disputed_items"]
    assert len(disputed) == 3
    # The published P_i, lowest first: subjects 8 (0.176), 7 (0.242) and 2 (0.253).
    assert [row["item_id"] for row in disputed] == ["8", "7", "2"]
    for row in disputed:
        assert row["agreement"] == pytest.approx(expected["P_i"][int(row["item_id"]) - 1], abs=5e-4)
        assert sum(row["label_counts"].values()) == 14


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_alpha_level_option_reaches_the_statistic(level: str) -> None:
    expected = published("krippendorff_wikipedia_3x15")["published"]
    report = json_report(str(REFDATA / "krippendorff_wikipedia_3x15.csv"), "--alpha-level", level)
    assert report["krippendorff_alpha_level"] == level
    assert report["krippendorff_alpha"] == pytest.approx(expected[level], abs=5e-7)
    # Missing ratings: items do not all have the same number, so Fleiss is undefined.
    assert report["fleiss_kappa"] is None
    assert "same number of ratings" in report["fleiss_kappa_note"]


def test_gold_column_gives_accuracy_with_intervals() -> None:
    report = json_report(str(REFDATA / "snow2008_temp.csv"))
    assert report["n_items"] == 462 and report["n_gold_items"] == 462
    assert report["majority_vote"]["accuracy"] == pytest.approx(0.94, abs=0.005)
    assert len(report["annotators"]) == 76
    for row in report["annotators"]:
        assert row["accuracy_ci_low"] - 1e-12 <= row["accuracy"] <= row["accuracy_ci_high"] + 1e-12
        assert row["accuracy_ci_high"] - row["accuracy_ci_low"] > 0


def test_text_report_is_the_default() -> None:
    code, out, _ = agreement(str(REFDATA / "cohen_wikipedia_grant_2x2.csv"))
    assert code == 0
    assert out.startswith("Agreement report\n")
    assert "Cohen's kappa (none)              0.400" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{missing}",), "no such file"),
        (("{directory}",), "cannot read it"),
        (("{bad_header}",), "missing column(s) label"),
        (("{ragged}",), "line 3: 2 fields where the header has 3"),
        (("{good}", "--format", "yaml"), "unknown format 'yaml'"),
        (("{good}", "--alpha-level", "cardinal"), "unknown --alpha-level 'cardinal'"),
        (("{good}", "--kappa-weights", "cubic"), "unknown --kappa-weights 'cubic'"),
        (("{good}", "--top-disputed", "-1"), "--top-disputed must be 0 or more"),
    ],
)
def test_bad_input_gives_one_clear_line_and_a_non_zero_exit(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "bad_header.csv").write_text("item_id,annotator_id,value\n1,a,x\n")
    (tmp_path / "ragged.csv").write_text("item_id,annotator_id,label\n1,a,x\n1,b\n")
    paths = {
        "missing": str(tmp_path / "nothing-here.csv"),
        "directory": str(tmp_path),
        "bad_header": str(tmp_path / "bad_header.csv"),
        "ragged": str(tmp_path / "ragged.csv"),
        "good": str(REFDATA / "cohen_wikipedia_grant_2x2.csv"),
    }
    code, out, err = agreement(*(arg.format(**paths) for arg in args))
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and message in lines[0]
