"""The Alerts and Review pages per role, on the demo's own alerts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import Alert
from tests.pages.conftest import as_read, log_in
from tests.pages.workforce_helpers import database, frame_with


def open_page(app: AppTest, role: str, page: str) -> AppTest:
    log_in(app, role)
    app.switch_page(f"pages/{page}")
    return app.run()


def test_ops_sees_the_demo_stories_and_their_evidence(app: AppTest) -> None:
    open_page(app, "ops", "alerts.py")
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    titles = set(table["title"])
    assert "Fast but inaccurate" in titles
    assert "Several annotators dropped at once" in titles
    assert "Budget burning ahead of progress" in titles
    assert "Assigned with expired training" in titles
    # The first alert's evidence and decision form are shown.
    assert any(sub.value.startswith("#") for sub in app.subheader)
    assert app.radio(key=f"triage_status_{int(table.iloc[0]['id'])}") is not None


def test_ops_acknowledges_an_alert_and_it_leaves_the_open_list(app: AppTest) -> None:
    open_page(app, "ops", "alerts.py")
    first = int(app.dataframe[0].value.iloc[0]["id"])
    app.radio(key=f"triage_status_{first}").set_value("acknowledged")
    app.text_area(key=f"triage_note_{first}").input("Looking into it")
    form_buttons = [b for b in app.button if b.label == "Save decision"]
    form_buttons[0].click()
    app.run()
    assert not app.exception, app.exception
    assert first not in set(app.dataframe[0].value["id"])
    # The alert left the list, and the page says where it went.
    assert any(
        f"Alert #{first}" in as_read(message.value)
        and "is now acknowledged" in as_read(message.value)
        for message in app.success
    )
    app.selectbox(key="alerts_status").set_value("acknowledged")
    app.run()
    assert first in set(app.dataframe[0].value["id"])


def test_ops_sees_every_alert_threshold_of_a_project_readably(app: AppTest) -> None:
    from dataclasses import fields

    from ops.alerts import AlertSettings

    open_page(app, "ops", "alerts.py")
    # Reachable before any filter is set: the editor has its own project picker.
    assert app.number_input(key="threshold_window_days").label == "Window (days)"
    app.selectbox(key="alerts_project").set_value("retail-sentiment")
    app.run()
    assert not app.exception, app.exception
    assert app.selectbox(key="thresholds_project_retail-sentiment").value == "retail-sentiment"
    for setting in fields(AlertSettings):
        field = app.number_input(key=f"threshold_{setting.name}")
        assert field.value == setting.default
        assert "_" not in field.label and field.help
    change = app.number_input(key="threshold_systematic_change_p_value")
    assert (change.value, change.proto.format) == (0.001, "%g")
    assert app.number_input(key="threshold_window_days").proto.format == "%d"


def test_lead_sees_only_alerts_about_their_team(app: AppTest) -> None:
    open_page(app, "lead", "alerts.py")
    assert not app.exception, app.exception
    subjects = set(app.dataframe[0].value["subject"]) if app.dataframe else set()
    # Rex Turner is in the Vision team; the demo lead leads the Text team.
    assert "rex.turner@annotators.example" not in subjects
    assert "street-scenes" not in subjects


@pytest.mark.parametrize("page", ["alerts.py", "review.py"])
def test_finance_cannot_open_alerts_or_review(app: AppTest, page: str) -> None:
    log_in(app, "finance")
    # The page is not registered for finance at all, so it cannot be reached.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(f"pages/{page}")


def test_review_sample_is_sized_and_allocated(app: AppTest) -> None:
    open_page(app, "ops", "review.py")
    assert not app.exception, app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    population = int(metrics["Unreviewed annotations"].replace(",", ""))
    sample = int(metrics["To review"].replace(",", ""))
    assert 0 < sample < population
    allocation = app.dataframe[0].value
    assert int(allocation["sample"].sum()) == sample


def alert_of(url: str, rule: str) -> int:
    with database(url) as session:
        return int(
            session.scalars(select(Alert.id).where(Alert.rule == rule).order_by(Alert.id)).first()
            or 0
        )


def shown_text(app: AppTest) -> str:
    groups = (app.text, app.markdown, app.caption, app.subheader)
    return "\n".join(str(element.value) for group in groups for element in group)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("systematic_issue", ["people in", "dropped by at least", "Check first"]),
        ("budget_burn", ["has spent USD", "budget ("]),
        ("quality_vs_speed", ["credibly below the target", "per annotation"]),
    ],
)
def test_alert_evidence_reads_as_sentences_and_named_figures(
    app: AppTest, demo_url: str, rule: str, words: list[str]
) -> None:
    alert_id = alert_of(demo_url, rule)
    log_in(app, "ops")
    app.switch_page("pages/alerts.py")
    app.query_params["alert"] = str(alert_id)
    app.run()
    assert not app.exception, app.exception
    text = shown_text(app)
    for word in words:
        assert word in text, (word, text)
    figures = frame_with(app, "figure")
    assert not any("_" in label for label in figures["figure"]), list(figures["figure"])
    for raw in ("[", "{", "None", "_minor", "_ids"):
        assert not any(raw in value for value in figures["value"]), list(figures["value"])
    if rule == "systematic_issue":
        people = frame_with(app, "profile")
        assert len(people) > 0 and all(name for name in people["name"])
        assert all(link.startswith("/annotator?annotator=") for link in people["profile"])


def warnings_of(app: AppTest) -> list[str]:
    return [as_read(warning.value) for warning in app.warning]


def test_a_link_to_an_alert_the_lead_may_not_see_says_so(app: AppTest, demo_url: str) -> None:
    # Rex Turner's fast-but-inaccurate alert; the demo lead leads the Text team, not his.
    other_team = alert_of(demo_url, "quality_vs_speed")
    log_in(app, "lead")
    app.switch_page("pages/alerts.py")
    app.query_params["alert"] = str(other_team)
    app.run()
    assert not app.exception, app.exception
    assert any(f"The linked alert {other_team} is not among" in text for text in warnings_of(app))
    assert not any(sub.value.startswith(f"#{other_team} ") for sub in app.subheader)


@pytest.mark.parametrize("linked", ["abc", "999999"])
def test_a_link_to_no_alert_says_so(app: AppTest, linked: str) -> None:
    log_in(app, "ops")
    app.switch_page("pages/alerts.py")
    app.query_params["alert"] = linked
    app.run()
    assert not app.exception, app.exception
    assert any(f"The linked alert {linked} is not among" in text for text in warnings_of(app))


def test_a_link_to_a_listed_alert_opens_it_without_a_warning(app: AppTest, demo_url: str) -> None:
    linked = alert_of(demo_url, "budget_burn")
    log_in(app, "ops")
    app.switch_page("pages/alerts.py")
    app.query_params["alert"] = str(linked)
    app.run()
    assert not app.exception, app.exception
    assert not warnings_of(app)
    assert any(sub.value.startswith(f"#{linked} ") for sub in app.subheader)
