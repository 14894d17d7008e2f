"""One project at a time: progress, deadline and budget forecasts, requirements, and the
staffing panel with proposals for the roles that staff projects."""

from __future__ import annotations

import streamlit as st

from dashboard import project_views
from dashboard.address import choose_by_address
from dashboard.forms import may, option_label, show_flash
from dashboard.session import db_session, require_principal
from ops.projects import NO_TEAM_PROJECTS, list_visible_projects, project_overview

PROJECT_KEY = "projects-project"

principal = require_principal()
st.title("Projects")
show_flash()
with db_session() as session:
    choices = list_visible_projects(session, principal)
if not choices:
    st.info(NO_TEAM_PROJECTS if principal.role == "lead" else "No projects yet.")
    st.stop()
names = {choice.id: f"{choice.name} ({choice.slug})" for choice in choices}
# The address names the project by its slug, so a link to it can be shared.
follow_selection = choose_by_address(
    PROJECT_KEY, "project", {choice.slug: choice.id for choice in choices}, item="project"
)
project_id = st.selectbox(
    "Project",
    list(names),
    format_func=option_label(names),
    key=PROJECT_KEY,
    on_change=follow_selection,
)
with db_session() as session:
    overview = project_overview(session, principal, project_id)
refreshed = f"{overview.refreshed:%d %b %Y %H:%M} UTC" if overview.refreshed else "not yet"
st.caption(
    f"As of {overview.today:%d %b %Y} (UTC). Read from the daily summaries, last brought up "
    f"to date {refreshed}; the last day with work is {overview.last_work_day or 'none yet'}. "
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
