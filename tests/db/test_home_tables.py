"""The tables on the lead's and ops' home pages: each row's gold accuracy with its Wilson
interval, as the headline figures state it, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session
from statsmodels.stats.proportion import proportion_confint

from ops.auth import principal_for
from ops.home import summarise_home
from ops.permissions import Principal
from tests.factories import make_annotator, make_project, make_rollup, make_team, make_user

NOW = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 3)


def _expected(correct: int, answered: int) -> str:
    low, high = proportion_confint(correct, answered, alpha=0.05, method="wilson")
    return f"{correct / answered:.1%} ({low:.1%}–{high:.1%})"


def test_each_person_of_the_leads_team_has_their_own_interval(session: Session) -> None:
    team, other = make_team(session), make_team(session)
    project = make_project(session)
    counts = {"Ann": (45, 50), "Bo": (3, 4), "Cy": (0, 0), "Di": (0, 7)}
    for name, (correct, answered) in counts.items():
        person = make_annotator(session, display_name=name, team_id=team.id)
        make_rollup(session, project, person, day=DAY, gold_correct=correct, gold_answered=answered)
    stranger = make_annotator(session, display_name="Stranger", team_id=other.id)
    make_rollup(session, project, stranger, day=DAY, gold_correct=1, gold_answered=1)
    lead = principal_for(make_user(session, role="lead", team_name=team.name))

    summary = summarise_home(session, lead, now=NOW)

    shown = {row["annotator"]: row["gold accuracy (7d)"] for row in summary.table}
    assert shown == {
        "Ann": _expected(45, 50),
        "Bo": _expected(3, 4),
        "Cy": "no gold answers",
        "Di": _expected(0, 7),
    }
    assert shown["Ann"] == "90.0% (78.6%–95.7%)"


def test_each_project_row_has_its_own_interval(session: Session) -> None:
    busy, quiet = make_project(session), make_project(session)
    person = make_annotator(session)
    make_rollup(session, busy, person, day=DAY, gold_correct=18, gold_answered=20)

    summary = summarise_home(session, Principal(username="olga", role="ops"), now=NOW)

    by_project = {row["project"]: row["gold accuracy"] for row in summary.table}
    assert by_project[busy.slug] == _expected(18, 20)
    assert by_project[quiet.slug] == "no gold answers"
