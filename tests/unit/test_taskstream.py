"""The fast task reader gives what the element-by-element reader gives, or hands over to it."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ops.importers import taskstream
from ops.importers.jsonstream import JsonArrayReader
from ops.importers.problems import ImportFailed
from ops.importers.taskstream import Annotation, Task, TaskArrayReader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
READ = tuple(Annotation.__struct_fields__)


def careful(data: bytes) -> list[dict[str, Any]] | str:
    """What the element-by-element reader makes of ``data``: tasks cut to the fields read."""
    try:
        elements = list(JsonArrayReader(io.BufferedReader(io.BytesIO(data)), "f.json"))
    except ImportFailed as error:
        return str(error)
    return cut_to_read_fields(elements)


def cut_to_read_fields(elements: list[Any]) -> list[Any]:
    return [
        {
            "id": element.get("id"),
            "annotations": [read_fields(annotation) for annotation in element["annotations"]],
        }
        if isinstance(element, dict)
        and isinstance(element.get("annotations"), list)
        and all(isinstance(annotation, dict | Annotation) for annotation in element["annotations"])
        else element
        for element in elements
    ]


def read_fields(annotation: Annotation | dict[str, Any]) -> dict[str, Any]:
    """The fields read of an annotation, its result's regions cut to what is read too."""
    if isinstance(annotation, Annotation):
        fields = msgspec.structs.asdict(annotation)
        if isinstance(annotation.result, list):
            fields["result"] = [region.as_dict() for region in annotation.result]
        return fields
    fields = {name: annotation.get(name) for name in READ}
    if isinstance(fields["result"], list):
        fields["result"] = [
            {name: region.get(name) for name in ("type", "value", "from_name")}
            if isinstance(region, dict)
            else region
            for region in fields["result"]
        ]
    return fields


def fast(data: bytes) -> tuple[list[dict[str, Any]] | str, bool]:
    reader = TaskArrayReader(io.BufferedReader(io.BytesIO(data)), "f.json")
    try:
        tasks = list(reader)
    except ImportFailed as error:
        return str(error), reader._slow is None
    elements = [
        {"id": task.id, "annotations": task.annotations} if isinstance(task, Task) else task
        for task in tasks
    ]
    return cut_to_read_fields(elements), reader._slow is None


def tasks(count: int) -> list[dict[str, Any]]:
    exported = json.loads((FIXTURES / "export.json").read_text())
    return [dict(exported[index % len(exported)], id=index + 1) for index in range(count)]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 kB, so a small file is cut many times."""
    monkeypatch.setattr(taskstream, "BLOCK", 4096)


def test_real_export_is_read_on_the_fast_path() -> None:
    data = (FIXTURES / "export.json").read_bytes()
    result, stayed_fast = fast(data)
    assert result == careful(data)
    assert stayed_fast
    assert len(result) == 29


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("separator", [", ", ",", ",\n  "])
def test_many_blocks_give_every_task_once(separator: str) -> None:
    data = ("[" + separator.join(json.dumps(task) for task in tasks(300)) + "]\n").encode()
    result, stayed_fast = fast(data)
    assert result == careful(data)
    assert stayed_fast


def _damaged(change: str) -> bytes:
    many = tasks(200)
    text = json.dumps(many)
    if change == "truncated":
        return text[: len(text) * 2 // 3].encode()
    if change == "bad annotation late":
        many[150]["annotations"][0] = "not an object"
    elif change == "annotations missing late":
        del many[170]["annotations"]
    elif change == "surrogate late":
        many[120]["annotations"][0]["result"][0]["value"]["choices"] = ["\ud800"]
    elif change == "trailing text":
        return (text + " x").encode()
    elif change == "ends after an element":
        return text[:-1].encode()
    elif change == "json_min":
        return (FIXTURES / "export_min.json").read_bytes()
    elif change == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    elif change == "empty list":
        return b" [ ] "
    return json.dumps(many).encode()


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    "change",
    [
        "truncated",
        "bad annotation late",
        "annotations missing late",
        "surrogate late",
        "trailing text",
        "ends after an element",
        "json_min",
        "bom",
        "empty list",
    ],
)
def test_anything_unusual_is_handed_to_the_careful_reader(change: str) -> None:
    data = _damaged(change)
    result, _ = fast(data)
    assert result == careful(data)


@pytest.mark.usefixtures("small_blocks")
def test_a_file_cut_off_after_many_blocks_names_the_line_the_careful_reader_names() -> None:
    # Indented, so the hand-over comes thousands of lines into the file.
    text = json.dumps(tasks(200), indent=2)
    data = text[: len(text) * 2 // 3].encode()
    result, stayed_fast = fast(data)
    assert not stayed_fast
    assert isinstance(result, str)
    assert int(result.split("line ")[1].split(":")[0].split(",")[0]) > 10_000
    assert result == careful(data)
