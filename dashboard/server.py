"""The dashboard server: Streamlit running dashboard/app.py, plus the session cookie endpoint.

`annops serve` runs ``streamlit run dashboard/server.py``; Streamlit finds ``app`` here and
serves it (any ASGI server can serve it too).
"""

from __future__ import annotations

import streamlit as st

from dashboard.session_endpoint import routes

app = st.App("app.py", routes=routes(str(st.get_option("server.baseUrlPath") or "")))
