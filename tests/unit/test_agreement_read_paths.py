"""The bulk CSV reader gives exactly what the careful row-by-row reader gives, or steps aside."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from ops.agreement_report import _read_ratings, _read_well_formed, read_agreement_csv

REFDATA = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"


def careful(path: Path) -> pd.DataFrame:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return _read_ratings(csv.reader(handle), str(path))


@pytest.mark.parametrize(
    "name", sorted(p.name for p in REFDATA.glob("*.csv") if "_counts" not in p.name)
)
def test_reference_files_read_the_same_both_ways(name: str) -> None:
    path = REFDATA / name
    fast = _read_well_formed(path)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, careful(path))


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffitem_id, annotator_id ,label,created_at\n1, a ,yes,2024\n\n1,b,no,2024\n",
        'item_id,annotator_id,label,gold\n"1,2",a,"x y",\n"1,2",b,z, x \n3,a,x,\n',
        "label,annotator_id,item_id\nx,a,1\ny,b,1\n",
        "item_id,annotator_id,label,gold\n1,a,x,\n1,b,x,\n",
    ],
)
def test_unusual_but_valid_files_read_the_same_both_ways(tmp_path: Path, text: str) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(text, encoding="utf-8")
    fast = _read_well_formed(path)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, careful(path))
    pd.testing.assert_frame_equal(read_agreement_csv(path), fast)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "item_id,annotator_id,label\n",
        "item_id,annotator_id\n1,a\n",
        "item_id,annotator_id,label\n1,a,x\n2,b,\n",
        "item_id,annotator_id,label,gold\n1,a,x\n",
        "item_id,annotator_id,label\n1,a,x,y\n",
        "item_id,annotator_id,label\n1,a,x\n   \n2,b,y\n",
        "item_id,annotator_id,label,gold\n1,a,x,x\n1,b,x,y\n",
        "item_id,annotator_id,label,label\n1,a,x,y\n",
    ],
)
def test_anything_doubtful_is_left_to_the_careful_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(text, encoding="utf-8")
    assert _read_well_formed(path) is None


def test_invalid_utf8_is_left_to_the_careful_reader(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"item_id,annotator_id,label\n1,a,\xff\n")
    assert _read_well_formed(path) is None
