"""The Team scorecard's set-based reads, on both databases: window and weekly sums per
person, and the per-person figures of each project's latest stored agreement."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.models import GoldConfusionRollup, ProjectAgreement
from db.queries.agreement import list_latest_agreement_annotators
from db.queries.team import list_project_labels, load_scorecard_frame
from db.scope import PeopleScope
from ops.permissions import Principal
from ops.team import team_scorecard
from tests.factories import make_annotator, make_project, make_rollup, make_team

NOW = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)  # a Friday
TODAY = NOW.date()
MONDAY = dt.date(2026, 3, 16)
DAY = dt.timedelta(days=1)


def test_scorecard_sums_cover_the_window_and_each_week(session: Session) -> None:
    team, other = make_team(session), make_team(session)
    first, second = make_project(session), make_project(session)
    busy = make_annotator(session, display_name="Busy", team_id=team.id)
    make_annotator(session, display_name="Idle", team_id=team.id)
    make_annotator(session, display_name="Gone", team_id=team.id, archived_at=NOW)
    outsider = make_annotator(session, display_name="Outsider", team_id=other.id)
    # Two projects on one day add up; a day before the window counts only in its week.
    make_rollup(
        session, first, busy, day=TODAY, annotations=10, gold_answered=4, gold_correct=3,
        active_seconds=1800.0, escalations=1, reviewed=5, accepted=4,
    )  # fmt: skip
    make_rollup(session, second, busy, day=TODAY, annotations=5, gold_answered=2, gold_correct=2)
    make_rollup(session, first, busy, day=MONDAY - DAY, annotations=7, gold_answered=10)
    make_rollup(session, first, busy, day=MONDAY - 30 * DAY, annotations=99, gold_answered=99)
    make_rollup(session, first, outsider, day=TODAY, annotations=50, gold_answered=5)

    weeks = [MONDAY - 7 * DAY, MONDAY]
    frame = load_scorecard_frame(
        session, scope=PeopleScope("team", team_id=team.id), since=MONDAY, week_starts=weeks
    )
    assert list(frame["name"]) == ["Busy", "Idle"]
    row = frame.set_index("name").loc["Busy"]
    assert (row["annotations"], row["gold_answered"], row["gold_correct"]) == (15, 6, 5)
    assert (row["escalations"], row["reviewed"], row["accepted"]) == (1, 5, 4)
    assert row["active_seconds"] == 1800.0
    assert (row["gold_answered_0"], row["gold_correct_0"]) == (10, 0)
    assert (row["gold_answered_1"], row["gold_correct_1"]) == (6, 5)
    idle_row = frame.set_index("name").loc["Idle"]
    assert idle_row["annotations"] == 0 and idle_row["gold_answered_1"] == 0
    assert frame["annotations"].dtype == "int64"

    card = team_scorecard(
        session, Principal(username="lead", role="lead", team_id=team.id), now=NOW
    )
    by_name = {member.name: member for member in card.members}
    assert set(by_name) == {"Busy", "Idle"}
    # The card's 28 days reach back past the Monday, not to the day 30 days before it.
    assert (by_name["Busy"].annotations, by_name["Busy"].gold_answered) == (22, 16)
    assert by_name["Busy"].accuracy == 5 / 16
    assert by_name["Busy"].per_active_hour == 44.0
    assert by_name["Busy"].escalation_rate == 1 / 22
    assert by_name["Busy"].weekly_accuracy[-2:] == (0.0, 5 / 6)
    assert by_name["Busy"].weekly_accuracy[2] == 0.0  # the week of the day 30 days before
    assert by_name["Busy"].weekly_accuracy.count(None) == 5
    assert by_name["Idle"].accuracy is None and by_name["Idle"].per_active_hour is None


def test_the_latest_agreement_of_each_project_is_read_once(session: Session) -> None:
    first, second, quiet = make_project(session), make_project(session), make_project(session)
    person = make_annotator(session)

    def stored(project_id: int, end: dt.date, n_compared: int) -> ProjectAgreement:
        return ProjectAgreement(
            project_id=project_id,
            window_start=end - 27 * DAY,
            window_end=end,
            n_items=1,
            n_labels=2,
            n_annotators=1,
            cohen_pairs=[],
            annotators=[{"annotator_id": person.id, "n_compared": n_compared}],
            disputed_items=[],
        )

    session.add_all(
        [
            stored(first.id, TODAY - 2 * DAY, 1),
            stored(first.id, TODAY, 2),
            stored(second.id, TODAY - DAY, 3),
        ]
    )
    session.flush()
    latest = {
        project_id: (end, people)
        for project_id, end, people in list_latest_agreement_annotators(session)
    }
    assert quiet.id not in latest
    assert latest[first.id] == (TODAY, [{"annotator_id": person.id, "n_compared": 2}])
    assert latest[second.id][0] == TODAY - DAY


def test_project_labels_are_those_expected_or_given_in_that_project(session: Session) -> None:
    project, other = make_project(session), make_project(session)
    person = make_annotator(session)
    for where, gold_label, label in (
        (project, "dog", "cat"),
        (project, "dog", "dog"),
        (project, "bird", "dog"),
        (other, "fish", "eel"),
    ):
        session.add(
            GoldConfusionRollup(
                annotator_id=person.id,
                project_id=where.id,
                day=TODAY,
                gold_label=gold_label,
                label=label,
                answered=1,
            )
        )
    session.flush()
    assert list_project_labels(session, project_id=project.id) == ["bird", "cat", "dog"]
    assert list_project_labels(session, project_id=make_project(session).id) == []
