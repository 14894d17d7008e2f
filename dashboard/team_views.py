"""Column names and option labels of the Team page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ops.alerts.evidence import format_date

TEAM_COLUMNS = {
    "name": st.column_config.TextColumn("Name"),
    "tier": st.column_config.TextColumn("Tier"),
    "annotations": st.column_config.NumberColumn("Annotations", format="localized"),
    "accuracy": st.column_config.NumberColumn("Gold accuracy", format="percent"),
    "accuracy_low": st.column_config.NumberColumn("95% low", format="percent"),
    "accuracy_high": st.column_config.NumberColumn("95% high", format="percent"),
    "gold_answered": st.column_config.NumberColumn("Golden answers", format="localized"),
    "agreement_with_peers": st.column_config.NumberColumn(
        "Agreement with peers", format="percent", help="With the others' majority label"
    ),
    "consistency": st.column_config.NumberColumn(
        "Consistency", format="percent", help="Same label again on items they labeled twice"
    ),
    "per_active_hour": st.column_config.NumberColumn("Per active hour", format="%.1f"),
    "escalation_rate": st.column_config.NumberColumn("Escalation rate", format="percent"),
    "review_acceptance": st.column_config.NumberColumn("Review acceptance", format="percent"),
    "trend": st.column_config.LineChartColumn(
        "Gold accuracy, 8 weeks", y_min=0.0, y_max=1.0, width="medium"
    ),
    "open_alerts": st.column_config.NumberColumn("Open alerts"),
}


def wrong_gold_labels(wrong: pd.DataFrame) -> dict[int, str]:
    """event id -> 'item 812: said cat, gold dog (3 Nov 2026)' for the composer."""
    return {
        int(row["event_id"]): (
            f"item {row['item_id']}: said {row['label']}, gold {row['gold_label']} "
            f"({format_date(str(row['submitted_at']))})"
        )
        for _, row in wrong.iterrows()
    }
