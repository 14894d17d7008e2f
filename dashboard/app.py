"""annops dashboard entry point: page config, login, and navigation built per role."""

from __future__ import annotations

import streamlit as st

from dashboard.navigation import pages_for
from dashboard.session import PRINCIPAL_KEY, current_principal, db_session
from ops.auth import authenticate
from ops.errors import LoginError

st.set_page_config(page_title="annops", page_icon=":material/groups:", layout="wide")


def login_page() -> None:
    """Username and password form; shows why a login was refused."""
    st.title("annops")
    st.caption("Annotator workforce and operations")
    with st.form("login", clear_on_submit=False):
        username = st.text_input("User name", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if not submitted:
        return
    refusal = None
    # The transaction commits either way, so failed attempts count towards the lockout.
    with db_session() as session:
        try:
            principal = authenticate(session, username.strip(), password)
        except LoginError as error:
            refusal = str(error)
    if refusal is not None:
        st.error(refusal)
        return
    st.session_state[PRINCIPAL_KEY] = principal
    st.rerun()


def logout() -> None:
    st.session_state.pop(PRINCIPAL_KEY, None)


principal = current_principal()
if principal is None:
    # Logged out: the login form is the whole app; no page of any role is registered.
    st.navigation([st.Page(login_page, title="Log in", icon=":material/login:")], position="hidden")
    login_page()
    st.stop()
with st.sidebar:
    st.markdown(f"**{principal.username}** · {principal.role}")
    st.button("Log out", key="logout", icon=":material/logout:", on_click=logout)
st.navigation(pages_for(principal.role)).run()
