"""Form helpers for pages that write: one ops call per submit, errors shown where they belong.

A ValidationError appears under the field it names; a ConflictError (someone else saved
first) appears with a reload button; anything else the user may read appears on top.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

import streamlit as st
from sqlalchemy.orm import Session
from streamlit.delta_generator import DeltaGenerator

from dashboard.session import db_session
from dashboard.text import inert
from ops.errors import AnnopsError, ConflictError, ValidationError
from ops.permissions import Principal

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
FLASH_KEY = "_flash"


class FormErrors:
    """Placeholders under form fields, filled with the error that names them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._slots: dict[str, DeltaGenerator] = {}
        self._top = st.empty()

    def slot(self, field: str) -> None:
        """Reserve the place under the widget just drawn for errors about ``field``."""
        self._slots[field] = st.empty()

    def show(self, error: AnnopsError) -> None:
        """Show ``error`` next to its field, or above the form."""
        if isinstance(error, ValidationError) and error.field in self._slots:
            self._slots[error.field].error(inert(error), icon=":material/error:")
        elif isinstance(error, ConflictError):
            with self._top.container():
                st.warning(inert(error), icon=":material/sync_problem:")
                st.button(
                    "Reload",
                    key=f"{self.name}-reload",
                    on_click=forget_token,
                    args=(self.name,),
                    icon=":material/refresh:",
                )
        else:
            self._top.error(inert(error), icon=":material/error:")


def submit(errors: FormErrors, action: Callable[[Session], T], done: str) -> T | None:
    """Run ``action`` in one transaction; on success keep ``done`` for the next run and rerun.

    The transaction is rolled back before any error is shown, so nothing half-done is kept.
    """
    try:
        with db_session() as session:
            result = action(session)
    except AnnopsError as error:
        errors.show(error)
        return None
    forget_token(errors.name)
    generation = f"_generation-{errors.name}"
    st.session_state[generation] = st.session_state.get(generation, 0) + 1
    st.session_state[FLASH_KEY] = done
    st.rerun()
    return result


def option_label(labels: Mapping[K, str]) -> Callable[[K], str]:
    """A select widget's format_func showing each option by its label in ``labels``.

    A value that is no longer an option (a widget's state from before the options
    changed) is shown as itself rather than failing.
    """

    def label(value: K) -> str:
        return labels.get(value, str(value))

    return label


def show_flash() -> None:
    """The confirmation of the last successful save, once.

    Its place on the page is kept in every run, shown or not, so a save does not move what
    follows it: the browser draws a block that moved as a new one, and tabs drawn anew while
    their content still arrives fall back to their first tab, away from the one the user
    saved from.
    """
    place = st.empty()
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        place.success(inert(message), icon=":material/check_circle:")


def form_token(name: str, current: T) -> T:
    """What the record looked like when this form was first drawn (its version).

    Saving sends it back, so a record changed by someone else meanwhile is detected
    instead of overwritten. Widgets keyed with it start over when it changes.
    """
    key = f"_token-{name}"
    if key not in st.session_state:
        st.session_state[key] = current
    token: T = st.session_state[key]
    return token


def form_key(name: str) -> str:
    """Key prefix for a form's widgets; each successful save starts the form empty again,
    while a refused one keeps what the user typed."""
    return f"{name}-{st.session_state.get(f'_generation-{name}', 0)}"


def forget_token(name: str) -> None:
    """Start the form over from the record as it is now."""
    st.session_state.pop(f"_token-{name}", None)


def may(principal: Principal, action: str) -> bool:
    """Whether to offer a control; ops enforces the permission either way."""
    return principal.can(action)
