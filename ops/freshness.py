"""How fresh the rollup figures are: when they were refreshed, what is not in them yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ops import rollups


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
