"""Users (admin): every login, and forms to add one or change its access, state or password."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.forms import show_flash
from dashboard.session import db_session, require_principal
from dashboard.users_views import render_add_user, render_change_user
from ops.users import list_users, user_choices

principal = require_principal()
st.title("Users")
st.caption(
    "Who may log in, with which role. Disabling a user, changing their access or resetting "
    "their password ends their sessions at their next click. Every change is in the audit log."
)
show_flash()
with db_session() as session:
    users = list_users(session, principal)
    choices = user_choices(session, principal)
st.dataframe(
    pd.DataFrame(
        [
            {
                "user": user.username,
                "role": user.role,
                "enabled": user.active,
                "team": user.team or "",
                "annotator": (user.annotator or "")
                + (" (archived)" if user.annotator_archived else ""),
                "last login (UTC)": user.last_login_at,
                "locked until (UTC)": user.locked_until,
                "open sessions": user.open_sessions,
            }
            for user in users
        ]
    ),
    hide_index=True,
    width="stretch",
    key="users_table",
)
change_tab, add_tab = st.tabs(["Change a user", "Add a user"], key="users-tabs")
with change_tab:
    by_name = {user.username: user for user in users}
    picked = st.selectbox("User", list(by_name), key="users_pick")
    if picked is not None:
        render_change_user(principal, by_name[picked], choices)
with add_tab:
    render_add_user(principal, choices)
