"""Projects: by slug, by id, and the task types the pool is tested on."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Project, QualificationResult


def get_project(session: Session, *, slug: str) -> Project | None:
    """The project with ``slug``, or None."""
    return session.scalars(select(Project).where(Project.slug == slug)).one_or_none()


def list_projects(session: Session, *, include_archived: bool = False) -> list[Project]:
    """Projects by slug."""
    query = select(Project).order_by(Project.slug)
    if not include_archived:
        query = query.where(Project.status != "archived")
    return list(session.scalars(query))


def list_projects_by_slug(session: Session, *, slugs: list[str]) -> dict[str, int]:
    """slug -> project id for the slugs that exist."""
    rows = session.execute(select(Project.slug, Project.id).where(Project.slug.in_(slugs)))
    return {str(key): int(value) for key, value in rows}


def list_project_slugs_by_id(session: Session, *, project_ids: Sequence[int]) -> dict[int, str]:
    """Project id -> slug for the given ids."""
    ids = [i for i in project_ids if i is not None]
    if not ids:
        return {}
    return {
        int(row[0]): str(row[1])
        for row in session.execute(select(Project.id, Project.slug).where(Project.id.in_(ids)))
    }


def list_active_projects(session: Session) -> list[tuple[int, str]]:
    """(id, slug) of active projects, by slug."""
    return [
        (int(row[0]), str(row[1]))
        for row in session.execute(
            select(Project.id, Project.slug)
            .where(Project.status == "active")
            .order_by(Project.slug)
        )
    ]


def list_task_types(session: Session) -> list[str]:
    """Task types of projects and of recorded qualification tests."""
    names = set(session.scalars(select(Project.task_type).distinct()))
    names |= set(session.scalars(select(QualificationResult.task_type).distinct()))
    return sorted(names)
