"""`annops alerts`: the exact JSON and CSV that scripts read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from db.models import Alert
from ops.cli import app
from tests.factories import make_annotator, make_project

runner = CliRunner()


def plant_alerts(session: Session) -> None:
    """A project alert with one person's alert linked under it."""
    project = make_project(session, slug="weld-qa")
    person = make_annotator(session, email="ada@example.org", display_name="Ada")
    parent = Alert(
        rule="systematic_issue",
        subject_key=f"project:{project.id}",
        project_id=project.id,
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 3, 14),
        severity="critical",
        title="Several annotators dropped at once",
        evidence={"dropped": 3, "likely_causes": ["guidelines"]},
    )
    session.add(parent)
    session.flush()
    session.add(
        Alert(
            rule="gold_below_target",
            subject_key=f"annotator:{person.id}",
            project_id=project.id,
            annotator_id=person.id,
            window_start=dt.date(2026, 3, 1),
            window_end=dt.date(2026, 3, 14),
            severity="warning",
            title="Gold accuracy below target",
            evidence={"ci_high": 0.8, "gold_answered": 50},
            parent_alert_id=parent.id,
        )
    )


def test_alerts_print_exact_json_and_csv(fresh_factory: sessionmaker[Session]) -> None:
    with fresh_factory() as session, session.begin():
        plant_alerts(session)
    result = runner.invoke(app, ["alerts", "--linked", "--format", "json"])
    assert result.exit_code == 0, result.output
    # Newest window first, then the higher id.
    assert result.stdout == (
        "[\n"
        "  {\n"
        '    "id": 2,\n'
        '    "rule": "gold_below_target",\n'
        '    "severity": "warning",\n'
        '    "status": "open",\n'
        '    "project": "weld-qa",\n'
        '    "subject": "ada@example.org",\n'
        '    "window_start": "2026-03-01",\n'
        '    "window_end": "2026-03-14",\n'
        '    "parent_alert_id": 1,\n'
        '    "evidence": {\n'
        '      "ci_high": 0.8,\n'
        '      "gold_answered": 50\n'
        "    }\n"
        "  },\n"
        "  {\n"
        '    "id": 1,\n'
        '    "rule": "systematic_issue",\n'
        '    "severity": "critical",\n'
        '    "status": "open",\n'
        '    "project": "weld-qa",\n'
        '    "subject": "weld-qa",\n'
        '    "window_start": "2026-03-01",\n'
        '    "window_end": "2026-03-14",\n'
        '    "parent_alert_id": null,\n'
        '    "evidence": {\n'
        '      "dropped": 3,\n'
        '      "likely_causes": [\n'
        '        "guidelines"\n'
        "      ]\n"
        "    }\n"
        "  }\n"
        "]\n"
    )
    result = runner.invoke(app, ["alerts", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "id,rule,severity,status,project,subject,window_start,window_end,parent_alert_id,"
        "evidence\n"
        "1,systematic_issue,critical,open,weld-qa,weld-qa,2026-03-01,2026-03-14,,"
        '"{""dropped"": 3, ""likely_causes"": [""guidelines""]}"\n'
    )
    result = runner.invoke(app, ["alerts", "--status", "resolved", "--format", "csv"])
    assert result.stdout == (
        "id,rule,severity,status,project,subject,window_start,window_end,parent_alert_id,evidence\n"
    )
