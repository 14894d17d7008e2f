"""How fresh what a page shows is: when the rollup figures were refreshed and what is not
in them yet, and the data version, a value that changes whenever annops data changes, so
anything kept from an earlier read (a page's cached numbers) knows when it is out of date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.queries.freshness import DataVersion, get_data_version
from ops import rollups
from ops.jobs import WORKER_STATE

__all__ = ["DataVersion", "Freshness", "data_version", "get_freshness"]


@dataclass(frozen=True)
class Freshness:
    """When the rollups last took in every stored event, and how many came since."""

    refreshed_at: dt.datetime | None
    pending_events: int

    def describe(self) -> str:
        """One line for a report or a page caption."""
        if self.refreshed_at is None:
            when = "Figures not computed yet"
        else:
            when = f"Figures as of {self.refreshed_at:%Y-%m-%d %H:%M} UTC"
        if not self.pending_events:
            return f"{when}; every stored event is in them."
        noun = "event is" if self.pending_events == 1 else "events are"
        return (
            f"{when}; {self.pending_events:,} stored {noun} not in them yet "
            "(the next rollup adds them)."
        )


def get_freshness(session: Session) -> Freshness:
    """How fresh the daily rollups that reports and pages read are."""
    return Freshness(
        refreshed_at=rollups.last_refreshed(session),
        pending_events=rollups.count_pending_events(session),
    )


def data_version(session: Session) -> DataVersion:
    """The current data version; equal values mean nothing was written in between."""
    # The worker's heartbeat changes its state every poll without changing any data.
    return get_data_version(session, ignore_jobs=(WORKER_STATE,))
