"""The Alerts page's table is the alert rows' columns, read without copying evidence."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ops.alerts.triage import (
    ALERT_TABLE_COLUMNS,
    LINKED_TABLE_COLUMNS,
    AlertRow,
    alerts_table,
)


def _row(alert_id: int, *, project: str | None, annotator: str | None) -> AlertRow:
    return AlertRow(
        id=alert_id,
        rule="gold_below_target",
        title=f"Alert {alert_id}",
        severity="warning",
        status="open",
        project=project,
        subject=annotator or project or "",
        annotator=annotator,
        annotator_id=alert_id if annotator else None,
        window_start=dt.date(2026, 11, 1),
        window_end=dt.date(2026, 11, 14),
        parent_alert_id=None,
        evidence={"gold_answered": 40, "nested": {"ids": [1, 2, 3]}},
        assignee=None,
        created_at=dt.datetime(2026, 11, 15, tzinfo=dt.UTC),
        evidence_people={alert_id: ("Ana", None)},
    )


def test_the_table_holds_the_same_cells_as_the_rows() -> None:
    rows = [
        _row(1, project="defect-inspection", annotator="ana@example.org"),
        _row(2, project="street-scenes", annotator=None),
        _row(3, project=None, annotator="bo@example.org"),
    ]
    for columns in (ALERT_TABLE_COLUMNS, LINKED_TABLE_COLUMNS):
        table = alerts_table(rows, columns)
        expected = pd.DataFrame(rows)[list(columns)]
        pd.testing.assert_frame_equal(table, expected)


def test_the_table_of_no_alerts_has_the_columns() -> None:
    table = alerts_table([])
    assert list(table.columns) == list(ALERT_TABLE_COLUMNS)
    assert table.empty
