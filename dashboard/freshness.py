"""The line under a page's title saying how fresh its figures are."""

from __future__ import annotations

import streamlit as st

from dashboard.session import db_session
from ops.freshness import get_freshness


def show_freshness() -> None:
    """Caption: when the rollups were last refreshed and how many events they lack."""
    with db_session() as session:
        st.caption(get_freshness(session).describe())
