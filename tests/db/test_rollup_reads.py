"""Grouped rollup reads agree with the one-project reads they replace; id lists of any
length select what they name; one-pass reads sum what the reads they replace summed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Annotator
from db.queries.rollups import (
    SPEND_GROUPS,
    WindowSpend,
    load_daily_spend_frame,
    load_scoped_rollup_totals_frame,
    load_scoped_staffing_totals_frame,
    load_spend_by_groups_frame,
    sum_rollups,
    sum_rollups_by_project,
    sum_spend_by_project,
)
from db.queries.shared import among
from db.scope import EVERYONE, PeopleScope
from tests.factories import make_annotator, make_project, make_rollup, make_team

DAY = dt.date(2026, 3, 2)


def test_totals_by_project_equal_each_project_summed_alone(session: Session) -> None:
    first, second, idle = (make_project(session, slug=slug) for slug in ("alpha", "beta", "idle"))
    ada, ben = make_annotator(session), make_annotator(session)
    make_rollup(session, first, ada, day=DAY, annotations=10, gold_answered=4, gold_correct=3)
    make_rollup(session, first, ben, day=DAY, annotations=5, active_seconds=90.5)
    make_rollup(session, first, ada, day=DAY + dt.timedelta(days=1), annotations=7)
    make_rollup(session, second, ben, day=DAY - dt.timedelta(days=3), annotations=2)
    for since, until in ((dt.date.min, None), (DAY, DAY), (DAY, None)):
        grouped = sum_rollups_by_project(session, since=since, until=until)
        for project in (first, second):
            alone = sum_rollups(session, since=since, until=until, project_id=project.id)
            assert grouped.get(project.id, alone if not alone["annotations"] else {}) == alone
        assert idle.id not in grouped
    assert sum_rollups_by_project(session, since=DAY, until=DAY)[first.id]["annotators"] == 2


def test_spend_by_project_sums_each_window_as_one_project_read_alone(session: Session) -> None:
    first, second, idle = (make_project(session, slug=slug) for slug in ("alpha", "beta", "idle"))
    ada, ben, eve = make_annotator(session), make_annotator(session), make_annotator(session)
    usd, eur = {"currency": "USD"}, {"currency": "EUR"}
    make_rollup(session, first, ada, day=DAY, annotations=10, cost_minor=500, **usd)
    make_rollup(
        session, first, ben, day=DAY, annotations=5, cost_minor=200, review_cost_minor=40, **usd
    )
    make_rollup(
        session, first, ada, day=DAY + dt.timedelta(days=1), annotations=7, cost_minor=70, **usd
    )
    make_rollup(session, first, eve, day=DAY, annotations=4, cost_minor=80, **eur)
    make_rollup(session, first, eve, day=DAY + dt.timedelta(days=2), annotations=3)  # unpriced
    make_rollup(
        session, second, ben, day=DAY - dt.timedelta(days=40), annotations=2, cost_minor=9, **usd
    )
    windows: list[tuple[dt.date, dt.date | None]] = [
        (dt.date.min, None),
        (DAY, None),
        (DAY - dt.timedelta(days=60), DAY - dt.timedelta(days=1)),
    ]
    spend = sum_spend_by_project(session, windows=windows)
    assert set(spend) == {
        (first.id, "USD"),
        (first.id, "EUR"),
        (first.id, None),
        (second.id, "USD"),
    }
    for project in (first, second):
        for index, (since, until) in enumerate(windows):
            alone = sum_rollups(session, since=since, until=until, project_id=project.id)
            sums = [
                windows_of[index] for (pid, _), windows_of in spend.items() if pid == project.id
            ]
            assert sum(window.spend_minor for window in sums) == alone["spend_minor"]
            assert sum(window.annotations for window in sums) == alone["annotations"]
    assert spend[(first.id, "USD")] == [
        WindowSpend(spend_minor=810, cost_minor=770, annotations=22),
        WindowSpend(spend_minor=810, cost_minor=770, annotations=22),
        WindowSpend(),
    ]
    assert spend[(first.id, "EUR")][0] == WindowSpend(80, 80, 4)
    assert spend[(first.id, None)][0] == WindowSpend(0, 0, 3)
    assert spend[(second.id, "USD")] == [WindowSpend(9, 9, 2), WindowSpend(), WindowSpend(9, 9, 2)]
    assert not any(project_id == idle.id for project_id, _ in spend)


def test_among_matches_many_ids_one_id_and_none(session: Session) -> None:
    people = [make_annotator(session) for _ in range(3)]
    ids = [person.id for person in people]
    found = session.scalars(select(Annotator.id).where(among(Annotator.id, ids[:2]))).all()
    assert sorted(found) == ids[:2]
    many = [*range(-20_000, 0), ids[2]]
    assert session.scalars(select(Annotator.id).where(among(Annotator.id, many))).all() == [ids[2]]
    assert session.scalars(select(Annotator.id).where(among(Annotator.id, []))).all() == []


def test_spend_by_groups_sums_each_grouping_in_one_read(session: Session) -> None:
    first, second = make_project(session, slug="alpha"), make_project(session, slug="beta")
    team = make_team(session, name="Nightowls")
    ada = make_annotator(session, tier="reviewer", employment_type="contractor", team_id=team.id)
    ben = make_annotator(session, tier="annotator", employment_type="vendor", team_id=team.id)
    cy = make_annotator(session, tier="annotator", employment_type="contractor")
    make_rollup(session, first, ada, day=DAY, annotations=10, cost_minor=500, currency="USD")
    make_rollup(session, second, ada, day=DAY, annotations=4, review_cost_minor=70, currency="USD")
    make_rollup(session, first, ben, day=DAY, annotations=3, cost_minor=90, currency="EUR")
    make_rollup(session, first, cy, day=DAY, annotations=6, cost_minor=200, currency="USD")
    # Outside the days asked, and a person outside the scope asked.
    make_rollup(session, first, cy, day=DAY - dt.timedelta(days=1), annotations=50, cost_minor=9)
    frame = load_spend_by_groups_frame(session, scope=EVERYONE, since=DAY, until=DAY)
    rows = {
        (row.grouping, row.group, row.currency): (row.spend_minor, row.annotations)
        for row in frame.itertuples()
    }
    assert rows == {
        ("tier", "annotator", "EUR"): (90, 3),
        ("tier", "annotator", "USD"): (200, 6),
        ("tier", "reviewer", "USD"): (570, 14),
        ("team", "Nightowls", "EUR"): (90, 3),
        ("team", "Nightowls", "USD"): (570, 14),
        ("team", "no team", "USD"): (200, 6),
        ("employment type", "contractor", "USD"): (770, 20),
        ("employment type", "vendor", "EUR"): (90, 3),
    }
    assert list(dict.fromkeys(frame["grouping"])) == list(SPEND_GROUPS)
    one_project = load_spend_by_groups_frame(
        session, scope=EVERYONE, since=DAY, until=DAY, project_ids=[second.id]
    )
    assert one_project[["grouping", "spend_minor"]].values.tolist() == [
        ["tier", 70],
        ["team", 70],
        ["employment type", 70],
    ]
    team_only = load_spend_by_groups_frame(
        session, scope=PeopleScope("team", team_id=team.id), since=DAY, until=DAY
    )
    assert "no team" not in set(team_only["group"])
    assert team_only["spend_minor"].sum() == 3 * (570 + 90)


def test_daily_spend_of_listed_projects_equals_each_read_alone(session: Session) -> None:
    first, second, third = (make_project(session, slug=slug) for slug in ("one", "two", "three"))
    ada = make_annotator(session)
    for offset, project in enumerate((first, second, third)):
        make_rollup(session, project, ada, day=DAY + dt.timedelta(days=offset), cost_minor=7)
    both = load_daily_spend_frame(session, project_ids=[first.id, third.id], until=DAY)
    alone = load_daily_spend_frame(session, project_id=first.id, until=DAY)
    assert both.reset_index(drop=True).equals(alone.reset_index(drop=True))
    assert set(load_daily_spend_frame(session, project_ids=[first.id, third.id])["project_id"]) == {
        first.id,
        third.id,
    }


def test_staffing_totals_read_both_windows_at_once(session: Session) -> None:
    project = make_project(session)
    ada, ben = make_annotator(session), make_annotator(session)
    monday = DAY  # 2 March 2026 is a Monday
    since = monday - dt.timedelta(days=20)
    make_rollup(
        session, project, ada, day=since, gold_answered=5, gold_correct=4, active_seconds=60
    )
    make_rollup(
        session, project, ada, day=monday, gold_answered=2, gold_correct=1, active_seconds=30
    )
    make_rollup(session, project, ben, day=since + dt.timedelta(days=1), active_seconds=45.5)
    make_rollup(session, project, ben, day=since - dt.timedelta(days=1), gold_answered=9)
    frame = load_scoped_staffing_totals_frame(
        session, scope=EVERYONE, since=since, until=monday, week_since=monday
    )
    both = {
        row.annotator_id: (row.gold_answered, row.gold_correct, row.week_active_seconds)
        for row in frame.itertuples()
    }
    recent = {
        row.annotator_id: (row.gold_answered, row.gold_correct)
        for row in load_scoped_rollup_totals_frame(
            session, scope=EVERYONE, since=since, until=monday
        ).itertuples()
    }
    week = {
        row.annotator_id: row.active_seconds
        for row in load_scoped_rollup_totals_frame(
            session, scope=EVERYONE, since=monday, until=monday
        ).itertuples()
    }
    assert {person: figures[:2] for person, figures in both.items()} == recent
    assert {person: figures[2] for person, figures in both.items()} == {
        **dict.fromkeys(recent, 0.0),
        **week,
    }
    assert both[ada.id] == (7, 5, 30.0)
    assert both[ben.id] == (0, 0, 0.0)
