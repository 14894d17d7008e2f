"""Calibration rounds: everyone labels the same items; agreement with the reference and
among participants, disputed items for discussion, and the notes of that discussion."""

from __future__ import annotations

import streamlit as st

from dashboard.calibration_views import (
    project_choices,
    render_archive,
    render_detail,
    render_labels,
    render_new_session,
    render_notes,
    sessions_table,
)
from dashboard.forms import may, option_label, show_flash
from dashboard.session import db_session, require_principal, stop_if_nobody_in_scope
from ops.workforce import calibration

principal = require_principal()
st.title("Calibration sessions")
stop_if_nobody_in_scope(principal)
st.caption(
    "Everyone labels the same items; disagreements are discussed and the guideline clarified."
)
show_flash()
projects = project_choices(principal)
project_id = st.selectbox(
    "Project", [None, *projects], format_func=lambda p: projects.get(p, "all"), key="cal-project"
)
if may(principal, "calibration.edit") and projects:
    with st.expander("New session"):
        render_new_session(principal, projects)
with db_session() as session:
    sessions = calibration.list_sessions(session, principal, project_id=project_id)
if sessions.empty:
    st.info("No calibration sessions yet.")
    st.stop()
sessions_table(sessions)
names = dict(zip(sessions["id"], sessions["held"] + " · " + sessions["name"], strict=True))
session_id = st.selectbox(
    "Session", list(names), format_func=option_label(names), key="cal-session"
)
with db_session() as session:
    detail = calibration.session_detail(session, principal, session_id)
render_detail(principal, detail)
tabs = st.tabs(["Discussion notes", "Record labels", "Archive"], key="cal-tabs")
with tabs[0]:
    render_notes(principal, detail)
with tabs[1]:
    if may(principal, "calibration.edit"):
        render_labels(principal, detail)
with tabs[2]:
    if may(principal, "calibration.edit"):
        render_archive(principal, detail)
