"""Alerts: filter, read the evidence and its chart, and take a recorded decision."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.cache import cached
from dashboard.charts import alert_metric_chart
from dashboard.session import db_session, require_principal
from ops.alerts import (
    RULES,
    AlertFilter,
    change_status,
    get_alert,
    give_feedback_on_alert,
    list_alerts,
    propose_reassignment,
)
from ops.alerts.triage import TRANSITIONS, alert_metric_series
from ops.errors import AnnopsError
from ops.projects import alert_settings_for, list_projects, set_alert_settings
from ops.workforce.choices import FEEDBACK_CATEGORIES
from ops.workforce.staffing import REASSIGNMENT_REASONS

principal = require_principal()
st.title("Alerts")
st.caption(
    "Raised by the rules after each rollup. Quality alerts fire only when the 95% interval "
    "is clearly on the wrong side of the target and enough golden items were answered. "
    "When several people in a project drop at once, you get one project alert with the "
    "individual ones linked underneath."
)

with db_session() as session:
    slugs = (
        [project.slug for project in list_projects(session, principal)]
        if principal.can("project.view")
        else []
    )
# A notification links here with ?alert=ID: show that alert whatever its status now.
linked = st.query_params.get("alert", "")
linked_id = int(linked) if linked.isdigit() else None
columns = st.columns(4)
status = columns[0].selectbox(
    "Status",
    ["open", "acknowledged", "resolved", "dismissed", "any"],
    index=4 if linked_id is not None else 0,
    key="alerts_status",
)
rule = columns[1].selectbox("Rule", ["any", *RULES], key="alerts_rule")
project = columns[2].selectbox("Project", ["any", *slugs], key="alerts_project")
severity = columns[3].selectbox(
    "Severity", ["any", "critical", "warning", "info"], key="alerts_severity"
)

alert_filter = AlertFilter(
    project_slug=None if project == "any" else project,
    status=None if status == "any" else status,
    rule=None if rule == "any" else rule,
    severity=None if severity == "any" else severity,
)
rows = cached(list_alerts)(principal, alert_filter)

if principal.can("project.edit") and project != "any":
    with st.expander(f"Alert thresholds for {project}"):
        with db_session() as session:
            current = alert_settings_for(session, principal, slug=project)
        with st.form("thresholds"):
            values = {
                key: st.number_input(
                    key.replace("_", " "),
                    value=value,
                    # p-values such as 0.001 would show as 0.00 at the default two decimals.
                    format=None if isinstance(value, int) else "%g",
                    key=f"threshold_{key}",
                )
                for key, value in current.items()
            }
            if st.form_submit_button("Save thresholds"):
                try:
                    with db_session() as session:
                        set_alert_settings(session, principal, slug=project, overrides=values)
                except AnnopsError as error:
                    st.error(str(error))
                else:
                    st.success("Saved; the next evaluation uses them.")

if not rows:
    st.info("No alerts match these filters.")
    st.stop()

table = pd.DataFrame(rows)[
    ["id", "severity", "status", "title", "project", "subject", "window_start", "window_end"]
]
picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="alerts_table",
)
selected_rows = picked.selection.rows if picked else []
first_id = (
    linked_id
    if linked_id is not None and linked_id in set(table["id"])
    else int(table.iloc[0]["id"])
)
alert_id = int(table.iloc[selected_rows[0]]["id"]) if selected_rows else first_id
st.caption("Select a row to see its evidence; the first alert is shown until you do.")

with db_session() as session:
    detail = get_alert(session, principal, alert_id)
    series = alert_metric_series(session, principal, alert_id)
alert = detail.alert

st.subheader(f"#{alert.id} · {alert.title}")
st.markdown(
    f"**{alert.subject}** in **{alert.project or '—'}** · {alert.severity} · "
    f"{alert.status} · window {alert.window_start} to {alert.window_end}"
)
left, right = st.columns([2, 3])
evidence = {key: value for key, value in alert.evidence.items() if key != "likely_causes"}
left.dataframe(
    pd.DataFrame({"evidence": list(evidence), "value": [str(v) for v in evidence.values()]}),
    hide_index=True,
    width="stretch",
)
for cause in alert.evidence.get("likely_causes", []):
    left.markdown(f"- check {cause}")
chart = alert_metric_chart(series)
if chart is not None:
    right.altair_chart(chart, width="stretch")
if detail.linked:
    st.markdown(f"**{len(detail.linked)} linked individual alerts** (not sent separately)")
    st.dataframe(
        pd.DataFrame(detail.linked)[["id", "title", "subject", "severity", "status"]],
        hide_index=True,
        width="stretch",
    )

st.markdown("**Decide**")
with st.form(f"triage_{alert_id}"):
    choices = list(TRANSITIONS[alert.status])
    to_status = st.radio("Move to", choices, horizontal=True, key=f"triage_status_{alert_id}")
    note = st.text_area("Note (required to resolve or dismiss)", key=f"triage_note_{alert_id}")
    if st.form_submit_button("Save decision", type="primary"):
        try:
            with db_session() as session:
                change_status(session, principal, alert_id, to_status, note=note)
        except AnnopsError as error:
            st.error(str(error))
        else:
            st.success(f"Alert #{alert_id} is now {to_status}.")
            st.rerun()

if alert.annotator_id is not None:
    feedback, reassign = st.columns(2)
    with feedback.form(f"feedback_{alert_id}"):
        st.markdown("**Give feedback**")
        category = st.selectbox("Category", list(FEEDBACK_CATEGORIES), key=f"fb_cat_{alert_id}")
        text = st.text_area("What should change", key=f"fb_text_{alert_id}")
        follow_up = st.date_input("Follow up on", value=None, key=f"fb_date_{alert_id}")
        if st.form_submit_button("Send feedback"):
            try:
                with db_session() as session:
                    give_feedback_on_alert(
                        session,
                        principal,
                        alert_id,
                        category=category,
                        text=text,
                        follow_up_on=follow_up,
                    )
            except AnnopsError as error:
                st.error(str(error))
            else:
                st.success("Feedback recorded with the alert's evidence.")
    with reassign.form(f"reassign_{alert_id}"):
        st.markdown("**Propose reassignment**")
        target = st.selectbox("To project", ["(off the project)", *slugs], key=f"ra_to_{alert_id}")
        reason = st.selectbox(
            "Reason",
            list(REASSIGNMENT_REASONS),
            key=f"ra_reason_{alert_id}",
        )
        notes = st.text_area("Notes", key=f"ra_notes_{alert_id}")
        if st.form_submit_button("Record decision"):
            try:
                with db_session() as session:
                    propose_reassignment(
                        session,
                        principal,
                        alert_id,
                        to_project_slug=None if target.startswith("(") else target,
                        reason_category=reason,
                        notes=notes,
                    )
            except AnnopsError as error:
                st.error(str(error))
            else:
                st.success("Reassignment decision recorded with the evidence snapshot.")

with st.expander("History"):
    st.dataframe(
        pd.DataFrame(detail.history).rename(
            columns={"from_status": "from", "to_status": "to", "actor": "by"}
        ),
        hide_index=True,
        width="stretch",
    )
