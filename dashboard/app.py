"""annops dashboard entry point: page config, login, and navigation built per role."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.login_cookie import forget_login, keep_login
from dashboard.navigation import pages_for
from dashboard.session import (
    ENDED_KEY,
    HANDOFF_KEY,
    PRINCIPAL_KEY,
    SESSION_ID_KEY,
    db_session,
    outage_notice,
    pending_handoff,
    resolve_principal,
    spend_cookie,
)
from ops.auth import authenticate
from ops.errors import LoginError
from ops.pages import PAGES, pages_for_role
from ops.permissions import Principal
from ops.sessions import log_out, start_session

st.set_page_config(page_title="annops", page_icon=":material/groups:", layout="wide")

FORGET_COOKIE_KEY = "login_forget_cookie"


def login_page() -> None:
    """Username and password form; shows why a login was refused."""
    st.title("annops")
    st.caption("Annotator workforce and operations")
    if st.session_state.pop(ENDED_KEY, False):
        st.info(
            "Your session has ended: it expired, you logged out elsewhere, or an admin "
            "changed your account. Please log in again.",
            icon=":material/lock_clock:",
        )
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
            principal = authenticate(session, username, password)
        except LoginError as error:
            refusal = str(error)
        else:
            started = start_session(session, principal)
    if refusal is not None:
        st.error(refusal)
        return
    st.session_state[SESSION_ID_KEY] = started.session_id
    st.session_state[HANDOFF_KEY] = started.handoff_code
    st.session_state[PRINCIPAL_KEY] = principal
    st.rerun()


def logout() -> None:
    """End the user's sessions everywhere and have the browser drop its cookie."""
    principal = st.session_state.get(PRINCIPAL_KEY)
    if isinstance(principal, Principal):
        with db_session() as session:
            log_out(session, principal)
    for key in (PRINCIPAL_KEY, SESSION_ID_KEY, HANDOFF_KEY):
        st.session_state.pop(key, None)
    spend_cookie()
    st.session_state[FORGET_COOKIE_KEY] = True


def known_pages() -> dict[str, tuple[str, str]]:
    """Every page of any role: url path -> (title, icon), so that any deep link resolves."""
    pages: dict[str, tuple[str, str]] = {}
    for page in PAGES:
        pages.setdefault(page.slug, (page.title, page.icon))
    return pages


def pages_before_login() -> list[st.Page]:
    """The login form, and every page by its URL, hidden and never run: the URL of a deep
    link (/pool) survives the login and its page opens after it."""
    return [
        st.Page(login_page, title="Log in", icon=":material/login:", default=True),
        *(
            st.Page(login_page, title=title, url_path=path, visibility="hidden")
            for path, (title, _icon) in known_pages().items()
        ),
    ]


def refused_pages(role: str) -> list[st.Page]:
    """The pages ``role`` may not open, hidden, each saying so when reached by its URL."""
    own = {page.slug for page in pages_for_role(role)}

    def refusal(title: str) -> Callable[[], None]:
        def refuse() -> None:
            st.title(title)
            st.error(
                f"Your role ({role}) may not open {title}. Ask an admin if you need it.",
                icon=":material/block:",
            )

        return refuse

    return [
        st.Page(refusal(title), title=title, icon=icon, url_path=path, visibility="hidden")
        for path, (title, icon) in known_pages().items()
        if path not in own
    ]


principal = resolve_principal()
if principal is None:
    if st.session_state.pop(FORGET_COOKIE_KEY, False) or st.session_state.get(ENDED_KEY):
        # Logged out here, or the session ended elsewhere: the browser drops the cookie.
        forget_login()
    # Logged out: the login form is the whole app. Every page is registered but hidden and
    # not run, so a deep link (/pool) keeps its URL and opens after the login.
    st.navigation(pages_before_login(), position="hidden")
    login_page()
    st.stop()
handoff = pending_handoff()
if handoff is not None:
    # In every run until the browser has the cookie, not only the first after the login:
    # a click can cut that run short before the request reaches the browser.
    keep_login(handoff)
with st.sidebar:
    st.text(f"{principal.username} · {principal.role}")
    st.button("Log out", key="logout", icon=":material/logout:", on_click=logout)
own_pages = pages_for(principal.role)
own_pages.setdefault("", []).extend(refused_pages(principal.role))
# Work a page does outside db_session (a job run, an import) is covered here.
with outage_notice():
    # Every page of the role stays listed: a collapsed menu would hide some behind "View more".
    st.navigation(own_pages, expanded=True).run()
