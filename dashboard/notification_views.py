"""The Notifications pages' parts: channel forms, the delivery log, test messages, and
one user's settings per channel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.forms import FormErrors, form_key, form_token, submit
from dashboard.session import db_session
from dashboard.text import inert
from ops.errors import AnnopsError
from ops.notify import channels, deliveries, delivery, preferences
from ops.notify.channels import ChannelView
from ops.permissions import Principal

ANY = "any"


def _outcome(what: str, outcome: delivery.Outcome) -> None:
    if outcome.status == "sent":
        st.success(f"{what} sent (delivery {outcome.delivery_key}).", icon=":material/send:")
        return
    st.error(f"{what} not sent: {outcome.status}.", icon=":material/error:")
    if outcome.error:
        # The error may quote what a remote server answered: plain text only.
        st.text(outcome.error)


def render_channels(principal: Principal, views: list[ChannelView]) -> None:
    """The channel table, and forms to add, change or switch channels."""
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "name": view.name,
                    "kind": view.kind,
                    "goes to": view.target,
                    "secret": view.secret_hint,
                    "on": view.enabled,
                    "can send": view.usable,
                }
                for view in views
            ]
        ),
        hide_index=True,
        key="notify-channels",
    )
    add, change, switch = st.columns(3)
    with add:
        _add_webhook(principal)
    webhooks = {view.name: view for view in views if view.kind == "webhook"}
    with change:
        if webhooks:
            _change_webhook(principal, webhooks)
        else:
            st.caption("No webhook yet: add one to change it here.")
    with switch:
        _switch_channel(principal, views)


def _add_webhook(principal: Principal) -> None:
    key = form_key("notify-add")
    errors = FormErrors("notify-add")
    with st.form(key):
        st.markdown("**Add a webhook**")
        name = st.text_input("Name", key=f"{key}-name", placeholder="ops-chat")
        errors.slot("name")
        url = st.text_input("URL", key=f"{key}-url", placeholder="https://hooks.slack.com/…")
        errors.slot("url")
        secret = st.text_input("Shared secret", type="password", key=f"{key}-secret")
        errors.slot("secret")
        if st.form_submit_button("Add webhook", type="primary"):
            submit(
                errors,
                lambda session: channels.add_webhook(
                    session, principal, name=name, url=url, secret=secret
                ),
                "Webhook added. Give its receiver the secret to check signatures with.",
            )


def _change_webhook(principal: Principal, webhooks: dict[str, ChannelView]) -> None:
    chosen = st.selectbox("Webhook to change", list(webhooks), key="notify-change-which")
    view = webhooks[chosen]
    name = f"notify-change-{view.id}"
    token = form_token(name, view.version_id)
    key = f"{form_key(name)}-{token}"
    errors = FormErrors(name)
    with st.form(key):
        new_name = st.text_input("Name", value=view.name, key=f"{key}-name")
        errors.slot("name")
        url = st.text_input("New URL (empty keeps it)", key=f"{key}-url", placeholder=view.target)
        errors.slot("url")
        secret = st.text_input(
            f"New secret (empty keeps {view.secret_hint})", type="password", key=f"{key}-secret"
        )
        errors.slot("secret")
        enabled = st.checkbox("On", value=view.enabled, key=f"{key}-enabled")
        if st.form_submit_button("Save webhook"):
            submit(
                errors,
                lambda session: channels.update_webhook(
                    session,
                    principal,
                    view.name,
                    expected_version=int(token or 0),
                    new_name=new_name,
                    url=url or None,
                    secret=secret or None,
                    enabled=enabled,
                ),
                "Webhook saved.",
            )


def _switch_channel(principal: Principal, views: list[ChannelView]) -> None:
    names = {view.name: view for view in views}
    st.markdown("**Turn a channel on or off**")
    chosen = st.selectbox("Channel", list(names), key="notify-switch-which")
    view = names[chosen]
    errors = FormErrors("notify-switch")
    label = f"Turn {view.name} off" if view.enabled else f"Turn {view.name} on"
    if st.button(label, key="notify-switch"):
        submit(
            errors,
            lambda session: channels.set_enabled(session, principal, view.name, not view.enabled),
            f"{view.name} is {'off' if view.enabled else 'on'}.",
        )


def render_log(principal: Principal, views: list[ChannelView]) -> None:
    """Every message with its status, attempts and last error; failed ones can go again."""
    columns = st.columns(4)
    status = columns[0].selectbox("Status", [ANY, *deliveries.STATUSES], key="notify-log-status")
    channel = columns[1].selectbox(
        "Channel", [ANY, *(view.name for view in views)], key="notify-log-channel"
    )
    kind = columns[2].selectbox("Kind", [ANY, *deliveries.KINDS], key="notify-log-kind")
    recipient = columns[3].text_input("Recipient", key="notify-log-recipient")
    log_filter = deliveries.DeliveryFilter(
        status=None if status == ANY else status,
        channel=None if channel == ANY else channel,
        kind=None if kind == ANY else kind,
        recipient=recipient.strip() or None,
    )
    with db_session() as session:
        rows = deliveries.list_deliveries(session, principal, log_filter)
    if not rows:
        st.info("No message matches.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="notify-log")
    again = [row.id for row in rows if row.status in ("failed", "unconfirmed")]
    if again:
        picked = st.selectbox("Send again", again, key="notify-again-which")
        if st.button("Send again", key="notify-again"):
            try:
                outcome = delivery.send_again(principal, int(picked))
            except AnnopsError as error:
                st.error(inert(error))
            else:
                _outcome(f"Message {picked}", outcome)


def render_test(principal: Principal, views: list[ChannelView]) -> None:
    """Send a test message on a channel now."""
    usable = [view.name for view in views if view.usable]
    if not usable:
        st.info("No channel can send yet.")
        return
    channel = st.selectbox("Channel", usable, key="notify-test-channel")
    address = st.text_input("Email address (for email)", key="notify-test-address")
    if st.button("Send a test message", key="notify-test-send", type="primary"):
        try:
            outcome = delivery.send_test(principal, channel, address=address)
        except AnnopsError as error:
            st.error(inert(error))
        else:
            _outcome("Test message", outcome)


def render_preference(
    principal: Principal,
    view: preferences.PreferencesView,
    channel: preferences.ChannelPreference,
    digest_hour: int,
) -> None:
    """One channel's form: address, immediate rules, digest."""
    name = f"prefs-{channel.channel}"
    # Version 0: never saved.
    token = form_token(name, channel.version_id or 0)
    key = f"{form_key(name)}-{token}"
    errors = FormErrors(name)
    titles = dict(view.rule_choices)
    with st.form(key):
        st.markdown(f"**{inert(channel.channel)}**" + ("" if channel.usable else " (turned off)"))
        label = "Email address" if channel.kind == channels.EMAIL else "Mention (optional)"
        address = st.text_input(label, value=channel.address, key=f"{key}-address")
        errors.slot("address")
        rules: list[str] = []
        if titles:
            rules = st.multiselect(
                "Tell me at once about",
                list(titles),
                default=[rule for rule in channel.immediate_rules if rule in titles],
                format_func=lambda rule: titles.get(rule, rule),
                key=f"{key}-rules",
            )
        errors.slot("immediate_rules")
        digest = st.checkbox(
            f"Daily digest at {digest_hour:02d}:00 UTC", value=channel.digest, key=f"{key}-digest"
        )
        errors.slot("channel")
        if st.form_submit_button("Save", disabled=not channel.usable):
            submit(
                errors,
                lambda session: preferences.save_preference(
                    session,
                    principal,
                    channel=channel.channel,
                    address=address,
                    immediate_rules=rules,
                    digest=digest,
                    expected_version=token or None,
                ),
                f"Saved your settings for {channel.channel}.",
            )
