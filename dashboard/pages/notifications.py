"""Notifications (admin): channels, the email set-up, the delivery log and test messages."""

from __future__ import annotations

import streamlit as st

from dashboard.forms import show_flash
from dashboard.notification_views import render_channels, render_log, render_test
from dashboard.session import db_session, require_principal
from ops.notify.channels import list_channels, smtp_status

principal = require_principal()
st.title("Notifications")
st.caption(
    "Alerts and daily digests go out by email and to webhooks (a Slack or Mattermost "
    "incoming-webhook URL works as it is). Each person chooses what they get on their own "
    "notification settings; a message never says more than its reader may see in annops."
)
show_flash()
with db_session() as session:
    views = list_channels(session, principal)
email = smtp_status()
if email.configured:
    st.success(email.message, icon=":material/mail:")
else:
    st.warning(email.message, icon=":material/mail:")

channels_tab, log_tab, test_tab = st.tabs(
    ["Channels", "Delivery log", "Send a test"], key="notify-tabs"
)
with channels_tab:
    render_channels(principal, views)
with log_tab:
    render_log(principal, views)
with test_tab:
    render_test(principal, views)
