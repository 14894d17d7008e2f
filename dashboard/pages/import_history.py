"""Import history: every import and dry run with its lineage and counts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.session import db_session, require_principal
from ops.importers.uploads import history

principal = require_principal()
st.title("Import history")
st.caption(
    "Where the annotation events came from: file, SHA-256, who imported it and when, and "
    "how many rows were new, replaced, already stored or rejected. Failed imports stored nothing."
)
with db_session() as session:
    rows = history(session, principal)
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="import_history")
else:
    st.info("No imports yet. Use the Import page or `annops import`.")
