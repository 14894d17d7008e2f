"""Login state and the database session for pages; the only place pages get either."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.orm import Session

from ops.database import session_factory
from ops.permissions import Principal

PRINCIPAL_KEY = "principal"


def current_principal() -> Principal | None:
    """The logged-in user, or None."""
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


@contextmanager
def db_session() -> Iterator[Session]:
    """One transaction for one page action: commit on success, roll back on error."""
    with session_factory()() as session, session.begin():
        yield session
