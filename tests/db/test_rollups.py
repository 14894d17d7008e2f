"""Incremental rollups equal a full rebuild, late events included; costs use the rate in effect."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import DailyRollup, GoldConfusionRollup, ProjectDaySpend
from ops import rollups
from tests.conftest import postgres_only
from tests.factories import make_annotator, make_event, make_pay_rate, make_project

DAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


# annotator, project, day, then the measures in the order DailyRollup declares them.
RollupRow = tuple[int, int, dt.date, int, int, float, int, int, int, int, int, int, int, str | None]


def table(session: Session) -> list[RollupRow]:
    rows = session.execute(
        select(DailyRollup).order_by(
            DailyRollup.annotator_id, DailyRollup.project_id, DailyRollup.day
        )
    ).scalars()
    return [
        (
            r.annotator_id,
            r.project_id,
            r.day,
            r.annotations,
            r.skipped,
            r.active_seconds,
            r.gold_answered,
            r.gold_correct,
            r.escalations,
            r.reviewed,
            r.accepted,
            r.cost_minor,
            r.review_cost_minor,
            r.currency,
        )
        for r in rows
    ]


def project_spend(session: Session) -> list[tuple[int, dt.date, str | None, int, int, int, int]]:
    rows = session.execute(select(ProjectDaySpend)).scalars()
    return sorted(
        (
            (
                r.project_id,
                r.day,
                r.currency,
                r.annotations,
                r.accepted,
                r.cost_minor,
                r.review_cost_minor,
            )
            for r in rows
        ),
        key=str,
    )


def spend_of(
    rollup_rows: list[RollupRow],
) -> list[tuple[int, dt.date, str | None, int, int, int, int]]:
    """The project day spend the daily rollups add up to."""
    sums: dict[tuple[int, dt.date, str | None], list[int]] = {}
    for row in rollup_rows:
        totals = sums.setdefault((row[1], row[2], row[13]), [0, 0, 0, 0])
        for index, value in enumerate((row[3], row[10], row[11], row[12])):
            totals[index] += value
    return sorted(((*key, *totals) for key, totals in sums.items()), key=str)  # type: ignore[misc]


def test_rollup_counts_and_costs_one_day(session: Session) -> None:
    project = make_project(session)
    worker = make_annotator(session)
    reviewer = make_annotator(session)
    make_pay_rate(session, worker, amount_minor=3600)  # 1 cent per second
    make_pay_rate(session, worker, amount_minor=7200, effective_from=DAY + dt.timedelta(hours=1))
    make_pay_rate(session, reviewer, basis="per_item", amount_minor=5)
    make_event(session, project, worker, active_seconds=100)  # at 3600/h -> 100
    make_event(
        session, project, worker, active_seconds=50, submitted_at=DAY + dt.timedelta(hours=2)
    )  # at 7200/h -> 100
    make_event(session, project, worker, skipped=True, label=None, active_seconds=10)  # -> 10
    make_event(session, project, worker, is_gold=True, gold_label="cat", escalated=True)  # -> 30
    make_event(session, project, worker, is_gold=True, gold_label="dog")  # -> 30
    make_event(
        session,
        project,
        worker,
        reviewer_id=reviewer.id,
        review_outcome="accepted",
        review_seconds=20,
        reviewed_at=DAY + dt.timedelta(days=1),
    )  # -> 30, review 5
    rollups.rebuild(session)
    [row] = table(session)
    assert row[2] == DAY.date()
    # annotations, skipped, seconds, gold answered/correct, escalations, reviewed, accepted
    assert row[3:11] == (5, 1, 250.0, 2, 1, 1, 1, 1)
    assert row[11:] == (300, 5, "USD")


def test_events_on_other_days_and_projects_get_their_own_rows(session: Session) -> None:
    first, second = make_project(session), make_project(session)
    person = make_annotator(session)
    make_event(session, first, person, submitted_at=DAY)
    make_event(session, first, person, submitted_at=DAY.replace(hour=23, minute=59))
    make_event(session, first, person, submitted_at=DAY + dt.timedelta(days=1))
    make_event(session, second, person, submitted_at=DAY)
    rollups.rebuild(session)
    rows = table(session)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (first.id, DAY.date(), 2),
        (first.id, DAY.date() + dt.timedelta(days=1), 1),
        (second.id, DAY.date(), 1),
    ]
    # No pay rate in effect: no cost, and no currency claimed.
    assert {(r[11], r[13]) for r in rows} == {(0, None)}


def confusion_table(session: Session) -> list[tuple[int, int, dt.date, str, str, int]]:
    rows = session.scalars(
        select(GoldConfusionRollup).order_by(
            GoldConfusionRollup.annotator_id,
            GoldConfusionRollup.project_id,
            GoldConfusionRollup.day,
            GoldConfusionRollup.gold_label,
            GoldConfusionRollup.label,
        )
    )
    return [(r.annotator_id, r.project_id, r.day, r.gold_label, r.label, r.answered) for r in rows]


@pytest.mark.parametrize("late_days_back", [0, 1, 5])
def test_incremental_equals_full_including_late_events(
    session: Session, late_days_back: int
) -> None:
    project = make_project(session)
    people = [make_annotator(session) for _ in range(3)]
    for person in people:
        make_pay_rate(session, person)
    for index in range(30):
        make_event(
            session,
            project,
            people[index % 3],
            submitted_at=DAY + dt.timedelta(hours=index * 5),
            is_gold=index % 4 == 0,
            gold_label="cat" if index % 8 == 0 else "dog",
        )
    assert rollups.refresh(session) > 0
    # New work arrives, some of it for days already rolled up.
    for index in range(10):
        make_event(
            session,
            project,
            people[index % 3],
            submitted_at=DAY + dt.timedelta(days=6 - late_days_back, hours=index),
            skipped=index == 3,
            label=None if index == 3 else "cat",
        )
    make_event(session, project, people[0], submitted_at=DAY - dt.timedelta(days=late_days_back))
    rollups.refresh(session)
    incremental = table(session)
    incremental_confusion = confusion_table(session)
    # Each project's daily spend is the sum of its rollup rows, refreshed with them.
    incremental_spend = project_spend(session)
    assert incremental_spend == spend_of(incremental)
    assert rollups.refresh(session) == 0  # nothing new: nothing rewritten
    rollups.rebuild(session)
    assert table(session) == incremental
    assert project_spend(session) == incremental_spend
    assert sum(row[3] for row in incremental) == 40
    # The gold confusion rollup follows the same keys: incremental equals rebuilt, and its
    # counts add up to the golden answers of the daily rollups.
    assert confusion_table(session) == incremental_confusion
    assert sum(row[-1] for row in incremental_confusion) == sum(row[6] for row in incremental)
    assert {(row[3], row[4]) for row in incremental_confusion} >= {("dog", "cat")}


@postgres_only("migrated_engine")
def test_a_rebuild_leaves_postgresql_statistics_of_the_rollups_it_wrote(session: Session) -> None:
    """Pages read the rollups right after a rebuild; planned on guesses they sort on disk."""
    project = make_project(session)
    for offset in range(3):
        worker = make_annotator(session)
        for day in range(offset + 2):
            make_event(session, project, worker, submitted_at=DAY + dt.timedelta(days=day))
    written = rollups.rebuild(session)
    assert written == 2 + 3 + 4
    rows = session.execute(
        text(
            "SELECT relname, reltuples FROM pg_class "
            "WHERE relname IN ('daily_rollups', 'gold_confusion_rollups')"
        )
    )
    estimates = {str(name): float(tuples) for name, tuples in rows}
    assert estimates["daily_rollups"] == written
    assert estimates["gold_confusion_rollups"] >= 0  # -1 would mean never analysed
