"""Team (lead for their team, ops and admin for everyone): a scorecard row per person, and
one person's drill-down with the feedback composer."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard.cache import cached
from dashboard.charts import calibration_trend_chart, confusion_heatmap, speed_accuracy_chart
from dashboard.forms import FormErrors, form_key, option_label, show_flash, submit
from dashboard.session import db_session, require_principal
from dashboard.team_views import TEAM_COLUMNS, wrong_gold_labels
from dashboard.text import inert
from ops.alerts.evidence import format_date, format_period
from ops.team import person_drilldown, team_choices, team_scorecard
from ops.workforce.choices import FEEDBACK_CATEGORIES
from ops.workforce.feedback import give_feedback

principal = require_principal()
st.title("Team")
show_flash()
with db_session() as session:
    teams = dict(team_choices(session, principal))
team_id = (
    st.selectbox("Team", list(teams), format_func=option_label(teams), key="team_team")
    if len(teams) > 1
    else None
)
card = cached(team_scorecard)(principal, team_id=team_id)
st.caption(
    f"{format_period(card.since, card.until)} (UTC days), from the daily summaries as of "
    f"{format_date(card.refreshed)}; trend: gold accuracy per week over the last 8 weeks; "
    "agreement with peers from the nightly agreement figures"
    + (f" of {format_date(card.agreement_as_of)}." if card.agreement_as_of else ".")
)
if card.note:
    st.info(inert(card.note))
    st.stop()
st.dataframe(
    card.frame.drop(columns=["annotator_id"]),
    hide_index=True,
    width="stretch",
    key="team_table",
    column_config=TEAM_COLUMNS,
)

names = {member.annotator_id: member.name for member in card.members}
person = st.selectbox(
    "Look closer at", list(names), format_func=option_label(names), key="team_person"
)
first = cached(person_drilldown)(principal, person)
project = (
    st.selectbox("Project", [slug for slug, _name in first.projects], key=f"team_project_{person}")
    if first.projects
    else None
)
detail = (
    first
    if project == first.project_slug
    else cached(person_drilldown)(principal, person, project_slug=project)
)
for note in detail.notes:
    st.info(inert(note))

st.subheader(f"{inert(detail.name)}: labels against gold in {detail.project_slug or '—'}")
heatmap = confusion_heatmap(detail.counts, detail.rates)
if heatmap is not None:
    st.caption(
        "Rows: the gold label of a golden item; columns: the label given. Each cell shows "
        "golden answers and their share of the row; off the diagonal are the mix-ups."
    )
    st.altair_chart(heatmap, key="team_confusion")
for confusion in detail.confused:
    st.text(
        f"Gold '{confusion.expected}' labeled '{confusion.given}': {confusion.count} times "
        f"({confusion.share_of_expected:.0%} of the '{confusion.expected}' items)"
    )

left, right = st.columns(2)
with left:
    st.subheader("Speed against accuracy")
    speed = speed_accuracy_chart(detail.speed_accuracy)
    if speed is None:
        st.info("No week with golden answers in this window.")
    else:
        st.altair_chart(speed, key="team_speed")
with right:
    st.subheader("Calibration")
    calibration = calibration_trend_chart(detail.calibration)
    if calibration is None:
        st.info("No calibration sessions yet.")
    else:
        st.altair_chart(calibration, key="team_calibration")

if principal.can("coaching.edit"):
    st.subheader("Give feedback")
    labels = wrong_gold_labels(detail.wrong_gold)
    key = form_key(f"team_feedback_{person}")
    with st.form(key):
        errors = FormErrors(f"team_feedback_{person}")
        category = st.selectbox("Category", list(FEEDBACK_CATEGORIES), key=f"{key}-category")
        text = st.text_area("Feedback", key=f"{key}-text")
        errors.slot("text")
        follow_up = st.date_input("Follow up on", value=None, key=f"{key}-follow")
        errors.slot("follow_up_on")
        attached = st.multiselect(
            "Golden items they got wrong, to attach",
            list(labels),
            format_func=option_label(labels),
            key=f"{key}-evidence",
        )
        errors.slot("evidence")
        if st.form_submit_button("Send feedback", type="primary"):
            submit(
                errors,
                partial(
                    give_feedback,
                    actor=principal,
                    annotator_id=person,
                    category=category,
                    text=text,
                    follow_up_on=follow_up,
                    evidence_event_ids=attached,
                ),
                f"Feedback sent to {detail.name} with {len(attached)} golden item(s) attached; "
                "they see it on their scorecard.",
            )
