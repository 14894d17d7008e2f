"""project agreements: nightly per-project agreement figures the Quality page reads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "project_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("n_labels", sa.Integer(), nullable=False),
        sa.Column("n_annotators", sa.Integer(), nullable=False),
        sa.Column("percent_agreement", sa.Float(), nullable=True),
        sa.Column("alpha", sa.Float(), nullable=True),
        sa.Column("fleiss_kappa", sa.Float(), nullable=True),
        sa.Column("fleiss_kappa_note", sa.Text(), nullable=True),
        sa.Column("cohen_pairs", JSON_DOC, nullable=False),
        sa.Column("annotators", JSON_DOC, nullable=False),
        sa.Column("disputed_items", JSON_DOC, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("window_end >= window_start", name=op.f("ck_project_agreements_window")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_agreements_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_agreements")),
        sa.UniqueConstraint(
            "project_id", "window_end", name=op.f("uq_project_agreements_project_id_window_end")
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("project_agreements")
