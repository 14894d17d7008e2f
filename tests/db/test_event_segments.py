"""Large imports load their rows as segments of their own on PostgreSQL (tables indexed
in one sort that then join their months), and the storage job folds a month's segments
back into its base: every row, id and index stays, and the import stays all or nothing
and idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from db import partitions
from db.partitions import (
    MonthStorage,
    base_name,
    compact_month,
    list_month_storage,
    list_segments,
    segment_name,
)
from db.queries import imports as import_queries
from ops import rollups
from ops.importers.pipeline import ImportRequest, run_import
from ops.importers.problems import ImportFailed
from ops.jobs import JobContext, storage_job
from ops.permissions import SYSTEM
from ops.projects import add_project
from tests.conftest import postgres_only

HEADER = "project,item_id,annotator,label,submitted_at,external_id\n"
JUNE = dt.date(2024, 6, 1)
JULY = dt.date(2024, 7, 1)


def write_events(path: Path, keys: range, *, day: str = "2024-06-14", label: str = "cat") -> Path:
    rows = [
        f"seg,i{key},ann{key % 3}@example.org,{label},{day}T{key % 24:02d}:00:00Z,e{key}"
        for key in keys
    ]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


# Segments are PostgreSQL partitions; SQLite keeps annotation_events as one plain table.
pytestmark = postgres_only("migrated_engine")


@pytest.fixture
def postgres(session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    """A PostgreSQL session in which every import loads a segment of its own."""
    assert session.get_bind().dialect.name == "postgresql"
    monkeypatch.setattr(import_queries, "SEGMENT_MIN_ROWS", 1)
    add_project(session, SYSTEM, slug="seg", name="Segments")
    return session


def stored(session: Session) -> list[tuple[int, str, str]]:
    return [
        (int(row[0]), str(row[1]), str(row[2]))
        for row in session.execute(
            text(
                "SELECT e.id, e.external_id, e.label FROM annotation_events AS e "
                "JOIN projects ON projects.id = e.project_id WHERE slug = 'seg' ORDER BY e.id"
            )
        )
    ]


def indexes(session: Session, table: str) -> list[str]:
    """The table's indexes by method and columns (a duplicate would show twice)."""
    return sorted(
        str(definition).split(" USING ")[1]
        for definition in session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE tablename = :table"), {"table": table}
        ).scalars()
    )


def test_a_large_import_becomes_a_segment_of_each_month_it_touches(
    postgres: Session, tmp_path: Path
) -> None:
    session = postgres
    path = write_events(tmp_path / "june.csv", range(6))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("seg,i9,ann0@example.org,dog,2024-07-02T10:00:00Z,e9\n")
    result = run_import(session, SYSTEM, ImportRequest(source="events", path=path))
    assert (result.inserted, result.duplicate) == (7, 0)
    batch = result.batch_id
    assert list_segments(session, JUNE) == sorted([base_name(JUNE), segment_name(JUNE, batch)])
    assert list_segments(session, JULY) == sorted([base_name(JULY), segment_name(JULY, batch)])
    in_june = session.execute(
        text(f"SELECT external_id, segment, import_batch_id FROM {segment_name(JUNE, batch)}")
    ).all()
    assert sorted(in_june) == sorted((f"e{key}", batch, batch) for key in range(6))
    # The segment has every index its month has, built when it joined.
    assert indexes(session, segment_name(JUNE, batch)) == indexes(session, base_name(JUNE))
    assert len(indexes(session, segment_name(JUNE, batch))) == 5
    # Ids follow the file, across months.
    rows = stored(session)
    assert [key for _, key, _ in rows] == [f"e{key}" for key in (*range(6), 9)]
    # Reads by key find the rows through the segment's own index.
    plan = "\n".join(
        session.execute(
            text(
                "EXPLAIN SELECT id FROM annotation_events WHERE project_id = :project "
                "AND external_id = 'e3'"
            ),
            {
                "project": session.execute(
                    text("SELECT id FROM projects WHERE slug = 'seg'")
                ).scalar()
            },
        ).scalars()
    )
    assert segment_name(JUNE, batch) in plan
    # No load table is left behind.
    assert not session.execute(
        text("SELECT relname FROM pg_class WHERE relname LIKE 'annotation_events_load%'")
    ).all()


def test_importing_the_same_file_again_adds_no_table_and_no_row(
    postgres: Session, tmp_path: Path
) -> None:
    session = postgres
    path = write_events(tmp_path / "june.csv", range(5))
    first = run_import(session, SYSTEM, ImportRequest(source="events", path=path))
    tables = list_segments(session, JUNE)
    again = run_import(session, SYSTEM, ImportRequest(source="events", path=path))
    assert (again.inserted, again.duplicate) == (0, 5)
    assert list_segments(session, JUNE) == tables
    assert len(stored(session)) == 5
    assert first.batch_id != again.batch_id


def test_a_failed_import_leaves_no_segment(postgres: Session, tmp_path: Path) -> None:
    session = postgres
    good = write_events(tmp_path / "good.csv", range(4))
    run_import(session, SYSTEM, ImportRequest(source="events", path=good))
    tables = list_segments(session, JUNE)
    bad = write_events(tmp_path / "bad.csv", range(10, 14))
    with bad.open("a", encoding="utf-8") as handle:
        handle.write("seg,i99,ann0@example.org,cat,not a time,e99\n")
    with pytest.raises(ImportFailed, match="row 6"):
        run_import(session, SYSTEM, ImportRequest(source="events", path=bad))
    assert list_segments(session, JUNE) == tables
    assert len(stored(session)) == 4


def test_a_dry_run_leaves_no_segment(postgres: Session, tmp_path: Path) -> None:
    session = postgres
    path = write_events(tmp_path / "june.csv", range(4))
    result = run_import(session, SYSTEM, ImportRequest(source="events", path=path, dry_run=True))
    assert result.inserted == 4
    assert list_segments(session, JUNE) in ([], [base_name(JUNE)])
    assert stored(session) == []


def test_rollups_of_a_segment_equal_a_rebuild(postgres: Session, tmp_path: Path) -> None:
    session = postgres
    run_import(
        session,
        SYSTEM,
        ImportRequest(source="events", path=write_events(tmp_path / "a.csv", range(30))),
    )
    query = text(
        "SELECT annotator_id, project_id, day, annotations, active_seconds FROM daily_rollups "
        "ORDER BY 1, 2, 3"
    )
    refreshed = session.execute(query).all()
    assert refreshed
    rollups.rebuild(session)
    assert session.execute(query).all() == refreshed


def test_folding_a_month_keeps_every_row_id_and_index(postgres: Session, tmp_path: Path) -> None:
    session = postgres
    first = run_import(
        session,
        SYSTEM,
        ImportRequest(source="events", path=write_events(tmp_path / "a.csv", range(5))),
    )
    second = run_import(
        session,
        SYSTEM,
        ImportRequest(source="events", path=write_events(tmp_path / "b.csv", range(5, 9))),
    )
    assert len(list_segments(session, JUNE)) == 3
    before = stored(session)
    june_indexes = indexes(session, base_name(JUNE))
    assert compact_month(session, JUNE) == 9
    assert list_segments(session, JUNE) == [base_name(JUNE)]
    assert stored(session) == before
    assert indexes(session, base_name(JUNE)) == june_indexes
    # Each adopted by the parent's index (none built twice), the primary key among them.
    adopted = session.execute(
        text(
            "SELECT count(*) FROM pg_inherits JOIN pg_index ON indexrelid = inhrelid "
            "WHERE indrelid = CAST(:table AS regclass)"
        ),
        {"table": base_name(JUNE)},
    ).scalar_one()
    assert adopted == len(june_indexes) == 5
    names = session.execute(
        text("SELECT indexname FROM pg_indexes WHERE tablename = :table"),
        {"table": base_name(JUNE)},
    ).scalars()
    assert all(name.startswith(f"{base_name(JUNE)}_") for name in names)
    segments = session.execute(
        text(f"SELECT DISTINCT segment FROM {base_name(JUNE)} ORDER BY 1")
    ).scalars()
    assert list(segments) == [first.batch_id, second.batch_id]
    # Later work of the month still lands beside the folded base, as rows or a segment.
    session.execute(
        text(
            "INSERT INTO annotation_events (project_id, item_id, annotator_id, submitted_at, "
            "active_seconds, skipped, escalated, external_id, is_gold) "
            "SELECT project_id, 'late', annotator_id, submitted_at, 1, false, false, 'late', "
            "false FROM annotation_events WHERE external_id = 'e0'"
        )
    )
    third = run_import(
        session,
        SYSTEM,
        ImportRequest(source="events", path=write_events(tmp_path / "c.csv", range(20, 23))),
    )
    assert list_segments(session, JUNE) == sorted(
        [base_name(JUNE), segment_name(JUNE, third.batch_id)]
    )
    assert len(stored(session)) == 13
    # Folding again takes the new segment and the base's whole range.
    assert compact_month(session, JUNE) == 13
    assert list_segments(session, JUNE) == [base_name(JUNE)]


def test_the_storage_job_folds_months_that_are_over_or_crowded(
    postgres: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = postgres
    run_import(
        session,
        SYSTEM,
        ImportRequest(source="events", path=write_events(tmp_path / "a.csv", range(3))),
    )
    june = next(storage for storage in list_month_storage(session) if storage.month == JUNE)
    assert june == MonthStorage(month=JUNE, tables=2)
    assert not june.due(dt.date(2024, 6, 30))
    assert june.due(dt.date(2024, 7, 1))
    assert not MonthStorage(month=JUNE, tables=1).due(dt.date(2040, 1, 1))
    monkeypatch.setattr(partitions, "MAX_SEGMENTS", 1)
    assert june.due(dt.date(2024, 6, 2))


def test_the_storage_job_folds_what_is_due_and_leaves_the_rest(
    postgres: Session, tmp_path: Path
) -> None:
    session = postgres
    path = write_events(tmp_path / "a.csv", range(4))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("seg,i9,ann0@example.org,dog,2024-07-02T10:00:00Z,e9\n")
    run_import(session, SYSTEM, ImportRequest(source="events", path=path))
    before = stored(session)
    messages: list[str] = []
    context = JobContext(
        now=dt.datetime(2024, 7, 20, tzinfo=dt.UTC),
        full=False,
        progress=lambda message, _share: messages.append(message),
    )
    # June is over on 20 July and is folded; July is not, and keeps its segment.
    assert storage_job(session, context) == 1
    assert list_segments(session, JUNE) == [base_name(JUNE)]
    assert len(list_segments(session, JULY)) == 2
    assert messages == ["folding 2024-06 (2 tables)"]
    assert stored(session) == before
    assert storage_job(session, context) == 0
