"""Rollup windows the alert rules judge: per annotator, project and day."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import DailyRollup

GOLD_DAILY_COLUMNS = ("annotator_id", "project_id", "day", "gold_answered", "gold_correct")


def load_gold_daily_frame(
    session: Session, *, since: dt.date, until: dt.date, project_ids: list[int]
) -> pd.DataFrame:
    """One row per annotator x project x day in [since, until] with gold answers: counts."""
    rows = session.execute(
        select(
            DailyRollup.annotator_id,
            DailyRollup.project_id,
            DailyRollup.day,
            DailyRollup.gold_answered,
            DailyRollup.gold_correct,
        )
        .where(
            DailyRollup.day >= since,
            DailyRollup.day <= until,
            DailyRollup.project_id.in_(project_ids),
            DailyRollup.gold_answered > 0,
        )
        .order_by(DailyRollup.project_id, DailyRollup.day, DailyRollup.annotator_id)
    ).all()
    frame = pd.DataFrame(rows, columns=list(GOLD_DAILY_COLUMNS))
    for name in ("annotator_id", "project_id", "gold_answered", "gold_correct"):
        frame[name] = frame[name].astype("int64")
    return frame
