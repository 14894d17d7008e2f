"""Training records and qualification results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Annotator, GuidelineVersion, Project, QualificationResult, TrainingRecord
from db.queries.shared import load_frame
from db.scope import EVERYONE, PeopleScope


def count_expired_training(
    session: Session, *, now: dt.datetime, scope: PeopleScope = EVERYONE
) -> int:
    """Active annotators inside ``scope`` with a training whose latest record of its kind
    has expired."""
    latest = (
        select(
            TrainingRecord.annotator_id,
            func.max(TrainingRecord.expires_at).label("expires_at"),
        )
        .group_by(TrainingRecord.annotator_id, TrainingRecord.kind, TrainingRecord.project_id)
        .subquery()
    )
    query = (
        select(func.count(func.distinct(latest.c.annotator_id)))
        .select_from(latest)
        .join(Annotator, Annotator.id == latest.c.annotator_id)
        .where(latest.c.expires_at < now, Annotator.status == "active")
    )
    query = query.where(scope.where(Annotator.id))
    return int(session.scalar(query) or 0)


def load_qualification_frame(session: Session, *, annotator_ids: Sequence[int]) -> pd.DataFrame:
    """Every qualification result of the given people, newest first."""
    return load_frame(
        session,
        select(
            QualificationResult.id,
            QualificationResult.annotator_id,
            QualificationResult.task_type,
            QualificationResult.domain,
            QualificationResult.score,
            QualificationResult.pass_mark,
            QualificationResult.n_items,
            QualificationResult.taken_at,
            QualificationResult.recorded_by,
        )
        .where(QualificationResult.annotator_id.in_(list(annotator_ids)))
        .order_by(QualificationResult.taken_at.desc(), QualificationResult.id.desc()),
    )


def load_training_frame(session: Session, *, annotator_ids: Sequence[int]) -> pd.DataFrame:
    """Every training record of the given people, with project slug and guideline version."""
    return load_frame(
        session,
        select(
            TrainingRecord.id,
            TrainingRecord.annotator_id,
            TrainingRecord.kind,
            TrainingRecord.topic,
            TrainingRecord.project_id,
            Project.slug.label("project"),
            GuidelineVersion.version.label("guideline_version"),
            TrainingRecord.guideline_version_id,
            TrainingRecord.completed_at,
            TrainingRecord.expires_at,
            TrainingRecord.recorded_by,
        )
        .outerjoin(Project, Project.id == TrainingRecord.project_id)
        .outerjoin(GuidelineVersion, GuidelineVersion.id == TrainingRecord.guideline_version_id)
        .where(TrainingRecord.annotator_id.in_(list(annotator_ids)))
        .order_by(TrainingRecord.completed_at.desc(), TrainingRecord.id.desc()),
    )


def list_expiring_training(session: Session, *, annotator_id: int) -> list[TrainingRecord]:
    """One person's training records that expire, soonest first."""
    return list(
        session.scalars(
            select(TrainingRecord)
            .where(
                TrainingRecord.annotator_id == annotator_id,
                TrainingRecord.expires_at.is_not(None),
            )
            .order_by(TrainingRecord.expires_at)
        )
    )
