"""Every chart names its axes, keeps every category label, and uses safe colours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import altair as alt
import pandas as pd
import pytest

from dashboard.charts import (
    agreement_history,
    alert_metric_chart,
    calibration_trend_chart,
    confusion_heatmap,
    gold_accuracy_intervals,
    kappa_heatmap,
    speed_accuracy_chart,
    weekly_work_chart,
)
from dashboard.workspace_charts import cost_per_annotation_chart, spend_by_group_chart
from ops.alerts.triage import MetricSeries
from ops.metrics.confusion import confusion_counts, row_rates

NAMES = [f"Annotator with a rather long name {i}" for i in range(9)]
LABELS = ["negative", "neutral", "positive", "mixed", "not about the product"]
WEEKS = [dt.date(2026, 9, 7) + dt.timedelta(weeks=i) for i in range(4)]


def encodings(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every x and y encoding of a chart, through its layers."""
    for layer in spec.get("layer", [spec]):
        for channel in ("x", "y"):
            encoding = layer.get("encoding", {}).get(channel)
            if encoding is not None:
                yield channel, encoding


def charts() -> dict[str, alt.TopLevelMixin]:
    gold = pd.DataFrame(
        {
            "annotator": NAMES,
            "gold_answered": [50] * 9,
            "accuracy": [0.8] * 9,
            "accuracy_ci_low": [0.7] * 9,
            "accuracy_ci_high": [0.9] * 9,
        }
    )
    pairs = pd.DataFrame(
        [(a, b, 0.5, 20) for a in NAMES for b in NAMES if a != b],
        columns=["annotator_a", "annotator_b", "kappa", "n_shared"],
    )
    counts = confusion_counts(
        pd.DataFrame({"gold_label": LABELS, "label": LABELS[::-1], "answered": [3] * 5}), LABELS
    )
    weekly = pd.DataFrame(
        {
            "day": WEEKS,
            "accuracy": [0.8] * 4,
            "accuracy_ci_low": [0.7] * 4,
            "accuracy_ci_high": [0.9] * 4,
            "gold_answered": [40] * 4,
        }
    )
    built = {
        "gold": gold_accuracy_intervals(gold, 0.9),
        "kappa": kappa_heatmap(pairs),
        "confusion": confusion_heatmap(counts, row_rates(counts)),
        "history": agreement_history(
            pd.DataFrame({"window_end": WEEKS, "alpha": [0.6] * 4, "fleiss_kappa": [0.5] * 4})
        ),
        "alert accuracy": alert_metric_chart(
            MetricSeries(kind="accuracy", frame=weekly, reference=0.9, label="gold accuracy")
        ),
        "alert cumulative": alert_metric_chart(
            MetricSeries(
                kind="cumulative",
                frame=pd.DataFrame({"day": WEEKS, "value": [1.0, 2.0, 3.0, 4.0]}),
                reference=10.0,
                label="cumulative spend (USD)",
            )
        ),
        "work": weekly_work_chart(
            pd.DataFrame({"week": WEEKS, "annotations": [5] * 4, "per_active_hour": [50.0] * 4})
        ),
        "speed": speed_accuracy_chart(
            pd.DataFrame(
                {
                    "week": WEEKS,
                    "seconds_per_annotation": [30.0] * 4,
                    "accuracy": [0.8] * 4,
                    "gold_answered": [40] * 4,
                }
            )
        ),
        "calibration": calibration_trend_chart(
            pd.DataFrame(
                {
                    "held": WEEKS,
                    "session": ["s"] * 4,
                    "agreement": [0.9] * 4,
                    "group alpha": [0.7] * 4,
                }
            )
        ),
    }
    assert all(chart is not None for chart in built.values())
    return {name: chart for name, chart in built.items() if chart is not None}


CHARTS = charts()


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_axis_has_a_title(name: str) -> None:
    spec = CHARTS[name].to_dict()
    found = list(encodings(spec))
    assert found
    for channel, encoding in found:
        assert encoding.get("title"), (name, channel, encoding)


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_no_category_label_is_dropped_or_cut(name: str) -> None:
    for channel, encoding in encodings(CHARTS[name].to_dict()):
        if encoding.get("type") == "nominal":
            axis = encoding.get("axis", {})
            assert axis.get("labelOverlap") is False, (name, channel)
            assert axis.get("labelLimit") == 0, (name, channel)


def test_heatmaps_use_colour_blind_safe_schemes() -> None:
    for name in ("kappa", "confusion"):
        layer = CHARTS[name].to_dict()["layer"][0]
        assert layer["encoding"]["color"]["scale"]["scheme"] in ("viridis", "blues")


def test_the_confusion_matrix_shows_every_label_of_the_project_in_order() -> None:
    layer = CHARTS["confusion"].to_dict()["layer"][0]
    assert layer["encoding"]["x"]["sort"] == LABELS
    assert layer["encoding"]["y"]["sort"] == LABELS


def test_rates_are_read_as_percentages() -> None:
    y = next(e for c, e in encodings(CHARTS["alert accuracy"].to_dict()) if c == "y")
    assert y["axis"]["format"] == "%"
    x = next(e for c, e in encodings(CHARTS["gold"].to_dict()) if c == "x")
    assert x["axis"]["format"] == "%"


def test_heatmap_and_intervals_order_people_by_a_rank_column() -> None:
    pairs = pd.DataFrame(
        [("Zed", "Amy", 0.4, 12), ("Amy", "Zed", 0.4, 12), ("Bo", "Amy", 0.7, 15)]
        + [("Amy", "Bo", 0.7, 15)],
        columns=["annotator_a", "annotator_b", "kappa", "n_shared"],
    )
    heatmap = kappa_heatmap(pairs)
    assert heatmap is not None
    spec = heatmap.to_dict()
    [cells] = [layer for layer in spec["layer"] if layer["mark"]["type"] == "rect"]
    assert cells["encoding"]["x"]["sort"] == {"field": "rank_a", "op": "min", "order": "ascending"}
    ranked = chart_data(heatmap)
    assert isinstance(ranked, pd.DataFrame)
    assert list(ranked.sort_values("rank_a")["annotator_a"].unique()) == ["Amy", "Bo", "Zed"]
    assert list(ranked.sort_values("rank_b")["annotator_b"].unique()) == ["Amy", "Bo", "Zed"]
    # The intervals keep the table's order (best first), not the alphabet.
    gold = pd.DataFrame(
        {
            "annotator": ["Zed", "Amy"],
            "gold_answered": [40, 30],
            "accuracy": [0.9, 0.8],
            "accuracy_ci_low": [0.8, 0.6],
            "accuracy_ci_high": [0.95, 0.9],
        }
    )
    intervals = gold_accuracy_intervals(gold, None)
    assert intervals is not None
    positioned = chart_data(intervals)
    assert isinstance(positioned, pd.DataFrame)
    assert list(positioned.sort_values("position")["annotator"]) == ["Zed", "Amy"]


def chart_data(chart: alt.LayerChart) -> object:
    """The frame a layered chart draws (Altair moves data its layers share to the top)."""
    return chart.data if isinstance(chart.data, pd.DataFrame) else chart.layer[0].data


def test_one_bar_per_row_charts_grow_a_step_per_row() -> None:
    """The dashboard fits a chart's whole drawing into a height in pixels, axes and titles
    included, so a few bars given a pixel height were drawn a sliver high. Charts with a
    row per person or group size by a step per row instead."""
    spend = pd.DataFrame(
        {"tier": ["annotator", "lead", "reviewer"], "currency": "USD", "spend": [9.0, 1.0, 3.0]}
    )
    by_tier = spend_by_group_chart(spend.assign(annotations=1), "tier", "USD")
    assert by_tier is not None
    assert by_tier.to_dict()["height"] == {"step": 28}
    built = charts()
    assert built["gold"].to_dict()["height"] == {"step": 22}
    for heatmap in ("kappa", "confusion"):
        spec = built[heatmap].to_dict()
        assert spec["height"] == spec["width"]
        assert set(spec["height"]) == {"step"}


def test_each_cost_per_unit_has_a_chart_and_axis_of_its_own() -> None:
    """A cost per accepted annotation is several times a cost per annotation; on a shared
    axis the smaller one's lines lay flat at the bottom."""
    monthly = pd.DataFrame(
        {
            "month": ["2026-09", "2026-10", "2026-09"],
            "project": ["a", "a", "b"],
            "cost_per_annotation": [0.07, 0.09, 0.24],
            "cost_per_accepted_annotation": [0.75, 3.4, None],
        }
    )
    per_annotation = cost_per_annotation_chart(monthly, "USD", "cost_per_annotation")
    per_accepted = cost_per_annotation_chart(monthly, "USD", "cost_per_accepted_annotation")
    assert per_annotation is not None and per_accepted is not None
    assert per_annotation.to_dict()["encoding"]["y"]["title"] == "cost per annotation (USD)"
    assert list(per_annotation.data["cost_per_annotation"]) == [0.07, 0.09, 0.24]
    # A month without accepted annotations has no cost per accepted annotation to draw.
    assert list(per_accepted.data["cost_per_accepted_annotation"]) == [0.75, 3.4]
    empty = monthly.assign(cost_per_accepted_annotation=None)
    assert cost_per_annotation_chart(empty, "USD", "cost_per_accepted_annotation") is None
