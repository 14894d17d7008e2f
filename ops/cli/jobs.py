"""``annops jobs run`` and ``annops worker``: the scheduled jobs, now or on their schedule."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from ops.cli.output import fail, user_errors

app = typer.Typer(help="Run scheduled jobs now.", no_args_is_help=True)


@app.command("run")
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
        raise fail(f"no job {name!r}; jobs: {', '.join(JOBS)}")

    def show(job: str, step: str, fraction: float) -> None:
        if step not in ("done", "failed"):
            typer.echo(f"  {job}: {step}", err=True)

    with user_errors():
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
    with user_errors():
        run_worker()
