"""numbers: re-review costs per currency; versions for pay histories and alert decisions

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
    # Plain ADD COLUMN only: on SQLite a batch rebuild of these tables would drop them
    # first, and with foreign keys on that cascades to the rows that point at them.
    with op.batch_alter_table("rereview_requests") as batch:
        batch.add_column(sa.Column("costs", JSON_DOC, nullable=False, server_default="{}"))
    with op.batch_alter_table("annotators") as batch:
        batch.add_column(sa.Column("pay_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("version_id", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    columns = (
        ("alerts", "version_id"),
        ("annotators", "pay_version"),
        ("rereview_requests", "costs"),
    )
    for table, column in columns:
        if op.get_bind().dialect.name == "sqlite":
            # Native DROP COLUMN (SQLite 3.35+) keeps the table and the rows pointing at it.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
