"""SQLAlchemy 2 models for every concept annops keeps (docs/concepts.md describes them).

Money is integer minor units plus an ISO currency code; timestamps are
timezone-aware UTC; scores and accuracies are fractions in [0, 1].
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("admin", "ops", "lead", "finance", "annotator")
TIERS = ("annotator", "reviewer", "lead")
ANNOTATOR_STATUSES = ("candidate", "active", "probation", "inactive")
EMPLOYMENT_TYPES = ("employee", "contractor", "vendor")
COMPLEXITIES = ("simple", "moderate", "complex")
PROJECT_STATUSES = ("active", "paused", "completed", "archived")
PAY_BASES = ("hourly", "per_item")
TRAINING_KINDS = ("initial", "refresher", "guideline_change", "domain")
ASSIGNMENT_ROLES = ("annotator", "reviewer")
REVIEW_OUTCOMES = ("accepted", "corrected", "rejected")
FEEDBACK_CATEGORIES = ("accuracy", "consistency", "speed", "guidelines", "conduct", "praise")
ALERT_STATUSES = ("open", "acknowledged", "resolved", "dismissed")
SEVERITIES = ("info", "warning", "critical")
JOB_STATUSES = ("running", "succeeded", "failed")
IMPORT_STATUSES = ("running", "committed", "failed", "dry_run")
SKILL_KINDS = ("skill", "domain", "language")
PROPOSAL_STATUSES = ("pending", "approved", "rejected")

# BIGINT primary keys autoincrement on PostgreSQL; SQLite only autoincrements INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored with its zone and always returned as aware UTC.

    SQLite keeps no zone, so values are normalised to UTC on the way in and
    re-labelled UTC on the way out; naive datetimes are refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: annops stores timezone-aware UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def utcnow() -> dt.datetime:
    """The current time, aware UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Versioned:
    """Optimistic locking: a second save of a stale row fails instead of overwriting."""

    version_id: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version_id}  # type: ignore[attr-defined]


# --- people and access -----------------------------------------------------------------


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (
        # Names are unique whatever their case, so "Night shift" and "night SHIFT" cannot
        # be two teams, even when two writers store them at once (ops/teams.py checks first).
        Index("ix_teams_lower_name", text("lower(name)"), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
        # Names are stored lower-case, so "Case" and "case" cannot be two logins.
        CheckConstraint("username = lower(username)", name="username_lower"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    annotator_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotators.id", ondelete="SET NULL"), unique=True
    )
    # The team a lead user leads; a lead sees only that team's annotators.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(Base):
    """A login that outlives one browser tab: the cookie holds a random token, this its hash.

    Only the SHA-256 of the token is stored, so a copy of this table cannot be used to
    log in. A session ends at ``idle_expires_at`` (pushed on with use), at ``expires_at``
    (fixed at login), or when revoked (logout, disabling, a role or team change, a
    password reset).
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_revoked", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Set when the browser has exchanged its one-time handoff code for the cookie.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The one-time code the logged-in tab trades for the cookie, valid for a minute.
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    idle_expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class Annotator(Versioned, Base):
    __tablename__ = "annotators"
    __table_args__ = (
        CheckConstraint(_in("status", ANNOTATOR_STATUSES), name="status"),
        CheckConstraint(_in("tier", TIERS), name="tier"),
        CheckConstraint(_in("employment_type", EMPLOYMENT_TYPES), name="employment_type"),
        Index("ix_annotators_team_status", "team_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="candidate")
    tier: Mapped[str] = mapped_column(String(20), default="annotator")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    employment_type: Mapped[str] = mapped_column(String(20), default="contractor")
    country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(40))
    # Imports create annotators for identities nobody has linked yet; ops links or merges them.
    is_linked: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("annotators.id"))
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Hours a week the person can give to annotation; None when nobody has recorded it.
    weekly_capacity_hours: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every change to the person's pay history (a new rate or a correction), so
    # two people editing it at once cannot both save; see db.queries.pay.bump_pay_version.
    pay_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class AnnotatorTimeOff(Base):
    """A stretch of days (both ends included) a person is not available for work."""

    __tablename__ = "annotator_time_off"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates"),
        Index("ix_annotator_time_off_annotator_ends", "annotator_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(40), default="time off")
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnnotatorIdentity(Base):
    __tablename__ = "annotator_identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(
        ForeignKey("annotators.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnnotatorSkill(Base):
    __tablename__ = "annotator_skills"
    __table_args__ = (
        UniqueConstraint("annotator_id", "kind", "name"),
        CheckConstraint(_in("kind", SKILL_KINDS), name="kind"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level"),
        Index("ix_annotator_skills_kind_name", "kind", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    level: Mapped[int] = mapped_column(Integer, default=3)


# --- projects and guidelines -----------------------------------------------------------


class Project(Versioned, Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(_in("complexity", COMPLEXITIES), name="complexity"),
        CheckConstraint(_in("min_tier", TIERS), name="min_tier"),
        CheckConstraint(_in("status", PROJECT_STATUSES), name="status"),
        CheckConstraint("quality_target >= 0 AND quality_target <= 1", name="quality_target"),
        CheckConstraint("budget_minor IS NULL OR budget_minor >= 0", name="budget_minor"),
        CheckConstraint("volume_target IS NULL OR volume_target >= 0", name="volume_target"),
        CheckConstraint("length(currency) = 3", name="currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    client: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(80))
    task_type: Mapped[str] = mapped_column(String(80), default="classification")
    complexity: Mapped[str] = mapped_column(String(20), default="moderate")
    required_skills: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    min_tier: Mapped[str] = mapped_column(String(20), default="annotator")
    quality_target: Mapped[float] = mapped_column(Float, default=0.9)
    budget_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    volume_target: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Per-project alert thresholds overriding the defaults; see ops.alerts.
    alert_settings: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuidelineVersion(Base):
    __tablename__ = "guideline_versions"
    __table_args__ = (
        UniqueConstraint("project_id", "version"),
        Index("ix_guideline_versions_project_effective", "project_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    change_summary: Mapped[str] = mapped_column(Text, default="")
    # A major change marks work done under earlier versions for review.
    is_major: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- selection, training, calibration --------------------------------------------------


class QualificationResult(Base):
    __tablename__ = "qualification_results"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 1", name="score"),
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 1", name="pass_mark"),
        Index("ix_qualification_results_annotator_task", "annotator_id", "task_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    task_type: Mapped[str] = mapped_column(String(80))
    domain: Mapped[str | None] = mapped_column(String(80))
    score: Mapped[float] = mapped_column(Float)
    pass_mark: Mapped[float] = mapped_column(Float)
    n_items: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(120))

    @property
    def passed(self) -> bool:
        return self.score >= self.pass_mark


class TrainingRecord(Base):
    __tablename__ = "training_records"
    __table_args__ = (
        CheckConstraint(_in("kind", TRAINING_KINDS), name="kind"),
        CheckConstraint("expires_at IS NULL OR expires_at > completed_at", name="expiry"),
        Index("ix_training_records_annotator_expires", "annotator_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    topic: Mapped[str] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    guideline_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("guideline_versions.id", ondelete="SET NULL")
    )
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(120))


class CalibrationSession(Versioned, Base):
    __tablename__ = "calibration_sessions"
    __table_args__ = (
        CheckConstraint("group_agreement IS NULL OR group_agreement <= 1", name="group_agreement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    held_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    guideline_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("guideline_versions.id", ondelete="SET NULL")
    )
    # Krippendorff's alpha over all participants; may be negative.
    group_agreement: Mapped[float | None] = mapped_column(Float)
    group_kappa: Mapped[float | None] = mapped_column(Float)
    discussion_notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CalibrationItem(Base):
    __tablename__ = "calibration_items"
    __table_args__ = (UniqueConstraint("session_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE")
    )
    item_id: Mapped[str] = mapped_column(String(200))
    reference_label: Mapped[str | None] = mapped_column(String(200))


class CalibrationLabel(Base):
    __tablename__ = "calibration_labels"
    __table_args__ = (UniqueConstraint("session_id", "annotator_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE")
    )
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))


class CalibrationResult(Base):
    __tablename__ = "calibration_results"
    __table_args__ = (
        UniqueConstraint("session_id", "annotator_id"),
        CheckConstraint("agreement >= 0 AND agreement <= 1", name="agreement"),
        Index("ix_calibration_results_annotator", "annotator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE")
    )
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    # Share of items on which the person matched the reference label.
    agreement: Mapped[float] = mapped_column(Float)
    n_items: Mapped[int] = mapped_column(Integer)


# --- pay and careers -------------------------------------------------------------------


class PayRate(Base):
    """Effective-dated pay; a new rate is a new row, history is never overwritten."""

    __tablename__ = "pay_rates"
    __table_args__ = (
        UniqueConstraint("annotator_id", "effective_from"),
        CheckConstraint(_in("basis", PAY_BASES), name="basis"),
        CheckConstraint("amount_minor >= 0", name="amount_minor"),
        CheckConstraint("length(currency) = 3", name="currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(String(10))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    effective_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PayRateCorrection(Base):
    """A correction of a recorded pay rate: the values before and after, and why.

    The rate row holds the corrected values so every cost computation reads one
    truth; what it said before is kept here, never lost.
    """

    __tablename__ = "pay_rate_corrections"
    __table_args__ = (Index("ix_pay_rate_corrections_rate", "pay_rate_id", "corrected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pay_rate_id: Mapped[int] = mapped_column(ForeignKey("pay_rates.id", ondelete="CASCADE"))
    before: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    after: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    reason: Mapped[str] = mapped_column(Text)
    corrected_by: Mapped[str | None] = mapped_column(String(120))
    corrected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TierChange(Base):
    __tablename__ = "tier_changes"
    __table_args__ = (
        CheckConstraint(_in("from_tier", TIERS), name="from_tier"),
        CheckConstraint(_in("to_tier", TIERS), name="to_tier"),
        Index("ix_tier_changes_annotator_effective", "annotator_id", "effective_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    from_tier: Mapped[str] = mapped_column(String(20))
    to_tier: Mapped[str] = mapped_column(String(20))
    effective_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    justification: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    decided_by: Mapped[str | None] = mapped_column(String(120))


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint(_in("role", ASSIGNMENT_ROLES), name="role"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
        Index("ix_assignments_project_active", "project_id", "ends_on"),
        Index("ix_assignments_annotator", "annotator_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20), default="annotator")
    starts_on: Mapped[dt.date] = mapped_column(Date)
    # The first day the person is no longer on the project: an assignment ended today
    # (by hand or by a reassignment) is not running today. Same as starts_on: never ran.
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(120))


class ReassignmentDecision(Base):
    __tablename__ = "reassignment_decisions"
    __table_args__ = (Index("ix_reassignment_decisions_annotator", "annotator_id", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    from_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL")
    )
    to_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL")
    )
    reason_category: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str] = mapped_column(Text, default="")
    # The person's metrics at decision time, frozen so the decision can be reviewed later.
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffingProposal(Base):
    """A proposed assignment, move or release, waiting for ops to approve or reject it.

    Approval records the reassignment decision (with its evidence) and the assignment;
    ``decision_id`` points at that decision.
    """

    __tablename__ = "staffing_proposals"
    __table_args__ = (
        CheckConstraint(_in("status", PROPOSAL_STATUSES), name="status"),
        CheckConstraint(_in("role", ASSIGNMENT_ROLES), name="role"),
        CheckConstraint("project_id IS NOT NULL OR from_project_id IS NOT NULL", name="target"),
        Index("ix_staffing_proposals_status_project", "status", "project_id"),
        Index("ix_staffing_proposals_annotator", "annotator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    # The project the person would join; None when they would only leave one.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # The project they would leave, for a move; None for a plain assignment.
    from_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL")
    )
    role: Mapped[str] = mapped_column(String(20), default="annotator")
    reason_category: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    proposed_by: Mapped[str | None] = mapped_column(String(120))
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("reassignment_decisions.id", ondelete="SET NULL")
    )
    # The alert the proposal answers, whose evidence the decision keeps.
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))


class FeedbackNote(Base):
    __tablename__ = "feedback_notes"
    __table_args__ = (
        CheckConstraint(_in("category", FEEDBACK_CATEGORIES), name="category"),
        Index("ix_feedback_notes_annotator_created", "annotator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    author: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- work done -------------------------------------------------------------------------


class ImportBatch(Base):
    """Lineage: where a set of annotation events came from."""

    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint(_in("status", IMPORT_STATUSES), name="status"),
        Index("ix_import_batches_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    imported_by: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="running")
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    n_inserted: Mapped[int] = mapped_column(Integer, default=0)
    n_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    n_rejected: Mapped[int] = mapped_column(Integer, default=0)
    # Events replaced by a newer version of the same work (e.g. a label changed on the platform).
    n_updated: Mapped[int] = mapped_column(Integer, default=0)
    # What the import found: annotators matched and created, golden items, skipped work.
    summary: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AnnotationEvent(Base):
    """One piece of submitted work, with its gold and review outcome.

    The biggest table by far, and the one imports write at full speed, so it carries only
    what the pages and jobs read by. On PostgreSQL it is partitioned by month of
    ``submitted_at`` and each month by ``segment`` (see db/partitions.py; the primary key
    there is (id, submitted_at, segment)),
    and it has no foreign keys: the import checks its references once per distinct key
    (db.queries.imports.check_references) instead of a trigger per row, and annops never
    deletes the projects, people, guideline versions, batches or re-review requests
    events point to. The natural key (project_id, external_id) is kept unique by the
    importer, which merges under a lock; a partitioned table cannot enforce it.
    """

    __tablename__ = "annotation_events"
    __table_args__ = (
        CheckConstraint("active_seconds >= 0", name="active_seconds"),
        CheckConstraint("review_seconds IS NULL OR review_seconds >= 0", name="review_seconds"),
        CheckConstraint(
            "review_outcome IS NULL OR " + _in("review_outcome", REVIEW_OUTCOMES),
            name="review_outcome",
        ),
        # A project's work in a window: every page and job that reads raw events.
        Index("ix_annotation_events_project_submitted", "project_id", "submitted_at"),
        # A person's work since a day: the person pages and moving work between people.
        Index("ix_annotation_events_annotator_submitted", "annotator_id", "submitted_at"),
        # The natural key: what an import finds already stored or replaces.
        Index("ix_annotation_events_project_external", "project_id", "external_id"),
        # Windows over all projects (rollups, repeat consistency); tiny and nearly free to
        # keep up, as rows arrive roughly in time order.
        Index("ix_annotation_events_submitted_brin", "submitted_at", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer)  # projects.id
    item_id: Mapped[str] = mapped_column(String(200))
    annotator_id: Mapped[int] = mapped_column(Integer)  # annotators.id
    label: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    guideline_version_id: Mapped[int | None] = mapped_column(Integer)  # guideline_versions.id
    import_batch_id: Mapped[int | None] = mapped_column(Integer)  # import_batches.id
    external_id: Mapped[str] = mapped_column(String(200))
    # When the source platform last changed this work; a newer export replaces an older one.
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    gold_label: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(Integer)  # annotators.id
    review_outcome: Mapped[str | None] = mapped_column(String(20))
    review_seconds: Mapped[float | None] = mapped_column(Float)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set when the event is sent back for re-labeling (retroactive correction).
    rereview_request_id: Mapped[int | None] = mapped_column(Integer)  # rereview_requests.id
    # Which table of its month holds the row on PostgreSQL (db/partitions.py): 0 for work
    # written row by row, the import batch's id for a large import's own table. No query
    # reads by it.
    segment: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class GoldItem(Base):
    """A golden item and its expected label, as an import found it.

    The reference annotation that set the gold (``external_id``) is not anyone's
    regular work, so later imports of the same annotation leave it out.
    """

    __tablename__ = "gold_items"
    __table_args__ = (
        UniqueConstraint("project_id", "item_id"),
        Index("ix_gold_items_project_external", "project_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(200))
    gold_label: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    # Who set the gold on the source platform, e.g. "labelstudio:1".
    set_by: Mapped[str | None] = mapped_column(String(254))
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RereviewRequest(Base):
    """A set of annotations sent back for re-labeling after a systematic error was found."""

    __tablename__ = "rereview_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    criteria: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    n_events: Mapped[int] = mapped_column(Integer, default=0)
    # Cost in the project's currency; ``costs`` has every currency (code -> minor units).
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    costs: Mapped[dict[str, int]] = mapped_column(JsonDoc, default=dict)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# The measures of a daily rollup row, each summed over the row's events: counts, and
# seconds of active time. Queries, reports and the rollup build all derive from these.
ROLLUP_MEASURES = (
    "annotations",
    "skipped",
    "active_seconds",
    "gold_answered",
    "gold_correct",
    "escalations",
    "reviewed",
    "accepted",
)
# What that work cost, in minor units of the row's currency.
ROLLUP_COSTS = ("cost_minor", "review_cost_minor")
# The one measure that is not a whole number.
ROLLUP_FLOAT_MEASURES = frozenset({"active_seconds"})


class DailyRollup(Base):
    """One row per annotator x project x day (UTC); pages read these, never raw events.

    Its columns are the key, ROLLUP_MEASURES, ROLLUP_COSTS and the currency.
    """

    __tablename__ = "daily_rollups"
    __table_args__ = (Index("ix_daily_rollups_project_day", "project_id", "day"),)

    annotator_id: Mapped[int] = mapped_column(
        ForeignKey("annotators.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    annotations: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    gold_answered: Mapped[int] = mapped_column(Integer, default=0)
    gold_correct: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    reviewed: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    review_cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str | None] = mapped_column(String(3))


# The measures of a project's daily spend row: what Spend and Home sum per project.
PROJECT_SPEND_MEASURES = ("annotations", "accepted", *ROLLUP_COSTS)


class ProjectDaySpend(Base):
    """One row per project x UTC day x pay currency (None: work no pay rate covered):
    the daily rollups of everyone summed, so reads of spend per project and day read a
    row per project and day instead of one per person. Rebuilt and refreshed with the
    daily rollups (db.rollup_sql), for the projects and days they touch."""

    __tablename__ = "project_day_spend"
    __table_args__ = (Index("ix_project_day_spend_project_day", "project_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str | None] = mapped_column(String(3))
    annotations: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    review_cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class GoldConfusionRollup(Base):
    """Golden answers per annotator x project x UTC day x (gold label, label given): the
    confusion matrix against gold, summed by pages without reading events. Rebuilt and
    refreshed with the daily rollups, for the same keys."""

    __tablename__ = "gold_confusion_rollups"
    __table_args__ = (Index("ix_gold_confusion_rollups_project_day", "project_id", "day"),)

    annotator_id: Mapped[int] = mapped_column(
        ForeignKey("annotators.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    gold_label: Mapped[str] = mapped_column(Text, primary_key=True)
    label: Mapped[str] = mapped_column(Text, primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)


# --- operations ------------------------------------------------------------------------


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # The same rule, subject and window never fires twice.
        UniqueConstraint("rule", "subject_key", "window_start", "window_end"),
        CheckConstraint(_in("status", ALERT_STATUSES), name="status"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        Index("ix_alerts_status_project", "status", "project_id"),
        Index("ix_alerts_annotator", "annotator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(60))
    subject_key: Mapped[str] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    annotator_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotators.id", ondelete="CASCADE")
    )
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    severity: Mapped[str] = mapped_column(String(20), default="warning")
    status: Mapped[str] = mapped_column(String(20), default="open")
    title: Mapped[str] = mapped_column(String(300))
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    parent_alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL")
    )
    assignee: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: a decision saved from a stale view, or racing another, fails.
    version_id: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version_id}


class AlertAction(Base):
    """History of what people did with an alert."""

    __tablename__ = "alert_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    rows: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(120))


class JobState(Base):
    """Small per-job state such as the rollup watermark."""

    __tablename__ = "job_state"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProjectAgreement(Base):
    """Inter-annotator agreement of one project over a window of days, computed nightly.

    Pages read these stored figures; the per-pair Cohen's kappa, each annotator's agreement
    with the others' majority and the most disputed items are kept as JSON documents.
    """

    __tablename__ = "project_agreements"
    __table_args__ = (
        # One row per project and window end: a re-run the same day replaces its figures.
        UniqueConstraint("project_id", "window_end"),
        CheckConstraint("window_end >= window_start", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # Inclusive UTC days.
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    n_items: Mapped[int] = mapped_column(Integer)
    n_labels: Mapped[int] = mapped_column(Integer)
    n_annotators: Mapped[int] = mapped_column(Integer)
    percent_agreement: Mapped[float | None] = mapped_column(Float)
    # Nominal Krippendorff's alpha and Fleiss' kappa; None when undefined (see the note).
    alpha: Mapped[float | None] = mapped_column(Float)
    fleiss_kappa: Mapped[float | None] = mapped_column(Float)
    fleiss_kappa_note: Mapped[str | None] = mapped_column(Text)
    cohen_pairs: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    annotators: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    disputed_items: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppSetting(Base):
    """Admin-editable settings such as promotion criteria, one JSON document per key."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    updated_by: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
        Index("ix_audit_entries_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- notifications ---------------------------------------------------------------------

CHANNEL_KINDS = ("email", "webhook")
DELIVERY_KINDS = ("alert", "digest", "test")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "unconfirmed", "skipped")


class NotificationChannel(Versioned, Base):
    """Where notifications go: the email channel (SMTP comes from the settings) or a webhook.

    Channels are disabled, never deleted, so the delivery log keeps its references.
    """

    __tablename__ = "notification_channels"
    __table_args__ = (
        CheckConstraint(_in("kind", CHANNEL_KINDS), name="kind"),
        CheckConstraint(
            "kind = 'email' OR (url IS NOT NULL AND secret IS NOT NULL)", name="webhook_target"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(2000))
    # The HMAC key shared with the receiver; it has to be readable to sign with.
    secret: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationPreference(Versioned, Base):
    """What one user wants on one channel: immediate notices for some rules, a daily digest."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE")
    )
    # The email address on the email channel; an optional mention on a webhook.
    address: Mapped[str | None] = mapped_column(String(320))
    immediate_rules: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    # Notices cover alerts raised from this moment on, not the history before it.
    immediate_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationDelivery(Base):
    """The outbox: one message to one recipient on one channel, recorded before it is sent."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        # One notice per alert, recipient and channel, whatever happens to the worker.
        UniqueConstraint("alert_id", "user_id", "channel_id"),
        # One digest a day per recipient and channel.
        UniqueConstraint("digest_day", "user_id", "channel_id"),
        CheckConstraint(_in("kind", DELIVERY_KINDS), name="kind"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_notification_deliveries_status_next", "status", "next_attempt_at"),
        Index(
            "ix_notification_deliveries_recipient_claimed", "user_id", "channel_id", "claimed_at"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Sent with the message and stable across retries, so a receiver can drop a repeat.
    delivery_key: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(120))
    channel_id: Mapped[int] = mapped_column(ForeignKey("notification_channels.id"))
    address: Mapped[str | None] = mapped_column(String(320))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    digest_day: Mapped[dt.date | None] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(2000))
    # Structured facts for webhook receivers (alert id, rule, severity), as the recipient saw them.
    details: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
