"""Pieces of the Alerts page: the evidence as a reader sees it, and the threshold editor."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.session import db_session
from ops.alerts.evidence import AlertEvidence, threshold_text
from ops.errors import AnnopsError
from ops.permissions import Principal
from ops.projects import alert_settings_for, set_alert_settings

# Column names a person would write, for the alert tables.
ALERT_COLUMNS = {
    "id": st.column_config.NumberColumn("Alert", format="#%d"),
    "severity": st.column_config.TextColumn("Severity"),
    "status": st.column_config.TextColumn("Status"),
    "title": st.column_config.TextColumn("What happened"),
    "project": st.column_config.TextColumn("Project"),
    "subject": st.column_config.TextColumn("About"),
    "window_start": st.column_config.DateColumn("From", format="D MMM YYYY"),
    "window_end": st.column_config.DateColumn("To", format="D MMM YYYY"),
}
HISTORY_COLUMNS = {
    "action": st.column_config.TextColumn("Action"),
    "from_status": st.column_config.TextColumn("From"),
    "to_status": st.column_config.TextColumn("To"),
    "note": st.column_config.TextColumn("Note"),
    "actor": st.column_config.TextColumn("By"),
    "at": st.column_config.DatetimeColumn("When (UTC)", format="D MMM YYYY, HH:mm"),
}


def decision_confirmation(alert_id: int, title: str, to_status: str) -> str:
    """What the page says after a decision, once the alert may have left the list."""
    return (
        f"Alert #{alert_id} ({title}) is now {to_status}. It is kept with its history; "
        f"pick Status '{to_status}' above to see it again."
    )


def render_evidence(evidence: AlertEvidence) -> None:
    """The sentence, the figures, the people named and what to check; all as plain text."""
    st.text(evidence.sentence)
    st.dataframe(
        pd.DataFrame(
            {
                "figure": [row.label for row in evidence.rows],
                "value": [r.value for r in evidence.rows],
            }
        ),
        hide_index=True,
        width="stretch",
        key="alert_evidence",
        column_config={
            "figure": st.column_config.TextColumn("Figure"),
            "value": st.column_config.TextColumn("Value"),
        },
    )
    if evidence.people or evidence.people_outside:
        st.markdown("**People who dropped**")
        if evidence.people:
            st.dataframe(
                pd.DataFrame(
                    {
                        "name": [person.name for person in evidence.people],
                        "email": [person.email or "" for person in evidence.people],
                        "profile": [
                            f"/annotator?annotator={person.annotator_id}"
                            for person in evidence.people
                        ],
                    }
                ),
                hide_index=True,
                width="stretch",
                key="alert_people",
                column_config={
                    "name": st.column_config.TextColumn("Name"),
                    "email": st.column_config.TextColumn("Email"),
                    "profile": st.column_config.LinkColumn("Profile", display_text="Open profile"),
                },
            )
        if evidence.people_outside:
            st.caption(f"and {evidence.people_outside} more outside your team")
    if evidence.checks:
        st.markdown("**Check first**")
        for check in evidence.checks:
            st.text(f"• {check}")


def render_threshold_editor(principal: Principal, slugs: list[str], filtered: str | None) -> None:
    """Each project's alert thresholds, with a project picker of its own and what each does."""
    with st.expander("Alert thresholds per project", icon=":material/tune:"):
        if not slugs:
            st.info("There are no projects yet, so there are no thresholds to set.")
            return
        st.caption(
            "Thresholds are set per project. Pick the project; the next evaluation after "
            "saving uses them. Shares are written as fractions (0.05 is 5%)."
        )
        project = st.selectbox(
            "Project",
            slugs,
            index=slugs.index(filtered) if filtered in slugs else 0,
            key=f"thresholds_project_{filtered or 'any'}",
        )
        with db_session() as session:
            current = alert_settings_for(session, principal, slug=project)
        with st.form(f"thresholds_{project}"):
            values = {}
            for key, value in current.items():
                label, help_text = threshold_text(key)
                values[key] = st.number_input(
                    label,
                    value=value,
                    help=help_text or None,
                    # p-values such as 0.001 would show as 0.00 at the default two decimals.
                    format=None if isinstance(value, int) else "%g",
                    key=f"threshold_{key}",
                )
            if st.form_submit_button("Save thresholds"):
                try:
                    with db_session() as session:
                        set_alert_settings(session, principal, slug=project, overrides=values)
                except AnnopsError as error:
                    st.error(str(error))
                else:
                    st.success(f"Saved for {project}; the next evaluation uses them.")
