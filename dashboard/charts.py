"""Altair charts used by the pages; data in, chart out, no database."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ops.alerts.triage import MetricSeries

GOLD_TITLE = "gold accuracy (95% Wilson interval)"


def alert_metric_chart(series: MetricSeries) -> alt.LayerChart | None:
    """The metric behind an alert: weekly accuracy with intervals, or a cumulative line,
    with the target or budget as a dashed rule."""
    frame = series.frame
    if series.kind == "none" or frame.empty:
        return None
    layers: list[alt.Chart] = []
    if series.kind == "accuracy":
        data = frame.dropna(subset=["accuracy"])
        base = alt.Chart(data).encode(x=alt.X("day:T", title="week (from Monday, UTC)"))
        layers.append(
            base.mark_rule(color="#94a3b8").encode(
                y=alt.Y(
                    "accuracy_ci_low:Q",
                    title=series.label,
                    scale=alt.Scale(zero=False),
                    axis=alt.Axis(format="%"),
                ),
                y2="accuracy_ci_high:Q",
            )
        )
        layers.append(
            base.mark_point(filled=True, size=60).encode(
                y=alt.Y("accuracy:Q", title=series.label),
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
            .encode(
                x=alt.X("day:T", title="day (UTC)"),
                y=alt.Y("value:Q", title=series.label),
                tooltip=[
                    alt.Tooltip("day:T", title="day"),
                    alt.Tooltip("value:Q", format=",.0f", title=series.label),
                ],
            )
        )
    if series.reference is not None:
        reference = pd.DataFrame({"reference": [series.reference]})
        layers.append(
            alt.Chart(reference)
            .mark_rule(color="#dc2626", strokeDash=[6, 4])
            .encode(y=alt.Y("reference:Q", title=series.label))
        )
    return alt.LayerChart(layer=layers).properties(height=260)


def kappa_heatmap(pairs: pd.DataFrame) -> alt.LayerChart | None:
    """Cohen's kappa of every annotator pair as a symmetric heatmap, values written in."""
    if pairs.empty:
        return None
    people = sorted(set(pairs["annotator_a"]))
    # Ordered by a rank column rather than a list of every name: Altair checks each name of
    # a list against the Vega-Lite schema on every run, seconds for a large team.
    rank = {name: index for index, name in enumerate(people)}
    ranked = pairs.assign(
        rank_a=pairs["annotator_a"].map(rank), rank_b=pairs["annotator_b"].map(rank)
    )
    base = alt.Chart(ranked).encode(
        x=alt.X(
            "annotator_a:N",
            title="annotator",
            sort=alt.EncodingSortField(field="rank_a", op="min", order="ascending"),
            axis=alt.Axis(labelAngle=-40, labelOverlap=False, labelLimit=0),
        ),
        y=alt.Y(
            "annotator_b:N",
            title="compared with",
            sort=alt.EncodingSortField(field="rank_b", op="min", order="ascending"),
            axis=alt.Axis(labelOverlap=False, labelLimit=0),
        ),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "kappa:Q",
            title="Cohen's kappa",
            # Viridis reads the same to the colour-blind and in greyscale.
            scale=alt.Scale(domain=[0, 1], scheme="viridis", clamp=True),
        ),
        tooltip=[
            alt.Tooltip("annotator_a:N", title="annotator"),
            alt.Tooltip("annotator_b:N", title="with"),
            alt.Tooltip("kappa:Q", format=".2f"),
            alt.Tooltip("n_shared:Q", title="shared items"),
        ],
    )
    layers = [cells]
    if len(people) <= 15:
        layers.append(
            base.mark_text(fontSize=10).encode(
                text=alt.Text("kappa:Q", format=".2f"),
                color=alt.condition(alt.datum.kappa < 0.6, alt.value("white"), alt.value("black")),
            )
        )
    # A step per person, wide enough for the values written in: a size in pixels would
    # be the whole drawing's, names included, and leave the cells a few pixels high.
    cell = alt.Step(32 if len(people) <= 15 else 16)
    return alt.LayerChart(layer=layers).properties(width=cell, height=cell)


def gold_accuracy_intervals(gold: pd.DataFrame, target: float | None) -> alt.LayerChart | None:
    """Gold accuracy per annotator with its 95% Wilson interval, and the target as a rule.

    Intervals are drawn side by side on one axis, so whether two people really differ
    (their intervals do not overlap) or not is visible at a glance.
    """
    if gold.empty:
        return None
    # In the table's order, by a position column (see kappa_heatmap).
    base = alt.Chart(gold.assign(position=range(len(gold)))).encode(
        y=alt.Y(
            "annotator:N",
            title="annotator",
            sort=alt.EncodingSortField(field="position", op="min", order="ascending"),
            axis=alt.Axis(labelOverlap=False, labelLimit=0),
        )
    )
    tooltip = [
        alt.Tooltip("annotator:N"),
        alt.Tooltip("accuracy:Q", format=".1%"),
        alt.Tooltip("accuracy_ci_low:Q", format=".1%", title="95% low"),
        alt.Tooltip("accuracy_ci_high:Q", format=".1%", title="95% high"),
        alt.Tooltip("gold_answered:Q", title="gold answers"),
    ]
    layers: list[alt.Chart] = [
        base.mark_rule(strokeWidth=2, color="#64748b").encode(
            x=alt.X(
                "accuracy_ci_low:Q",
                title=GOLD_TITLE,
                scale=alt.Scale(zero=False, domainMax=1),
                axis=alt.Axis(format="%"),
            ),
            x2="accuracy_ci_high:Q",
            tooltip=tooltip,
        ),
        base.mark_point(filled=True, size=60, color="#1d4ed8").encode(
            x=alt.X("accuracy:Q", title=GOLD_TITLE), tooltip=tooltip
        ),
    ]
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"target": [target]}))
            .mark_rule(color="#dc2626", strokeDash=[6, 4])
            .encode(
                x=alt.X("target:Q", title=GOLD_TITLE),
                tooltip=[alt.Tooltip("target:Q", format=".0%")],
            )
        )
    # A step per person: a height in pixels is the whole drawing's, axes included.
    return alt.LayerChart(layer=layers).properties(height=alt.Step(22))


def agreement_history(history: pd.DataFrame) -> alt.Chart | None:
    """Nightly Krippendorff's alpha and Fleiss' kappa of one project over time."""
    if len(history) < 2:
        return None
    long = history.melt(
        id_vars="window_end", value_vars=["alpha", "fleiss_kappa"], var_name="statistic"
    ).dropna()
    # Altair's mark methods are untyped; the chart they return is a Chart all the same.
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("window_end:T", title="window ending (UTC day)"),
            y=alt.Y(
                "value:Q", title="agreement (1 perfect, 0 chance)", scale=alt.Scale(zero=False)
            ),
            color=alt.Color("statistic:N", title="statistic", scale=alt.Scale(scheme="tableau10")),
            tooltip=[
                alt.Tooltip("window_end:T", title="window ending"),
                alt.Tooltip("statistic:N"),
                alt.Tooltip("value:Q", format=".3f"),
            ],
        )
        .properties(height=200)
    )
    return chart


def weekly_accuracy_chart(trend: pd.DataFrame) -> alt.LayerChart | None:
    """One person's weekly gold accuracy with its 95% Wilson interval."""
    frame = trend.rename(columns={"week": "day"})
    return alert_metric_chart(
        MetricSeries(kind="accuracy", frame=frame, reference=None, label="gold accuracy")
    )


def weekly_work_chart(trend: pd.DataFrame) -> alt.Chart | None:
    """Annotations per week as bars, annotations per active hour in the tooltip."""
    if trend.empty:
        return None
    chart: alt.Chart = (
        alt.Chart(trend)
        .mark_bar(color="#60a5fa")
        .encode(
            x=alt.X("week:T", title="week (from Monday, UTC)"),
            y=alt.Y("annotations:Q", title="annotations per week"),
            tooltip=[
                alt.Tooltip("week:T", title="week of"),
                alt.Tooltip("annotations:Q"),
                alt.Tooltip("per_active_hour:Q", format=".1f", title="per active hour"),
            ],
        )
        .properties(height=220)
    )
    return chart


def calibration_trend_chart(history: pd.DataFrame) -> alt.LayerChart | None:
    """Agreement with the reference per calibration session, and the group's alpha."""
    if history.empty:
        return None
    base = alt.Chart(history).encode(x=alt.X("held:T", title="calibration session (day held)"))
    tooltip = [
        alt.Tooltip("session:N"),
        alt.Tooltip("agreement:Q", format=".0%", title="with reference"),
        alt.Tooltip("group alpha:Q", format=".2f"),
    ]
    person = base.mark_line(point=True).encode(
        y=alt.Y(
            "agreement:Q",
            title="agreement with reference",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        ),
        tooltip=tooltip,
    )
    group = base.mark_line(strokeDash=[4, 4], color="#94a3b8").encode(
        y=alt.Y("group alpha:Q", title="agreement with reference"), tooltip=tooltip
    )
    return alt.LayerChart(layer=[person, group]).properties(height=220)


def confusion_heatmap(counts: pd.DataFrame, rates: pd.DataFrame) -> alt.LayerChart | None:
    """Confusion against gold: rows the gold label, columns the label given; colour the
    share of the row, each cell written as count and share. Every label is shown."""
    if counts.empty:
        return None
    labels = [str(label) for label in counts.index]
    long = pd.DataFrame(
        [
            {
                "gold label": str(gold),
                "label given": str(given),
                "answers": int(counts.loc[gold, given]),
                "share of gold label": None
                if pd.isna(rates.loc[gold, given])
                else float(rates.loc[gold, given]),
            }
            for gold in counts.index
            for given in counts.columns
        ]
    )
    long["cell"] = [
        f"{n} · {share:.0%}" if share is not None and not pd.isna(share) and n else ""
        for n, share in zip(long["answers"], long["share of gold label"], strict=True)
    ]
    base = alt.Chart(long).encode(
        x=alt.X(
            "label given:N",
            title="label given",
            sort=labels,
            axis=alt.Axis(labelAngle=-40, labelOverlap=False, labelLimit=0),
        ),
        y=alt.Y(
            "gold label:N",
            title="gold label",
            sort=labels,
            axis=alt.Axis(labelOverlap=False, labelLimit=0),
        ),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share of gold label:Q",
            title="share of the gold label's items",
            scale=alt.Scale(domain=[0, 1], scheme="blues"),
            legend=alt.Legend(format="%"),
        ),
        tooltip=[
            alt.Tooltip("gold label:N"),
            alt.Tooltip("label given:N"),
            alt.Tooltip("answers:Q", title="golden answers"),
            alt.Tooltip("share of gold label:Q", format=".0%"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(
        text="cell:N",
        color=alt.condition(
            alt.datum["share of gold label"] > 0.5, alt.value("white"), alt.value("black")
        ),
    )
    # A step per label, wide enough for "21 · 88%" (see kappa_heatmap).
    cell = alt.Step(64)
    return alt.LayerChart(layer=[cells, text]).properties(width=cell, height=cell)


def speed_accuracy_chart(weeks: pd.DataFrame) -> alt.Chart | None:
    """One point per week: seconds per annotation against gold accuracy."""
    if weeks.empty:
        return None
    chart: alt.Chart = (
        alt.Chart(weeks)
        .mark_circle(size=80, color="#1d4ed8")
        .encode(
            x=alt.X(
                "seconds_per_annotation:Q",
                title="seconds per annotation (week)",
                scale=alt.Scale(zero=False),
            ),
            y=alt.Y(
                "accuracy:Q",
                title="gold accuracy (week)",
                scale=alt.Scale(zero=False),
                axis=alt.Axis(format="%"),
            ),
            tooltip=[
                alt.Tooltip("week:T", title="week of"),
                alt.Tooltip("seconds_per_annotation:Q", format=".1f", title="seconds each"),
                alt.Tooltip("accuracy:Q", format=".1%", title="gold accuracy"),
                alt.Tooltip("gold_answered:Q", title="golden answers"),
            ],
        )
        .properties(height=240)
    )
    return chart
