"""Each role's home page: headline numbers and a table, from ops.home."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.cache import cached
from dashboard.feedback_inbox import render_feedback_inbox
from dashboard.session import require_principal
from ops.home import summarise_home

principal = require_principal()
summary = cached(summarise_home)(principal)

st.title(summary.title)
st.caption(summary.intro)
if summary.figures:
    columns = st.columns(len(summary.figures))
    for column, figure in zip(columns, summary.figures, strict=True):
        column.metric(figure.label, figure.value)
        if figure.help:
            column.caption(figure.help)
if summary.table:
    st.subheader(summary.table_title)
    st.dataframe(pd.DataFrame(summary.table), hide_index=True, width="stretch")
if principal.role == "annotator":
    render_feedback_inbox(principal)
