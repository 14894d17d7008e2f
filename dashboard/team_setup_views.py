"""The Pool page's Teams tab: the teams with their people and leads, adding and renaming."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.cache import cached
from dashboard.forms import FormErrors, form_key, submit
from ops import teams
from ops.permissions import Principal

_list_teams = cached(teams.list_teams)


def render_teams(principal: Principal) -> None:
    """The team list, then a form to add a team and one to rename a team."""
    summaries = _list_teams(principal)
    if summaries:
        frame = pd.DataFrame(
            {
                "team": [team.name for team in summaries],
                "people": [team.people for team in summaries],
                "lead logins": [", ".join(team.leads) for team in summaries],
            }
        )
        st.dataframe(frame, hide_index=True, key="teams-table")
        st.caption(
            "People counts leave archived people out. A lead login leads the team set on "
            "the Users page."
        )
    else:
        st.info("There are no teams yet. Add the first one below.")
    add, rename = st.columns(2)
    with add:
        _render_add_team(principal)
    with rename:
        _render_rename_team(principal, [team.name for team in summaries])


def _render_add_team(principal: Principal) -> None:
    key = form_key("add-team")
    errors = FormErrors("add-team")
    with st.form(key):
        st.markdown("**Add a team**")
        name = st.text_input("Team name", key=f"{key}-name", max_chars=teams.MAX_NAME_LENGTH)
        errors.slot("name")
        if st.form_submit_button("Add team", type="primary"):
            submit(
                errors,
                lambda session: teams.add_team(session, principal, name=name),
                f"Team {name.strip()} added.",
            )


def _render_rename_team(principal: Principal, names: list[str]) -> None:
    if not names:
        return
    key = form_key("rename-team")
    errors = FormErrors("rename-team")
    with st.form(key):
        st.markdown("**Rename a team**")
        old = st.selectbox("Team", names, key=f"{key}-team")
        errors.slot("team")
        new = st.text_input("New name", key=f"{key}-name", max_chars=teams.MAX_NAME_LENGTH)
        errors.slot("name")
        if st.form_submit_button("Rename team"):
            submit(
                errors,
                lambda session: teams.rename_team(
                    session, principal, old_name=old or "", new_name=new
                ),
                f"Team {old} is now {new.strip()}.",
            )
