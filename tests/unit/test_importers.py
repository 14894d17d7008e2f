"""Pure parsing of import files: JSON streaming, Label Studio shapes, field checks."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ops.importers import jsonstream
from ops.importers.chunks import Person
from ops.importers.csvfile import CsvReader
from ops.importers.fields import Problems, booleans, person_key, seconds, timestamps
from ops.importers.labelstudio import (
    LabelStudioReader,
    ReferenceAnnotators,
    label_from_result,
    person_from,
)
from ops.importers.problems import ImportFailed, Reject

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


@pytest.mark.parametrize("block", [1, 7, 4 << 20])
def test_json_reader_yields_elements_across_any_block_boundary(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "READ_BLOCK", block)
    data = b'\xef\xbb\xbf [1, 22222, {"a": [1, "caf\xc3\xa9"]}, "x", 3.5e2]  '
    reader = jsonstream.JsonArrayReader(io.BytesIO(data), "f.json")
    assert list(reader) == [1, 22222, {"a": [1, "café"]}, "x", 350.0]
    assert reader.bytes_read == len(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "f.json: the file is empty"),
        (b"  \n ", "f.json: the file is empty"),
        (b'{"id": 1}', "f.json: line 1: expected a JSON list ('['), found an object"),
        (b'[1,\n2,\n{"a": tru}]', "f.json: line 3, element 3: malformed JSON"),
        (b'[1,\n"caf\xe9"]', "f.json: line 2 (byte 8): byte 0xE9 is not UTF-8"),
        (b"[1, 2", "the file ends inside the list"),
        (b"[1, 2] trailing", "unexpected 't' after the end of the list"),
        (b"[1 2]", "expected ',' or ']' after element 1"),
        (b"\xff\xfe[\x00", "UTF-16"),
    ],
)
def test_json_reader_names_what_is_wrong_and_where(data: bytes, message: str) -> None:
    with pytest.raises(ImportFailed) as raised:
        list(jsonstream.JsonArrayReader(io.BytesIO(data), "f.json"))
    assert message in str(raised.value)


@pytest.mark.parametrize("block", [64, 1000, 4 << 20])
def test_json_reader_names_the_line_of_malformed_json_near_the_end(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line is right also when the bad element is found only after the last block was
    read, once the reader has dropped the lines before it from its window."""
    monkeypatch.setattr(jsonstream, "READ_BLOCK", block)
    lines = [f'{{"id": {number}}},' for number in range(200)]
    lines[150] = '{"id": tru},'
    data = ("[\n" + "\n".join(lines) + '\n{"id": 999}\n]').encode()
    with pytest.raises(ImportFailed) as raised:
        list(jsonstream.JsonArrayReader(io.BytesIO(data), "f.json"))
    # The list opens on line 1; element 151 is on line 152.
    assert "line 152, element 151: malformed JSON" in str(raised.value)


def test_json_reader_refuses_an_element_too_large_to_be_a_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jsonstream, "MAX_ELEMENT_CHARS", 100)
    monkeypatch.setattr(jsonstream, "READ_BLOCK", 16)
    data = b'[{"text": "' + b"x" * 500 + b'"}]'
    with pytest.raises(ImportFailed, match="element 1 is larger than"):
        list(jsonstream.JsonArrayReader(io.BytesIO(data), "big.json"))


CHOICE = {"type": "choices", "from_name": "defect", "value": {"choices": ["dent"]}}
TEXT = {"type": "textarea", "from_name": "comment", "value": {"text": ["hm"]}}
RATING = {"type": "rating", "from_name": "confidence", "value": {"rating": 4}}


@pytest.mark.parametrize(
    ("result", "label_field", "label"),
    [
        ([CHOICE], None, "dent"),
        ([CHOICE, TEXT, RATING], None, "dent"),
        ([], None, None),
        ([TEXT], None, '[{"from_name":"comment","value":{"text":["hm"]}}]'),
        (
            [{"type": "choices", "from_name": "tags", "value": {"choices": ["a", "b"]}}],
            None,
            '[{"from_name":"tags","value":{"choices":["a","b"]}}]',
        ),
        ([CHOICE, TEXT], "comment", '{"text":["hm"]}'),
        ([TEXT], "defect", None),
        ([CHOICE], "defect", "dent"),
    ],
)
def test_label_from_result(result: list[Any], label_field: str | None, label: str | None) -> None:
    assert label_from_result(result, label_field) == label


def test_label_from_result_refuses_a_result_that_is_not_a_list() -> None:
    with pytest.raises(ValueError, match="not a list"):
        label_from_result({"choices": ["a"]}, None)


USERS = {"labelstudio:3": Person(email="bob@example.com", name="Bob")}


@pytest.mark.parametrize(
    ("value", "key", "email"),
    [
        (3, "labelstudio:3", "bob@example.com"),
        ("3", "labelstudio:3", "bob@example.com"),
        ({"id": 3}, "labelstudio:3", "bob@example.com"),
        ({"id": 9, "email": "Zoe@Example.com"}, "labelstudio:9", "Zoe@Example.com"),
        ({"email": "Zoe@Example.com"}, "email:zoe@example.com", "Zoe@Example.com"),
        ("Zoe@Example.com", "email:zoe@example.com", "Zoe@Example.com"),
        (None, None, None),
        (True, None, None),
        ("somebody", None, None),
    ],
)
def test_person_from_completed_by(value: object, key: str | None, email: str | None) -> None:
    found, person = person_from(value, USERS)
    assert found == key
    assert (person.email if person else None) == email


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Ana@Example.org", "email:ana@example.org"),
        ("cvat:jdoe", "cvat:jdoe"),
        ("labelstudio:12", "labelstudio:12"),
        ("Ana Lopez", None),
        (":12", None),
    ],
)
def test_person_key(text: str, key: str | None) -> None:
    assert person_key(text) == key


def checked(check: Any, values: list[Any], **options: Any) -> tuple[list[Any], dict[int, str]]:
    problems = Problems(rows=pa.array(range(2, 2 + len(values)), pa.int64()))
    result = check(pa.array(values, pa.string()), "f", problems, **options)
    return result.to_pylist(), {r.row: r.reason for r in problems.found.values()}


def test_seconds_checks() -> None:
    values, bad = checked(seconds, ["1.5", "", " 2 ", "-1", "1e9", "x", "inf"], default=0.0)
    assert values[:3] == [1.5, 0.0, 2.0]
    assert bad == {
        5: "negative duration",
        6: "more than 24 hours on one annotation",
        7: "not a number of seconds",
        8: "not a number of seconds",
    }


def test_boolean_checks() -> None:
    values, bad = checked(booleans, ["TRUE", "no", "", "1", "perhaps"])
    assert values[:4] == [True, False, False, True]
    assert list(bad) == [6]


def test_timestamp_checks() -> None:
    values, bad = checked(
        timestamps,
        [
            "2026-03-02T10:00:00Z",
            "2026-03-02 12:00:00.5+02:00",
            "2026-03-02",
            "1999-12-31T23:00:00Z",
        ],
        required=True,
    )
    assert values[0] == values[1].replace(microsecond=0)
    assert set(bad) == {4, 5}
    assert "with a zone" in bad[4] and "outside" in bad[5]


def test_csv_reader_rows_and_rejects() -> None:
    data = b'\xef\xbb\xbfa,b\r\n1,2\r\n\r\n3\r\n"x\ny",4\r\n5,caf\xe9\r\n'
    reader = CsvReader(io.BufferedReader(io.BytesIO(data)), "t.csv")
    assert reader.header == ["a", "b"]
    rows = list(reader)
    assert rows[0] == (2, ["1", "2"])
    # A blank line is a row of the spreadsheet too, so later rows keep their numbers.
    assert isinstance(rows[1][1], Reject) and rows[1][0] == 4
    assert rows[2] == (5, ["x\ny", "4"])
    assert isinstance(rows[3][1], Reject) and rows[3][1].field == "b"


@pytest.mark.parametrize("name", ["export.json", "export_min.json", "export.csv"])
def test_reader_finds_every_annotation_in_the_real_exports(name: str) -> None:
    with (FIXTURES / name).open("rb") as stream:
        reader = LabelStudioReader(stream, name, label_field="defect", no_gold=True)
        chunks = list(reader.chunks())
    records = sum(len(chunk) for chunk in chunks)
    keys = [key for chunk in chunks for key in chunk.columns["external_id"]]
    assert len(keys) == len(set(keys))
    if name == "export.json":
        assert reader.format == "json"
        assert records == 73  # 76 minus the 3 ground-truth references
        assert sum(len(chunk.gold) for chunk in chunks) == 3
        assert sum(chunk.counts.get("skipped", 0) for chunk in chunks) == 3
    else:
        assert records == EXPECTED["export"]["rows_in_json_min_and_csv"]
        assert not any(chunk.gold for chunk in chunks)


@pytest.mark.parametrize(
    ("name", "shown"), [("export_min.json", "JSON_MIN"), ("export.csv", "CSV")]
)
def test_flat_export_is_refused_until_told_who_set_the_gold(name: str, shown: str) -> None:
    with (FIXTURES / name).open("rb") as stream:
        reader = LabelStudioReader(stream, name, label_field="defect")
        with pytest.raises(ImportFailed) as raised:
            list(reader.chunks())
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: a {shown} export has no ground_truth")
    assert "export JSON" in message and "--reference-annotator" in message


@pytest.mark.parametrize("name", ["export_min.json", "export.csv"])
def test_flat_export_rows_of_a_reference_annotator_become_gold(name: str) -> None:
    references = ReferenceAnnotators(keys={"labelstudio:1": "1"})
    with (FIXTURES / name).open("rb") as stream:
        reader = LabelStudioReader(stream, name, label_field="defect", references=references)
        chunks = list(reader.chunks())
    gold = {reference.item_id: reference for chunk in chunks for reference in chunk.gold}
    assert {item: (g.gold_label, g.external_id) for item, g in gold.items()} == {
        "3": ("cosmetic_blemish", "ls:75"),
        "10": ("no_defect", "ls:76"),
    }
    keys = {key for chunk in chunks for key in chunk.columns["external_id"]}
    assert not keys & {"ls:75", "ls:76"}
    assert len(keys) == EXPECTED["export"]["rows_in_json_min_and_csv"] - 2


def test_a_reference_annotator_with_no_annotation_in_the_file_is_an_error() -> None:
    references = ReferenceAnnotators(emails={"nobody@example.com": "Nobody@example.com"})
    with (FIXTURES / "export_min.json").open("rb") as stream:
        reader = LabelStudioReader(
            stream, "export_min.json", label_field="defect", references=references
        )
        with pytest.raises(ImportFailed, match="no annotation by Nobody@example.com"):
            list(reader.chunks())


def _read_json_export(data: bytes, monkeypatch: pytest.MonkeyPatch | None = None) -> list[Any]:
    if monkeypatch is not None:
        monkeypatch.setattr(LabelStudioReader, "_add_plain_task", lambda *_: False)
    reader = LabelStudioReader(io.BufferedReader(io.BytesIO(data)), "f.json")
    return [
        (chunk.rows, chunk.columns, chunk.people, chunk.gold, chunk.rejects, chunk.counts)
        for chunk in reader.chunks()
    ]


def test_plain_tasks_read_in_one_step_as_field_by_field(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = json.loads((FIXTURES / "export.json").read_text())
    # Besides the real export: a skipped one, a user id that is no user, a multi-choice.
    plain = next(
        task
        for task in tasks
        if not any(annotation["ground_truth"] for annotation in task["annotations"])
        and all(len(annotation["result"]) == 1 for annotation in task["annotations"])
    )
    for task_id, change in enumerate(("skipped", "no user", "two choices"), start=9001):
        extra = json.loads(json.dumps(plain))
        extra["id"] = task_id
        annotation = extra["annotations"][0]
        if change == "skipped":
            annotation["was_cancelled"] = True
        elif change == "no user":
            annotation["completed_by"] = 0
        else:
            annotation["result"][0]["value"]["choices"] = ["a", "b"]
        tasks.append(extra)
    data = json.dumps(tasks).encode()
    one_step = _read_json_export(data)
    field_by_field = _read_json_export(data, monkeypatch)
    assert one_step == field_by_field
    assert sum(counts.get("skipped", 0) for *_, counts in one_step) >= 1
    assert any(rejects for *_, rejects, _ in one_step)
