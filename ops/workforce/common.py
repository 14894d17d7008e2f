"""Loading a person inside scope, optimistic locking and small validation helpers shared
by the workforce services."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.models import Annotator, Project
from ops.errors import ConflictError, NotFound, ValidationError
from ops.permissions import Principal, people_scope, require


class VersionedRow(Protocol):
    version_id: int
    updated_at: dt.datetime
    updated_by: str | None


def may_see(principal: Principal, annotator: Annotator) -> bool:
    """True when the annotator is inside the principal's scope."""
    return people_scope(principal).covers(annotator_id=annotator.id, team_id=annotator.team_id)


def load_annotator(
    session: Session,
    principal: Principal,
    annotator_id: int,
    *,
    action: str = "annotator.view",
    fresh: bool = False,
) -> Annotator:
    """The annotator if the principal may do ``action`` on them; NotFound outside scope."""
    require(principal, action)
    annotator = session.get(Annotator, annotator_id, populate_existing=fresh)
    if (
        annotator is None
        or annotator.merged_into_id is not None
        or not may_see(principal, annotator)
    ):
        # Outside a lead's team the person is not there at all, so nothing leaks.
        raise NotFound(f"No annotator {annotator_id} that you may see.")
    return annotator


def require_active(annotator: Annotator) -> None:
    """Refuse changes to an archived person."""
    if annotator.archived_at is not None:
        raise ValidationError(
            f"{annotator.display_name} is archived; restore them before changing their records.",
            field="annotator",
        )


def check_version(row: VersionedRow, expected_version: int, what: str) -> None:
    """Raise ConflictError when the row changed since the caller read ``expected_version``."""
    if row.version_id != expected_version:
        raise ConflictError(changed_message(what, row.updated_by, row.updated_at))


def changed_message(what: str, who: str | None, when: dt.datetime | None) -> str:
    """The message a second editor sees: who changed it, when, and what to do."""
    at = f" at {when:%Y-%m-%d %H:%M:%S} UTC" if when is not None else ""
    return (
        f"{what} was changed by {who or 'someone else'}{at} after you opened it. "
        "Reload to see their change, then make yours again."
    )


def flush_or_conflict(session: Session, what: str) -> None:
    """Flush; a concurrent update that won the race becomes a ConflictError."""
    try:
        session.flush()
    except StaleDataError as error:
        raise ConflictError(changed_message(what, None, None)) from error


def require_project(session: Session, project_id: int) -> Project:
    """The project, or NotFound."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"No project {project_id}.")
    return project


def require_text(value: str | None, field: str, message: str, *, minimum: int = 1) -> str:
    """The stripped text, or a ValidationError for ``field``."""
    text = (value or "").strip()
    if len(text) < minimum:
        raise ValidationError(message, field=field)
    return text


def start_of_day(day: dt.date) -> dt.datetime:
    """00:00 UTC of ``day``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
