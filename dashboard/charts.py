"""Altair charts used by the pages; data in, chart out, no database."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd


def alert_metric_chart(series: dict[str, Any]) -> alt.LayerChart | alt.Chart | None:
    """The metric behind an alert: weekly accuracy with intervals, or a cumulative line,
    with the target or budget as a dashed rule."""
    frame: pd.DataFrame = series["frame"]
    if series["kind"] == "none" or frame.empty:
        return None
    layers: list[alt.Chart] = []
    if series["kind"] == "accuracy":
        data = frame.dropna(subset=["accuracy"])
        base = alt.Chart(data).encode(x=alt.X("day:T", title="week"))
        layers.append(
            base.mark_rule(color="#94a3b8").encode(
                y=alt.Y("accuracy_ci_low:Q", title=series["label"], scale=alt.Scale(zero=False)),
                y2="accuracy_ci_high:Q",
            )
        )
        layers.append(
            base.mark_point(filled=True, size=60).encode(
                y="accuracy:Q",
                tooltip=[
                    alt.Tooltip("day:T", title="week of"),
                    alt.Tooltip("accuracy:Q", format=".1%"),
                    alt.Tooltip("accuracy_ci_low:Q", format=".1%", title="low"),
                    alt.Tooltip("accuracy_ci_high:Q", format=".1%", title="high"),
                    alt.Tooltip("gold_answered:Q", title="gold answers"),
                ],
            )
        )
    else:
        layers.append(
            alt.Chart(frame)
            .mark_line()
            .encode(x=alt.X("day:T", title="day"), y=alt.Y("value:Q", title=series["label"]))
        )
    if series["reference"] is not None:
        reference = pd.DataFrame({"reference": [series["reference"]]})
        layers.append(
            alt.Chart(reference)
            .mark_rule(color="#dc2626", strokeDash=[6, 4])
            .encode(y="reference:Q")
        )
    return alt.layer(*layers).properties(height=260)
