"""Review sampling sized by statistics, and retroactive correction of affected work."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.cache import cached
from dashboard.columns import AFFECTED_COLUMNS, ALLOCATION_COLUMNS, REREVIEW_COLUMNS
from dashboard.freshness import show_freshness
from dashboard.session import db_session, require_principal, stop_if_nobody_in_scope
from dashboard.text import inert
from ops.errors import AnnopsError
from ops.exports import frame_csv
from ops.money import format_costs
from ops.projects import list_projects
from ops.review import (
    Criteria,
    find_affected_work,
    plan_review_sample,
    request_rereview,
    rereview_progress,
)

principal = require_principal()
st.title("Review & correction")
stop_if_nobody_in_scope(principal)
show_freshness()

with db_session() as session:
    slugs = [project.slug for project in list_projects(session, principal)]
if not slugs:
    st.info("No projects yet.")
    st.stop()
project = st.selectbox("Project", slugs, key="review_project")
today = dt.datetime.now(dt.UTC).date()
sampling, correction = st.tabs(["Review sample", "Retroactive correction"])

with sampling:
    st.caption(
        "How many unreviewed annotations to review so the error rate is known within the "
        "margin (Cochran's formula with finite-population correction), allocated toward "
        "people whose gold accuracy is low or barely measured."
    )
    left, middle, right = st.columns(3)
    window = left.date_input("Window", (today - dt.timedelta(days=14), today), key="review_window")
    confidence = middle.select_slider(
        "Confidence", [0.9, 0.95, 0.99], value=0.95, key="review_conf"
    )
    margin = right.select_slider("Margin", [0.02, 0.03, 0.05, 0.1], value=0.05, key="review_margin")
    if isinstance(window, tuple) and len(window) == 2:
        try:
            plan = cached(plan_review_sample)(
                principal,
                project_slug=project,
                since=window[0],
                until=window[1],
                confidence=confidence,
                margin=margin,
            )
        except AnnopsError as error:
            st.error(inert(error))
        else:
            a, b = st.columns(2)
            a.metric("Unreviewed annotations", f"{plan.population:,}")
            b.metric("To review", f"{plan.sample_size:,}")
            st.dataframe(
                plan.allocation,
                hide_index=True,
                width="stretch",
                key="review_allocation",
                column_config=ALLOCATION_COLUMNS,
            )
            st.download_button(
                "Download item list (CSV)",
                frame_csv(plan.items),
                file_name=f"review-sample-{project}-{window[0]}-{window[1]}.csv",
                mime="text/csv",
                on_click="ignore",
                key="review_download",
            )

with correction:
    st.caption(
        "When a systematic error is found, select every affected annotation by person, time "
        "window and/or guideline version, see what it cost, and send it back for re-labeling."
    )
    emails = st.text_input("Annotator emails (comma separated, optional)", key="fix_emails")
    col1, col2, col3 = st.columns(3)
    since = col1.date_input("From (optional)", value=None, key="fix_since")
    until = col2.date_input("To (optional)", value=None, key="fix_until")
    version = col3.text_input("Guideline version (optional)", key="fix_version")
    criteria = Criteria(
        project_slug=project,
        annotator_emails=tuple(e.strip() for e in emails.split(",") if e.strip()),
        since=since,
        until=until,
        guideline_version=version.strip() or None,
    )
    if st.button("Find affected annotations", key="fix_find") or st.session_state.get("fix_found"):
        st.session_state["fix_found"] = True
        try:
            with db_session() as session:
                affected = find_affected_work(session, principal, criteria)
        except AnnopsError as error:
            st.error(inert(error))
        else:
            a, b, c = st.columns(3)
            a.metric("Affected annotations", f"{affected.n_events:,}")
            if affected.costs is not None:
                b.metric("Their cost", format_costs(affected.costs))
            c.metric("Already under re-review", f"{affected.already_requested:,}")
            st.dataframe(
                affected.by_annotator,
                hide_index=True,
                width="stretch",
                column_config=AFFECTED_COLUMNS,
            )
            st.download_button(
                "Download re-label list (CSV)",
                frame_csv(affected.items),
                file_name=f"relabel-{project}.csv",
                mime="text/csv",
                on_click="ignore",
                key="fix_download",
            )
            with st.form("fix_request"):
                reason = st.text_area("What went wrong", key="fix_reason")
                if st.form_submit_button("Mark as under re-review", type="primary"):
                    try:
                        with db_session() as session:
                            request = request_rereview(session, principal, criteria, reason=reason)
                    except AnnopsError as error:
                        st.error(inert(error))
                    else:
                        st.success(
                            f"Request #{request.id}: {request.n_events:,} annotations sent back."
                        )
    progress = cached(rereview_progress)(principal, project_slug=project)
    if not progress.empty:
        st.subheader("Re-review requests")
        st.dataframe(progress, hide_index=True, width="stretch", column_config=REREVIEW_COLUMNS)
