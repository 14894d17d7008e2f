"""Concurrent writers on PostgreSQL: nothing lost from the rollups, nothing misattributed."""

from __future__ import annotations

import csv
import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import AnnotationEvent, Annotator, AnnotatorIdentity
from ops import rollups
from ops.identities import merge_unlinked_identity
from ops.importers.pipeline import ImportRequest, import_file
from ops.permissions import SYSTEM
from tests.db.test_rollups import table
from tests.factories import make_annotator, make_project

COLUMNS = ("project", "item_id", "annotator", "submitted_at", "external_id", "label")
IDENTITIES = 8
ROUNDS = 12


def write_events(path: Path, batch: int, people: list[str]) -> Path:
    """A file of work by ``people``, spread over three days."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index in range(60):
            person = people[index % len(people)]
            moment = dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=index + batch * 7)
            writer.writerow(
                ("race", f"item-{index}", person, moment.isoformat(), f"b{batch}-{index}", "x")
            )
    return path


def run_together(*workers: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # reported by the test below
                errors.append(error)

        return run

    threads = [threading.Thread(target=guarded(work)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_identity_merges_during_imports_and_rollups_lose_nothing(
    fresh_factory: sessionmaker[Session], fresh_database_url: str, tmp_path: Path
) -> None:
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite allows one writer at a time; the race is PostgreSQL's")
    keys = [f"vendor:u{index}" for index in range(IDENTITIES)]
    with transaction(fresh_factory) as session:
        make_project(session, slug="race")
        targets = [make_annotator(session).id for _ in keys]
    first = write_events(tmp_path / "first.csv", 0, keys)
    import_file(fresh_factory, SYSTEM, ImportRequest(source="events", path=first))
    with transaction(fresh_factory) as session:
        identities = {
            identity.external_id: identity.id
            for identity in session.scalars(select(AnnotatorIdentity))
        }
        placeholders = {
            identity.annotator_id for identity in session.scalars(select(AnnotatorIdentity))
        }

    def importer() -> None:
        for batch in range(1, ROUNDS + 1):
            path = write_events(tmp_path / f"batch-{batch}.csv", batch, keys)
            import_file(fresh_factory, SYSTEM, ImportRequest(source="events", path=path))

    def merger() -> None:
        for index, key in enumerate(keys):
            time.sleep(0.05)
            with transaction(fresh_factory) as session:
                merge_unlinked_identity(
                    session,
                    SYSTEM,
                    identity_id=identities[key.split(":", 1)[1]],
                    annotator_id=targets[index],
                )

    def roller() -> None:
        for _ in range(3 * ROUNDS):
            with transaction(fresh_factory) as session:
                rollups.refresh(session)

    run_together(importer, merger, roller)

    with transaction(fresh_factory) as session:
        rollups.refresh(session)
        incremental = table(session)
        # No work stays filed under an identity's old, merged-away annotator.
        merged = select(Annotator.id).where(Annotator.merged_into_id.is_not(None))
        assert set(session.scalars(merged)) == placeholders
        stray = select(func.count()).where(AnnotationEvent.annotator_id.in_(merged))
        assert session.scalar(stray) == 0
        assert session.scalar(select(func.count(AnnotationEvent.id))) == 60 * (ROUNDS + 1)
        rollups.rebuild(session)
        assert table(session) == incremental
        assert sum(row[3] for row in incremental) == 60 * (ROUNDS + 1)
