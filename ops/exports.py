"""Tables leaving annops as files (CSV, XLSX): numbers stay numbers, and no text cell can
be read as a formula by a spreadsheet."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Sheet names: at most 31 characters and none of these.
SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(safe_cell)
    safe.columns = [str(safe_cell(str(column))) for column in safe.columns]
    return safe


def frame_csv(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV with a header; empty cells empty, text neutralised."""
    return _safe_frame(frame).to_csv(index=False).encode("utf-8")


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
    """One worksheet per table, header in the first row, numbers as numbers."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(title=name.translate(SHEET_FORBIDDEN)[:31])
        sheet.append([str(safe_cell(str(column))) for column in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_xlsx_value(value) for value in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    # Stored as a plain string, never parsed as a formula.
                    cell.data_type = "s"
        for index, column in enumerate(frame.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
