"""The staging table is declared once; its Arrow schema and merged columns follow from it."""

from __future__ import annotations

import pyarrow as pa

from db.models import AnnotationEvent
from db.queries.imports import EVENT_COLUMNS, STAGED, STAGED_SCHEMA, TIMESTAMP


def test_arrow_schema_follows_the_staging_table() -> None:
    assert STAGED_SCHEMA.names == [column.name for column in STAGED.columns]
    types = dict(zip(STAGED_SCHEMA.names, STAGED_SCHEMA.types, strict=True))
    assert (types["seq"], types["project_id"], types["item_id"]) == (
        pa.int64(),
        pa.int32(),
        pa.string(),
    )
    assert types["submitted_at"] == TIMESTAMP == pa.timestamp("us", tz="UTC")
    assert (types["active_seconds"], types["skipped"]) == (pa.float64(), pa.bool_())


def test_merged_columns_are_event_columns_with_the_same_types() -> None:
    events = AnnotationEvent.__table__.columns
    assert set(EVENT_COLUMNS) <= set(events.keys())
    assert not {"seq", "row_number", "replaces"} & set(EVENT_COLUMNS)
    for name in EVENT_COLUMNS:
        staged, stored = STAGED.columns[name].type, events[name].type
        assert staged.python_type == stored.python_type, name
