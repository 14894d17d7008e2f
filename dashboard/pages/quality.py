"""Quality (ops, lead): agreement per project and gold accuracy per annotator with intervals."""

from __future__ import annotations

import streamlit as st

from dashboard.cache import cached
from dashboard.charts import agreement_history, gold_accuracy_intervals, kappa_heatmap
from dashboard.columns import DISPUTED_COLUMNS, GOLD_COLUMNS, MAJORITY_COLUMNS
from dashboard.freshness import show_freshness
from dashboard.session import db_session, require_principal
from dashboard.text import inert
from ops.permissions import people_scope
from ops.projects import NO_TEAM_PROJECTS
from ops.quality import WINDOW_CHOICES, summarise_quality
from ops.team import team_project_slugs

principal = require_principal()
st.title("Quality")
show_freshness()

with db_session() as session:
    # A lead's own team's projects come first, so the page opens on one of them.
    slugs = team_project_slugs(session, principal)
if not slugs:
    st.info("There are no projects yet." if people_scope(principal).everyone else NO_TEAM_PROJECTS)
    st.stop()
columns = st.columns([3, 1])
slug = columns[0].selectbox("Project", slugs, key="quality_project")
days = columns[1].selectbox(
    "Gold accuracy over",
    WINDOW_CHOICES,
    index=1,
    format_func=lambda d: f"last {d} days",
    key="quality_days",
)
summary = cached(summarise_quality)(principal, project_slug=slug, days=days)

st.caption(f"{inert(summary.project_name)}. {summary.scope_note}")
for note in summary.notes:
    st.info(note)

agreement = summary.agreement
if agreement is not None:
    st.subheader("Agreement")
    figures = st.columns(4)
    figures[0].metric(
        "Krippendorff's alpha",
        "—" if agreement.alpha is None else f"{agreement.alpha:.3f}",
        help="Nominal alpha over every rating: 1 is perfect agreement, 0 is chance.",
    )
    figures[1].metric(
        "Fleiss' kappa",
        "—" if agreement.fleiss_kappa is None else f"{agreement.fleiss_kappa:.3f}",
        help=agreement.fleiss_kappa_note or "Needs the same number of ratings on every item.",
    )
    figures[2].metric(
        "Pairwise agreement",
        "—" if agreement.percent_agreement is None else f"{agreement.percent_agreement:.1%}",
    )
    figures[3].metric("Items rated", f"{agreement.n_items:,}")
    st.caption(
        f"{agreement.n_labels:,} labels by {agreement.n_annotators} annotators, "
        f"{agreement.window_start} to {agreement.window_end} (UTC); computed "
        f"{agreement.computed_at:%Y-%m-%d %H:%M} UTC by the nightly agreement job."
    )
    if agreement.fleiss_kappa is None and agreement.fleiss_kappa_note:
        st.caption(f"Fleiss' kappa: {agreement.fleiss_kappa_note}")
    history = agreement_history(summary.agreement_history)
    if history is not None:
        st.altair_chart(history, key="quality_history")

# A lead gets the per-person parts of the nightly figures without the project's own.
if agreement is not None or not summary.majority.empty:
    st.subheader("Cohen's kappa per pair")
    heatmap = kappa_heatmap(summary.kappa_pairs)
    if heatmap is None:
        st.info("No pair of these annotators shared enough items for a kappa.")
    else:
        st.altair_chart(heatmap, key="quality_kappa")
    if not summary.majority.empty:
        st.dataframe(
            summary.majority,
            hide_index=True,
            width="stretch",
            key="quality_majority",
            column_config=MAJORITY_COLUMNS,
        )

st.subheader(f"Gold accuracy, last {summary.days} days")
chart = gold_accuracy_intervals(summary.gold, summary.quality_target)
if chart is None:
    st.info("No golden items were answered in this window.")
else:
    st.caption(
        "Dot: accuracy on hidden golden items; bar: its 95% Wilson interval; dashed line: "
        "the project's target. People whose bars overlap are not credibly different."
    )
    st.altair_chart(chart, key="quality_gold")
    st.dataframe(
        summary.gold,
        hide_index=True,
        width="stretch",
        key="quality_gold_table",
        column_config=GOLD_COLUMNS,
    )

if agreement is not None:
    st.subheader("Most disputed items")
    if summary.disputed.empty:
        st.info("No item had split labels in the window.")
    else:
        st.dataframe(
            summary.disputed,
            hide_index=True,
            width="stretch",
            key="quality_disputed",
            column_config=DISPUTED_COLUMNS,
        )
