"""My notifications: on each channel, an address, immediate alert notices and a digest."""

from __future__ import annotations

import streamlit as st

from dashboard.forms import show_flash
from dashboard.notification_views import render_preference
from dashboard.session import db_session, require_principal
from ops.notify.preferences import my_preferences
from ops.settings import get_settings

principal = require_principal()
st.title("My notifications")
st.caption(
    "Hear about alerts where you work: at once for the rules you pick, and in a daily "
    "digest. You only ever hear about what you may see in annops."
)
show_flash()
with db_session() as session:
    view = my_preferences(session, principal)
if view.rule_choices:
    st.caption("Alerts you may pick: only those about people and projects you may see reach you.")
else:
    st.caption("Your role sees no alerts: the daily digest is what you get.")
if view.digest_sections:
    st.caption("Your digest holds: " + "; ".join(view.digest_sections) + ".")
if not view.channels:
    st.info("No channel is on yet: ask an admin to set up email or a webhook.")
    st.stop()
for channel in view.channels:
    render_preference(principal, view, channel, get_settings().notify_digest_hour)
