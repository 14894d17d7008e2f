"""The annotator's own feedback on their scorecard, each note acknowledged once read."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard.forms import FormErrors, show_flash, submit
from dashboard.session import db_session
from ops.alerts.evidence import format_date
from ops.permissions import Principal
from ops.workforce import feedback


def render_feedback_inbox(principal: Principal) -> None:
    """Feedback newest first; unread notes carry an Acknowledge button."""
    st.subheader("Feedback")
    show_flash()
    with db_session() as session:
        notes = feedback.list_my_feedback(session, principal)
    if not notes:
        st.caption("No feedback yet.")
        return
    for note in notes:
        with st.container(border=True):
            st.text(
                f"{note.category} · {format_date(note.given_on)}"
                + (f" · from {note.author}" if note.author else "")
            )
            st.text(note.text)
            if note.evidence:
                st.text(f"Evidence: {note.evidence}")
            if note.follow_up_on:
                st.caption(f"Follow-up on {format_date(note.follow_up_on)}")
            if note.acknowledged_on:
                st.caption(f"Acknowledged on {format_date(note.acknowledged_on)}")
                continue
            errors = FormErrors(f"ack-{note.id}")
            if st.button("Acknowledge", key=f"ack-{note.id}", icon=":material/done:"):
                submit(
                    errors,
                    partial(feedback.acknowledge_feedback, actor=principal, note_id=note.id),
                    "Thanks: the feedback is marked as read.",
                )
