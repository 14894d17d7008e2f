"""The Quality page: ops sees every annotator, a lead only their team; others cannot reach it."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, make_session_factory
from ops.errors import PermissionDenied
from ops.permissions import Principal
from ops.quality import PROJECT_FIGURES_WITHHELD, summarise_quality
from tests.pages.conftest import log_in


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has ``column``."""
    [frame] = [df.value for df in app.dataframe if column in df.value.columns]
    return frame


def open_quality(app: AppTest, role: str, project: str) -> AppTest:
    log_in(app, role)
    app.switch_page("pages/quality.py")
    app.run()
    app.selectbox(key="quality_project").set_value(project)
    return app.run()


def test_ops_sees_agreement_heatmap_and_gold_intervals(app: AppTest) -> None:
    open_quality(app, "ops", "retail-sentiment")
    assert not app.exception, app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    alpha = float(metrics["Krippendorff's alpha"])
    assert 0 < alpha < 1
    assert int(metrics["Items rated"].replace(",", "")) > 100
    headings = [sub.value for sub in app.subheader]
    assert headings == [
        "Agreement",
        "Cohen's kappa per pair",
        "Gold accuracy, last 30 days",
        "Most disputed items",
    ]
    gold = table_with(app, "gold_answered")
    people = set(gold["annotator"])
    assert {"Amara Okafor", "Dana Voss"} <= people
    assert (gold["accuracy_ci_low"] <= gold["accuracy"]).all()
    assert (gold["accuracy"] <= gold["accuracy_ci_high"] + 1e-12).all()
    # The planted fast-but-inaccurate annotator is credibly below the steady performer.
    by_name = gold.set_index("annotator")
    assert by_name["accuracy_ci_high"]["Dana Voss"] < by_name["accuracy_ci_low"]["Amara Okafor"]
    disputed = table_with(app, "item")
    assert len(disputed) == 20 and (disputed["agreement"] < 1).all()
    assert not app.info


def test_ops_can_widen_the_gold_window(app: AppTest) -> None:
    open_quality(app, "ops", "retail-sentiment")
    answered_30 = int(table_with(app, "gold_answered")["gold_answered"].sum())
    app.selectbox(key="quality_days").set_value(90)
    app.run()
    assert not app.exception, app.exception
    assert "Gold accuracy, last 90 days" in [sub.value for sub in app.subheader]
    answered_90 = int(table_with(app, "gold_answered")["gold_answered"].sum())
    assert answered_90 > answered_30


def test_lead_sees_only_their_team(app: AppTest) -> None:
    open_quality(app, "lead", "retail-sentiment")
    assert not app.exception, app.exception
    gold = set(table_with(app, "gold_answered")["annotator"])
    # The demo lead leads the Text team: Amara is in it, Dana (Mixed team) is not.
    assert "Amara Okafor" in gold and "Dana Voss" not in gold
    majority = set(table_with(app, "agreement_with_majority")["annotator"])
    assert "Amara Okafor" in majority and "Dana Voss" not in majority
    captions = [caption.value for caption in app.caption]
    assert any("Your team's annotators only." in caption for caption in captions)
    # The project's own figures count other teams' labels: withheld, and said so.
    assert "Krippendorff's alpha" not in {metric.label for metric in app.metric}
    assert "Most disputed items" not in {sub.value for sub in app.subheader}
    assert any(info.value == PROJECT_FIGURES_WITHHELD for info in app.info)
    # Only the Text team's projects are offered.
    assert set(app.selectbox(key="quality_project").options) == {
        "retail-sentiment",
        "support-intents",
    }
    # Under the title: how fresh the figures are.
    assert captions[0].startswith("Figures as of ")


@pytest.mark.parametrize("role", ["admin", "finance", "annotator"])
def test_other_roles_cannot_reach_quality(app: AppTest, demo_url: str, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/quality.py")
    engine = make_engine(demo_url)
    try:
        with make_session_factory(engine)() as session, pytest.raises(PermissionDenied):
            summarise_quality(session, Principal(username=role, role=role))
    finally:
        engine.dispose()
