"""Files an import cannot read end in one line naming file, row and field, with nothing stored:
through run_import on both databases, through the command line and through an upload."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from db.models import ImportBatch
from ops.cli import app
from ops.importers.pipeline import ImportFailed, ImportRequest, run_import
from ops.importers.uploads import import_upload
from ops.permissions import SYSTEM
from ops.settings import get_settings
from tests.db.test_import_events import fingerprint
from tests.factories import make_project

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
SLUG = "hostile-files"
EVENTS_HEADER = "project,item_id,annotator,submitted_at,external_id\n"
EVENT_ROW = f"{SLUG},item-1,ann@example.org,2026-03-02T10:00:00Z,ev-1"


def _tasks() -> list[dict[str, Any]]:
    return list(json.loads((FIXTURES / "export.json").read_text()))


def _with_first_annotation(change: Callable[[dict[str, Any]], None]) -> bytes:
    tasks = copy.deepcopy(_tasks())
    change(tasks[0]["annotations"][0])
    return json.dumps(tasks).encode()


def _set_choices(annotation: dict[str, Any], choices: object) -> None:
    annotation["result"][0]["value"]["choices"] = choices


def _deep() -> bytes:
    task = '{"id": 1, "annotations": [{"id": 1, "completed_by": 2, "result": '
    return ("[" + task + "[" * 100_000 + "]" * 100_000 + "}]}]").encode()


def _parquet(label: pa.Array) -> bytes:
    table = pa.table(
        {
            "project": [SLUG],
            "item_id": ["item-1"],
            "annotator": ["ann@example.org"],
            "submitted_at": ["2026-03-02T10:00:00Z"],
            "external_id": ["ev-1"],
            "label": label,
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


@dataclass(frozen=True)
class Hostile:
    """A file an import must refuse, and what the one-line message must say."""

    name: str
    source: str
    content: Callable[[], bytes]
    says: tuple[str, ...]


HOSTILE = [
    Hostile("deep.json", "labelstudio", _deep, ("element 1", "nested too deeply")),
    Hostile(
        "surrogate.json",
        "labelstudio",
        lambda: _with_first_annotation(lambda a: _set_choices(a, ["\ud800"])),
        ("element 1", "field annotations[0].result[0].value.choices[0]", "lone surrogate"),
    ),
    Hostile(
        "choices.json",
        "labelstudio",
        lambda: _with_first_annotation(lambda a: _set_choices(a, 5)),
        ("row 1", "field annotation 1: result", "list of choice texts"),
    ),
    Hostile(
        "cancelled.json",
        "labelstudio",
        lambda: _with_first_annotation(lambda a: a.update(was_cancelled="yes")),
        ("row 1", "field annotation 1: was_cancelled", "true or false"),
    ),
    Hostile(
        "ground_truth.json",
        "labelstudio",
        lambda: _with_first_annotation(lambda a: a.update(ground_truth="maybe")),
        ("row 1", "field annotation 1: ground_truth", "true or false"),
    ),
    Hostile(
        "negative_user.json",
        "labelstudio",
        lambda: _with_first_annotation(lambda a: a.update(completed_by=-7)),
        ("row 1", "field annotation 1: completed_by", "user id"),
    ),
    Hostile(
        "list.parquet",
        "events",
        lambda: _parquet(pa.array([["cat", "dog"]])),
        ("row 1", "field label", "list<"),
    ),
    Hostile(
        "struct.parquet",
        "events",
        lambda: _parquet(pa.array([{"name": "cat"}])),
        ("row 1", "field label", "struct<"),
    ),
    Hostile(
        "cut.csv",
        "events",
        lambda: (EVENTS_HEADER + EVENT_ROW + "\n" + EVENT_ROW.replace("ev-1", "e")).encode(),
        ("row 3", "field external_id", "cut off"),
    ),
    Hostile(
        "cut_quoted.csv",
        "events",
        lambda: (EVENTS_HEADER + EVENT_ROW.replace("ev-1", '"e')).encode(),
        ("row 2", "not valid CSV"),
    ),
]


def _request(path: Path, case: Hostile, **options: Any) -> ImportRequest:
    if case.source == "labelstudio":
        options.setdefault("project", SLUG)
    return ImportRequest(source=case.source, path=path, **options)


def _check_message(message: str, case: Hostile) -> None:
    assert message.startswith(case.name), message
    assert "\n" not in message.rstrip("\n"), message
    for words in case.says:
        assert words in message, message


@pytest.mark.parametrize("case", HOSTILE, ids=lambda case: case.name)
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_file_that_cannot_be_read_is_refused_in_one_line_and_stores_nothing(
    session: Session, tmp_path: Path, case: Hostile, skip_invalid: bool
) -> None:
    make_project(session, slug=SLUG)
    path = tmp_path / case.name
    path.write_bytes(case.content())
    before = fingerprint(session)
    batches = session.scalar(select(func.count(ImportBatch.id)))
    rejects = tmp_path / "rejects.csv"
    nested = session.begin_nested()
    try:
        request = _request(path, case, skip_invalid=skip_invalid, rejects_path=rejects)
        run_import(session, SYSTEM, request)
    except ImportFailed as error:
        failure: ImportFailed | None = error
    else:
        failure = None
    finally:
        nested.rollback()
    if skip_invalid and failure is None:
        # A bad row is only left out: it is in the rejects file with its row and field.
        text = rejects.read_text(encoding="utf-8")
        assert all(words.split(": ")[-1] in text for words in case.says[1:2]), text
    else:
        assert failure is not None
        _check_message(str(failure), case)
    assert fingerprint(session) == before
    assert session.scalar(select(func.count(ImportBatch.id))) == batches


@pytest.mark.parametrize(
    ("where", "says"),
    [
        (lambda folder: folder / "missing" / "rejects.csv", "there is no folder"),
        (lambda folder: folder, "it is a folder"),
    ],
)
def test_an_unwritable_rejects_path_is_refused_before_reading(
    session: Session, tmp_path: Path, where: Callable[[Path], Path], says: str
) -> None:
    make_project(session, slug=SLUG)
    path = tmp_path / "events.csv"
    path.write_text(EVENTS_HEADER + EVENT_ROW + "\n")
    with pytest.raises(ImportFailed) as raised:
        run_import(
            session,
            SYSTEM,
            ImportRequest(
                source="events", path=path, skip_invalid=True, rejects_path=where(tmp_path)
            ),
        )
    message = str(raised.value)
    assert message.startswith("events.csv, field rejects: cannot write the rejects file")
    assert says in message


runner = CliRunner()


def invoke(*args: str, **env: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"ANNOPS_PASSWORD": "long enough pw", **env})
    return result.exit_code, result.stdout, result.stderr


def _one_line_error(code: int, stdout: str, stderr: str) -> str:
    assert code == 1, (stdout, stderr)
    assert "Traceback" not in stdout + stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    return stderr


def test_the_command_line_refuses_each_file_in_one_line(
    fresh_database_url: str, tmp_path: Path
) -> None:
    assert invoke("project", "add", SLUG, "--name", "Hostile")[0] == 0
    for case in HOSTILE:
        path = tmp_path / case.name
        path.write_bytes(case.content())
        project = ("--project", SLUG) if case.source == "labelstudio" else ()
        stderr = _one_line_error(*invoke("import", case.source, str(path), *project))
        _check_message(stderr.removeprefix("error: "), case)
    stderr = _one_line_error(
        *invoke(
            "import",
            "events",
            str(path),
            "--skip-invalid",
            "--rejects",
            str(tmp_path / "nowhere" / "r.csv"),
        )
    )
    assert "cannot write the rejects file" in stderr


def test_the_command_line_refuses_oversized_and_odd_input_in_one_line(
    fresh_database_url: str,
) -> None:
    stderr = _one_line_error(*invoke("create-user", "u" * 5000, "--role", "ops"))
    assert "at most 120 characters" in stderr
    stderr = _one_line_error(*invoke("project", "add", "long-name", "--name", "n" * 3000))
    assert "at most 200 characters" in stderr
    stderr = _one_line_error(
        *invoke("project", "add", "huge-budget", "--name", "B", "--budget", "1e30")
    )
    assert "'1e30' is too large" in stderr


@pytest.mark.parametrize("url", ["mysqlx+nodriver://host/db", "not a url"])
def test_an_unknown_database_url_is_refused_in_one_line(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOPS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        stderr = _one_line_error(*invoke("project", "list"))
        assert "ANNOPS_DATABASE_URL is not a database URL annops can use" in stderr
        stderr = _one_line_error(*invoke("init-db"))
        assert "sqlite:///PATH" in stderr
    finally:
        get_settings.cache_clear()


def test_an_upload_refuses_each_file_in_one_line(fresh_database_url: str) -> None:
    assert invoke("project", "add", SLUG, "--name", "Hostile")[0] == 0
    for case in HOSTILE:
        with pytest.raises(ImportFailed) as raised:
            import_upload(
                SYSTEM,
                source=case.source,
                file_name=case.name,
                data=case.content(),
                project=SLUG if case.source == "labelstudio" else None,
            )
        _check_message(str(raised.value), case)
        assert "/tmp" not in str(raised.value), "no server paths"
