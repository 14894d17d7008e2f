"""Every CSV annops writes goes through ops.exports, which keeps formulas out of spreadsheets."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from ops.exports import frame_csv, rows_csv, safe_cell
from ops.importers.problems import Reject, RejectWriter


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ada = best", "Ada = best"),
        # A number that arrives as text (a label, a rejected value) runs nothing.
        ("-1", "-1"),
        ("+2.5e3", "+2.5e3"),
        ("-1+1", "'-1+1"),
        ("-", "'-"),
        ("", ""),
        (-3, -3),
        (-2.5, -2.5),
        (None, None),
        (True, True),
    ],
)
def test_only_text_that_starts_like_a_formula_is_quoted(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_frame_keeps_its_numbers_and_quotes_its_formulas() -> None:
    frame = pd.DataFrame(
        {
            "name": ["=cmd|' /C calc'!A0", "Ada"],
            "delta": [-0.25, 1.5],
            "count": [-3, 4],
            "=header": ["@x", "-y"],
        }
    )
    rows = read(frame_csv(frame))
    assert rows == [
        ["name", "delta", "count", "'=header"],
        ["'=cmd|' /C calc'!A0", "-0.25", "-3", "'@x"],
        ["Ada", "1.5", "4", "'-y"],
    ]


def test_rows_by_mapping_or_sequence_and_the_reject_file(tmp_path: Path) -> None:
    assert read(rows_csv([{"a": "=1", "b": -1}], ["a", "b"])) == [["a", "b"], ["'=1", "-1"]]
    assert read(rows_csv([("+x", 2)], ["a", "b"])) == [["a", "b"], ["'+x", "2"]]
    path = tmp_path / "rejects.csv"
    with RejectWriter(path) as writer:
        writer.write([Reject(row=3, field="label", value="=HYPERLINK(1)", reason="@bad")])
    assert read(path.read_text("utf-8")) == [
        ["row", "field", "value", "reason"],
        ["3", "label", "'=HYPERLINK(1)", "'@bad"],
    ]
