"""Unlinked identities: people imports could not match; link each to someone in the pool."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.cache import cached
from dashboard.session import db_session, require_principal
from dashboard.text import inert
from ops.errors import AnnopsError
from ops.identities import (
    accept_as_new_annotator,
    list_link_targets,
    list_unlinked,
    merge_unlinked_identity,
)

principal = require_principal()
st.title("Unlinked identities")
st.caption(
    "Imports keep work from people annops does not know yet under a placeholder annotator. "
    "Link each identity to the person it belongs to (their work moves with it), or accept it "
    "as a new person in the pool."
)
if "unlinked_message" in st.session_state:
    st.success(st.session_state.pop("unlinked_message"))
# Cached on the data version: a link or an accept (audited) or an import shows at once.
unlinked = cached(list_unlinked)(principal)
targets = cached(list_link_targets)(principal)

if not unlinked:
    st.success("Every imported identity is linked to a person.")
    st.stop()

table = pd.DataFrame(
    [
        {
            "identity": f"{row.platform}:{row.external_id}",
            "email": row.email or "",
            "name": row.display_name,
            "events": row.events,
            "first work": row.first_submitted_at,
            "last work": row.last_submitted_at,
        }
        for row in unlinked
    ]
)
st.dataframe(table, hide_index=True, width="stretch", key="unlinked_table")

choices = {
    row.identity_id: f"{row.platform}:{row.external_id} ({row.display_name})" for row in unlinked
}
with st.form("link_identity"):
    identity_id = st.selectbox(
        "Identity", list(choices), format_func=choices.__getitem__, key="link_identity_id"
    )
    target_labels = {target.annotator_id: target.label for target in targets}
    annotator_id = st.selectbox(
        "Belongs to", list(target_labels), format_func=target_labels.__getitem__, key="link_target"
    )
    link = st.form_submit_button("Link identity", type="primary")
    accept = st.form_submit_button("Accept as a new annotator")
if link or accept:
    try:
        with db_session() as session:
            if link:
                moved = merge_unlinked_identity(
                    session, principal, identity_id=identity_id, annotator_id=annotator_id
                )
                message = f"Linked {choices[identity_id]}; {moved} events moved."
            else:
                accept_as_new_annotator(session, principal, identity_id=identity_id)
                message = f"Accepted {choices[identity_id]} as a new annotator."
    except AnnopsError as error:
        st.error(inert(error))
    else:
        st.session_state["unlinked_message"] = message
        st.rerun()
