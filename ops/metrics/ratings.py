"""Long rating frames: one row per rating with columns item_id, annotator_id, label[, gold].

A repeated (item, annotator) row is a second rating, not a duplicate: count-based
statistics count it and consistency uses it as evidence.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

RATING_COLUMNS: tuple[str, ...] = ("item_id", "annotator_id", "label")


def check_rating_frame(frame: pd.DataFrame) -> None:
    """Raise ValueError unless the frame has item_id, annotator_id and non-missing labels."""
    missing = [column for column in RATING_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(
            f"rating frame is missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(RATING_COLUMNS)}[, gold]"
        )
    for column in RATING_COLUMNS:
        if frame[column].isna().any():
            position = int(np.flatnonzero(frame[column].isna().to_numpy())[0])
            raise ValueError(f"rating frame row {position} has no {column}; every rating needs one")


def order_labels(labels: Iterable[Hashable]) -> list[Hashable]:
    """Distinct labels in scale order: numeric when every label reads as a number, else text."""
    # A Series finds its distinct values in first-seen order in C; iterating it is slow.
    values = labels.unique() if isinstance(labels, pd.Series | pd.Index) else labels
    distinct = list(dict.fromkeys(values))
    numbers = [_read_number(label) for label in distinct]
    if all(number is not None for number in numbers):
        # Labels read from CSV are text; "10" must come after "9" on an ordinal scale.
        pairs = sorted(zip(numbers, range(len(distinct)), strict=True))
        return [distinct[index] for _, index in pairs]
    return sorted(distinct, key=str)


def read_label_values(labels: Iterable[Hashable]) -> npt.NDArray[np.float64]:
    """Numeric value of each label (one per label); ValueError when one is not a number."""
    values = []
    for label in labels:
        number = _read_number(label)
        if number is None:
            raise ValueError(
                f"label {label!r} is not a number; interval and ratio levels need numeric labels"
            )
        values.append(number)
    return np.asarray(values, dtype=np.float64)


def encode_labels(frame: pd.DataFrame) -> tuple[npt.NDArray[np.intp], list[Hashable]]:
    """Label code per rating row (index into the returned scale-ordered label list)."""
    first_seen_codes, distinct = pd.factorize(frame["label"], sort=False)
    labels = order_labels(list(distinct))
    position = {label: index for index, label in enumerate(labels)}
    scale_code = np.asarray([position[label] for label in distinct], dtype=np.intp)
    return scale_code[first_seen_codes], labels


def count_labels_per_item(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per item (first-seen order), one column per label (scale order); rating counts."""
    check_rating_frame(frame)
    label_codes, labels = encode_labels(frame)
    item_codes, items = pd.factorize(frame["item_id"], sort=False)
    cells = item_codes.astype(np.int64) * len(labels) + label_codes
    counts = np.bincount(cells, minlength=len(items) * len(labels)).reshape(len(items), len(labels))
    return pd.DataFrame(
        counts.astype(np.int64),
        index=pd.Index(items, name="item_id"),
        columns=pd.Index(labels, name="label"),
    )


def collect_gold_labels(frame: pd.DataFrame) -> pd.Series:
    """One row per golden item: its gold label; items whose rows disagree on gold raise."""
    if "gold" not in frame.columns:
        return _no_gold()
    golden = frame.loc[_has_gold(frame["gold"]), ["item_id", "gold"]]
    conflicting = golden.groupby("item_id", sort=False)["gold"].nunique()
    conflicting = conflicting[conflicting > 1]
    if not conflicting.empty:
        item = conflicting.index[0]
        values = sorted(map(str, golden.loc[golden["item_id"] == item, "gold"].unique()))
        raise ValueError(
            f"item {item!r} has conflicting gold labels {', '.join(values)}; "
            "an item has one gold label"
        )
    gold = golden.drop_duplicates("item_id").set_index("item_id")["gold"]
    gold.name = "gold"
    return gold


def collect_latest_gold_labels(frame: pd.DataFrame) -> pd.Series:
    """One row per golden item: the gold label of its last golden row, for ratings whose
    gold was corrected over time (rows in the order the ratings were made)."""
    if "gold" not in frame.columns:
        return _no_gold()
    golden = frame.loc[_has_gold(frame["gold"]), ["item_id", "gold"]]
    gold = golden.drop_duplicates("item_id", keep="last").set_index("item_id")["gold"]
    gold.name = "gold"
    return gold


def _no_gold() -> pd.Series:
    return pd.Series([], index=pd.Index([], name="item_id"), dtype=object, name="gold")


def select_gold_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rating rows whose item has a gold label (empty when the frame has no gold column)."""
    if "gold" not in frame.columns:
        return frame.iloc[0:0]
    return frame.loc[_has_gold(frame["gold"])]


def _has_gold(gold: pd.Series) -> pd.Series:
    # CSV readers give "" for a blank gold cell and NaN for a missing one; both mean not golden.
    return gold.notna() & (gold.astype(str).str.strip() != "")


def _read_number(label: Hashable) -> float | None:
    if isinstance(label, bool):
        return None
    if isinstance(label, int | float | np.integer | np.floating):
        number = float(label)
    elif isinstance(label, str):
        try:
            number = float(label)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
