"""`annops agreement`: read a long CSV item_id,annotator_id,label[,gold], print its analysis."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ops.agreement import analyse_agreement
from ops.metrics.agreement import (
    AlphaLevel,
    KappaWeights,
)

REQUIRED_COLUMNS: tuple[str, ...] = ("item_id", "annotator_id", "label")
OPTIONAL_COLUMNS: tuple[str, ...] = ("gold",)
EXPECTED_HEADER = "item_id,annotator_id,label[,gold]"
TEXT_PAIR_LIMIT = 10


def read_agreement_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a long ratings CSV: one row per rating, all values as text."""
    # A well-formed file is read by Arrow's CSV reader; anything it or its checks find
    # unusual is read again row by row, which names the line and field that is wrong.
    frame = _read_well_formed(path)
    if frame is not None:
        return frame
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return _read_ratings(csv.reader(handle), os.fspath(path))
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{os.fspath(path)}: not UTF-8 text (byte {error.start}); save the CSV as UTF-8"
        ) from error


def _read_well_formed(path: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The ratings of a file with nothing to report, read in bulk; None if in doubt."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if header is None:
        return None
    names = [cell.strip() for cell in header]
    if any(column not in names for column in REQUIRED_COLUMNS):
        return None
    if any(names.count(name) > 1 for name in names if name):
        return None
    wanted = [name for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in names]
    generated = [f"column_{index}" for index in range(len(names))]
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=generated),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(generated, pa.string()),
                include_columns=[generated[names.index(name)] for name in wanted],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError):
        # Rows of another width, invalid UTF-8, broken quoting: the careful reader says which.
        return None
    if table.num_rows == 0:
        return None
    columns = {
        name: pc.utf8_trim_whitespace(table.column(generated[names.index(name)])) for name in wanted
    }
    if any(pc.any(pc.equal(columns[name], "")).as_py() for name in REQUIRED_COLUMNS):
        return None
    # Arrow-backed text, as pandas itself reads a CSV; a blank gold cell is None (not golden).
    frame = pd.DataFrame(
        {name: pd.Series(columns[name].to_pandas(), dtype="str") for name in REQUIRED_COLUMNS}
    )
    if "gold" in wanted:
        gold = columns["gold"].to_numpy(zero_copy_only=False)
        frame["gold"] = pd.Series(np.where(gold == "", None, gold), dtype=object)
        golden = frame.loc[frame["gold"].notna(), ["item_id", "gold"]]
        if (golden.groupby("item_id", sort=False)["gold"].nunique() > 1).any():
            return None
    return frame


def build_agreement_report(
    frame: pd.DataFrame,
    *,
    alpha_level: AlphaLevel = "nominal",
    kappa_weights: KappaWeights = "none",
    top_disputed: int = 10,
) -> dict[str, Any]:
    """The `annops agreement` JSON document of a rating frame: its agreement analysis."""
    analysis = analyse_agreement(
        frame, alpha_level=alpha_level, kappa_weights=kappa_weights, top_disputed=top_disputed
    )
    return analysis.to_report()


def format_agreement_report(report: Mapping[str, Any]) -> str:
    """The report as readable plain text, one section per statistic family."""
    lines = [
        "Agreement report",
        f"  items {report['n_items']}, annotators {report['n_annotators']}, "
        f"ratings {report['n_labels']}, categories {report['n_categories']}, "
        f"gold items {report['n_gold_items']}",
        "",
        "Agreement",
        _field("percent agreement (rating pairs)", _number(report["percent_agreement"])),
        _field(
            f"Krippendorff's alpha ({report['krippendorff_alpha_level']})",
            _number(report["krippendorff_alpha"]),
        ),
        _field("Fleiss' kappa", _number(report["fleiss_kappa"])),
    ]
    if report["fleiss_kappa_note"]:
        lines.append(f"    {report['fleiss_kappa_note']}")
    lines.append(
        _field(f"Cohen's kappa ({report['cohen_kappa_weights']})", _number(report["cohen_kappa"]))
    )
    if report["n_annotators"] != 2:
        lines.append("    defined for exactly two annotators; see the pairs below")
    pairs = list(report["cohen_kappa_pairs"])
    if pairs:
        shown = sorted(pairs, key=lambda pair: -int(pair["n_shared"]))[:TEXT_PAIR_LIMIT]
        suffix = f", the {len(shown)} with most shared items" if len(pairs) > len(shown) else ""
        noun = "pair" if len(pairs) == 1 else "pairs"
        lines += ["", f"Cohen's kappa per pair ({len(pairs)} {noun}{suffix})"]
        lines += _table(
            ["annotator_a", "annotator_b", "shared", "kappa", "std_error"],
            [
                [
                    str(pair["annotator_a"]),
                    str(pair["annotator_b"]),
                    str(pair["n_shared"]),
                    _number(pair["kappa"]),
                    _number(pair["std_error"]),
                ]
                for pair in shown
            ],
        )
    majority = report["majority_vote"]
    dawid_skene = report["dawid_skene"]
    convergence = "converged" if dawid_skene["converged"] else "did not converge"
    lines += [
        "",
        "Consensus",
        _field("majority vote: tied items", str(majority["unresolved_items"])),
        _field("majority vote: accuracy vs gold", _number(majority["accuracy"])),
        "    a tied item counts as 1/k correct when gold is among its k tied labels",
        _field("Dawid-Skene: accuracy vs gold", _number(dawid_skene["accuracy"])),
        f"    {convergence} after {dawid_skene['n_iterations']} iterations",
        "",
        "Annotators",
    ]
    ds_accuracy = {row["annotator_id"]: row["accuracy"] for row in dawid_skene["annotators"]}
    lines += _table(
        ["annotator", "n", "gold acc", "95% CI", "vs majority", "DS acc", "consistency"],
        [
            [
                str(row["annotator_id"]),
                str(row["n"]),
                _number(row["accuracy"]),
                _interval(row["accuracy_ci_low"], row["accuracy_ci_high"]),
                _number(row["agreement_with_majority"]),
                _number(ds_accuracy.get(row["annotator_id"])),
                _number(row["consistency"]),
            ]
            for row in report["annotators"]
        ],
    )
    lines += ["", "Most disputed items"]
    if report["disputed_items"]:
        lines += _table(
            ["item", "n", "agreement", "gold", "label counts"],
            [
                [
                    str(row["item_id"]),
                    str(row["n_ratings"]),
                    _number(row["agreement"]),
                    "" if row["gold"] is None else str(row["gold"]),
                    ", ".join(f"{label}: {count}" for label, count in row["label_counts"].items()),
                ]
                for row in report["disputed_items"]
            ],
        )
    else:
        lines.append("  none: every item's ratings agree")
    return "\n".join(lines) + "\n"


def _read_ratings(reader: Any, path: str) -> pd.DataFrame:
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ValueError(f"{path}: the file is empty; expected a header row {EXPECTED_HEADER}")
        names = [cell.strip() for cell in header]
        missing = [column for column in REQUIRED_COLUMNS if column not in names]
        if missing:
            raise ValueError(
                f"{path}: line 1 (header): missing column(s) {', '.join(missing)}; "
                f"expected {EXPECTED_HEADER}, found {','.join(names)}"
            )
        repeated = sorted({name for name in names if names.count(name) > 1 and name})
        if repeated:
            raise ValueError(f"{path}: line 1 (header): column(s) {', '.join(repeated)} repeated")
        wanted = [name for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in names]
        position = {name: names.index(name) for name in wanted}
        rows: list[list[str | None]] = []
        gold_seen: dict[str, tuple[str, int]] = {}
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                raise ValueError(
                    f"{path}: line {line}: {len(record)} fields where the header has "
                    f"{len(names)}; check for an unquoted comma"
                )
            values = {name: record[position[name]].strip() for name in wanted}
            for field in REQUIRED_COLUMNS:
                if not values[field]:
                    raise ValueError(
                        f"{path}: line {line}, field '{field}': empty; every row needs an "
                        "item_id, an annotator_id and a label"
                    )
            gold = values.get("gold") or None
            if gold is not None:
                earlier = gold_seen.setdefault(values["item_id"], (gold, line))
                if earlier[0] != gold:
                    raise ValueError(
                        f"{path}: line {line}, field 'gold': item {values['item_id']!r} has gold "
                        f"{gold!r} here but {earlier[0]!r} on line {earlier[1]}; "
                        "an item has one gold label"
                    )
            rows.append([values[name] if name != "gold" else gold for name in wanted])
    except csv.Error as error:
        raise ValueError(f"{path}: line {reader.line_num}: not valid CSV ({error})") from error
    if not rows:
        raise ValueError(f"{path}: no ratings after the header row")
    frame = pd.DataFrame(rows, columns=wanted, dtype=object)
    return frame.astype(dict.fromkeys(REQUIRED_COLUMNS, "str"))


def _field(name: str, value: str) -> str:
    return f"  {name:<34}{value}"


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _interval(low: Any, high: Any) -> str:
    return "" if low is None or high is None else f"{low:.3f}-{high:.3f}"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max([len(header), *(len(row[index]) for row in rows)])
        for index, header in enumerate(headers)
    ]
    render = [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in [headers, *rows]
    ]
    return render
