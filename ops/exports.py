"""CSV that a spreadsheet opens as data: the one writer every export of annops uses.

A text cell starting with =, +, -, @, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (CSV injection); such a cell gets a leading apostrophe, which
spreadsheets show as text. Numbers stay numbers, negative ones included, also when they
arrive as text (a label "-1", a rejected value "-3"): a plain number runs nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

# A text cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value``, with a leading apostrophe when it is text a spreadsheet would run."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell made safe; numeric columns untouched."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]) and not pd.api.types.is_bool_dtype(
            safe[column]
        ):
            safe[column] = safe[column].map(safe_cell)
    safe.columns = [safe_cell(str(column)) for column in safe.columns]
    return safe


def frame_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text without its index, formulas neutralised."""
    text: str = safe_frame(frame).to_csv(index=False)
    return text


def rows_csv(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    columns: Sequence[str],
    *,
    lineterminator: str = "\r\n",
) -> str:
    """Rows (mappings by column, or sequences in column order) as CSV text with a header."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer, columns, lineterminator=lineterminator)
    for row in rows:
        writer.write(row)
    return buffer.getvalue()


class SafeWriter:
    """A CSV writer onto an open text stream that writes the header, then safe rows."""

    def __init__(
        self, stream: Any, columns: Sequence[str], *, lineterminator: str = "\r\n"
    ) -> None:
        self.columns = list(columns)
        self._writer = csv.writer(stream, lineterminator=lineterminator)
        self._writer.writerow([safe_cell(column) for column in self.columns])

    def write(self, row: Mapping[str, Any] | Sequence[Any]) -> None:
        """One row: a mapping by column name, or values in column order."""
        values = [row.get(column) for column in self.columns] if isinstance(row, Mapping) else row
        self._writer.writerow([safe_cell(value) for value in values])
