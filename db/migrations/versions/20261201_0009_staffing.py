"""staffing: weekly capacity and time off per annotator, staffing proposals

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 02:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("annotators") as batch:
        batch.add_column(sa.Column("weekly_capacity_hours", sa.Float(), nullable=True))
    op.create_table(
        "annotator_time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_annotator_time_off_dates")),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["annotators.id"],
            name=op.f("fk_annotator_time_off_annotator_id_annotators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotator_time_off")),
    )
    op.create_index(
        "ix_annotator_time_off_annotator_ends",
        "annotator_time_off",
        ["annotator_id", "ends_on"],
        unique=False,
    )
    op.create_table(
        "staffing_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("from_project_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("reason_category", sa.String(length=40), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.String(length=120), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_staffing_proposals_status"),
        ),
        sa.CheckConstraint(
            "role IN ('annotator', 'reviewer')", name=op.f("ck_staffing_proposals_role")
        ),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["annotators.id"],
            name=op.f("fk_staffing_proposals_annotator_id_annotators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_staffing_proposals_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_project_id"],
            ["projects.id"],
            name=op.f("fk_staffing_proposals_from_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["reassignment_decisions.id"],
            name=op.f("fk_staffing_proposals_decision_id_reassignment_decisions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staffing_proposals")),
    )
    op.create_index(
        "ix_staffing_proposals_status_project",
        "staffing_proposals",
        ["status", "project_id"],
        unique=False,
    )
    op.create_index(
        "ix_staffing_proposals_annotator", "staffing_proposals", ["annotator_id"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_staffing_proposals_annotator", table_name="staffing_proposals")
    op.drop_index("ix_staffing_proposals_status_project", table_name="staffing_proposals")
    op.drop_table("staffing_proposals")
    op.drop_index("ix_annotator_time_off_annotator_ends", table_name="annotator_time_off")
    op.drop_table("annotator_time_off")
    with op.batch_alter_table("annotators") as batch:
        batch.drop_column("weekly_capacity_hours")
