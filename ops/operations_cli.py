"""``annops jobs run``, ``annops worker`` and ``annops report``: scheduled jobs and reports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import OperationalError

from ops.database import session_factory
from ops.errors import AnnopsError
from ops.permissions import SYSTEM
from ops.settings import get_settings

T = TypeVar("T")

jobs_app = typer.Typer(help="Run scheduled jobs now.", no_args_is_help=True)
report_app = typer.Typer(help="Reports from the daily rollups, as a table, JSON or CSV.")

Format = Annotated[str, typer.Option(help="table, json or csv")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except AnnopsError as error:
        raise _fail(str(error)) from None
    except OperationalError as error:
        url = get_settings().database_url
        raise _fail(
            f"cannot use the database {url!r}: {error.orig}. "
            "Check ANNOPS_DATABASE_URL and run `annops init-db`."
        ) from None


def _read(work: Callable[..., T]) -> T:
    with session_factory()() as session, session.begin():
        return work(session)


# --- jobs ------------------------------------------------------------------------------------


@jobs_app.command("run")
def jobs_run(
    name: Annotated[
        str | None, typer.Argument(help="rollup, alerts, agreement or spend (default: all)")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="rebuild the rollups from all events")
    ] = False,
) -> None:
    """Run one job (or all) now, once; each run is recorded like a scheduled one."""
    from ops.jobs import JOBS, run_jobs
    from ops.permissions import command_line_principal

    if name is not None and name not in JOBS:
        raise _fail(f"no job {name!r}; jobs: {', '.join(JOBS)}")

    def show(job: str, step: str, fraction: float) -> None:
        if step not in ("done", "failed"):
            typer.echo(f"  {job}: {step}", err=True)

    with _user_errors():
        outcomes = run_jobs(
            [name] if name else None, actor=command_line_principal(), full=full, progress=show
        )
    failed = False
    for outcome in outcomes:
        if outcome.status == "succeeded":
            typer.echo(
                f"{outcome.job}: succeeded, {outcome.rows:,} rows in {outcome.seconds:.2f} s"
            )
        else:
            failed = True
            typer.echo(f"{outcome.job}: failed after {outcome.seconds:.2f} s: {outcome.error}")
    if failed:
        raise typer.Exit(1)


def worker() -> None:
    """Run the scheduled jobs (one worker leads; others stand by to take over)."""
    from ops.worker import run_worker

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with _user_errors():
        run_worker()


# --- reports ---------------------------------------------------------------------------------


@report_app.command("annotators")
def report_annotators(
    project: Annotated[str, typer.Option(help="project slug")],
    since: Annotated[
        str | None, typer.Option(help="first UTC day to include, YYYY-MM-DD (default: all)")
    ] = None,
    format: Format = "table",
) -> None:
    """Per-annotator metrics of one project: throughput, gold accuracy with CI, cost."""
    from ops.reports import ANNOTATOR_COLUMNS, annotator_report, report_records

    _check_format(format)
    first_day = None
    if since is not None:
        try:
            first_day = dt.date.fromisoformat(since)
        except ValueError:
            raise _fail(f"--since {since!r} is not a date; use YYYY-MM-DD") from None
    with _user_errors():
        rows = _read(
            lambda session: annotator_report(session, SYSTEM, project_slug=project, since=first_day)
        )
    _emit(
        report_records(rows), ANNOTATOR_COLUMNS, format, empty="no work recorded for this project"
    )


@report_app.command("spend")
def report_spend(
    project: Annotated[str | None, typer.Option(help="project slug (default: all)")] = None,
    format: Format = "table",
) -> None:
    """Spend per project and month: cost per annotation and per accepted one, budget used."""
    from ops.reports import SPEND_COLUMNS, report_records, spend_report

    _check_format(format)
    with _user_errors():
        rows = _read(lambda session: spend_report(session, SYSTEM, project_slug=project))
    _emit(report_records(rows), SPEND_COLUMNS, format, empty="no spend recorded")


def _check_format(format: str) -> None:
    if format not in ("table", "json", "csv"):
        raise _fail(f"unknown format {format!r}; use table, json or csv")


def _emit(rows: list[dict[str, Any]], columns: tuple[str, ...], format: str, empty: str) -> None:
    if format == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
        return
    if not rows:
        typer.echo(empty)
        return
    cells = [[_cell(column, row[column]) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[index]) for line in cells))
        for index, column in enumerate(columns)
    ]
    for line in [list(columns), *cells]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


MONEY_COLUMNS = {"cost", "spend", "annotation_spend", "review_spend", "spend_to_date", "budget"}


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
