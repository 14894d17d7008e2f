"""Altair charts of the Projects and Spend pages; data in, chart out, no database.

Colours come from the Okabe-Ito palette, which stays distinguishable with the common
forms of colour blindness.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

# Okabe-Ito: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow, black.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
ACTUAL, FORECAST, DEADLINE = PALETTE[0], PALETTE[1], PALETTE[3]


def progress_chart(
    actual: pd.DataFrame,
    projection: pd.DataFrame,
    *,
    deadline: dt.date | None,
    target: int | None,
) -> alt.LayerChart | None:
    """Cumulative annotations done, the forecast band from today, the deadline and target."""
    if actual.empty and projection.empty:
        return None
    layers: list[alt.Chart] = []
    x = alt.X("day:T", title="day (UTC)")
    if not actual.empty:
        layers.append(
            alt.Chart(actual.assign(series="done"))
            .mark_line(color=ACTUAL)
            .encode(
                x=x,
                y=alt.Y("cumulative:Q", title="annotations, cumulative"),
                tooltip=[
                    alt.Tooltip("day:T", title="day"),
                    alt.Tooltip("annotations:Q", title="that day", format=","),
                    alt.Tooltip("cumulative:Q", title="done by then", format=","),
                ],
            )
        )
    if not projection.empty:
        band = alt.Chart(projection)
        layers.append(
            band.mark_area(color=FORECAST, opacity=0.25).encode(
                x=x,
                y=alt.Y("low:Q"),
                y2="high:Q",
                tooltip=[
                    alt.Tooltip("day:T", title="day"),
                    alt.Tooltip("low:Q", title="80% range from", format=",.0f"),
                    alt.Tooltip("high:Q", title="80% range to", format=",.0f"),
                ],
            )
        )
        layers.append(
            band.mark_line(color=FORECAST, strokeDash=[6, 3]).encode(
                x=x,
                y="expected:Q",
                tooltip=[
                    alt.Tooltip("day:T", title="day"),
                    alt.Tooltip("expected:Q", title="forecast", format=",.0f"),
                ],
            )
        )
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"target": [target], "label": ["volume target"]}))
            .mark_rule(color="#555555", strokeDash=[2, 2])
            .encode(y="target:Q", tooltip=[alt.Tooltip("target:Q", title="volume target")])
        )
    if deadline is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"day": [deadline], "label": ["deadline"]}))
            .mark_rule(color=DEADLINE, strokeWidth=2)
            .encode(x="day:T", tooltip=[alt.Tooltip("day:T", title="deadline")])
        )
    return alt.LayerChart(layer=layers).properties(height=300)


def monthly_spend_chart(monthly: pd.DataFrame, currency: str) -> alt.Chart | None:
    """Spend per month, stacked by project, in one currency."""
    if monthly.empty:
        return None
    chart: alt.Chart = (
        alt.Chart(monthly)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="month", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("spend:Q", title=f"spend ({currency})", stack="zero"),
            color=alt.Color("project:N", title="project", scale=alt.Scale(range=PALETTE)),
            tooltip=[
                alt.Tooltip("month:O", title="month"),
                alt.Tooltip("project:N", title="project"),
                alt.Tooltip("spend:Q", title=f"spend ({currency})", format=",.2f"),
                alt.Tooltip("annotations:Q", title="annotations", format=","),
            ],
        )
        .properties(height=280)
    )
    return chart


# The two costs per unit the Spend page charts, by their column in the monthly rows.
UNIT_COSTS = {
    "cost_per_annotation": "per annotation",
    "cost_per_accepted_annotation": "per accepted annotation",
}


def cost_per_annotation_chart(
    monthly: pd.DataFrame, currency: str, column: str
) -> alt.Chart | None:
    """One cost per unit (a key of UNIT_COSTS) by month, one line per project.

    Each cost has a chart and an axis of its own: review makes a cost per accepted
    annotation several times a cost per annotation, whose lines would lie flat at the
    bottom of a shared axis."""
    data = monthly[["month", "project", column]].dropna(subset=[column])
    if data.empty:
        return None
    title = f"cost {UNIT_COSTS[column]} ({currency})"
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title="month", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{column}:Q", title=title, scale=alt.Scale(zero=False)),
            color=alt.Color("project:N", title="project", scale=alt.Scale(range=PALETTE)),
            tooltip=[
                alt.Tooltip("month:O", title="month"),
                alt.Tooltip("project:N", title="project"),
                alt.Tooltip(f"{column}:Q", title=title, format=",.4f"),
            ],
        )
        .properties(height=260)
    )
    return chart


def spend_by_group_chart(frame: pd.DataFrame, group: str, currency: str) -> alt.Chart | None:
    """Spend per group as horizontal bars, so every label stays readable.

    The height is a step per bar: the dashboard fits a chart's whole drawing, axes and
    titles included, into a height given in pixels, which leaves a few bars a sliver."""
    if frame.empty:
        return None
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar(color=PALETTE[0])
        .encode(
            y=alt.Y(f"{group}:N", title=group, sort="-x", axis=alt.Axis(labelLimit=240)),
            x=alt.X("spend:Q", title=f"spend ({currency})"),
            tooltip=[
                alt.Tooltip(f"{group}:N", title=group),
                alt.Tooltip("spend:Q", title=currency, format=",.2f"),
                alt.Tooltip("annotations:Q", title="annotations", format=","),
            ],
        )
        .properties(height=alt.Step(28))
    )
    return chart
