"""The annotator pool: who can do what, how well; training due; who is ready to move up;
and, for admins and ops, the teams."""

from __future__ import annotations

import streamlit as st

from dashboard.forms import may, show_flash
from dashboard.pool_views import (
    pool_options,
    render_add_annotator,
    render_promotion,
    render_roster,
    render_training_due,
)
from dashboard.session import require_principal, stop_if_nobody_in_scope
from dashboard.team_setup_views import render_teams

principal = require_principal()
st.title("Annotator pool")
stop_if_nobody_in_scope(principal)
st.caption("Your team only." if principal.role == "lead" else "Everyone in the pool, by name.")
show_flash()
names = ["Roster", "Training due", "Promotion"]
if may(principal, "annotator.create"):
    names.append("Add annotator")
if may(principal, "team.manage"):
    names.append("Teams")
# Only the open tab is computed: each tab reads the whole pool in scope, and a visit
# should not pay for the tabs nobody opens.
tabs = dict(zip(names, st.tabs(names, key="pool-tabs", on_change="rerun"), strict=True))
with tabs["Roster"]:
    if tabs["Roster"].open:
        render_roster(principal)
with tabs["Training due"]:
    if tabs["Training due"].open:
        render_training_due(principal)
with tabs["Promotion"]:
    if tabs["Promotion"].open:
        render_promotion(principal)
if "Add annotator" in tabs:
    with tabs["Add annotator"]:
        if tabs["Add annotator"].open:
            render_add_annotator(principal, pool_options(principal))
if "Teams" in tabs:
    with tabs["Teams"]:
        if tabs["Teams"].open:
            render_teams(principal)
