"""A person named like a formula reaches no export as a live formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ops import rollups
from ops.cli import app
from ops.exports import FORMULA_STARTS, frame_csv
from ops.permissions import SYSTEM
from ops.review import Criteria, find_affected_work, plan_review_sample
from ops.workforce.roster import pool_csv
from tests.factories import make_annotator, make_event, make_project

NAME = '=HYPERLINK("http://x","y")'
LABEL = "@SUM(1+1)"
DAY = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def plant(session: Session) -> str:
    project = make_project(session, slug="formulas")
    person = make_annotator(session, email=None, display_name=NAME)
    for index in range(20):
        make_event(
            session,
            project,
            person,
            label=LABEL,
            submitted_at=DAY + dt.timedelta(minutes=index),
            is_gold=index < 5,
            gold_label=LABEL if index < 5 else None,
        )
    rollups.rebuild(session)
    return project.slug


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_inert(text: str) -> None:
    found = cells(text)
    assert "'" + NAME in found or "'" + LABEL in found, text[:300]
    assert not [cell for cell in found if cell.startswith(FORMULA_STARTS)], text[:300]


def test_every_export_quotes_formula_names_and_labels(
    fresh_factory: sessionmaker[Session],
) -> None:
    with fresh_factory() as session, session.begin():
        slug = plant(session)
    with fresh_factory() as session:
        assert_inert(pool_csv(session, SYSTEM))
        plan = plan_review_sample(
            session, SYSTEM, project_slug=slug, since=DAY.date(), until=DAY.date()
        )
        assert_inert(frame_csv(plan.items))
        affected = find_affected_work(
            session, SYSTEM, Criteria(project_slug=slug, since=DAY.date(), until=DAY.date())
        )
        assert_inert(frame_csv(affected.items))
    result = CliRunner().invoke(app, ["report", "annotators", "--project", slug, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert_inert(result.stdout)
