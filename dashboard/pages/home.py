"""Each role's home page (the annotator has My scorecard instead): headline numbers and a
table, from ops.home."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.session import db_session, require_principal
from ops.home import summarise_home

principal = require_principal()
with db_session() as session:
    summary = summarise_home(session, principal)

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
