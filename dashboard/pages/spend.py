"""Spend for finance, ops and admin: monthly spend per project, budget against actual with
the forecast at completion, costs per annotation over time, spend by tier, team and
employment type, pay-rate changes; filtered by period and project, exported as CSV/XLSX."""

from __future__ import annotations

import dataclasses

import streamlit as st

from dashboard import spend_views
from dashboard.cache import cached
from dashboard.session import db_session, require_principal
from ops.errors import ValidationError
from ops.spend import SpendFilter, audience_workspace, period_choices, spend_audience

CUSTOM = "Custom range"

principal = require_principal()
st.title("Spend")
choices = period_choices()
with db_session() as session:
    projects = spend_views.project_options(session, principal)
period_column, project_column = st.columns([1, 2])
label = period_column.selectbox("Period", [*choices, CUSTOM], key="spend-period")
if label == CUSTOM:
    default = choices["Last 12 months"]
    picked = period_column.date_input(
        "From and to (UTC days, both included)",
        value=(default.since, default.until),
        key="spend-range",
    )
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.info("Pick the first and the last day of the range.")
        st.stop()
    period = SpendFilter(since=picked[0], until=picked[1])
else:
    period = choices[label]
chosen = project_column.multiselect(
    "Projects (none chosen: all)",
    list(projects),
    format_func=projects.__getitem__,
    key="spend-projects",
)
try:
    # Keyed on what the viewer may see, not on who they are: admin, ops and finance share
    # one cached read.
    workspace = cached(audience_workspace)(
        spend_audience(principal), dataclasses.replace(period, projects=tuple(chosen))
    )
except ValidationError as error:
    st.error(str(error))
    st.stop()
spend_views.render_workspace(workspace)
