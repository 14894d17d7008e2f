"""Alerts name the people their evidence refers to by id, within the reader's scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.models import Alert
from ops.alerts import AlertFilter, list_alerts
from ops.permissions import Principal
from tests.factories import make_annotator, make_project, make_team


def test_a_systematic_alert_names_the_people_who_dropped(session: Session) -> None:
    team = make_team(session, name="Vision")
    project = make_project(session)
    people = [
        make_annotator(
            session, email=f"p{i}@x.example", display_name=f"Person {i}", team_id=team.id
        )
        for i in range(3)
    ]
    session.add(
        Alert(
            rule="systematic_issue",
            subject_key=f"project:{project.id}",
            project_id=project.id,
            window_start=dt.date(2026, 11, 3),
            window_end=dt.date(2026, 11, 16),
            severity="critical",
            title="Several annotators dropped at once",
            evidence={
                "annotators_dropped": 3,
                "annotators_measured": 4,
                "share_dropped": 0.75,
                "dropped_annotator_ids": [person.id for person in people],
                "accuracy_before": 0.9,
                "accuracy_after": 0.7,
                "min_drop": 0.08,
            },
        )
    )
    session.flush()
    ops = Principal(username="ops", role="ops")
    [row] = [
        row
        for row in list_alerts(session, ops, AlertFilter(project_slug=project.slug))
        if row.rule == "systematic_issue"
    ]
    readable = row.readable
    assert [person.name for person in readable.people] == ["Person 0", "Person 1", "Person 2"]
    assert readable.people_outside == 0
    assert readable.sentence.startswith(f"3 of 4 people in {project.slug} (75.0%) dropped")
