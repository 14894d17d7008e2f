"""Scheduled jobs: their runs, their state and the scheduler's job store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Float, LargeBinary, MetaData, Table, Unicode, inspect, select, update
from sqlalchemy.orm import Session

from db.models import JobRun, JobState, utcnow

# APScheduler's SQLAlchemyJobStore table, as that library creates it. It is not an annops
# model (Alembic leaves it alone); only the columns read here are declared.
SCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    MetaData(),
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25)),
    Column("job_state", LargeBinary),
)


def list_job_runs(session: Session, *, job: str | None = None, limit: int = 50) -> list[JobRun]:
    """The latest runs, newest first, of one job or of all."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list(session.scalars(query))


def list_running_job_runs(session: Session, *, job: str) -> list[JobRun]:
    """Runs of ``job`` still marked running."""
    return list(
        session.scalars(
            select(JobRun).where(JobRun.job == job, JobRun.status == "running").order_by(JobRun.id)
        )
    )


def get_job_state(session: Session, *, job: str) -> dict[str, Any]:
    """The stored state document of ``job``; empty when it has none."""
    state = session.get(JobState, job)
    return dict(state.state) if state is not None else {}


def get_job_state_updated_at(session: Session, *, job: str) -> dt.datetime | None:
    """When the state document of ``job`` was last saved; None when it has none."""
    state = session.get(JobState, job)
    return state.updated_at if state is not None else None


def save_job_state(
    session: Session, *, job: str, values: dict[str, Any], at: dt.datetime | None = None
) -> None:
    """Store ``values`` in the state document of ``job``, keeping its other keys."""
    at = at or utcnow()
    state = session.get(JobState, job)
    if state is None:
        session.add(JobState(job=job, state=dict(values), updated_at=at))
    else:
        state.state = {**state.state, **values}
        state.updated_at = at


def finish_job_run(
    session: Session,
    *,
    run_id: int,
    status: str,
    finished_at: dt.datetime,
    rows: int | None,
    error: str | None = None,
) -> None:
    """Record how a run ended."""
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(status=status, finished_at=finished_at, rows=rows, error=error)
    )


def list_scheduled_jobs(session: Session) -> dict[str, dt.datetime | None]:
    """Job id -> next run time (aware UTC; None when paused) as a worker registered them.

    Empty when no worker has ever started on this database.
    """
    if not inspect(session.connection()).has_table(SCHEDULER_JOBS.name):
        return {}
    rows = session.execute(select(SCHEDULER_JOBS.c.id, SCHEDULER_JOBS.c.next_run_time)).all()
    return {
        job_id: None if timestamp is None else dt.datetime.fromtimestamp(timestamp, dt.UTC)
        for job_id, timestamp in rows
    }
