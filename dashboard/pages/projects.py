"""One project at a time: progress, deadline and budget forecasts, requirements, and the
staffing panel with proposals for the roles that staff projects."""

from __future__ import annotations

import streamlit as st

from dashboard import project_views
from dashboard.forms import may, option_label, show_flash
from dashboard.session import db_session, require_principal
from ops.projects import list_visible_projects, project_overview

PROJECT_KEY = "projects-project"


def follow_selection() -> None:
    """Keep the address in step with the project shown, so it can be shared."""
    st.query_params["project"] = slugs[st.session_state[PROJECT_KEY]]


principal = require_principal()
st.title("Projects")
show_flash()
with db_session() as session:
    choices = list_visible_projects(session, principal)
if not choices:
    st.info(
        "No project to show: your team is not assigned to any project today."
        if principal.role == "lead"
        else "No projects yet."
    )
    st.stop()
names = {choice.id: f"{choice.name} ({choice.slug})" for choice in choices}
slugs = {choice.id: choice.slug for choice in choices}
wanted = st.query_params.get("project", "")
by_slug = {slug: project_id for project_id, slug in slugs.items()}
if wanted in by_slug:
    st.session_state[PROJECT_KEY] = by_slug[wanted]
project_id = st.selectbox(
    "Project",
    list(names),
    format_func=option_label(names),
    key=PROJECT_KEY,
    on_change=follow_selection,
)
with db_session() as session:
    overview = project_overview(session, principal, project_id)
st.caption(
    f"As of {overview.today:%d %b %Y} (UTC). Read from the daily summaries; the last day "
    f"with work is {overview.last_work_day or 'none yet'}. "
    + ("Read only." if not may(principal, "staffing.view") else "")
)
project_views.render_figures(overview)
tabs = ["Requirements"]
if may(principal, "staffing.view"):
    tabs += ["Staffing", "Proposals"]
panes = dict(zip(tabs, st.tabs(tabs, key="projects-tabs"), strict=True))
with panes["Requirements"]:
    project_views.render_requirements(overview)
if "Staffing" in panes:
    with panes["Staffing"]:
        project_views.render_staffing(principal, overview)
    with panes["Proposals"]:
        project_views.render_proposals(principal, overview)
