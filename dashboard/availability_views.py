"""The profile's Availability tab: weekly capacity and time off, with the forms that edit
them for the roles that may."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.forms import FormErrors, form_key, form_token, may, submit
from dashboard.session import db_session
from ops.permissions import Principal
from ops.workforce import availability
from ops.workforce.profile import Profile


def availability_tab(principal: Principal, person: Profile) -> None:
    """Capacity in hours a week, time off, and the forms."""
    with db_session() as session:
        shown = availability.get_availability(session, principal, person.id)
    hours = shown.weekly_capacity_hours
    st.metric(
        "Weekly capacity",
        "not recorded" if hours is None else f"{hours:g} h",
        help="hours a week this person can give to annotation; the staffing panel uses it",
    )
    frame = pd.DataFrame(
        [
            {
                "id": item.id,
                "from": item.starts_on,
                "to (included)": item.ends_on,
                "kind": item.kind,
                "recorded by": item.created_by or "",
            }
            for item in shown.time_off
        ],
        columns=["id", "from", "to (included)", "kind", "recorded by"],
    )
    st.markdown("**Time off**")
    if frame.empty:
        st.caption("No time off recorded.")
    else:
        st.dataframe(frame, hide_index=True, column_config={"id": None})
    if not may(principal, "availability.edit") or person.archived:
        return
    _capacity_form(principal, person, hours, shown.version_id)
    _time_off_form(principal, person)
    if not frame.empty:
        _remove_form(principal, person, shown.time_off)


def _capacity_form(
    principal: Principal, person: Profile, hours: float | None, version: int
) -> None:
    name = f"capacity-{person.id}"
    token = form_token(name, version)
    key = f"{form_key(name)}-{token}"
    errors = FormErrors(name)
    with st.form(key):
        value = st.number_input(
            "Weekly capacity (hours; 0 to 80, empty when unknown)",
            min_value=0.0,
            max_value=availability.MAX_WEEKLY_HOURS,
            value=hours,
            step=1.0,
            key=f"{key}-hours",
        )
        errors.slot("weekly_capacity_hours")
        if st.form_submit_button("Save capacity"):
            submit(
                errors,
                lambda session: availability.set_weekly_capacity(
                    session, principal, person.id, hours=value, expected_version=token
                ),
                "Weekly capacity saved.",
            )


def _time_off_form(principal: Principal, person: Profile) -> None:
    name = f"time-off-{person.id}"
    key = form_key(name)
    errors = FormErrors(name)
    today = dt.date.today()
    with st.form(key):
        st.markdown("**Add time off**")
        first, last, kind = st.columns(3)
        starts_on = first.date_input("First day", value=today, key=f"{key}-from")
        errors.slot("starts_on")
        ends_on = last.date_input("Last day", value=today, key=f"{key}-to")
        errors.slot("ends_on")
        what = kind.text_input("Kind", value="holiday", key=f"{key}-kind", max_chars=40)
        errors.slot("kind")
        if st.form_submit_button("Add time off"):
            submit(
                errors,
                lambda session: availability.add_time_off(
                    session,
                    principal,
                    person.id,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    kind=what,
                ),
                "Time off recorded.",
            )


def _remove_form(
    principal: Principal, person: Profile, stretches: tuple[availability.TimeOff, ...]
) -> None:
    name = f"time-off-remove-{person.id}"
    key = form_key(name)
    errors = FormErrors(name)
    labels = {item.id: f"{item.starts_on} to {item.ends_on} ({item.kind})" for item in stretches}
    with st.form(key):
        chosen = st.selectbox(
            "Remove time off", list(labels), format_func=labels.__getitem__, key=f"{key}-id"
        )
        if st.form_submit_button("Remove"):
            submit(
                errors,
                lambda session: availability.remove_time_off(session, principal, chosen),
                "Time off removed.",
            )
