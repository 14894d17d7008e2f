"""Alerts: filter, read the evidence and its chart, and take a recorded decision."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from dashboard.alert_views import (
    ALERT_COLUMNS,
    HISTORY_COLUMNS,
    decision_confirmation,
    render_evidence,
    render_threshold_editor,
)
from dashboard.cache import cached
from dashboard.charts import alert_metric_chart
from dashboard.forms import FormErrors, show_flash, submit
from dashboard.freshness import show_freshness
from dashboard.session import db_session, require_principal, stop_if_nobody_in_scope
from dashboard.text import inert
from ops.alerts import (
    RULES,
    AlertFilter,
    change_status,
    get_alert,
    give_feedback_on_alert,
    propose_reassignment,
)
from ops.alerts.evidence import format_period
from ops.alerts.triage import (
    LINKED_TABLE_COLUMNS,
    TRANSITIONS,
    alert_metric_series,
    alerts_table,
    list_alert_table,
)
from ops.errors import AnnopsError
from ops.projects import list_projects
from ops.workforce.choices import FEEDBACK_CATEGORIES
from ops.workforce.staffing import REASSIGNMENT_REASONS


def warn_unlisted_link(linked: str, then: str = "") -> None:
    """``linked``, the ?alert= of the address, names no alert listed; whether it exists
    at all is not said, as it may be about another team's people."""
    st.warning(
        f"The linked alert {inert(linked[:40])} is not among the alerts listed: it does not "
        f"exist, is not one you may see, or the filters hide it. {then}",
        icon=":material/link_off:",
    )


principal = require_principal()
st.title("Alerts")
stop_if_nobody_in_scope(principal)
show_flash()
show_freshness()
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
table = cached(list_alert_table)(principal, alert_filter)

if principal.can("project.edit"):
    render_threshold_editor(principal, slugs, None if project == "any" else project)

if table.empty:
    if linked:
        warn_unlisted_link(linked)
    st.info("No alerts match these filters.")
    st.stop()

picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="alerts_table",
    column_config=ALERT_COLUMNS,
)
selected_rows = picked.selection.rows if picked else []
listed = linked_id is not None and linked_id in set(table["id"])
first_id = linked_id if listed and linked_id is not None else int(table.iloc[0]["id"])
if linked and not listed and not selected_rows:
    warn_unlisted_link(linked, "The first alert listed is shown instead.")
alert_id = int(table.iloc[selected_rows[0]]["id"]) if selected_rows else first_id
st.caption("Select a row to see its evidence; the first alert is shown until you do.")

with db_session() as session:
    detail = get_alert(session, principal, alert_id)
    series = alert_metric_series(session, principal, alert_id)
alert = detail.alert

st.subheader(f"#{alert.id} · {inert(alert.title)}")
st.text(
    f"{alert.annotator or alert.project or ''} · {alert.project or 'all projects'} · "
    f"{alert.severity} · {alert.status} · "
    f"{format_period(alert.window_start, alert.window_end)}"
)
left, right = st.columns([2, 3])
with left:
    render_evidence(alert.readable)
chart = alert_metric_chart(series)
if chart is not None:
    right.altair_chart(chart, width="stretch")
if detail.linked:
    st.markdown(f"**{len(detail.linked)} linked individual alerts** (not sent separately)")
    st.dataframe(
        alerts_table(detail.linked, LINKED_TABLE_COLUMNS),
        hide_index=True,
        width="stretch",
        column_config=ALERT_COLUMNS,
    )

st.markdown("**Decide**")
with st.form(f"triage_{alert_id}"):
    errors = FormErrors(f"triage_{alert_id}")
    choices = list(TRANSITIONS[alert.status])
    to_status = st.radio("Move to", choices, horizontal=True, key=f"triage_status_{alert_id}")
    note = st.text_area("Note (required to resolve or dismiss)", key=f"triage_note_{alert_id}")
    errors.slot("note")
    if st.form_submit_button("Save decision", type="primary"):
        submit(
            errors,
            partial(
                change_status,
                principal=principal,
                alert_id=alert_id,
                to_status=to_status,
                note=note,
                expected_version=alert.version,
            ),
            decision_confirmation(alert.id, alert.title, to_status),
        )

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
                st.error(inert(error))
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
        st.caption(
            "Ops approves or rejects the proposal on the Projects page; someone who misses "
            "a requirement of the target project is approved only with a written reason."
        )
        if st.form_submit_button("Propose"):
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
                st.error(inert(error))
            else:
                st.success(
                    "Proposal recorded. Nobody moves until ops approves it on the Projects "
                    "page; the decision then keeps this alert's evidence."
                )

with st.expander("History"):
    st.dataframe(
        pd.DataFrame(detail.history),
        hide_index=True,
        width="stretch",
        column_config=HISTORY_COLUMNS,
    )
