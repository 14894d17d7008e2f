"""Training records and qualification results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, Subquery, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from db.models import (
    Annotator,
    Assignment,
    GuidelineVersion,
    Project,
    QualificationResult,
    TrainingRecord,
)
from db.queries.shared import among, load_frame
from db.queries.staffing import running_on
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
        .where(among(QualificationResult.annotator_id, annotator_ids))
        .order_by(QualificationResult.taken_at.desc(), QualificationResult.id.desc()),
    )


def _training_rows(ranked: Subquery | None = None) -> Select[*tuple[Any, ...]]:
    """Training records with their project slug and guideline version (the columns of
    load_training_frame); only those ranked first in ``ranked`` when given."""
    query = select(
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
    if ranked is not None:
        query = query.join(ranked, and_(ranked.c.id == TrainingRecord.id, ranked.c.rank == 1))
    return query.outerjoin(Project, Project.id == TrainingRecord.project_id).outerjoin(
        GuidelineVersion, GuidelineVersion.id == TrainingRecord.guideline_version_id
    )


def load_training_frame(session: Session, *, annotator_ids: Sequence[int]) -> pd.DataFrame:
    """Every training record of the given people, with project slug and guideline version."""
    return load_frame(
        session,
        _training_rows()
        .where(among(TrainingRecord.annotator_id, annotator_ids))
        .order_by(TrainingRecord.completed_at.desc(), TrainingRecord.id.desc()),
    )


def load_latest_training_frame(
    session: Session, *, annotator_ids: Sequence[int] | None = None, scope: PeopleScope = EVERYONE
) -> pd.DataFrame:
    """One row per person x kind x project (inside ``scope``, of some ids when given): the
    most recently completed training, with the columns of load_training_frame, oldest
    first."""
    newest_first = func.row_number().over(
        partition_by=(TrainingRecord.annotator_id, TrainingRecord.kind, TrainingRecord.project_id),
        order_by=(TrainingRecord.completed_at.desc(), TrainingRecord.id.desc()),
    )
    ranked = select(TrainingRecord.id, newest_first.label("rank")).where(
        scope.where(TrainingRecord.annotator_id)
    )
    if annotator_ids is not None:
        ranked = ranked.where(among(TrainingRecord.annotator_id, annotator_ids))
    latest = ranked.subquery()
    return load_frame(
        session,
        _training_rows(ranked=latest).order_by(TrainingRecord.completed_at, TrainingRecord.id),
    )


def load_missing_guideline_training_frame(
    session: Session,
    *,
    now: dt.datetime,
    annotator_ids: Sequence[int] | None = None,
    scope: PeopleScope = EVERYONE,
) -> pd.DataFrame:
    """One row per assignment running on ``now``'s day (inside ``scope``, of some ids when
    given) to a project whose newest major guideline version in effect by ``now`` the
    person has no guideline-change training for: trained on that version by name, or on
    the change after it took effect. Columns annotator_id, project_id, project,
    guideline_version_id, guideline_version, change_summary; by person, then project."""
    newest_first = func.row_number().over(
        partition_by=GuidelineVersion.project_id,
        order_by=(GuidelineVersion.effective_from.desc(), GuidelineVersion.id.desc()),
    )
    ranked = (
        select(
            GuidelineVersion.id,
            GuidelineVersion.project_id,
            GuidelineVersion.version,
            GuidelineVersion.change_summary,
            GuidelineVersion.effective_from,
            newest_first.label("rank"),
        )
        .where(GuidelineVersion.is_major.is_(True), GuidelineVersion.effective_from <= now)
        .subquery()
    )
    trained = exists().where(
        TrainingRecord.annotator_id == Assignment.annotator_id,
        TrainingRecord.kind == "guideline_change",
        TrainingRecord.project_id == Assignment.project_id,
        or_(
            TrainingRecord.guideline_version_id == ranked.c.id,
            TrainingRecord.completed_at >= ranked.c.effective_from,
        ),
    )
    query = (
        select(
            Assignment.annotator_id,
            Assignment.project_id,
            Project.slug.label("project"),
            ranked.c.id.label("guideline_version_id"),
            ranked.c.version.label("guideline_version"),
            ranked.c.change_summary,
        )
        .join(Project, Project.id == Assignment.project_id)
        .join(ranked, and_(ranked.c.project_id == Assignment.project_id, ranked.c.rank == 1))
        .where(*running_on(now.date()), scope.where(Assignment.annotator_id), ~trained)
        .order_by(Assignment.annotator_id, Project.slug)
    )
    if annotator_ids is not None:
        query = query.where(among(Assignment.annotator_id, annotator_ids))
    return load_frame(session, query)


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
