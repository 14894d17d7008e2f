"""`annops report annotators|spend`: exact JSON and CSV, one clear line on bad input."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ops.cli import app
from ops.permissions import SYSTEM
from ops.reports import (
    ANNOTATOR_COLUMNS,
    SPEND_COLUMNS,
    annotator_report,
    report_records,
    spend_report,
)
from tests.db.test_reports import PLANTED, plant

runner = CliRunner()


def test_report_commands_print_exact_json_and_csv(
    fresh_factory: sessionmaker[Session],
) -> None:
    with fresh_factory() as session, session.begin():
        plant(session)
    with fresh_factory() as session:
        expected = report_records(annotator_report(session, SYSTEM, project_slug="planted"))
        expected_spend = report_records(spend_report(session, SYSTEM))
    result = runner.invoke(
        app, ["report", "annotators", "--project", "planted", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == expected and printed
    assert all(list(row) == list(ANNOTATOR_COLUMNS) for row in printed)
    result = runner.invoke(app, ["report", "annotators", "--project", "planted", "--format", "csv"])
    assert result.exit_code == 0
    parsed = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(parsed[0]) == list(ANNOTATOR_COLUMNS)
    assert [row["annotator"] for row in parsed] == sorted(PLANTED)
    first = expected[0]
    assert parsed[0]["gold_ci_low"] == repr(first["gold_ci_low"])
    assert parsed[0]["cost"] == repr(first["cost"])
    result = runner.invoke(app, ["report", "spend", "--format", "json"])
    printed = json.loads(result.stdout)
    assert printed == expected_spend and printed
    assert all(list(row) == list(SPEND_COLUMNS) for row in printed)
    result = runner.invoke(app, ["report", "spend", "--format", "csv"])
    assert result.stdout.splitlines()[0] == ",".join(SPEND_COLUMNS)
    result = runner.invoke(app, ["report", "spend"])
    assert result.exit_code == 0 and "2026-03" in result.stdout and "planted" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("annotators", "--project", "nope"), "No project 'nope'"),
        (("annotators", "--project", "planted", "--since", "last week"), "is not a date"),
        (("annotators", "--project", "planted", "--format", "xml"), "unknown format 'xml'"),
        (("spend", "--project", "nope"), "No project 'nope'"),
    ],
)
def test_report_errors_are_one_clear_line(
    fresh_factory: sessionmaker[Session], args: tuple[str, ...], message: str
) -> None:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
