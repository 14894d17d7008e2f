"""The admin's event figure: counted, or PostgreSQL's estimate beyond a size, on both
databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.queries.events import estimate_event_count
from ops import home
from ops.home import summarise_home
from ops.permissions import Principal
from tests.factories import make_annotator, make_event, make_project

ADMIN = Principal(username="ada", role="admin")


def _events_figure(session: Session) -> home.Figure:
    summary = summarise_home(session, ADMIN)
    return next(figure for figure in summary.figures if figure.label == "Annotation events")


def test_a_small_database_shows_the_exact_count(session: Session) -> None:
    project, person = make_project(session), make_annotator(session)
    for _ in range(3):
        make_event(session, project, person)
    figure = _events_figure(session)
    assert figure.value == "3"
    assert figure.help == "all time, all projects"


def test_the_estimate_comes_from_the_statistics_and_is_labelled(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, person = make_project(session), make_annotator(session)
    for _ in range(5):
        make_event(session, project, person)
    if session.get_bind().dialect.name != "postgresql":
        assert estimate_event_count(session) is None
        return
    # Statistics of this transaction's own rows, as autovacuum would leave them.
    session.execute(text("ANALYZE annotation_events"))
    assert estimate_event_count(session) == 5
    monkeypatch.setattr(home, "EXACT_EVENT_COUNT_BELOW", 5)
    figure = _events_figure(session)
    assert figure.value == "≈ 0"
    assert "estimated from PostgreSQL's table statistics" in figure.help
    monkeypatch.setattr(home, "EXACT_EVENT_COUNT_BELOW", 6)
    assert _events_figure(session).value == "5"
