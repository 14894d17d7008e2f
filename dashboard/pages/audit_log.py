"""Audit log (admin): who changed what and when, filtered, with each entry's before and after."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.session import db_session, require_principal
from ops.audit import AuditFilter, audit_choices, audit_csv, audit_log, changes, summary

ANY = "any"

principal = require_principal()
st.title("Audit log")
st.caption(
    "Every change made in annops, every login and every job run by a person, newest first. "
    "Entries are never changed or deleted."
)
with db_session() as session:
    choices = audit_choices(session, principal)
first, second, third, fourth = st.columns(4)
actor = first.selectbox("Actor", [ANY, *choices.actors], key="audit_actor")
action = second.selectbox("Action", [ANY, *choices.actions], key="audit_action")
entity_type = third.selectbox("Entity", [ANY, *choices.entity_types], key="audit_entity_type")
entity_id = fourth.text_input("Entity id", key="audit_entity_id")
today = dt.datetime.now(dt.UTC).date()
days = st.date_input("Days (UTC)", value=(today - dt.timedelta(days=30), today), key="audit_days")
since, until = (days[0], days[-1]) if isinstance(days, tuple) and days else (None, None)
audit_filter = AuditFilter(
    actor=None if actor == ANY else actor,
    action=None if action == ANY else action,
    entity_type=None if entity_type == ANY else entity_type,
    entity_id=entity_id.strip() or None,
    since=since,
    until=until,
)
with db_session() as session:
    rows = audit_log(session, principal, audit_filter)
if not rows:
    st.info("No entries match these filters.")
    st.stop()
st.caption(
    f"{len(rows):,} {'entry' if len(rows) == 1 else 'entries'}"
    + (" (the newest)" if len(rows) == audit_filter.limit else "")
)
st.dataframe(
    pd.DataFrame(
        [
            {
                "id": row.id,
                "at (UTC)": row.at,
                "actor": row.actor,
                "action": row.action,
                "entity": row.entity_type,
                "entity id": row.entity_id or "",
                "changes": summary(row),
            }
            for row in rows
        ]
    ),
    hide_index=True,
    width="stretch",
    key="audit_table",
)
st.download_button(
    "Download CSV",
    audit_csv(rows),
    file_name=f"annops-audit-{today:%Y-%m-%d}.csv",
    mime="text/csv",
    on_click="ignore",
    key="audit_csv",
)
by_id = {row.id: row for row in rows}
picked = st.selectbox(
    "Entry",
    list(by_id),
    format_func=lambda entry: f"#{entry} {by_id[entry].action} by {by_id[entry].actor}",
    key="audit_entry",
)
if picked is not None:
    fields = changes(by_id[picked])
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "field": change.field,
                    "changed": change.changed,
                    "before": change.before,
                    "after": change.after,
                }
                for change in fields
            ],
            columns=["field", "changed", "before", "after"],
        ),
        hide_index=True,
        width="stretch",
        key="audit_diff",
    )
