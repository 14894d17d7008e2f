"""Unlinked identities after an import: listed, linked (work moves, audited), accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    AnnotationEvent,
    Annotator,
    AnnotatorIdentity,
    AuditEntry,
    DailyRollup,
    ProjectDaySpend,
)
from ops import rollups
from ops.errors import PermissionDenied, ValidationError
from ops.identities import (
    accept_as_new_annotator,
    list_link_targets,
    list_unlinked,
    merge_unlinked_identity,
)
from ops.importers.pipeline import ImportRequest, run_import
from ops.permissions import SYSTEM, Principal
from tests.factories import make_annotator, make_event, make_project

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
OPS = Principal(username="olga", role="ops")


def imported(session: Session) -> int:
    project = make_project(session)
    run_import(
        session,
        SYSTEM,
        ImportRequest(
            source="labelstudio",
            path=FIXTURES / "export.json",
            project=project.slug,
            users_path=FIXTURES / "users.json",
        ),
    )
    return project.id


def project_day_spend(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(
            ProjectDaySpend.project_id,
            ProjectDaySpend.day,
            ProjectDaySpend.currency,
            ProjectDaySpend.annotations,
            ProjectDaySpend.cost_minor + ProjectDaySpend.review_cost_minor,
        )
    ).all()
    return sorted((tuple(row) for row in rows), key=str)


def spend_of_rollups(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(
            DailyRollup.project_id,
            DailyRollup.day,
            DailyRollup.currency,
            func.sum(DailyRollup.annotations),
            func.sum(DailyRollup.cost_minor + DailyRollup.review_cost_minor),
        ).group_by(DailyRollup.project_id, DailyRollup.day, DailyRollup.currency)
    ).all()
    return sorted((tuple(row) for row in rows), key=str)


def test_unlinked_identities_are_listed_with_their_work(session: Session) -> None:
    imported(session)
    rows = {row.email: row for row in list_unlinked(session, OPS)}
    assert set(rows) == {
        "alice.nguyen@example.com",
        "bob.okafor@example.com",
        "carla.mendes@example.com",
        "dmitri.volkov@example.com",
    }
    assert rows["bob.okafor@example.com"].events == 22
    assert rows["bob.okafor@example.com"].platform == "labelstudio"
    assert rows["bob.okafor@example.com"].first_submitted_at is not None


def test_linking_moves_the_work_archives_the_placeholder_and_is_audited(session: Session) -> None:
    project_id = imported(session)
    rollups.rebuild(session)
    bob = make_annotator(session, display_name="Bob O.", email="bob@company.example")
    row = next(r for r in list_unlinked(session, OPS) if r.email == "bob.okafor@example.com")
    assert bob.id in {target.annotator_id for target in list_link_targets(session, OPS)}
    assert row.annotator_id not in {t.annotator_id for t in list_link_targets(session, OPS)}

    spend_before = project_day_spend(session)
    moved = merge_unlinked_identity(session, OPS, identity_id=row.identity_id, annotator_id=bob.id)

    assert moved == 22
    # Each project's daily spend still adds up its rollups, and is what it was.
    assert project_day_spend(session) == spend_of_rollups(session)
    assert [row[:4] for row in project_day_spend(session)] == [row[:4] for row in spend_before]
    work = select(func.count(AnnotationEvent.id)).where(AnnotationEvent.project_id == project_id)
    assert session.scalar(work.where(AnnotationEvent.annotator_id == bob.id)) == 22
    assert session.scalar(work.where(AnnotationEvent.annotator_id == row.annotator_id)) == 0
    assert session.scalar(work) == 73
    placeholder = session.get(Annotator, row.annotator_id)
    assert placeholder is not None
    assert placeholder.merged_into_id == bob.id and placeholder.archived_at is not None
    assert "bob.okafor@example.com" not in {r.email for r in list_unlinked(session, OPS)}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "identity.link")).one()
    assert entry.actor == "olga" and entry.after is not None and entry.after["events_moved"] == 22
    # The next rollup refresh counts the moved work under the person it belongs to.
    assert (
        session.scalar(
            select(func.count())
            .select_from(DailyRollup)
            .where(DailyRollup.annotator_id == row.annotator_id)
        )
        == 0
    )
    rollups.refresh(session)
    bobs = session.scalar(
        select(func.sum(DailyRollup.annotations + DailyRollup.skipped)).where(
            DailyRollup.annotator_id == bob.id
        )
    )
    assert bobs == 22
    with pytest.raises(ValidationError, match="already linked"):
        merge_unlinked_identity(session, OPS, identity_id=row.identity_id, annotator_id=bob.id)


def test_accepting_makes_the_placeholder_a_person(session: Session) -> None:
    imported(session)
    row = next(r for r in list_unlinked(session, OPS) if r.email == "carla.mendes@example.com")
    accept_as_new_annotator(session, OPS, identity_id=row.identity_id)
    carla = session.get(Annotator, row.annotator_id)
    assert carla is not None and carla.is_linked and carla.email == "carla.mendes@example.com"
    assert len(list_unlinked(session, OPS)) == 3


def test_only_admin_and_ops_may_link(session: Session) -> None:
    imported(session)
    row = list_unlinked(session, SYSTEM)[0]
    for role in ("lead", "finance", "annotator"):
        with pytest.raises(PermissionDenied):
            merge_unlinked_identity(
                session,
                Principal(username="x", role=role),
                identity_id=row.identity_id,
                annotator_id=1,
            )


def test_unlinked_work_counts_only_the_placeholders_events(session: Session) -> None:
    project = make_project(session)
    linked = make_annotator(session, display_name="Linked Lou", email="lou@example.org")
    idle = make_annotator(session, display_name="Idle (unlinked)", is_linked=False, email=None)
    busy = make_annotator(session, display_name="Busy (unlinked)", is_linked=False, email=None)
    gone = make_annotator(session, display_name="Gone (unlinked)", is_linked=False, email=None)
    gone.merged_into_id, gone.archived_at = linked.id, busy.created_at
    for person, external_id in ((idle, "idle"), (busy, "busy"), (gone, "gone")):
        session.add(
            AnnotatorIdentity(annotator_id=person.id, platform="cvat", external_id=external_id)
        )
    for person, count in ((linked, 3), (busy, 2), (gone, 4)):
        for _ in range(count):
            make_event(session, project, person)
    session.flush()

    rows = {row.external_id: row for row in list_unlinked(session, OPS)}
    assert set(rows) == {"idle", "busy"}
    assert (rows["busy"].events, rows["idle"].events) == (2, 0)
    assert rows["idle"].first_submitted_at is None and rows["idle"].last_submitted_at is None
    targets = {target.annotator_id: target.label for target in list_link_targets(session, OPS)}
    assert targets[linked.id] == "Linked Lou <lou@example.org>"
    assert idle.id not in targets and gone.id not in targets
