"""How far the stored data has moved on: a few high-water marks that every write advances."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import AuditEntry, ImportBatch, JobRun, JobState

DataVersion = tuple[int, int, dt.datetime | None, dt.datetime | None]


def get_data_version(session: Session, *, ignore_jobs: Sequence[str] = ()) -> DataVersion:
    """(last audit entry id, last import id, last job state change, last job run end).

    Every write through annops is audited, imports add a batch, and the jobs (rollups,
    alerts, agreement) move their state or finish a run, so any write changes this value.
    Each part is the maximum of a primary key or of a small table, so it stays cheap.
    ``ignore_jobs`` names job states that change without changing data (a heartbeat).
    """
    row = session.execute(
        select(
            select(func.max(AuditEntry.id)).scalar_subquery(),
            select(func.max(ImportBatch.id)).scalar_subquery(),
            select(func.max(JobState.updated_at))
            .where(JobState.job.not_in(list(ignore_jobs)))
            .scalar_subquery(),
            select(func.max(JobRun.finished_at)).scalar_subquery(),
        )
    ).one()
    return (int(row[0] or 0), int(row[1] or 0), row[2], row[3])
