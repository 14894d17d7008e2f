"""The Team page per role: a lead's team only, the confusion matrix, and the composer."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import Annotator, DailyRollup, FeedbackNote, Project, User
from tests.pages.conftest import as_read, log_in
from tests.pages.workforce_helpers import database, texts


def open_team(app: AppTest, role: str) -> AppTest:
    log_in(app, role)
    app.switch_page("pages/team.py")
    return app.run()


def test_a_lead_sees_their_team_with_readable_columns(app: AppTest) -> None:
    open_team(app, "lead")
    assert not app.exception, app.exception
    table = app.dataframe[0]
    names = set(table.value["name"])
    assert "Amara Okafor" in names and "Rex Turner" not in names
    # Column names a person would write, percentages as percentages, a sparkline.
    config = json.loads(table.proto.columns)
    assert config["accuracy"]["label"] == "Gold accuracy"
    assert config["accuracy"]["type_config"]["format"] == "percent"
    assert config["trend"]["type_config"]["type"] == "line_chart"
    shown = [name for name in table.value.columns if name in config]
    assert all("_" not in config[name]["label"] for name in shown)
    assert "UTC days" in texts(app)


def test_ops_picks_any_team_and_sees_the_drilldown(app: AppTest) -> None:
    open_team(app, "ops")
    assert not app.exception, app.exception
    teams = app.selectbox(key="team_team")
    seen = set()
    for team in teams.options:
        teams.select(team)
        app.run()
        assert not app.exception, app.exception
        seen |= set(app.dataframe[0].value["name"])
        teams = app.selectbox(key="team_team")
    assert {"Amara Okafor", "Rex Turner"} <= seen
    assert any("labels against gold" in sub.value for sub in app.subheader)


@pytest.mark.parametrize("role", ["finance", "annotator"])
def test_finance_and_annotators_cannot_open_team(app: AppTest, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/team.py")


def test_lead_finds_the_confused_label_and_sends_feedback_with_evidence(
    app: AppTest, demo_url: str
) -> None:
    open_team(app, "lead")
    assert not app.exception, app.exception
    person = app.selectbox(key="team_person").value
    confusions = [text.value for text in app.text if text.value.startswith("Gold '")]
    assert confusions, "the most confused labels are listed"
    evidence = app.multiselect(key=f"team_feedback_{person}-0-evidence")
    chosen = evidence.options[:2]
    evidence.set_value(chosen)
    app.text_area(key=f"team_feedback_{person}-0-text").input(
        "You often pick the neighbouring label; re-read the examples."
    )
    [send] = [button for button in app.button if button.label == "Send feedback"]
    send.click().run()
    assert not app.exception, app.exception
    assert any("golden item(s) attached" in as_read(message.value) for message in app.success)
    with database(demo_url) as session:
        note = session.scalars(
            select(FeedbackNote).where(FeedbackNote.text.startswith("You often pick"))
        ).one()
        assert len(note.evidence["golden_items"]) == len(chosen)
        assert note.author == "lead"


def test_quality_opens_on_a_project_the_leads_team_works_on(app: AppTest, demo_url: str) -> None:
    log_in(app, "lead")
    app.switch_page("pages/quality.py")
    app.run()
    assert not app.exception, app.exception
    opened = app.selectbox(key="quality_project").value
    with database(demo_url) as session:
        team_id = session.scalar(select(User.team_id).where(User.username == "lead"))
        worked = set(
            session.scalars(
                select(Project.slug)
                .join(DailyRollup, DailyRollup.project_id == Project.id)
                .join(Annotator, Annotator.id == DailyRollup.annotator_id)
                .where(Annotator.team_id == team_id)
            )
        )
    assert opened in worked
