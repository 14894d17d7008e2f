"""The annotator pool: who can do what, how well; training due; who is ready to move up."""

from __future__ import annotations

import streamlit as st

from dashboard.forms import may, show_flash
from dashboard.pool_views import (
    render_add_annotator,
    render_promotion,
    render_roster,
    render_training_due,
)
from dashboard.session import db_session, require_principal, stop_if_nobody_in_scope
from ops.workforce import roster

principal = require_principal()
st.title("Annotator pool")
stop_if_nobody_in_scope(principal)
st.caption("Your team only." if principal.role == "lead" else "Everyone in the pool, by name.")
show_flash()
names = ["Roster", "Training due", "Promotion"]
if may(principal, "annotator.create"):
    names.append("Add annotator")
tabs = dict(zip(names, st.tabs(names, key="pool-tabs"), strict=True))
with tabs["Roster"]:
    render_roster(principal)
with tabs["Training due"]:
    render_training_due(principal)
with tabs["Promotion"]:
    render_promotion(principal)
if "Add annotator" in tabs:
    with tabs["Add annotator"]:
        with db_session() as session:
            options = roster.pool_options(session, principal)
        render_add_annotator(principal, options)
