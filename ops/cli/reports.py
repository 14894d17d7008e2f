"""``annops report annotators|spend``: reports from the daily rollups."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from ops.cli.output import RowFormat, as_system, check_format, echo_freshness, echo_rows, fail

app = typer.Typer(help="Reports from the daily rollups, as a table, JSON or CSV.")

MONEY_COLUMNS = {"cost", "spend", "annotation_spend", "review_spend", "spend_to_date", "budget"}


@app.command("annotators")
def report_annotators(
    project: Annotated[str, typer.Option(help="project slug")],
    since: Annotated[
        str | None, typer.Option(help="first UTC day to include, YYYY-MM-DD (default: all)")
    ] = None,
    format: RowFormat = "table",
) -> None:
    """Per-annotator metrics of one project: throughput, gold accuracy with CI, cost."""
    from ops.reports import ANNOTATOR_COLUMNS, annotator_report, report_records

    check_format(format)
    first_day = None
    if since is not None:
        try:
            first_day = dt.date.fromisoformat(since)
        except ValueError:
            raise fail(f"--since {since!r} is not a date; use YYYY-MM-DD") from None
    rows = as_system(annotator_report, project_slug=project, since=first_day)
    echo_rows(
        report_records(rows),
        ANNOTATOR_COLUMNS,
        format,
        empty="no work recorded for this project",
        cell=_cell,
    )
    echo_freshness()


@app.command("spend")
def report_spend(
    project: Annotated[str | None, typer.Option(help="project slug (default: all)")] = None,
    format: RowFormat = "table",
) -> None:
    """Spend per project and month: cost per annotation and per accepted one, budget used."""
    from ops.reports import SPEND_COLUMNS, report_records, spend_report

    check_format(format)
    rows = as_system(spend_report, project_slug=project)
    echo_rows(report_records(rows), SPEND_COLUMNS, format, empty="no spend recorded", cell=_cell)
    echo_freshness()


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if column in MONEY_COLUMNS:
            return f"{value:,.2f}"
        if column.startswith("cost_per_"):
            return f"{value:,.4f}"
        return f"{value:,.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
