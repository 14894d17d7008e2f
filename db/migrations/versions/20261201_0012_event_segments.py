"""annotation_events: each month partitioned by segment, so a large import loads its
rows into a table of its own and builds that table's indexes in one sort

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-01 12:00:00

Adds ``segment`` (0 for every stored row). PostgreSQL: each month's partition becomes a
table partitioned by range of segment whose base table (``annotation_events_2026_11_base``,
segment 0) is the former partition, indexes and all; the primary key becomes
(id, submitted_at, segment), as a partitioned table's must include every partition key.
Every row and id is kept. SQLite: the column only.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "annotation_events"
PK = "pk_annotation_events"
MONTH = re.compile(rf"^{TABLE}_(\d{{4}})_(\d{{2}})$")


def _months() -> list[tuple[str, str, str]]:
    """(partition, first day, first day of the next month) of every month partition."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid "
            "JOIN pg_class AS parent ON parent.oid = pg_inherits.inhparent "
            "JOIN pg_namespace ON pg_namespace.oid = parent.relnamespace "
            "WHERE parent.relname = :parent AND pg_namespace.nspname = current_schema() "
            "ORDER BY 1"
        ),
        {"parent": TABLE},
    )
    months = []
    for (name,) in rows:
        match = MONTH.match(str(name))
        if match is None:
            continue
        year, month = int(match[1]), int(match[2])
        start = f"{year:04d}-{month:02d}-01 00:00:00+00"
        end = f"{year + month // 12:04d}-{month % 12 + 1:02d}-01 00:00:00+00"
        months.append((str(name), start, end))
    return months


def _columns(table: str) -> str:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT attname FROM pg_attribute JOIN pg_class ON pg_class.oid = attrelid "
            "JOIN pg_namespace ON pg_namespace.oid = relnamespace "
            "WHERE relname = :table AND nspname = current_schema() AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum"
        ),
        {"table": table},
    )
    return ", ".join(str(row[0]) for row in rows)


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        op.add_column(TABLE, sa.Column("segment", sa.Integer(), nullable=False, server_default="0"))
        return
    op.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {PK}")
    op.execute(f"ALTER TABLE {TABLE} ADD COLUMN segment integer NOT NULL DEFAULT 0")
    for name, start, end in _months():
        op.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        op.execute(f"ALTER TABLE {name} RENAME TO {name}_base")
        op.execute(
            f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (segment)"
        )
        op.execute(f"ALTER TABLE {name} ATTACH PARTITION {name}_base FOR VALUES FROM (0) TO (1)")
        op.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')"
        )
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {PK} PRIMARY KEY (id, submitted_at, segment)")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table(TABLE, schema=None) as batch_op:
            batch_op.drop_column("segment")
        return
    op.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {PK}")
    columns = _columns(TABLE)
    for name, start, end in _months():
        op.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        op.execute(f"ALTER TABLE {name} RENAME TO {name}_segmented")
        op.execute(
            f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM ('{start}') TO ('{end}')"
        )
        op.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {name}_segmented")
        op.execute(f"DROP TABLE {name}_segmented")
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN segment")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {PK} PRIMARY KEY (id, submitted_at)")
    op.execute(f"ANALYZE {TABLE}")
