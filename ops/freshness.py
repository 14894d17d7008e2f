"""The data version: a value that changes whenever annops data changes, so anything kept
from an earlier read (a page's cached numbers) knows when it is out of date."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.queries.freshness import DataVersion, get_data_version
from ops.jobs import WORKER_STATE

__all__ = ["DataVersion", "data_version"]


def data_version(session: Session) -> DataVersion:
    """The current data version; equal values mean nothing was written in between."""
    # The worker's heartbeat changes its state every poll without changing any data.
    return get_data_version(session, ignore_jobs=(WORKER_STATE,))
