"""Column names a person would write, and formats, for the tables of several pages.

Frames keep their code names (tests and exports read them); these configs only change
what the table shows: a human header, percentages as percentages, dates as dates, and
empty cells for missing values instead of "None".
"""

from __future__ import annotations

from typing import Any

import streamlit as st

PERCENT = "percent"


def _percent(label: str, help_text: str | None = None) -> Any:
    return st.column_config.NumberColumn(label, format=PERCENT, help=help_text)


GOLD_COLUMNS = {
    "annotator": st.column_config.TextColumn("Annotator"),
    "gold_answered": st.column_config.NumberColumn("Golden answers", format="localized"),
    "gold_correct": st.column_config.NumberColumn("Right", format="localized"),
    "accuracy": _percent("Gold accuracy"),
    "accuracy_ci_low": _percent("95% low", "Lower end of the 95% Wilson interval"),
    "accuracy_ci_high": _percent("95% high", "Upper end of the 95% Wilson interval"),
}
MAJORITY_COLUMNS = {
    "annotator": st.column_config.TextColumn("Annotator"),
    "labels": st.column_config.NumberColumn("Labels", format="localized"),
    "compared": st.column_config.NumberColumn("Compared with the majority", format="localized"),
    "agreement_with_majority": _percent("Agreement with the others' majority"),
}
DISPUTED_COLUMNS = {
    "item": st.column_config.TextColumn("Item"),
    "ratings": st.column_config.NumberColumn("Labels"),
    "agreement": _percent("Agreement on the item"),
    "gold": st.column_config.TextColumn("Gold label"),
    "labels": st.column_config.TextColumn("Labels given"),
}
ALLOCATION_COLUMNS = {
    "annotator": st.column_config.TextColumn("Annotator"),
    "n_items": st.column_config.NumberColumn("Unreviewed annotations", format="localized"),
    "gold_answered": st.column_config.NumberColumn("Golden answers", format="localized"),
    "accuracy": _percent("Gold accuracy"),
    "accuracy_ci_low": _percent("95% low", "Lower end of the 95% Wilson interval"),
    "sample": st.column_config.NumberColumn("To review", format="localized"),
}
AFFECTED_COLUMNS = {
    "annotator": st.column_config.TextColumn("Annotator"),
    "annotations": st.column_config.NumberColumn("Affected annotations", format="localized"),
}
REREVIEW_COLUMNS = {
    "request": st.column_config.NumberColumn("Request", format="#%d"),
    "created": st.column_config.DateColumn("Created", format="D MMM YYYY"),
    "reason": st.column_config.TextColumn("Reason"),
    "annotations": st.column_config.NumberColumn("Annotations", format="localized"),
    "came back": st.column_config.NumberColumn("Came back", format="localized"),
    "corrected": st.column_config.NumberColumn("Corrected", format="localized"),
    "pending": st.column_config.NumberColumn("Pending", format="localized"),
    "cost": st.column_config.TextColumn("Cost"),
    "by": st.column_config.TextColumn("By"),
}
JOB_SCHEDULE_COLUMNS = {
    "job": st.column_config.TextColumn("Job"),
    "what": st.column_config.TextColumn("What it does"),
    "schedule": st.column_config.TextColumn("Schedule"),
    "next run (UTC)": st.column_config.DatetimeColumn("Next run (UTC)", format="D MMM, HH:mm"),
    "last run (UTC)": st.column_config.DatetimeColumn("Last run (UTC)", format="D MMM, HH:mm"),
    "status": st.column_config.TextColumn("Last status"),
    "seconds": st.column_config.NumberColumn("Seconds", format="%.2f"),
    "rows": st.column_config.NumberColumn("Rows", format="localized"),
    "error": st.column_config.TextColumn("Error"),
}
JOB_RUN_COLUMNS = {
    "job": st.column_config.TextColumn("Job"),
    "trigger": st.column_config.TextColumn("Started by"),
    "started": st.column_config.DatetimeColumn("Started (UTC)", format="D MMM, HH:mm:ss"),
    "seconds": st.column_config.NumberColumn("Seconds", format="%.2f"),
    "status": st.column_config.TextColumn("Status"),
    "rows": st.column_config.NumberColumn("Rows", format="localized"),
    "error": st.column_config.TextColumn("Error"),
    "worker": st.column_config.TextColumn("Worker"),
}
