"""The annotator's own feedback on their scorecard, each note acknowledged once read."""

from __future__ import annotations

import streamlit as st

from dashboard.forms import FormErrors, show_flash, submit
from dashboard.session import db_session
from ops.permissions import Principal
from ops.workforce import feedback


def render_feedback_inbox(principal: Principal) -> None:
    """Feedback newest first; unread notes carry an Acknowledge button."""
    st.subheader("Feedback")
    show_flash()
    with db_session() as session:
        notes = feedback.list_my_feedback(session, principal)
    if notes.empty:
        st.caption("No feedback yet.")
        return
    for note in notes.to_dict("records"):
        with st.container(border=True):
            st.markdown(f"**{note['category']}** · {note['given']} · from {note['by']}")
            st.write(note["feedback"])
            if note["evidence"]:
                st.caption(f"Evidence: {note['evidence']}")
            if note["follow up"]:
                st.caption(f"Follow-up on {note['follow up']}")
            if note["acknowledged"]:
                st.caption(f"Acknowledged on {note['acknowledged']}")
                continue
            errors = FormErrors(f"ack-{note['id']}")
            if st.button("Acknowledge", key=f"ack-{note['id']}", icon=":material/done:"):
                submit(
                    errors,
                    lambda session, note_id=note["id"]: feedback.acknowledge_feedback(
                        session, principal, note_id
                    ),
                    "Thanks: the feedback is marked as read.",
                )
