"""My scorecard (annotator): who I am, my weeks, what is due, what the next tier needs."""

from __future__ import annotations

import streamlit as st

from dashboard.charts import weekly_accuracy_chart, weekly_work_chart
from dashboard.feedback_inbox import render_feedback_inbox
from dashboard.session import db_session, require_principal
from ops.alerts.evidence import format_date
from ops.errors import NotFound
from ops.home import summarise_home
from ops.scorecard import TREND_WEEKS, my_scorecard

principal = require_principal()
st.title("My scorecard")
try:
    with db_session() as session:
        card = my_scorecard(session, principal)
        headline = summarise_home(session, principal)
except NotFound as error:
    st.info(str(error))
    st.stop()

st.text(f"{card.name} · {card.tier} · {card.team or 'no team'} · {card.status}")
for column, figure in zip(st.columns(len(headline.figures)), headline.figures, strict=True):
    column.metric(figure.label, figure.value, help=figure.help or None)
st.caption(
    f"The last {TREND_WEEKS} weeks, by week (Monday to Sunday, UTC), from the daily summaries; "
    f"figures as of {format_date(card.refreshed)}."
)

trend = card.trend_frame
left, right = st.columns(2)
with left:
    st.subheader("Annotations per week")
    work = weekly_work_chart(trend)
    if work is None:
        st.info("No work recorded in these weeks.")
    else:
        st.altair_chart(work, key="scorecard_work")
with right:
    st.subheader("Gold accuracy per week")
    accuracy = weekly_accuracy_chart(trend)
    if accuracy is None:
        st.info("No golden items answered in these weeks.")
    else:
        st.altair_chart(accuracy, key="scorecard_accuracy")
st.caption(card.interval_words)
for week in reversed(card.weeks[-4:]):
    st.text(week.in_words)

st.subheader("Training due")
if not card.training:
    st.success("Nothing due: your training is current.", icon=":material/check_circle:")
for item in card.training:
    where = f" ({item.project})" if item.project else ""
    st.text(f"{item.kind}: {item.topic}{where}: {item.in_words}")

st.subheader(f"Next tier: {card.next_tier}" if card.next_tier else "Next tier")
if card.next_tier is None:
    st.info("You are at the top tier.")
else:
    st.caption(
        f"What a move to {card.next_tier} asks, measured over the last "
        f"{card.next_tier_window_days} days. A lead or ops proposes the move when all are met."
    )
    for step in card.steps:
        mark = "met" if step.met else "not yet"
        st.text(f"{step.name}: {step.actual} (needs {step.required}) · {mark}")
        st.progress(step.progress)

render_feedback_inbox(principal)
