"""A refresh after work spread over many people and days rewrites the touched keys, and
the rollups equal a full rebuild, on both databases."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db import rollup_sql
from db.models import AnnotationEvent, DailyRollup
from ops import rollups
from ops.importers.events import COLUMNS
from ops.importers.pipeline import ImportRequest, run_import
from ops.permissions import SYSTEM
from tests.conftest import postgres_only
from tests.db.test_rollups import DAY, confusion_table, table
from tests.factories import make_annotator, make_event, make_pay_rate, make_project

PEOPLE = 30
DAYS = 25


def test_refresh_of_many_new_keys_rewrites_only_them(session: Session) -> None:
    project = make_project(session)
    people = [make_annotator(session) for _ in range(PEOPLE)]
    for person in people[:2]:
        make_event(session, project, person, submitted_at=DAY)
    assert rollups.refresh(session) == 2
    # More new keys than a quarter of the rollup rows and than a few hundred, but a
    # small part of all events: rewritten key by key, not rebuilt (which would report
    # every row, the two above included).
    for index, person in enumerate(people):
        for day in range(1, DAYS + 1):
            make_event(
                session,
                project,
                person,
                submitted_at=DAY + dt.timedelta(days=day, hours=index % 12),
                is_gold=day % 5 == 0,
                gold_label="dog",
            )
    assert rollups.refresh(session) == PEOPLE * DAYS
    assert session.scalar(select(func.count()).select_from(DailyRollup)) == PEOPLE * DAYS + 2
    incremental, incremental_confusion = table(session), confusion_table(session)
    rollups.rebuild(session)
    assert table(session) == incremental
    assert confusion_table(session) == incremental_confusion


def test_refresh_of_named_keys_that_new_events_also_touch(session: Session) -> None:
    project = make_project(session)
    worker, other = make_annotator(session), make_annotator(session)
    make_pay_rate(session, worker)
    make_event(session, project, worker, submitted_at=DAY)
    gone = make_event(session, project, other, submitted_at=DAY)
    rollups.refresh(session)
    session.execute(delete(AnnotationEvent).where(AnnotationEvent.id == gone.id))
    make_event(session, project, worker, submitted_at=DAY + dt.timedelta(hours=1))
    # The worker's key is named and also has a new event; the other's row has no events left.
    named = [(worker.id, project.id, DAY.date()), (other.id, project.id, DAY.date().isoformat())]
    assert rollups.refresh(session, also=named) == 2
    rows = table(session)
    assert [(row[0], row[3]) for row in rows] == [(worker.id, 2)]
    rollups.rebuild(session)
    assert table(session) == rows


def test_import_spread_over_people_and_days_equals_a_rebuild(
    session: Session, tmp_path: Path
) -> None:
    project = make_project(session, slug="spread")
    regulars = [make_annotator(session) for _ in range(3)]
    make_pay_rate(session, regulars[0], amount_minor=3600)
    # A rate that starts at noon cuts the days into parts that are priced apart.
    make_pay_rate(session, regulars[0], amount_minor=7200, effective_from=DAY.replace(hour=12))
    make_pay_rate(session, regulars[1], basis="per_item", amount_minor=5)
    for person in regulars:
        for day in range(DAYS):
            make_event(session, project, person, submitted_at=DAY + dt.timedelta(days=day))
    rollups.rebuild(session)
    # New people and the regulars, over the same days (late work for rows already rolled
    # up) and later ones; some golden, some reviewed by a regular.
    path = tmp_path / "spread.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        for index in range(PEOPLE * DAYS):
            number = index % PEOPLE
            annotator = regulars[number].email if number < 3 else f"new{number}@example.org"
            submitted = DAY + dt.timedelta(days=index // PEOPLE, hours=(index * 7) % 24)
            reviewed = index % 4 == 0
            writer.writerow(
                {
                    "project": "spread",
                    "item_id": f"item-{index % 50}",
                    "annotator": annotator,
                    "submitted_at": submitted.isoformat(),
                    "external_id": f"spread-{index}",
                    "label": "cat" if index % 3 else "dog",
                    "active_seconds": f"{10 + index % 17}.25",
                    "skipped": "false",
                    "escalated": "true" if index % 11 == 0 else "false",
                    "gold_label": "dog" if index % 6 == 0 else "",
                    "reviewer": regulars[1].email if reviewed else "",
                    "review_outcome": "accepted" if reviewed else "",
                    "review_seconds": "4.5" if reviewed else "",
                    "reviewed_at": (submitted + dt.timedelta(hours=30)).isoformat()
                    if reviewed
                    else "",
                    "guideline_version": "",
                }
            )
    result = run_import(session, SYSTEM, ImportRequest(source="events", path=path))
    assert result.inserted == PEOPLE * DAYS
    assert rollups.count_pending_events(session) == 0
    imported, imported_confusion = table(session), confusion_table(session)
    assert sum(row[3] for row in imported) == 3 * DAYS + PEOPLE * DAYS
    assert imported_confusion
    rollups.rebuild(session)
    assert table(session) == imported
    assert confusion_table(session) == imported_confusion


def test_new_key_of_a_person_already_at_work_that_day_elsewhere(session: Session) -> None:
    first, second = make_project(session), make_project(session)
    person = make_annotator(session)
    make_pay_rate(session, person)
    for hour in range(3):
        make_event(session, first, person, submitted_at=DAY + dt.timedelta(hours=hour))
    rollups.refresh(session)
    # The same day: more work in the first project (a key with a row) and the person's
    # first work in the second (a new key, read from the new events alone).
    make_event(session, first, person, submitted_at=DAY + dt.timedelta(hours=5))
    for hour in range(2):
        make_event(session, second, person, submitted_at=DAY + dt.timedelta(hours=6 + hour))
    assert rollups.refresh(session) == 2
    rows = table(session)
    assert [(row[1], row[3]) for row in rows] == [(first.id, 4), (second.id, 2)]
    rollups.rebuild(session)
    assert table(session) == rows


@postgres_only("migrated_engine")
@pytest.mark.parametrize("rows_per_lookup", [0, 1_000_000], ids=["key by key", "windows"])
def test_replaced_keys_read_key_by_key_or_by_window_equal_a_rebuild(
    session: Session, monkeypatch: pytest.MonkeyPatch, rows_per_lookup: int
) -> None:
    """The keys a refresh rewrites are read from events key by key or by reading their
    projects' windows whole; either way the rows equal a full rebuild's. The people also
    work in another project the same days, which neither way may count."""
    monkeypatch.setattr(rollup_sql, "ROWS_PER_KEY_LOOKUP", rows_per_lookup)
    project, elsewhere = make_project(session), make_project(session)
    people = [make_annotator(session) for _ in range(4)]
    make_pay_rate(session, people[0], amount_minor=3600)
    events = []
    for index, person in enumerate(people):
        for day in range(6):
            moment = DAY + dt.timedelta(days=day, hours=index)
            events.append(
                make_event(
                    session,
                    project,
                    person,
                    submitted_at=moment,
                    is_gold=day % 2 == 0,
                    gold_label="dog",
                    label="dog" if index % 2 else "cat",
                )
            )
            make_event(session, elsewhere, person, submitted_at=moment)
    rollups.refresh(session)
    # Some work is replaced: gone from some keys (one whole key), relabeled in others.
    touched = set()
    for event in events[::3]:
        touched.add((event.annotator_id, event.project_id, event.submitted_at.date()))
        session.delete(event)
    for event in events[1::5]:
        touched.add((event.annotator_id, event.project_id, event.submitted_at.date()))
        event.label = "bird"
    session.flush()
    windows: list[Any] = []
    original = rollup_sql.keyed_windows

    def keyed_windows(*args: Any, **kwargs: Any) -> list[Any]:
        found = original(*args, **kwargs)
        windows.extend(found)
        return found

    monkeypatch.setattr(rollup_sql, "keyed_windows", keyed_windows)
    rollups.refresh(session, also=sorted(touched))
    assert bool(windows) == (rows_per_lookup > 0)
    refreshed, refreshed_confusion = table(session), confusion_table(session)
    rollups.rebuild(session)
    assert table(session) == refreshed
    assert confusion_table(session) == refreshed_confusion
