"""workforce records: pay-rate corrections, versioned calibration sessions, work per guideline

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 03:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "pay_rate_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pay_rate_id", sa.Integer(), nullable=False),
        sa.Column("before", JSON_DOC, nullable=False),
        sa.Column("after", JSON_DOC, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("corrected_by", sa.String(length=120), nullable=True),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pay_rate_id"],
            ["pay_rates.id"],
            name=op.f("fk_pay_rate_corrections_pay_rate_id_pay_rates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_rate_corrections")),
    )
    op.create_index(
        "ix_pay_rate_corrections_rate",
        "pay_rate_corrections",
        ["pay_rate_id", "corrected_at"],
        unique=False,
    )
    op.create_index(
        "ix_annotation_events_project_guideline",
        "annotation_events",
        ["project_id", "guideline_version_id"],
        unique=False,
    )
    # Plain ADD COLUMN only: on SQLite any change that rebuilds calibration_sessions would
    # drop the old table, and with foreign keys on that cascades to its items and labels.
    with op.batch_alter_table("calibration_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("version_id", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default="1970-01-01 00:00:00",
            )
        )
        batch_op.add_column(sa.Column("updated_by", sa.String(length=120), nullable=True))
    # Existing sessions were last changed when they were created.
    op.execute("UPDATE calibration_sessions SET updated_at = created_at, updated_by = created_by")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("calibration_sessions", "updated_at", server_default=None)


def downgrade() -> None:
    """Downgrade schema."""
    columns = ("updated_by", "updated_at", "version_id", "archived_at")
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+) keeps the table, and so its items and labels.
        for column in columns:
            op.execute(f"ALTER TABLE calibration_sessions DROP COLUMN {column}")
    else:
        for column in columns:
            op.drop_column("calibration_sessions", column)
    op.drop_index("ix_annotation_events_project_guideline", table_name="annotation_events")
    op.drop_index("ix_pay_rate_corrections_rate", table_name="pay_rate_corrections")
    op.drop_table("pay_rate_corrections")
