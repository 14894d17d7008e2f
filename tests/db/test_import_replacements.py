"""A Label Studio import replaces the stored events it holds a newer version of, only in
its own project, and names to the rollups exactly the stored events it replaces or removes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import AnnotationEvent, GoldItem, Project, RereviewRequest
from db.queries.imports import stores_events_of
from ops import rollups
from ops.importers.pipeline import ImportRequest, ImportResult, run_import
from ops.permissions import SYSTEM
from tests.db.test_rollups import table
from tests.factories import make_project

FIRST = "2026-11-20T10:00:00.000000Z"
LATER = "2026-11-25T10:00:00.000000Z"


def annotation(annotation_id: int, label: str, updated_at: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": annotation_id,
        "completed_by": 10 + annotation_id % 3,
        "result": [{"type": "choices", "value": {"choices": [label]}, "from_name": "defect"}],
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": f"2026-11-{annotation_id:02d}T09:00:00.000000Z",
        "updated_at": updated_at,
        "lead_time": 4.5,
        **fields,
    }


def export(path: Path, tasks: dict[int, list[dict[str, Any]]]) -> Path:
    path.write_text(
        json.dumps([{"id": task, "annotations": given} for task, given in tasks.items()])
    )
    return path


def first_export(path: Path) -> Path:
    return export(
        path,
        {
            1: [annotation(1, "cat", FIRST), annotation(2, "cat", FIRST)],
            2: [annotation(3, "dog", FIRST), annotation(4, "dog", FIRST)],
        },
    )


def later_export(path: Path) -> Path:
    """Annotation 2 relabelled, task 2 made golden by a new reference, annotation 5 new."""
    return export(
        path,
        {
            1: [annotation(1, "cat", FIRST), annotation(2, "bird", LATER)],
            2: [
                annotation(3, "dog", FIRST),
                annotation(4, "dog", FIRST),
                annotation(6, "cat", LATER, ground_truth=True),
            ],
            3: [annotation(5, "cat", LATER)],
        },
    )


def import_into(session: Session, project: Project, path: Path) -> ImportResult:
    return run_import(
        session, SYSTEM, ImportRequest(source="labelstudio", path=path, project=project.slug)
    )


def labels(session: Session, project: Project) -> dict[str, tuple[str | None, bool]]:
    return {
        event.external_id: (event.label, event.is_gold)
        for event in session.scalars(
            select(AnnotationEvent).where(AnnotationEvent.project_id == project.id)
        )
    }


def test_only_projects_with_events_are_said_to_store_some(session: Session, tmp_path: Path) -> None:
    empty, holding = make_project(session), make_project(session)
    import_into(session, holding, first_export(tmp_path / "first.json"))
    assert stores_events_of(session, project_ids={holding.id})
    assert stores_events_of(session, project_ids={empty.id, holding.id})
    assert not stores_events_of(session, project_ids={empty.id})
    assert not stores_events_of(session, project_ids=set())


def test_a_new_project_stores_every_annotation_though_another_holds_older_ones(
    session: Session, tmp_path: Path
) -> None:
    older, new = make_project(session), make_project(session)
    import_into(session, older, first_export(tmp_path / "first.json"))
    result = import_into(session, new, later_export(tmp_path / "later.json"))
    assert (result.inserted, result.updated, result.duplicate) == (5, 0, 0)
    assert labels(session, new) == {
        "ls:1": ("cat", False),
        "ls:2": ("bird", False),
        "ls:3": ("dog", True),
        "ls:4": ("dog", True),
        "ls:5": ("cat", False),
    }
    assert labels(session, older) == {
        "ls:1": ("cat", False),
        "ls:2": ("cat", False),
        "ls:3": ("dog", False),
        "ls:4": ("dog", False),
    }, "the same annotation ids in another project are other work"


def test_a_later_export_replaces_the_newer_versions_in_a_project_that_stores_them(
    session: Session, tmp_path: Path
) -> None:
    project = make_project(session)
    first = import_into(session, project, first_export(tmp_path / "first.json"))
    assert first.inserted == 4
    later = import_into(session, project, later_export(tmp_path / "later.json"))
    # Annotation 2 has a later updated_at, 3 and 4 lie on an item that became golden.
    assert (later.inserted, later.updated, later.duplicate) == (1, 3, 1)
    assert labels(session, project) == {
        "ls:1": ("cat", False),
        "ls:2": ("bird", False),
        "ls:3": ("dog", True),
        "ls:4": ("dog", True),
        "ls:5": ("cat", False),
    }
    [gold] = session.scalars(select(GoldItem).where(GoldItem.project_id == project.id))
    assert (gold.item_id, gold.gold_label, gold.external_id, gold.set_by) == (
        "2",
        "cat",
        "ls:6",
        "labelstudio:10",
    )
    assert gold.source_updated_at == dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
    assert gold.import_batch_id == later.batch_id
    assert gold.created_at is not None
    again = import_into(session, project, later_export(tmp_path / "later.json"))
    assert (again.inserted, again.updated, again.duplicate) == (0, 0, 5)
    assert again.summary.gold_items_new == 0
    older = import_into(session, project, first_export(tmp_path / "first.json"))
    assert (older.inserted, older.updated) == (0, 0), "an older export brings nothing back"
    assert labels(session, project)["ls:2"] == ("bird", False)


def test_the_rollups_are_told_only_of_the_events_an_import_replaces_or_removes(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[list[Any]] = []
    refresh = rollups.refresh

    def spy(session: Session, *, also: Any = ()) -> int:
        keys = list(also)
        # A day as text, as SQLite gives it.
        told.append(sorted((annotator, project, str(day)) for annotator, project, day in keys))
        return refresh(session, also=keys)

    monkeypatch.setattr(rollups, "refresh", spy)
    project = make_project(session)
    import_into(session, project, first_export(tmp_path / "first.json"))
    import_into(session, project, first_export(tmp_path / "first.json"))
    assert told[-1] == [], "a re-import of the same export changes no stored event"
    before = {
        event.external_id: (event.annotator_id, event.submitted_at.date())
        for event in session.scalars(
            select(AnnotationEvent).where(AnnotationEvent.project_id == project.id)
        )
    }
    import_into(session, project, later_export(tmp_path / "later.json"))
    assert told[-1] == sorted(
        {(before[key][0], project.id, str(before[key][1])) for key in ("ls:2", "ls:3", "ls:4")}
    )
    after_import = table(session)
    rollups.rebuild(session)
    assert table(session) == after_import


def test_a_replacement_keeps_the_rereview_request_of_the_event_it_replaces(
    session: Session, tmp_path: Path
) -> None:
    project = make_project(session)
    import_into(session, project, first_export(tmp_path / "first.json"))
    request = RereviewRequest(project_id=project.id, reason="relabel the cats")
    session.add(request)
    session.flush()
    session.execute(
        update(AnnotationEvent)
        .where(AnnotationEvent.project_id == project.id, AnnotationEvent.external_id == "ls:2")
        .values(rereview_request_id=request.id)
    )
    later = import_into(session, project, later_export(tmp_path / "later.json"))
    assert later.updated == 3
    linked = {
        event.external_id: event.rereview_request_id
        for event in session.scalars(
            select(AnnotationEvent).where(AnnotationEvent.project_id == project.id)
        )
    }
    assert linked == {"ls:1": None, "ls:2": request.id, "ls:3": None, "ls:4": None, "ls:5": None}
