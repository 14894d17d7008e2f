"""Guideline versions of projects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import GuidelineVersion


def list_guideline_versions(session: Session, *, project_id: int) -> list[GuidelineVersion]:
    """A project's guideline versions in effective order."""
    return list(
        session.scalars(
            select(GuidelineVersion)
            .where(GuidelineVersion.project_id == project_id)
            .order_by(GuidelineVersion.effective_from, GuidelineVersion.id)
        )
    )


def list_major_guideline_versions(
    session: Session, *, project_ids: Sequence[int], effective_by: dt.datetime
) -> list[GuidelineVersion]:
    """Major guideline versions in effect by ``effective_by``, oldest first."""
    return list(
        session.scalars(
            select(GuidelineVersion)
            .where(
                GuidelineVersion.project_id.in_(list(project_ids)),
                GuidelineVersion.is_major.is_(True),
                GuidelineVersion.effective_from <= effective_by,
            )
            .order_by(GuidelineVersion.effective_from)
        )
    )


def get_guideline_version(
    session: Session, *, project_id: int, version: str
) -> GuidelineVersion | None:
    """The project's guideline version named ``version``, or None."""
    return session.scalars(
        select(GuidelineVersion).where(
            GuidelineVersion.project_id == project_id, GuidelineVersion.version == version
        )
    ).first()
