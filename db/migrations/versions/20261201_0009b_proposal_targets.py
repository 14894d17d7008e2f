"""staffing proposals: a proposal may only take someone off a project, and keeps its alert

Revision ID: 0009b
Revises: 0009
Create Date: 2026-12-01 03:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009b"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("staffing_proposals") as batch:
        batch.alter_column("project_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("alert_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_staffing_proposals_alert_id_alerts"),
            "alerts",
            ["alert_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint(
            op.f("ck_staffing_proposals_target"),
            "project_id IS NOT NULL OR from_project_id IS NOT NULL",
        )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM staffing_proposals WHERE project_id IS NULL")
    with op.batch_alter_table("staffing_proposals") as batch:
        batch.drop_constraint(op.f("ck_staffing_proposals_target"), type_="check")
        batch.drop_constraint(op.f("fk_staffing_proposals_alert_id_alerts"), type_="foreignkey")
        batch.drop_column("alert_id")
        batch.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
