"""Queries for imports: identities, golden items, guideline versions, lineage and history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Table, case, delete, func, or_, select, text
from sqlalchemy.orm import Session

from db.models import (
    AnnotationEvent,
    Annotator,
    AnnotatorIdentity,
    DailyRollup,
    GoldItem,
    GuidelineVersion,
    ImportBatch,
    Project,
)

IN_BATCH = 5_000


def _batched(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), IN_BATCH):
        yield values[start : start + IN_BATCH]


def list_identity_matches(
    session: Session, *, platform: str, external_ids: list[str]
) -> dict[str, int]:
    """external id -> annotator id for the identities of ``platform`` that exist."""
    found: dict[str, int] = {}
    for chunk in _batched(external_ids):
        rows = session.execute(
            select(AnnotatorIdentity.external_id, AnnotatorIdentity.annotator_id).where(
                AnnotatorIdentity.platform == platform,
                AnnotatorIdentity.external_id.in_(chunk),
            )
        )
        found.update({str(key): int(value) for key, value in rows})
    return found


def list_annotators_by_email(
    session: Session, *, emails: list[str], include_archived: bool = False
) -> dict[str, int]:
    """lower-cased email -> annotator id, for annotators not archived (unless asked)."""
    found: dict[str, int] = {}
    lowered = sorted({email.lower() for email in emails})
    for chunk in _batched(lowered):
        query = select(func.lower(Annotator.email), Annotator.id).where(
            func.lower(Annotator.email).in_(chunk)
        )
        if not include_archived:
            query = query.where(Annotator.archived_at.is_(None))
        rows = session.execute(query)
        found.update({str(key): int(value) for key, value in rows})
    return found


def list_projects_by_slug(session: Session, *, slugs: list[str]) -> dict[str, int]:
    """slug -> project id for the slugs that exist."""
    rows = session.execute(select(Project.slug, Project.id).where(Project.slug.in_(slugs)))
    return {str(key): int(value) for key, value in rows}


def list_guideline_versions(session: Session, *, project_id: int) -> list[GuidelineVersion]:
    """A project's guideline versions, oldest first."""
    return list(
        session.scalars(
            select(GuidelineVersion)
            .where(GuidelineVersion.project_id == project_id)
            .order_by(GuidelineVersion.effective_from)
        )
    )


def list_gold_items(
    session: Session, *, project_id: int, item_ids: list[str]
) -> dict[str, GoldItem]:
    """item id -> golden item, for the given items of a project."""
    found: dict[str, GoldItem] = {}
    for chunk in _batched(item_ids):
        for gold in session.scalars(
            select(GoldItem).where(GoldItem.project_id == project_id, GoldItem.item_id.in_(chunk))
        ):
            found[gold.item_id] = gold
    return found


def list_gold_reference_ids(session: Session, *, project_id: int) -> list[str]:
    """External ids of the annotations that set a project's golden items."""
    return [
        str(external_id)
        for external_id in session.scalars(
            select(GoldItem.external_id).where(
                GoldItem.project_id == project_id, GoldItem.external_id.is_not(None)
            )
        )
    ]


def count_gold_items(session: Session, *, project_id: int) -> int:
    """Golden items of a project."""
    return int(
        session.scalar(select(func.count(GoldItem.id)).where(GoldItem.project_id == project_id))
        or 0
    )


def list_import_batches(
    session: Session, *, limit: int = 200, project_id: int | None = None
) -> list[tuple[ImportBatch, str | None]]:
    """Recent import batches, newest first, with their project's slug."""
    query = (
        select(ImportBatch, Project.slug)
        .outerjoin(Project, Project.id == ImportBatch.project_id)
        .order_by(ImportBatch.id.desc())
        .limit(limit)
    )
    if project_id is not None:
        query = query.where(ImportBatch.project_id == project_id)
    return [(batch, slug) for batch, slug in session.execute(query)]


@dataclass(frozen=True)
class UnlinkedIdentity:
    """An identity an import could not match to a person, with the work it carries."""

    identity_id: int
    annotator_id: int
    display_name: str
    platform: str
    external_id: str
    email: str | None
    events: int
    first_submitted_at: dt.datetime | None
    last_submitted_at: dt.datetime | None


def list_unlinked_identities(session: Session) -> list[UnlinkedIdentity]:
    """Identities whose annotator an import created and nobody has linked yet."""
    work = (
        select(
            AnnotationEvent.annotator_id,
            func.count(AnnotationEvent.id).label("events"),
            func.min(AnnotationEvent.submitted_at).label("first"),
            func.max(AnnotationEvent.submitted_at).label("last"),
        )
        .group_by(AnnotationEvent.annotator_id)
        .subquery()
    )
    rows = session.execute(
        select(
            AnnotatorIdentity.id,
            Annotator.id,
            Annotator.display_name,
            AnnotatorIdentity.platform,
            AnnotatorIdentity.external_id,
            AnnotatorIdentity.email,
            func.coalesce(work.c.events, 0),
            work.c.first,
            work.c.last,
        )
        .join(Annotator, Annotator.id == AnnotatorIdentity.annotator_id)
        .outerjoin(work, work.c.annotator_id == Annotator.id)
        .where(
            Annotator.is_linked == False,  # noqa: E712
            Annotator.merged_into_id.is_(None),
            Annotator.archived_at.is_(None),
        )
        .order_by(AnnotatorIdentity.platform, AnnotatorIdentity.external_id)
    )
    return [UnlinkedIdentity(*row) for row in rows]


def list_link_targets(session: Session) -> list[Annotator]:
    """Annotators an identity can be linked to: linked and not archived, by name."""
    return list(
        session.scalars(
            select(Annotator)
            .where(
                Annotator.is_linked == True,  # noqa: E712
                Annotator.archived_at.is_(None),
                Annotator.merged_into_id.is_(None),
            )
            .order_by(Annotator.display_name)
        )
    )


def count_events_of(session: Session, *, annotator_id: int) -> int:
    """Events done or reviewed by an annotator."""
    return int(
        session.scalar(
            select(func.count(AnnotationEvent.id)).where(
                or_(
                    AnnotationEvent.annotator_id == annotator_id,
                    AnnotationEvent.reviewer_id == annotator_id,
                )
            )
        )
        or 0
    )


def reassign_events(session: Session, *, from_annotator_id: int, to_annotator_id: int) -> int:
    """Move the work done or reviewed by one annotator to another; returns events moved.

    The events are re-inserted with new ids rather than updated in place, so the
    incremental rollup (which follows event ids) folds them in under their new
    annotator; the old annotator's rollup rows are removed.
    """
    events: Table = AnnotationEvent.__table__  # type: ignore[assignment]
    rollups: Table = DailyRollup.__table__  # type: ignore[assignment]
    columns = [column.name for column in events.columns if column.name != "id"]
    moved = select(
        events.c.id,
        *(
            case(
                (events.c[name] == from_annotator_id, to_annotator_id), else_=events.c[name]
            ).label(name)
            if name in ("annotator_id", "reviewer_id")
            else events.c[name]
            for name in columns
        ),
    ).where(
        or_(
            events.c.annotator_id == from_annotator_id,
            events.c.reviewer_id == from_annotator_id,
        )
    )
    dialect = session.get_bind().dialect
    # Only integer ids are rendered inline; the natural key is unique, so the old rows
    # must leave before their copies arrive.
    body = moved.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    session.execute(text("DROP TABLE IF EXISTS moved_events"))
    session.execute(text(f"CREATE TEMPORARY TABLE moved_events AS {body}"))
    count = int(session.scalar(text("SELECT count(*) FROM moved_events")) or 0)
    names = ", ".join(f'"{name}"' for name in columns)
    session.execute(text("DELETE FROM annotation_events WHERE id IN (SELECT id FROM moved_events)"))
    session.execute(
        text(
            f"INSERT INTO annotation_events ({names}) SELECT {names} FROM moved_events ORDER BY id"
        )
    )
    session.execute(text("DROP TABLE moved_events"))
    session.execute(delete(rollups).where(rollups.c.annotator_id == from_annotator_id))
    return count
