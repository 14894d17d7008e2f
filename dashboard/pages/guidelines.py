"""Guideline versions per project: what changed when, how much work each version carries,
and work done under a superseded version sent back for review."""

from __future__ import annotations

import streamlit as st

from dashboard.cache import cached
from dashboard.calibration_views import project_choices
from dashboard.forms import FormErrors, form_key, may, option_label, show_flash, submit
from dashboard.session import require_principal, stop_if_nobody_in_scope
from ops.permissions import people_scope
from ops.projects import NO_TEAM_PROJECTS
from ops.workforce import guidelines

principal = require_principal()
st.title("Guideline versions")
stop_if_nobody_in_scope(principal)
st.caption(
    "Every annotation records the guideline version it was made under; a big change "
    "sends older work for review."
)
show_flash()
projects = project_choices(principal)
team_only = not people_scope(principal).everyone
if not projects:
    st.info(NO_TEAM_PROJECTS if team_only else "No projects yet.")
    st.stop()
if team_only:
    st.caption("Your team's projects; the annotation counts are your team's work only.")
project_id = st.selectbox(
    "Project", list(projects), format_func=option_label(projects), key="gl-project"
)
versions = cached(guidelines.list_versions)(principal, project_id)
st.dataframe(versions, hide_index=True, column_config={"id": None})

if may(principal, "guideline.edit"):
    key = form_key("gl-new")
    errors = FormErrors("gl-new")
    with st.expander("New version"), st.form(key):
        version = st.text_input("Version", key=f"{key}-version", placeholder="v3")
        errors.slot("version")
        effective_on = st.date_input("Takes effect on", key=f"{key}-effective")
        errors.slot("effective_on")
        summary = st.text_area("What changed", key=f"{key}-summary")
        errors.slot("change_summary")
        major = st.checkbox("Major change: earlier work needs review", key=f"{key}-major")
        if st.form_submit_button("Add version", type="primary"):
            submit(
                errors,
                lambda session: guidelines.create_version(
                    session,
                    principal,
                    project_id,
                    version=version,
                    effective_on=effective_on,
                    change_summary=summary,
                    is_major=major,
                ),
                f"Version {version.strip()} added to {projects[project_id]}.",
            )

superseded = versions[versions["status"] == "superseded"]
st.subheader("Work under superseded versions")
if superseded.empty:
    st.caption("No version of this project has been superseded yet.")
    st.stop()
labels = dict(zip(superseded["id"].astype(int), superseded["version"], strict=True))
version_id = st.selectbox(
    "Version", list(labels), format_func=option_label(labels), key="gl-superseded"
)
work = cached(guidelines.superseded_work)(principal, project_id, version_id)
columns = st.columns(3)
columns[0].metric("Annotations", f"{work.annotations:,}")
columns[1].metric(
    f"Made after {work.superseded_by} applied",
    f"{work.after_superseded:,}",
    help=f"{work.superseded_by} took effect on {work.superseded_on}",
)
columns[2].metric("Flagged for review", f"{work.flagged:,}")
st.dataframe(work.sample, hide_index=True)
if may(principal, "rereview.create"):
    key = form_key("gl-flag")
    errors = FormErrors("gl-flag")
    with st.form(key):
        reason = st.text_input(
            f"Why does work under {work.version} need review?", key=f"{key}-reason"
        )
        errors.slot("reason")
        errors.slot("criteria")
        if st.form_submit_button(f"Flag all {work.annotations:,} for re-review"):
            submit(
                errors,
                lambda session: guidelines.flag_superseded_work(
                    session, principal, project_id, version_id, reason=reason
                ),
                f"Work under {work.version} flagged for re-review.",
            )
