"""Workforce read queries: the pool, each person's records, calibration and guideline work.

Keyword-only functions built with select() and bound parameters, like db.queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.models import (
    Alert,
    AnnotationEvent,
    Annotator,
    AnnotatorIdentity,
    AnnotatorSkill,
    AppSetting,
    Assignment,
    AuditEntry,
    CalibrationItem,
    CalibrationLabel,
    CalibrationResult,
    CalibrationSession,
    DailyRollup,
    FeedbackNote,
    GuidelineVersion,
    PayRate,
    PayRateCorrection,
    Project,
    QualificationResult,
    ReassignmentDecision,
    Team,
    TierChange,
    TrainingRecord,
)


def list_pool_annotators(
    session: Session,
    *,
    today: dt.date,
    team_id: int | None = None,
    include_archived: bool = False,
    search: str | None = None,
    search_email: bool = False,
    tiers: Sequence[str] = (),
    statuses: Sequence[str] = (),
    skill: str | None = None,
    domain: str | None = None,
    language: str | None = None,
    qualified_task_type: str | None = None,
    project_id: int | None = None,
) -> list[Annotator]:
    """Annotators matching every given filter, by name; merged placeholders never."""
    query = (
        select(Annotator)
        .where(Annotator.merged_into_id.is_(None))
        .order_by(Annotator.display_name, Annotator.id)
    )
    if not include_archived:
        query = query.where(Annotator.archived_at.is_(None))
    if team_id is not None:
        query = query.where(Annotator.team_id == team_id)
    if search:
        pattern = f"%{search.strip().lower()}%"
        matches: ColumnElement[bool] = func.lower(Annotator.display_name).like(pattern)
        if search_email:
            matches = or_(matches, func.lower(Annotator.email).like(pattern))
        query = query.where(matches)
    if tiers:
        query = query.where(Annotator.tier.in_(list(tiers)))
    if statuses:
        query = query.where(Annotator.status.in_(list(statuses)))
    for kind, name in (("skill", skill), ("domain", domain), ("language", language)):
        if name:
            query = query.where(
                Annotator.id.in_(
                    select(AnnotatorSkill.annotator_id).where(
                        AnnotatorSkill.kind == kind, AnnotatorSkill.name == name
                    )
                )
            )
    if qualified_task_type:
        query = query.where(
            Annotator.id.in_(
                select(QualificationResult.annotator_id).where(
                    QualificationResult.task_type == qualified_task_type,
                    QualificationResult.score >= QualificationResult.pass_mark,
                )
            )
        )
    if project_id is not None:
        query = query.where(
            Annotator.id.in_(
                select(Assignment.annotator_id).where(
                    Assignment.project_id == project_id, *_current(today)
                )
            )
        )
    return list(session.scalars(query))


def _current(today: dt.date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (
        Assignment.starts_on <= today,
        or_(Assignment.ends_on.is_(None), Assignment.ends_on >= today),
    )


def list_teams(session: Session) -> list[Team]:
    """Teams by name."""
    return list(session.scalars(select(Team).order_by(Team.name)))


def get_team(session: Session, *, team_id: int) -> Team | None:
    """The team with ``team_id``, or None."""
    return session.get(Team, team_id)


def get_annotator_by_email(session: Session, *, email: str) -> Annotator | None:
    """The annotator with this email (case-insensitive), or None."""
    return session.scalars(
        select(Annotator).where(func.lower(Annotator.email) == email.strip().lower())
    ).first()


def load_skill_frame(session: Session, *, annotator_ids: Sequence[int]) -> pd.DataFrame:
    """One row per skill, domain or language of the given people."""
    rows = session.execute(
        select(
            AnnotatorSkill.annotator_id,
            AnnotatorSkill.kind,
            AnnotatorSkill.name,
            AnnotatorSkill.level,
        )
        .where(AnnotatorSkill.annotator_id.in_(list(annotator_ids)))
        .order_by(AnnotatorSkill.annotator_id, AnnotatorSkill.kind, AnnotatorSkill.name)
    ).all()
    return pd.DataFrame(rows, columns=["annotator_id", "kind", "name", "level"])


def list_skills(session: Session, *, annotator_id: int) -> list[AnnotatorSkill]:
    """One person's skills, domains and languages."""
    return list(
        session.scalars(
            select(AnnotatorSkill)
            .where(AnnotatorSkill.annotator_id == annotator_id)
            .order_by(AnnotatorSkill.kind, AnnotatorSkill.name)
        )
    )


def list_skill_names(session: Session, *, kind: str) -> list[str]:
    """Distinct names of one kind of skill across the pool."""
    return list(
        session.scalars(
            select(AnnotatorSkill.name)
            .where(AnnotatorSkill.kind == kind)
            .distinct()
            .order_by(AnnotatorSkill.name)
        )
    )


def list_task_types(session: Session) -> list[str]:
    """Task types of projects and of recorded qualification tests."""
    names = set(session.scalars(select(Project.task_type).distinct()))
    names |= set(session.scalars(select(QualificationResult.task_type).distinct()))
    return sorted(names)


def load_current_assignment_frame(
    session: Session, *, annotator_ids: Sequence[int], today: dt.date
) -> pd.DataFrame:
    """Assignments running today for the given people, with the project slug."""
    rows = session.execute(
        select(Assignment.annotator_id, Assignment.project_id, Project.slug, Assignment.role)
        .join(Project, Project.id == Assignment.project_id)
        .where(Assignment.annotator_id.in_(list(annotator_ids)), *_current(today))
        .order_by(Assignment.annotator_id, Project.slug)
    ).all()
    return pd.DataFrame(rows, columns=["annotator_id", "project_id", "project", "role"])


def load_rollup_totals_frame(
    session: Session,
    *,
    since: dt.date,
    until: dt.date | None = None,
    annotator_ids: Sequence[int],
    project_id: int | None = None,
) -> pd.DataFrame:
    """One row per annotator: rollup sums over days [since, until]."""
    query = (
        select(
            DailyRollup.annotator_id,
            func.coalesce(func.sum(DailyRollup.annotations), 0),
            func.coalesce(func.sum(DailyRollup.active_seconds), 0.0),
            func.coalesce(func.sum(DailyRollup.gold_answered), 0),
            func.coalesce(func.sum(DailyRollup.gold_correct), 0),
            func.coalesce(func.sum(DailyRollup.reviewed), 0),
            func.coalesce(func.sum(DailyRollup.accepted), 0),
            func.coalesce(func.sum(DailyRollup.escalations), 0),
        )
        .where(DailyRollup.day >= since, DailyRollup.annotator_id.in_(list(annotator_ids)))
        .group_by(DailyRollup.annotator_id)
    )
    if until is not None:
        query = query.where(DailyRollup.day <= until)
    if project_id is not None:
        query = query.where(DailyRollup.project_id == project_id)
    columns = [
        "annotator_id",
        "annotations",
        "active_seconds",
        "gold_answered",
        "gold_correct",
        "reviewed",
        "accepted",
        "escalations",
    ]
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    for name in columns:
        frame[name] = frame[name].astype(float if name == "active_seconds" else "int64")
    return frame


def load_weekly_rollup_frame(
    session: Session, *, annotator_id: int, since: dt.date
) -> pd.DataFrame:
    """One row per day with work by one annotator since ``since``: rollup sums."""
    rows = session.execute(
        select(
            DailyRollup.day,
            func.sum(DailyRollup.annotations),
            func.sum(DailyRollup.active_seconds),
            func.sum(DailyRollup.gold_answered),
            func.sum(DailyRollup.gold_correct),
        )
        .where(DailyRollup.annotator_id == annotator_id, DailyRollup.day >= since)
        .group_by(DailyRollup.day)
        .order_by(DailyRollup.day)
    ).all()
    frame = pd.DataFrame(
        rows, columns=["day", "annotations", "active_seconds", "gold_answered", "gold_correct"]
    )
    for name in ("annotations", "gold_answered", "gold_correct"):
        frame[name] = frame[name].astype("int64")
    frame["active_seconds"] = frame["active_seconds"].astype(float)
    return frame


def load_qualification_frame(session: Session, *, annotator_ids: Sequence[int]) -> pd.DataFrame:
    """Every qualification result of the given people, newest first."""
    rows = session.execute(
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
        .order_by(QualificationResult.taken_at.desc(), QualificationResult.id.desc())
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "annotator_id",
            "task_type",
            "domain",
            "score",
            "pass_mark",
            "n_items",
            "taken_at",
            "recorded_by",
        ],
    )


def load_training_frame(session: Session, *, annotator_ids: Sequence[int]) -> pd.DataFrame:
    """Every training record of the given people, with project slug and guideline version."""
    rows = session.execute(
        select(
            TrainingRecord.id,
            TrainingRecord.annotator_id,
            TrainingRecord.kind,
            TrainingRecord.topic,
            TrainingRecord.project_id,
            Project.slug,
            GuidelineVersion.version,
            TrainingRecord.guideline_version_id,
            TrainingRecord.completed_at,
            TrainingRecord.expires_at,
            TrainingRecord.recorded_by,
        )
        .outerjoin(Project, Project.id == TrainingRecord.project_id)
        .outerjoin(GuidelineVersion, GuidelineVersion.id == TrainingRecord.guideline_version_id)
        .where(TrainingRecord.annotator_id.in_(list(annotator_ids)))
        .order_by(TrainingRecord.completed_at.desc(), TrainingRecord.id.desc())
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "annotator_id",
            "kind",
            "topic",
            "project_id",
            "project",
            "guideline_version",
            "guideline_version_id",
            "completed_at",
            "expires_at",
            "recorded_by",
        ],
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


def list_identities(session: Session, *, annotator_ids: Sequence[int]) -> list[AnnotatorIdentity]:
    """Platform identities of the given people."""
    return list(
        session.scalars(
            select(AnnotatorIdentity)
            .where(AnnotatorIdentity.annotator_id.in_(list(annotator_ids)))
            .order_by(AnnotatorIdentity.platform, AnnotatorIdentity.external_id)
        )
    )


def get_identity(session: Session, *, platform: str, external_id: str) -> AnnotatorIdentity | None:
    """The identity of ``external_id`` on ``platform``, or None."""
    return session.scalars(
        select(AnnotatorIdentity).where(
            AnnotatorIdentity.platform == platform, AnnotatorIdentity.external_id == external_id
        )
    ).first()


def count_open_alerts_of(session: Session, *, annotator_ids: Sequence[int]) -> dict[int, int]:
    """Open or acknowledged alerts per annotator."""
    rows = session.execute(
        select(Alert.annotator_id, func.count(Alert.id))
        .where(
            Alert.annotator_id.in_(list(annotator_ids)),
            Alert.status.in_(("open", "acknowledged")),
        )
        .group_by(Alert.annotator_id)
    ).all()
    return {int(row[0] or 0): int(row[1]) for row in rows}


def load_calibration_result_frame(
    session: Session, *, annotator_ids: Sequence[int]
) -> pd.DataFrame:
    """Per-person calibration results with their session, newest session first."""
    rows = session.execute(
        select(
            CalibrationResult.annotator_id,
            CalibrationSession.id,
            CalibrationSession.name,
            Project.slug,
            CalibrationSession.held_at,
            CalibrationResult.agreement,
            CalibrationResult.n_items,
            CalibrationSession.group_agreement,
        )
        .join(CalibrationSession, CalibrationSession.id == CalibrationResult.session_id)
        .outerjoin(Project, Project.id == CalibrationSession.project_id)
        .where(
            CalibrationResult.annotator_id.in_(list(annotator_ids)),
            CalibrationSession.archived_at.is_(None),
        )
        .order_by(CalibrationSession.held_at.desc(), CalibrationSession.id.desc())
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "annotator_id",
            "session_id",
            "session",
            "project",
            "held_at",
            "agreement",
            "n_items",
            "group_agreement",
        ],
    )


def list_calibration_sessions(
    session: Session, *, project_id: int | None = None, include_archived: bool = False
) -> list[tuple[CalibrationSession, str | None, int]]:
    """Sessions newest first, with project slug and number of participants."""
    participants = (
        select(CalibrationResult.session_id, func.count(CalibrationResult.annotator_id).label("n"))
        .group_by(CalibrationResult.session_id)
        .subquery()
    )
    query = (
        select(CalibrationSession, Project.slug, func.coalesce(participants.c.n, 0))
        .outerjoin(Project, Project.id == CalibrationSession.project_id)
        .outerjoin(participants, participants.c.session_id == CalibrationSession.id)
        .order_by(CalibrationSession.held_at.desc(), CalibrationSession.id.desc())
    )
    if project_id is not None:
        query = query.where(CalibrationSession.project_id == project_id)
    if not include_archived:
        query = query.where(CalibrationSession.archived_at.is_(None))
    return [(row[0], row[1], int(row[2])) for row in session.execute(query).all()]


def list_calibration_items(session: Session, *, session_id: int) -> list[CalibrationItem]:
    """The items of one calibration session, in item order."""
    return list(
        session.scalars(
            select(CalibrationItem)
            .where(CalibrationItem.session_id == session_id)
            .order_by(CalibrationItem.item_id)
        )
    )


def load_calibration_label_frame(session: Session, *, session_id: int) -> pd.DataFrame:
    """Participants' labels in one session: item_id, annotator_id, label."""
    rows = session.execute(
        select(CalibrationLabel.item_id, CalibrationLabel.annotator_id, CalibrationLabel.label)
        .where(CalibrationLabel.session_id == session_id)
        .order_by(CalibrationLabel.annotator_id, CalibrationLabel.item_id)
    ).all()
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])


def list_calibration_labels(
    session: Session, *, session_id: int, annotator_id: int
) -> list[CalibrationLabel]:
    """One participant's labels in one session."""
    return list(
        session.scalars(
            select(CalibrationLabel).where(
                CalibrationLabel.session_id == session_id,
                CalibrationLabel.annotator_id == annotator_id,
            )
        )
    )


def list_calibration_results(session: Session, *, session_id: int) -> list[CalibrationResult]:
    """Per-person results of one session."""
    return list(
        session.scalars(select(CalibrationResult).where(CalibrationResult.session_id == session_id))
    )


def get_latest_audit(
    session: Session, *, entity_type: str, entity_id: str, action: str
) -> AuditEntry | None:
    """The newest audit entry of ``action`` on one entity."""
    return session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == entity_type,
            AuditEntry.entity_id == entity_id,
            AuditEntry.action == action,
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()


def list_pay_rates(session: Session, *, annotator_id: int) -> list[PayRate]:
    """One person's pay rates, oldest first."""
    return list(
        session.scalars(
            select(PayRate)
            .where(PayRate.annotator_id == annotator_id)
            .order_by(PayRate.effective_from, PayRate.id)
        )
    )


def list_pay_rate_corrections(
    session: Session, *, pay_rate_ids: Sequence[int]
) -> list[PayRateCorrection]:
    """Corrections of the given rates, oldest first."""
    return list(
        session.scalars(
            select(PayRateCorrection)
            .where(PayRateCorrection.pay_rate_id.in_(list(pay_rate_ids)))
            .order_by(PayRateCorrection.corrected_at, PayRateCorrection.id)
        )
    )


def list_tier_changes(session: Session, *, annotator_id: int) -> list[TierChange]:
    """One person's tier history, newest first."""
    return list(
        session.scalars(
            select(TierChange)
            .where(TierChange.annotator_id == annotator_id)
            .order_by(TierChange.effective_at.desc(), TierChange.id.desc())
        )
    )


def list_feedback_notes(session: Session, *, annotator_id: int) -> list[FeedbackNote]:
    """Feedback given to one person, newest first."""
    return list(
        session.scalars(
            select(FeedbackNote)
            .where(FeedbackNote.annotator_id == annotator_id)
            .order_by(FeedbackNote.created_at.desc(), FeedbackNote.id.desc())
        )
    )


def list_wrong_gold_events(
    session: Session, *, annotator_id: int, since: dt.datetime, limit: int
) -> list[tuple[AnnotationEvent, str]]:
    """Golden items the person labeled differently from gold since ``since``, newest first."""
    return [
        (row[0], row[1])
        for row in session.execute(
            select(AnnotationEvent, Project.slug)
            .join(Project, Project.id == AnnotationEvent.project_id)
            .where(
                AnnotationEvent.annotator_id == annotator_id,
                AnnotationEvent.submitted_at >= since,
                AnnotationEvent.is_gold.is_(True),
                AnnotationEvent.skipped.is_(False),
                AnnotationEvent.label.is_not(None),
                or_(
                    AnnotationEvent.gold_label.is_(None),
                    AnnotationEvent.label != AnnotationEvent.gold_label,
                ),
            )
            .order_by(AnnotationEvent.submitted_at.desc(), AnnotationEvent.id.desc())
            .limit(limit)
        ).all()
    ]


def list_events_by_id(
    session: Session, *, annotator_id: int, event_ids: Sequence[int]
) -> list[tuple[AnnotationEvent, str]]:
    """The person's own events among ``event_ids``, with project slug."""
    return [
        (row[0], row[1])
        for row in session.execute(
            select(AnnotationEvent, Project.slug)
            .join(Project, Project.id == AnnotationEvent.project_id)
            .where(
                AnnotationEvent.annotator_id == annotator_id,
                AnnotationEvent.id.in_(list(event_ids)),
            )
            .order_by(AnnotationEvent.submitted_at.desc(), AnnotationEvent.id.desc())
        ).all()
    ]


def list_assignments(session: Session, *, annotator_id: int) -> list[tuple[Assignment, str]]:
    """One person's assignments, newest start first, with project slug."""
    return [
        (row[0], row[1])
        for row in session.execute(
            select(Assignment, Project.slug)
            .join(Project, Project.id == Assignment.project_id)
            .where(Assignment.annotator_id == annotator_id)
            .order_by(Assignment.starts_on.desc(), Assignment.id.desc())
        ).all()
    ]


def get_current_assignment(
    session: Session, *, annotator_id: int, project_id: int, today: dt.date
) -> Assignment | None:
    """The person's assignment to the project running today, or None."""
    return session.scalars(
        select(Assignment)
        .where(
            Assignment.annotator_id == annotator_id,
            Assignment.project_id == project_id,
            *_current(today),
        )
        .order_by(Assignment.starts_on.desc())
    ).first()


def list_reassignment_decisions(
    session: Session, *, annotator_id: int
) -> list[ReassignmentDecision]:
    """Reassignment decisions about one person, newest first."""
    return list(
        session.scalars(
            select(ReassignmentDecision)
            .where(ReassignmentDecision.annotator_id == annotator_id)
            .order_by(ReassignmentDecision.decided_at.desc(), ReassignmentDecision.id.desc())
        )
    )


def project_slugs(session: Session, *, project_ids: Sequence[int]) -> dict[int, str]:
    """Project id -> slug for the given ids."""
    ids = [i for i in project_ids if i is not None]
    if not ids:
        return {}
    return {
        int(row[0]): str(row[1])
        for row in session.execute(select(Project.id, Project.slug).where(Project.id.in_(ids)))
    }


def list_guideline_versions(session: Session, *, project_id: int) -> list[GuidelineVersion]:
    """A project's guideline versions in effective order."""
    return list(
        session.scalars(
            select(GuidelineVersion)
            .where(GuidelineVersion.project_id == project_id)
            .order_by(GuidelineVersion.effective_from, GuidelineVersion.id)
        )
    )


def count_events_by_guideline_version(
    session: Session, *, project_id: int
) -> dict[int | None, tuple[int, int]]:
    """Guideline version id (None: none recorded) -> (annotations, flagged for re-review)."""
    rows = session.execute(
        select(
            AnnotationEvent.guideline_version_id,
            func.count(AnnotationEvent.id),
            func.count(AnnotationEvent.rereview_request_id),
        )
        .where(AnnotationEvent.project_id == project_id, AnnotationEvent.skipped.is_(False))
        .group_by(AnnotationEvent.guideline_version_id)
    ).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def count_events_after(
    session: Session, *, project_id: int, guideline_version_id: int, after: dt.datetime
) -> int:
    """Annotations made under a version at or after ``after`` (when a newer one applied)."""
    return int(
        session.scalar(
            select(func.count(AnnotationEvent.id)).where(
                AnnotationEvent.project_id == project_id,
                AnnotationEvent.guideline_version_id == guideline_version_id,
                AnnotationEvent.skipped.is_(False),
                AnnotationEvent.submitted_at >= after,
            )
        )
        or 0
    )


def list_events_under_version(
    session: Session, *, project_id: int, guideline_version_id: int, limit: int
) -> list[tuple[AnnotationEvent, str]]:
    """Newest annotations made under one guideline version, with the annotator's name."""
    return [
        (row[0], row[1])
        for row in session.execute(
            select(AnnotationEvent, Annotator.display_name)
            .join(Annotator, Annotator.id == AnnotationEvent.annotator_id)
            .where(
                and_(
                    AnnotationEvent.project_id == project_id,
                    AnnotationEvent.guideline_version_id == guideline_version_id,
                    AnnotationEvent.skipped.is_(False),
                )
            )
            .order_by(AnnotationEvent.submitted_at.desc(), AnnotationEvent.id.desc())
            .limit(limit)
        ).all()
    ]


def get_setting(session: Session, *, key: str) -> AppSetting | None:
    """The app setting ``key``, or None."""
    return session.get(AppSetting, key)


def list_annotators_by_id(session: Session, *, annotator_ids: Sequence[int]) -> list[Annotator]:
    """The annotators with the given ids."""
    return list(session.scalars(select(Annotator).where(Annotator.id.in_(list(annotator_ids)))))


def load_calibration_labels_of(session: Session, *, session_ids: Sequence[int]) -> pd.DataFrame:
    """Labels of several sessions: session_id, item_id, annotator_id, label."""
    rows = session.execute(
        select(
            CalibrationLabel.session_id,
            CalibrationLabel.item_id,
            CalibrationLabel.annotator_id,
            CalibrationLabel.label,
        ).where(CalibrationLabel.session_id.in_(list(session_ids)))
    ).all()
    return pd.DataFrame(rows, columns=["session_id", "item_id", "annotator_id", "label"])


def load_tier_since(session: Session, *, annotator_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """Since when each person holds their current tier: the last change into it, or the
    moment they joined the pool when it never changed."""
    ids = list(annotator_ids)
    changed = dict(
        session.execute(
            select(TierChange.annotator_id, func.max(TierChange.effective_at))
            .join(Annotator, Annotator.id == TierChange.annotator_id)
            .where(TierChange.annotator_id.in_(ids), TierChange.to_tier == Annotator.tier)
            .group_by(TierChange.annotator_id)
        ).all()
    )
    joined = dict(
        session.execute(
            select(Annotator.id, Annotator.created_at).where(Annotator.id.in_(ids))
        ).all()
    )
    return {
        int(person): changed.get(person) or joined[person] for person in ids if person in joined
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
