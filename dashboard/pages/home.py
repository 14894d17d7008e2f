"""Each role's home page (the annotator has My scorecard instead): headline numbers and a
table, from ops.home."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.cache import cached
from dashboard.freshness import show_freshness
from dashboard.session import require_principal
from dashboard.text import inert
from ops.home import summarise_home

principal = require_principal()
summary = cached(summarise_home)(principal)

st.title(summary.title)
show_freshness()
st.caption(summary.intro)
if summary.figures:
    columns = st.columns(len(summary.figures))
    for column, figure in zip(columns, summary.figures, strict=True):
        column.metric(figure.label, figure.value)
        if figure.help:
            column.caption(inert(figure.help))
if summary.table:
    st.subheader(summary.table_title)
    st.dataframe(pd.DataFrame(summary.table), hide_index=True, width="stretch")
