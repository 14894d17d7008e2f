"""Login state and the database session for pages; the only place pages get either.

The entry script resolves the logged-in user once per run (``resolve_principal``): from
this tab's server-side session, or on a reload or a new tab from the session cookie. Either
way the user is re-read from the database, so a disabled or demoted user is out at their
next click. Pages then ask ``require_principal`` for that run's user. Right after a login,
``pending_handoff`` holds the code the browser trades for the cookie, until it has.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ops.database import describe_outage, session_factory
from ops.permissions import Principal, people_scope
from ops.sessions import COOKIE_NAME, resume_session

PRINCIPAL_KEY = "principal"
SESSION_ID_KEY = "login_session_id"
# Set when this tab's session stopped being valid, to say so on the login form.
ENDED_KEY = "login_session_ended"
SPENT_COOKIE_KEY = "login_spent_cookie"
# The one-time code of this tab's login, kept until the browser has traded it for the cookie.
HANDOFF_KEY = "login_handoff_code"


def resolve_principal() -> Principal | None:
    """The logged-in user as the database has them now, or None (then the login form shows)."""
    session_id = st.session_state.get(SESSION_ID_KEY)
    token = None if session_id is not None else _cookie_token()
    if session_id is None and token is None:
        st.session_state.pop(PRINCIPAL_KEY, None)
        return None
    with db_session() as session:
        active = resume_session(session, session_id=session_id, token=token)
    if active is None:
        st.session_state.pop(PRINCIPAL_KEY, None)
        st.session_state.pop(SESSION_ID_KEY, None)
        st.session_state.pop(HANDOFF_KEY, None)
        if token is not None:
            st.session_state[SPENT_COOKIE_KEY] = token
        st.session_state[ENDED_KEY] = True
        return None
    st.session_state[SESSION_ID_KEY] = active.session_id
    st.session_state[PRINCIPAL_KEY] = active.principal
    if not active.awaiting_cookie:
        # The browser has its cookie, or the code expired unused: nothing left to hand off.
        st.session_state.pop(HANDOFF_KEY, None)
    return active.principal


def pending_handoff() -> str | None:
    """The handoff code the browser has yet to trade for its cookie, or None.

    Asked for in every run until the database shows the code redeemed: the run that
    first asks may be cut short by a click and never reach the browser.
    """
    code = st.session_state.get(HANDOFF_KEY)
    return code if isinstance(code, str) else None


def _cookie_token() -> str | None:
    """The session cookie this tab connected with, unless it is known to be spent."""
    cookie = st.context.cookies.get(COOKIE_NAME)
    # Only a real browser request carries cookies; anything else means none.
    if not isinstance(cookie, str) or not cookie:
        return None
    return None if cookie == st.session_state.get(SPENT_COOKIE_KEY) else cookie


def spend_cookie() -> None:
    """Ignore from now on the cookie this tab connected with (it was just logged out).

    Streamlit keeps the cookies of the tab's first request for the tab's lifetime, so
    without this the next run would try the ended session again.
    """
    cookie = st.context.cookies.get(COOKIE_NAME)
    if isinstance(cookie, str) and cookie:
        st.session_state[SPENT_COOKIE_KEY] = cookie


def current_principal() -> Principal | None:
    """This run's logged-in user, as resolved by the entry script, or None."""
    principal = st.session_state.get(PRINCIPAL_KEY)
    return principal if isinstance(principal, Principal) else None


def require_principal() -> Principal:
    """The logged-in user; stops the page when nobody is logged in."""
    principal = current_principal()
    if principal is None:
        st.warning("Please log in.")
        st.stop()
    assert principal is not None
    return principal


def stop_if_nobody_in_scope(principal: Principal) -> None:
    """Say plainly why a page about people is empty (a lead without a team), and stop."""
    scope = people_scope(principal)
    if scope.nobody:
        st.info(scope.reason, icon=":material/group_off:")
        st.stop()


@contextmanager
def db_session() -> Iterator[Session]:
    """One transaction for one page action: commit on success, roll back on error."""
    with outage_notice(), session_factory()() as session, session.begin():
        yield session


@contextmanager
def outage_notice() -> Iterator[None]:
    """A lost or unreachable database ends the run with one line saying so, not a traceback;
    the user's login is kept, so the next click works once the database is back."""
    try:
        yield
    except DBAPIError as error:
        message = describe_outage(error)
        if message is None:
            raise
        st.error(
            f"The page could not be shown: {message}. Reload the page in a moment.",
            icon=":material/cloud_off:",
        )
        st.stop()
