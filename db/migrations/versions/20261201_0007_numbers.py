"""numbers: re-review costs per currency

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("rereview_requests") as batch:
        batch.add_column(sa.Column("costs", JSON_DOC, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("rereview_requests") as batch:
        batch.drop_column("costs")
