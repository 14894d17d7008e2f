"""``annops alerts``: list alerts with their evidence."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from db.queries.projects import get_project
from ops.cli.output import (
    Row,
    RowFormat,
    as_system,
    check_format,
    echo_freshness,
    echo_rows,
    fail,
    in_transaction,
)
from ops.errors import NotFound


def alerts(
    project: Annotated[str | None, typer.Option(help="project slug")] = None,
    status: Annotated[
        str | None, typer.Option(help="open, acknowledged, resolved or dismissed")
    ] = None,
    rule: Annotated[str | None, typer.Option(help="one rule, e.g. quality_vs_speed")] = None,
    format: RowFormat = "table",
    linked: Annotated[
        bool, typer.Option("--linked", help="also list alerts grouped under a systematic one")
    ] = False,
) -> None:
    """List alerts with rule, subject, window, severity, status and evidence."""
    from ops.alerts import (
        ALERT_EXPORT_FIELDS,
        RULES,
        AlertFilter,
        alert_export_record,
        list_alerts,
    )

    check_format(format)
    if rule is not None and rule not in RULES:
        raise fail(f"unknown rule {rule!r}; rules: {', '.join(RULES)}")
    if project is not None:
        in_transaction(lambda session: _require_project(session, project))
    alert_filter = AlertFilter(
        project_slug=project, status=status, rule=rule, include_children=linked
    )
    rows = as_system(list_alerts, alert_filter)
    records = [alert_export_record(row) for row in rows]
    echo_rows(records, ALERT_EXPORT_FIELDS, format, empty="no alerts match", line=_line)
    echo_freshness()


def _line(record: Row) -> str:
    return (
        f"#{record['id']:<5} {record['severity']:<8} {record['status']:<12} "
        f"{record['rule']:<22} {record['project'] or '':<20} {record['subject']:<38} "
        f"{record['window_start']}..{record['window_end']}"
    )


def _require_project(session: Session, slug: str) -> None:
    if get_project(session, slug=slug) is None:
        raise NotFound(f"No project {slug!r}; `annops project list` shows the projects.")
