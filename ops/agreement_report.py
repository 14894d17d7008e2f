"""Pilot agreement analysis of a long CSV item_id,annotator_id,label[,gold] (`annops agreement`)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

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
    """Every agreement statistic for one set of ratings, as JSON-ready plain Python values."""
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
    gold = collect_gold_labels(frame)
    annotator_ids = sorted(frame["annotator_id"].unique(), key=str)

    fleiss = compute_fleiss_kappa(frame)
    pairs = compute_pairwise_cohen_kappa(frame, weights=kappa_weights)
    majority = compute_majority_vote(frame)
    dawid_skene = fit_dawid_skene(frame)
    ds_labels = dawid_skene.item_labels

    report: dict[str, Any] = {
        "n_items": frame["item_id"].nunique(),
        "n_annotators": len(annotator_ids),
        "n_labels": len(frame),
        "n_categories": frame["label"].nunique(),
        "categories": order_labels(frame["label"]),
        "n_gold_items": len(gold),
        "percent_agreement": compute_percent_agreement(frame),
        "krippendorff_alpha": compute_krippendorff_alpha(frame, level=alpha_level),
        "krippendorff_alpha_level": alpha_level,
        "fleiss_kappa": fleiss.kappa,
        "fleiss_kappa_note": fleiss.note,
        "cohen_kappa": (
            pairs["kappa"].iloc[0] if len(annotator_ids) == 2 and len(pairs) == 1 else None
        ),
        "cohen_kappa_weights": kappa_weights,
        "cohen_kappa_pairs": pairs[
            ["annotator_a", "annotator_b", "n_shared", "kappa", "std_error"]
        ].to_dict(orient="records"),
        "majority_vote": {
            "unresolved_items": int(majority["is_tie"].sum()),
            "accuracy": compute_majority_vote_accuracy(majority, gold) if len(gold) else None,
        },
        "dawid_skene": {
            "annotators": [
                {"annotator_id": annotator, "accuracy": dawid_skene.annotator_accuracy[annotator]}
                for annotator in annotator_ids
            ],
            "accuracy": _share_matching(ds_labels, gold),
            "converged": dawid_skene.converged,
            "n_iterations": dawid_skene.n_iterations,
        },
        "annotators": _describe_annotators(frame, annotator_ids),
        "disputed_items": _describe_disputed(frame, gold, top_disputed),
    }
    plain: dict[str, Any] = _to_plain(report)
    return plain


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


def _with_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The same ratings in types that make a million of them quick to analyse.

    Columns holding only text become Arrow-backed strings (hashed in C, not as Python
    objects); items and annotators become categories in first-seen order, so the many
    statistics that group by them reuse one factorization. Values and order are unchanged.
    """
    converted = {
        column: frame[column].astype("str")
        for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
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


def _describe_annotators(frame: pd.DataFrame, annotator_ids: list[Hashable]) -> list[Any]:
    per_annotator = pd.DataFrame(index=pd.Index(annotator_ids, name="annotator_id"))
    per_annotator["n"] = frame.groupby("annotator_id", sort=False).size()
    gold_counts = compute_gold_accuracy_table(count_gold_answers(frame))
    per_annotator = per_annotator.join(gold_counts)
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
    columns = [
        "n",
        "n_gold",
        "accuracy",
        "accuracy_ci_low",
        "accuracy_ci_high",
        "agreement_with_majority",
        "n_compared_with_majority",
        "consistency",
        "n_repeated_items",
    ]
    described = per_annotator[columns].reset_index().to_dict(orient="records")
    return list(described)


def _describe_disputed(frame: pd.DataFrame, gold: pd.Series, top: int) -> list[Any]:
    disputed = rank_disputed_items(frame, top=top)
    return [
        {
            "item_id": item,
            "n_ratings": row["n_ratings"],
            "agreement": row["agreement"],
            "gold": gold.get(item),
            "label_counts": {str(label): count for label, count in row["label_counts"].items()},
        }
        for item, row in disputed.iterrows()
    ]


def _share_matching(predicted: pd.Series, gold: pd.Series) -> float | None:
    shared = gold.index.intersection(predicted.index)
    if shared.empty:
        return None
    matches = predicted[shared].astype(str).to_numpy() == gold[shared].astype(str).to_numpy()
    return float(matches.mean())


def _to_plain(value: Any) -> Any:
    # json.dumps knows neither numpy scalars nor NaN-as-null; the report promises both.
    if isinstance(value, Mapping):
        return {str(key): _to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


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
