"""gold confusion rollups: golden answers per person, project, day, gold label and label

Revision ID: 0011
Revises: 0009b
Create Date: 2026-12-01 03:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0009b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema, and fill the new rollup from the events already there."""
    op.create_table(
        "gold_confusion_rollups",
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("gold_label", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["annotators.id"],
            name=op.f("fk_gold_confusion_rollups_annotator_id_annotators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_gold_confusion_rollups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "annotator_id",
            "project_id",
            "day",
            "gold_label",
            "label",
            name=op.f("pk_gold_confusion_rollups"),
        ),
    )
    op.create_index(
        "ix_gold_confusion_rollups_project_day",
        "gold_confusion_rollups",
        ["project_id", "day"],
        unique=False,
    )
    # The daily rollups of the events already stored exist; this one must too.
    day = (
        "CAST(timezone('UTC', submitted_at) AS DATE)"
        if op.get_bind().dialect.name == "postgresql"
        else "date(submitted_at)"
    )
    op.execute(
        "INSERT INTO gold_confusion_rollups "
        "(annotator_id, project_id, day, gold_label, label, answered) "
        f"SELECT annotator_id, project_id, {day}, gold_label, label, count(*) "
        "FROM annotation_events "
        "WHERE is_gold AND NOT skipped AND label IS NOT NULL AND gold_label IS NOT NULL "
        f"GROUP BY annotator_id, project_id, {day}, gold_label, label"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_gold_confusion_rollups_project_day", table_name="gold_confusion_rollups")
    op.drop_table("gold_confusion_rollups")
