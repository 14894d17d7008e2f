"""The dashboard server: Streamlit running dashboard/app.py, plus the session cookie endpoint.

`annops serve` runs ``streamlit run dashboard/server.py``; Streamlit finds ``app`` here and
serves it (any ASGI server can serve it too).
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from dashboard.allocator import map_large_blocks
from dashboard.preload import preload
from dashboard.session_endpoint import routes

# dashboard/pages/ holds the pages app.py hands to st.navigation. Streamlit would take a
# "pages" folder beside the entry script for an old-style multipage app until the first
# run calls st.navigation, so the first visitor of a fresh server opening a deep link
# would get that page run bare, without the login. Say up front that it is not one.
PagesManager.uses_pages_directory = False

app = st.App("app.py", routes=routes(str(st.get_option("server.baseUrlPath") or "")))

# Large blocks freed by a page go back to the system (see dashboard.allocator).
map_large_blocks()

# The pages' libraries load now, not during the first visitor's page.
preload()
