"""Tables leaving annops as files: CSV through the one writer every export uses, and XLSX.

A text cell starting with =, +, -, @, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (CSV injection); such a cell gets a leading apostrophe, which
spreadsheets show as text. Numbers stay numbers, negative ones included, also when they
arrive as text (a label "-1", a rejected value "-3"): a plain number runs nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

# A text cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Sheet names: at most 31 characters and none of these.
SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


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


def _xlsx_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # Spreadsheets keep no zone: the workbook states UTC in its column names.
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()  # numpy scalars
    return safe_cell(value)


def frames_xlsx(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """One worksheet per table, header in the first row, numbers as numbers, no text cell
    stored as a formula."""
    workbook = Workbook()
    if workbook.active is not None:
        workbook.remove(workbook.active)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(title=name.translate(SHEET_FORBIDDEN)[:31])
        sheet.append([str(safe_cell(str(column))) for column in frame.columns])
        # Cells are written by position: looking up the row just appended costs a scan of
        # the whole sheet, which made a workbook of thousands of rows take minutes.
        for row_number, row in enumerate(frame.itertuples(index=False, name=None), start=2):
            for column_number, value in enumerate(row, start=1):
                cell = sheet.cell(row=row_number, column=column_number, value=_xlsx_value(value))
                if isinstance(cell.value, str):
                    # Stored as a plain string, never parsed as a formula.
                    cell.data_type = "s"
        for index, column in enumerate(frame.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
