"""Alerts: rules over rollup windows, their storage, and triage by people."""

from ops.alerts.engine import evaluate_alerts
from ops.alerts.rules import RULES, AlertSettings, Finding
from ops.alerts.triage import (
    ALERT_EXPORT_FIELDS,
    AlertDetail,
    AlertFilter,
    AlertHistoryEntry,
    AlertRow,
    MetricSeries,
    alert_export_record,
    alert_metric_series,
    change_status,
    count_alerts,
    get_alert,
    give_feedback_on_alert,
    list_alerts,
    propose_reassignment,
)

__all__ = [
    "ALERT_EXPORT_FIELDS",
    "RULES",
    "AlertDetail",
    "AlertFilter",
    "AlertHistoryEntry",
    "AlertRow",
    "AlertSettings",
    "Finding",
    "MetricSeries",
    "alert_export_record",
    "alert_metric_series",
    "change_status",
    "count_alerts",
    "evaluate_alerts",
    "get_alert",
    "give_feedback_on_alert",
    "list_alerts",
    "propose_reassignment",
]
