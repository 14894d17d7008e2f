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
    if submitted:
        try:
            with db_session() as session:
                principal = authenticate(session, username.strip(), password)
        except LoginError as error:
            st.error(str(error))
            return
        st.session_state[PRINCIPAL_KEY] = principal
        st.rerun()


def logout() -> None:
    st.session_state.pop(PRINCIPAL_KEY, None)
    st.rerun()


principal = current_principal()
if principal is None:
    navigation = st.navigation([st.Page(login_page, title="Log in", icon=":material/login:")])
else:
    with st.sidebar:
        st.markdown(f"**{principal.username}** · {principal.role}")
        if st.button("Log out", key="logout", icon=":material/logout:"):
            logout()
    navigation = st.navigation(pages_for(principal.role))
navigation.run()
