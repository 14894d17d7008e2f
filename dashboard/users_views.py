"""The Users page's forms: add a login, change its access, disable, unlock, reset its password."""

from __future__ import annotations

import streamlit as st

from dashboard.forms import FormErrors, form_key, submit
from dashboard.text import inert
from ops.auth import MIN_PASSWORD_LENGTH, create_user
from ops.errors import ValidationError
from ops.permissions import Principal
from ops.users import UserChoices, UserRow, change_access, reset_password, set_enabled, unlock

NONE = "(none)"
PASSWORD_HELP = (
    f"At least {MIN_PASSWORD_LENGTH} characters, not a common password, not the user name."
)


def _optional(value: str) -> str | None:
    return None if value == NONE else value


def _passwords(key: str, errors: FormErrors) -> tuple[str, str]:
    password = st.text_input("Password", type="password", key=f"{key}-password", help=PASSWORD_HELP)
    errors.slot("password")
    repeated = st.text_input("Repeat the password", type="password", key=f"{key}-repeat")
    errors.slot("repeat")
    return password, repeated


def _mismatch(errors: FormErrors, password: str, repeated: str) -> bool:
    if password != repeated:
        errors.show(ValidationError("The two passwords differ.", field="repeat"))
        return True
    return False


def render_add_user(principal: Principal, choices: UserChoices) -> None:
    """A form to add a login."""
    annotators = {choice.email: choice.label for choice in choices.annotators}
    key = form_key("add-user")
    errors = FormErrors("add-user")
    with st.form(key):
        username = st.text_input("User name", key=f"{key}-username")
        errors.slot("username")
        role = st.selectbox("Role", list(choices.roles), key=f"{key}-role")
        errors.slot("role")
        team = st.selectbox(
            "Team (a lead sees this team)",
            [NONE, *choices.teams],
            key=f"{key}-team",
            help="Teams are added on the Pool page's Teams tab, or with `annops team add`.",
        )
        annotator = st.selectbox(
            "Annotator (an annotator login sees this person)",
            [NONE, *annotators],
            format_func=lambda email: annotators.get(email, NONE),
            key=f"{key}-annotator",
        )
        errors.slot("annotator")
        password, repeated = _passwords(key, errors)
        if st.form_submit_button("Add user", type="primary") and not _mismatch(
            errors, password, repeated
        ):
            submit(
                errors,
                lambda session: create_user(
                    session,
                    principal,
                    username=username,
                    role=role,
                    password=password,
                    annotator_email=_optional(annotator),
                    team_name=_optional(team),
                ),
                "User added.",
            )


def render_change_user(principal: Principal, user: UserRow, choices: UserChoices) -> None:
    """Forms for one login: access, enabled, lock and password."""
    annotators = {choice.email: choice.label for choice in choices.annotators}
    if user.annotator is not None:
        annotators = {user.annotator: user.annotator} | annotators
    key = form_key(f"user-{user.id}")
    errors = FormErrors(f"user-{user.id}")
    with st.form(f"{key}-access"):
        st.markdown("**Access** (a change logs the user out)")
        roles = list(choices.roles)
        role = st.selectbox("Role", roles, index=roles.index(user.role), key=f"{key}-role")
        errors.slot("role")
        teams = [NONE, *choices.teams]
        team = st.selectbox("Team", teams, index=teams.index(user.team or NONE), key=f"{key}-team")
        emails = [NONE, *annotators]
        annotator = st.selectbox(
            "Annotator",
            emails,
            index=emails.index(user.annotator or NONE),
            format_func=lambda email: annotators.get(email, NONE),
            key=f"{key}-annotator",
        )
        errors.slot("annotator")
        if st.form_submit_button("Save access", type="primary"):
            submit(
                errors,
                lambda session: change_access(
                    session,
                    principal,
                    user.id,
                    role=role,
                    team_name=_optional(team),
                    annotator_email=_optional(annotator),
                ),
                "Access changed; the user's sessions have ended.",
            )
    columns = st.columns(2)
    verb = "Disable" if user.active else "Enable"
    if columns[0].button(f"{verb} {inert(user.username)}", key=f"{key}-enabled"):
        submit(
            errors,
            lambda session: set_enabled(session, principal, user.id, enabled=not user.active),
            f"User {verb.lower()}d.",
        )
    errors.slot("enabled")
    if user.locked_until is not None and columns[1].button("Unlock", key=f"{key}-unlock"):
        submit(errors, lambda session: unlock(session, principal, user.id), "User unlocked.")
    with st.form(f"{key}-password-form"):
        st.markdown("**Reset the password** (logs the user out)")
        password, repeated = _passwords(f"{key}-reset", errors)
        if st.form_submit_button("Set password") and not _mismatch(errors, password, repeated):
            submit(
                errors,
                lambda session: reset_password(session, principal, user.id, password),
                "Password set; the user's sessions have ended.",
            )
