"""What the query modules share: IN lists of a bounded size, and results as DataFrames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import ColumnElement, Select, bindparam
from sqlalchemy.orm import Session

# A long list of keys never makes one huge statement.
IN_BATCH = 5_000

T = TypeVar("T")


def batched(values: Sequence[T], size: int = IN_BATCH) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def among(column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN (ids)`` with the integer ids written into the statement when it runs.

    As bound parameters, the thousands of ids of a whole pool cost more to bind, send
    and parse than the query costs to run; integers are safe to write inline.
    """
    values = [int(value) for value in ids]
    condition: ColumnElement[bool] = column.in_(
        bindparam(None, values, expanding=True, literal_execute=True)
    )
    return condition


def load_frame(session: Session, query: Select[*tuple[Any, ...]]) -> pd.DataFrame:
    """The rows of ``query`` as a DataFrame, one column per selected column, named by its
    label (a table column's label is its name)."""
    result = session.execute(query)
    return rows_frame(result.all(), list(result.keys()))


def rows_frame(rows: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
    """Result rows as a DataFrame with ``columns``.

    The rows become plain tuples first: pandas probes each SQLAlchemy row for the
    attributes of the sequences it knows, which costs more than the query at many rows.
    """
    return pd.DataFrame([tuple(row) for row in rows], columns=list(columns))
