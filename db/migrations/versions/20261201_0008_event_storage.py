"""annotation_events: monthly partitions on PostgreSQL, only the indexes reads use, no
foreign keys on the hot table

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-01 02:40:00

PostgreSQL: the table is rebuilt as a table partitioned by range of submitted_at, one
partition per UTC month holding data plus a default partition, keeping every row and id
(and the id sequence). Its indexes become (project_id, submitted_at), (annotator_id,
submitted_at), (project_id, external_id) and a BRIN on submitted_at; the primary key is
(id, submitted_at), as a partitioned table's must include the partition key. The unique
natural key and the five foreign keys go: the importer keeps the key unique and checks
references once per distinct value.

SQLite: the same indexes and no foreign keys on a plain table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "annotation_events"
OLD = "annotation_events_unpartitioned"

COLUMNS = """
    id bigint NOT NULL DEFAULT nextval('annotation_events_id_seq'::regclass),
    project_id integer NOT NULL,
    item_id varchar(200) NOT NULL,
    annotator_id integer NOT NULL,
    label text,
    submitted_at timestamp with time zone NOT NULL,
    active_seconds double precision NOT NULL,
    skipped boolean NOT NULL,
    escalated boolean NOT NULL,
    guideline_version_id integer,
    import_batch_id integer,
    external_id varchar(200) NOT NULL,
    is_gold boolean NOT NULL,
    gold_label text,
    reviewer_id integer,
    review_outcome varchar(20),
    review_seconds double precision,
    reviewed_at timestamp with time zone,
    rereview_request_id integer,
    source_updated_at timestamp with time zone,
    CONSTRAINT ck_annotation_events_active_seconds CHECK (active_seconds >= 0),
    CONSTRAINT ck_annotation_events_review_seconds
        CHECK (review_seconds IS NULL OR review_seconds >= 0),
    CONSTRAINT ck_annotation_events_review_outcome CHECK (
        review_outcome IS NULL OR review_outcome IN ('accepted', 'corrected', 'rejected'))
"""
NAMES = (
    "id, project_id, item_id, annotator_id, label, submitted_at, active_seconds, skipped, "
    "escalated, guideline_version_id, import_batch_id, external_id, is_gold, gold_label, "
    "reviewer_id, review_outcome, review_seconds, reviewed_at, rereview_request_id, "
    "source_updated_at"
)

NEW_INDEXES = {
    "ix_annotation_events_project_submitted": ("project_id", "submitted_at"),
    "ix_annotation_events_annotator_submitted": ("annotator_id", "submitted_at"),
    "ix_annotation_events_project_external": ("project_id", "external_id"),
}
BRIN = "ix_annotation_events_submitted_brin"
OLD_INDEXES = {
    "ix_annotation_events_project_submitted": ("project_id", "submitted_at"),
    "ix_annotation_events_annotator_submitted": ("annotator_id", "submitted_at"),
    "ix_annotation_events_batch": ("import_batch_id",),
    "ix_annotation_events_project_item": ("project_id", "item_id"),
    "ix_annotation_events_project_guideline": ("project_id", "guideline_version_id"),
}
# column, referred table, ON DELETE
FOREIGN_KEYS = (
    ("annotator_id", "annotators", None),
    ("guideline_version_id", "guideline_versions", "SET NULL"),
    ("import_batch_id", "import_batches", "SET NULL"),
    ("project_id", "projects", "CASCADE"),
    ("rereview_request_id", "rereview_requests", "SET NULL"),
    ("reviewer_id", "annotators", None),
)
UNIQUE = "uq_annotation_events_project_id_external_id"


def _fk_name(column: str, table: str) -> str:
    return f"fk_annotation_events_{column}_{table}"


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        _partition()
        return
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for column, table, _ in FOREIGN_KEYS:
            batch_op.drop_constraint(_fk_name(column, table), type_="foreignkey")
        batch_op.drop_constraint(UNIQUE, type_="unique")
        for name in OLD_INDEXES:
            if name not in NEW_INDEXES:
                batch_op.drop_index(name)
        batch_op.create_index(
            "ix_annotation_events_project_external", ["project_id", "external_id"], unique=False
        )
        batch_op.create_index(BRIN, ["submitted_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        _unpartition()
        return
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(BRIN)
        batch_op.drop_index("ix_annotation_events_project_external")
        for name, columns in OLD_INDEXES.items():
            if name not in NEW_INDEXES:
                batch_op.create_index(name, list(columns), unique=False)
        batch_op.create_unique_constraint(UNIQUE, ["project_id", "external_id"])
        for column, table, ondelete in FOREIGN_KEYS:
            batch_op.create_foreign_key(
                _fk_name(column, table), table, [column], ["id"], ondelete=ondelete
            )


def _months(source: str) -> list[str]:
    """First days of the UTC months ``source`` holds events in, as 'YYYY-MM-01'."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT DISTINCT to_char(date_trunc('month', submitted_at AT TIME ZONE 'UTC'), "
            f"'YYYY-MM-DD') FROM {source} ORDER BY 1"
        )
    )
    return [str(row[0]) for row in rows]


def _next_month(day: str) -> str:
    year, month = int(day[:4]), int(day[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}-01"


def _partition() -> None:
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    for name in OLD_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(f"ALTER TABLE {OLD} DROP CONSTRAINT IF EXISTS pk_annotation_events")
    op.execute(f"ALTER TABLE {OLD} DROP CONSTRAINT IF EXISTS {UNIQUE}")
    for column, table, _ in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {OLD} DROP CONSTRAINT IF EXISTS {_fk_name(column, table)}")
    op.execute(f"CREATE TABLE {TABLE} ({COLUMNS}) PARTITION BY RANGE (submitted_at)")
    op.execute(f"ALTER SEQUENCE annotation_events_id_seq OWNED BY {TABLE}.id")
    op.execute(f"ALTER TABLE {OLD} ALTER COLUMN id DROP DEFAULT")
    op.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    for month in _months(OLD):
        op.execute(
            f"CREATE TABLE {TABLE}_{month[:4]}_{month[5:7]} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{month} 00:00:00+00') TO ('{_next_month(month)} 00:00:00+00')"
        )
    # Rows first, indexes after: one sort per index instead of an insert per row.
    op.execute(f"INSERT INTO {TABLE} ({NAMES}) SELECT {NAMES} FROM {OLD}")
    op.execute(f"DROP TABLE {OLD}")
    op.execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_annotation_events PRIMARY KEY (id, submitted_at)"
    )
    for name, columns in NEW_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {TABLE} ({', '.join(columns)})")
    op.execute(f"CREATE INDEX {BRIN} ON {TABLE} USING brin (submitted_at)")
    op.execute(f"ANALYZE {TABLE}")


def _unpartition() -> None:
    partitioned = f"{TABLE}_partitioned"
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {partitioned}")
    op.execute(f"ALTER TABLE {partitioned} DROP CONSTRAINT pk_annotation_events")
    for name in (*NEW_INDEXES, BRIN):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(f"CREATE TABLE {TABLE} ({COLUMNS})")
    op.execute(f"ALTER SEQUENCE annotation_events_id_seq OWNED BY {TABLE}.id")
    op.execute(f"INSERT INTO {TABLE} ({NAMES}) SELECT {NAMES} FROM {partitioned}")
    op.execute(f"DROP TABLE {partitioned}")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_annotation_events PRIMARY KEY (id)")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE} UNIQUE (project_id, external_id)")
    for name, columns in OLD_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {TABLE} ({', '.join(columns)})")
    for column, table, ondelete in FOREIGN_KEYS:
        action = f" ON DELETE {ondelete}" if ondelete else ""
        op.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {_fk_name(column, table)} "
            f"FOREIGN KEY ({column}) REFERENCES {table} (id){action}"
        )
    op.execute(f"ANALYZE {TABLE}")
