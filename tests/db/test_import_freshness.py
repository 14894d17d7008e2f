"""An import brings the rollups up to date; reports and pages say how fresh they are."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from db.models import AnnotationEvent, AnnotatorIdentity, DailyRollup
from ops import rollups
from ops.cli import app
from ops.freshness import Freshness, get_freshness
from tests.db.test_import_labelstudio import FIXTURES, USERS, import_ls
from tests.db.test_rollups import table
from tests.factories import make_annotator, make_event, make_project

runner = CliRunner()


def test_import_then_report_shows_the_work_at_once(fresh_factory: sessionmaker[Session]) -> None:
    assert runner.invoke(app, ["project", "add", "weld", "--name", "Weld"]).exit_code == 0
    imported = runner.invoke(
        app,
        [
            "import",
            "labelstudio",
            str(FIXTURES / "export.json"),
            "--project",
            "weld",
            "--users",
            str(USERS),
        ],
    )
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(app, ["report", "annotators", "--project", "weld", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    with fresh_factory() as session:
        stored = session.scalars(select(AnnotationEvent)).all()
    assert len(rows) >= 2
    assert sum(row["annotations"] for row in rows) == sum(
        1 for event in stored if not event.skipped and event.label is not None
    )
    [line] = result.stderr.splitlines()
    assert line.startswith("Figures as of ") and line.endswith("every stored event is in them.")

    # Work stored without a rollup run (as a bulk load might) is announced, not hidden.
    with fresh_factory() as session, session.begin():
        person = session.scalars(select(AnnotatorIdentity)).first()
        assert person is not None
        project = stored[0].project_id
        session.add(
            AnnotationEvent(
                project_id=project,
                annotator_id=person.annotator_id,
                item_id="late",
                label="x",
                submitted_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                active_seconds=1.0,
                external_id="late-1",
            )
        )
    result = runner.invoke(app, ["report", "spend", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "1 stored event is not in them yet" in result.stderr
    assert "Figures as of" not in result.stdout


def test_freshness_counts_what_the_rollups_lack(session: Session) -> None:
    project, person = make_project(session), make_annotator(session)
    before = get_freshness(session)
    make_event(session, project, person)
    make_event(session, project, person)
    assert get_freshness(session).pending_events == before.pending_events + 2
    rollups.refresh(session)
    fresh = get_freshness(session)
    assert fresh.pending_events == 0 and fresh.refreshed_at is not None
    assert dt.datetime.now(dt.UTC) - fresh.refreshed_at < dt.timedelta(minutes=5)


def test_freshness_line() -> None:
    moment = dt.datetime(2026, 12, 1, 3, 15, tzinfo=dt.UTC)
    assert (
        Freshness(None, 0).describe() == "Figures not computed yet; every stored event is in them."
    )
    assert Freshness(moment, 1234).describe() == (
        "Figures as of 2026-12-01 03:15 UTC; 1,234 stored events are not in them yet "
        "(the next rollup adds them)."
    )


def test_removing_gold_reference_events_refreshes_their_rows(session: Session) -> None:
    project = make_project(session)
    # A flat export has no ground-truth flag: imported saying nobody set gold, the
    # reference annotations look like work.
    import_ls(session, project, "export_min.json", label_field="defect", no_gold=True)
    flat = table(session)
    assert flat, "the import rolled its work up"
    # The full export names them as gold: they leave the events, and the rollups follow.
    result = import_ls(session, project, "export.json", label_field="defect")
    assert result.summary.gold_reference_events_removed == 3
    after_import = table(session)
    assert after_import != flat
    rollups.rebuild(session)
    assert table(session) == after_import


def test_replacing_an_event_refreshes_its_row(session: Session) -> None:
    project = make_project(session)
    import_ls(session, project, "export.json")
    later = import_ls(session, project, "export_later.json")
    assert later.updated == 1
    after_import = table(session)
    rollups.rebuild(session)
    assert table(session) == after_import
    assert session.scalars(select(DailyRollup)).first() is not None
