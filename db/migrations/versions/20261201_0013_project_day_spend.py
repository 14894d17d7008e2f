"""project day spend: the daily rollups summed per project, day and pay currency

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema, and fill the new table from the daily rollups already there."""
    op.create_table(
        "project_day_spend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("annotations", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("review_cost_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_day_spend_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_day_spend")),
    )
    op.create_index(
        "ix_project_day_spend_project_day",
        "project_day_spend",
        ["project_id", "day"],
        unique=False,
    )
    op.execute(
        "INSERT INTO project_day_spend "
        "(project_id, day, currency, annotations, accepted, cost_minor, review_cost_minor) "
        "SELECT project_id, day, currency, sum(annotations), sum(accepted), "
        "sum(cost_minor), sum(review_cost_minor) "
        "FROM daily_rollups GROUP BY project_id, day, currency"
    )
    if op.get_bind().dialect.name == "postgresql":
        # Pages read it right away; planned on guesses until autovacuum comes by.
        op.execute("ANALYZE project_day_spend")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_project_day_spend_project_day", table_name="project_day_spend")
    op.drop_table("project_day_spend")
