"""annotation_events' storage: migration 0008 keeps every event, monthly partitions on
PostgreSQL take in the rows of the months they cover, and the import keeps the natural
key unique and its references real without foreign keys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import make_engine, make_session_factory
from db.migrate import check, downgrade, upgrade
from db.partitions import (
    DEFAULT_PARTITION,
    create_partition_sql,
    ensure_event_partitions,
    list_partitions,
    list_segments,
    month_of,
    next_month,
    partition_name,
)
from db.queries.imports import MissingReference, check_references, staging_table
from ops.importers.pipeline import ImportRequest, run_import
from ops.permissions import SYSTEM
from ops.projects import add_project
from tests.conftest import postgres_only
from tests.factories import make_annotator, make_project

EVENT_ROW = (
    "INSERT INTO annotation_events (project_id, item_id, annotator_id, label, submitted_at, "
    "active_seconds, skipped, escalated, external_id, is_gold) VALUES (:project, :item, "
    ":annotator, 'cat', :at, 1.5, false, false, :key, false)"
)


def seed(url: str) -> dict[str, int]:
    """A project, a person and three events over two months, before migration 0008."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        project = make_project(session)
        annotator = make_annotator(session)
        session.flush()
        ids = {"project": project.id, "annotator": annotator.id}
    with engine.begin() as connection:
        for key, moment in (
            ("a", dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC)),
            ("b", dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.UTC)),
            ("c", dt.datetime(2026, 11, 20, tzinfo=dt.UTC)),
        ):
            connection.execute(
                text(EVENT_ROW),
                {**ids, "item": f"i-{key}", "at": moment, "key": key},
            )
    engine.dispose()
    return ids


def events(url: str) -> list[tuple[int, str]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, external_id FROM annotation_events ORDER BY id")
        ).all()
    engine.dispose()
    return [(int(row[0]), str(row[1])) for row in rows]


def test_migration_keeps_every_event_and_id_both_ways(fresh_database_url: str) -> None:
    downgrade(fresh_database_url, "0011")
    ids = seed(fresh_database_url)
    before = events(fresh_database_url)
    upgrade(fresh_database_url)
    assert events(fresh_database_url) == before
    check(fresh_database_url)
    engine = make_engine(fresh_database_url)
    with make_session_factory(engine)() as session:
        partitions = list_partitions(session)
        if session.get_bind().dialect.name == "postgresql":
            assert partitions == {
                DEFAULT_PARTITION,
                "annotation_events_2026_10",
                "annotation_events_2026_11",
            }
            in_october = session.execute(
                text("SELECT external_id FROM annotation_events_2026_10")
            ).scalars()
            assert list(in_october) == ["a"]
            # Each month is partitioned by segment, its rows in the month's base table.
            assert list_segments(session, dt.date(2026, 11, 1)) == [
                "annotation_events_2026_11_base"
            ]
            in_base = session.execute(
                text("SELECT external_id, segment FROM annotation_events_2026_11_base ORDER BY 1")
            ).all()
            assert [tuple(row) for row in in_base] == [("b", 0), ("c", 0)]
        else:
            assert partitions == set()
        # New rows continue the id sequence.
        session.execute(
            text(EVENT_ROW),
            {
                **ids,
                "item": "i-d",
                "at": dt.datetime.now(dt.UTC),
                "key": "d",
            },
        )
        session.commit()
    engine.dispose()
    assert events(fresh_database_url)[-1] == (before[-1][0] + 1, "d")
    downgrade(fresh_database_url, "0011")
    assert events(fresh_database_url) == [*before, (before[-1][0] + 1, "d")]
    upgrade(fresh_database_url)
    check(fresh_database_url)


def test_months_are_utc_months() -> None:
    moment = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    assert month_of(moment) == dt.date(2027, 1, 1)
    assert next_month(dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
    assert partition_name(dt.date(2027, 1, 1)) == "annotation_events_2027_01"
    statements = create_partition_sql(dt.date(2026, 12, 1))
    assert (
        "FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00')" in statements[2]
    )


def test_a_new_partition_takes_in_its_rows_from_the_default_one(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        assert ensure_event_partitions(session, months=[dt.date(2031, 5, 1)]) == []
        return
    project = add_project(session, SYSTEM, slug="part", name="Partitions")
    annotator = make_annotator(session).id
    moment = dt.datetime(2031, 5, 17, 12, tzinfo=dt.UTC)
    session.execute(
        text(EVENT_ROW),
        {"project": project.id, "item": "x", "annotator": annotator, "at": moment, "key": "k"},
    )
    assert (
        session.execute(
            text(f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE external_id = 'k'")
        ).scalar_one()
        == 1
    )
    assert ensure_event_partitions(session, months=[moment]) == ["annotation_events_2031_05"]
    assert ensure_event_partitions(session, months=[moment]) == []
    assert (
        session.execute(
            text("SELECT count(*) FROM annotation_events_2031_05 WHERE external_id = 'k'")
        ).scalar_one()
        == 1
    )
    assert (
        session.execute(
            text(f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE external_id = 'k'")
        ).scalar_one()
        == 0
    )


def test_references_are_checked_once_per_id(session: Session) -> None:
    project = add_project(session, SYSTEM, slug="refs", name="References")
    check_references(session, references={"project_id": {project.id}, "annotator_id": set()})
    with pytest.raises(MissingReference, match="no such annotator_id 987654"):
        check_references(session, references={"project_id": {project.id}, "annotator_id": {987654}})


def test_an_import_into_a_new_month_makes_its_partition_and_stays_idempotent(
    session: Session, tmp_path: Path
) -> None:
    add_project(session, SYSTEM, slug="later", name="Later")
    path = tmp_path / "events.csv"
    path.write_text(
        "project,item_id,annotator,label,submitted_at,external_id\n"
        "later,i1,ann@example.org,cat,2026-07-14T10:00:00Z,e1\n"
        "later,i2,ann@example.org,dog,2026-06-02T10:00:00Z,e2\n",
        encoding="utf-8",
    )
    first = run_import(session, SYSTEM, ImportRequest(source="events", path=path))
    again = run_import(session, SYSTEM, ImportRequest(source="events", path=path))
    assert (first.inserted, first.duplicate) == (2, 0)
    assert (again.inserted, again.duplicate) == (0, 2)
    if session.get_bind().dialect.name == "postgresql":
        assert {"annotation_events_2026_06", "annotation_events_2026_07"} <= list_partitions(
            session
        )


def test_a_bad_row_deep_in_a_csv_is_named_after_the_fast_reader_stops(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ops.importers import events as events_module

    monkeypatch.setattr(events_module, "CHUNK_ROWS", 2)
    monkeypatch.setattr(events_module, "ARROW_BLOCK_BYTES", 120)
    add_project(session, SYSTEM, slug="deep", name="Deep")
    lines = ["project,item_id,annotator,submitted_at,external_id"]
    lines += [f"deep,i{n},ann@example.org,2026-07-14T10:00:00Z,e{n}" for n in range(6)]
    lines.append("deep,ragged")
    lines += [f"deep,i{n},ann@example.org,2026-07-14T10:00:00Z,e{n}" for n in range(6, 8)]
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    result = run_import(
        session,
        SYSTEM,
        ImportRequest(source="events", path=path, skip_invalid=True, rejects_path=rejects),
    )
    assert (result.rows, result.inserted, result.rejected) == (9, 8, 1)
    assert rejects.read_text(encoding="utf-8").splitlines()[1:] == [
        '8,(row),"deep,ragged",has 2 fields; the header has 5'
    ]


def test_a_key_already_stored_in_another_month_is_a_duplicate(
    session: Session, tmp_path: Path
) -> None:
    """The table cannot refuse a repeated (project, external_id) across partitions; the
    import does."""
    add_project(session, SYSTEM, slug="moved", name="Moved")
    header = "project,item_id,annotator,label,submitted_at,external_id\n"
    first = tmp_path / "first.csv"
    first.write_text(header + "moved,i1,ann@example.org,cat,2026-03-14T10:00:00Z,e1\n")
    later = tmp_path / "later.csv"
    later.write_text(header + "moved,i1,ann@example.org,dog,2026-09-14T10:00:00Z,e1\n")
    run_import(session, SYSTEM, ImportRequest(source="events", path=first))
    again = run_import(session, SYSTEM, ImportRequest(source="events", path=later))
    assert (again.inserted, again.duplicate) == (0, 1)
    labels = session.execute(
        text(
            "SELECT label FROM annotation_events JOIN projects ON projects.id = project_id "
            "WHERE slug = 'moved'"
        )
    ).scalars()
    assert list(labels) == ["cat"]


@postgres_only("migrated_engine")
def test_an_import_runs_its_statements_without_compiling_them(session: Session) -> None:
    """Each statement of an import runs once over new rows: compiling it costs more than it
    saves, so the staging of an import turns PostgreSQL's JIT off for its transaction."""
    session.execute(text("SET LOCAL jit = on"))
    with staging_table(session):
        assert session.execute(text("SHOW jit")).scalar_one() == "off"
