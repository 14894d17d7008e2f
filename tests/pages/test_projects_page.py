"""The Projects page for each role: forecasts, the staffing panel, proposals, and denial."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import Annotator, Team
from tests.pages.conftest import as_read, log_in
from tests.pages.workforce_helpers import database, frame_with, labelled, open_page, texts

LATE = "street-scenes"


def pick(app: AppTest, slug: str) -> AppTest:
    box = app.selectbox(key="projects-project")
    option = next(value for value in box.options if value.endswith(f"({slug})"))
    return box.select(option).run()


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: str(metric.value) for metric in app.metric}


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_ops_see_the_late_project_with_its_forecast_and_staffing(app: AppTest, role: str) -> None:
    open_page(app, role, "projects")
    assert not app.exception, app.exception
    pick(app, LATE)
    assert not app.exception, app.exception
    shown = metrics(app)
    assert {"Done", "Per day", "Forecast finish", "Forecast cost"} <= set(shown)
    finish = next(metric for metric in app.metric if metric.label == "Forecast finish")
    assert "days late" in str(finish.delta)
    page = texts(app)
    assert "How the forecast is made" in page and "80% range" in page
    assert "people** are needed" in page or "people are needed" in page
    candidates = frame_with(app, "why")
    assert list(candidates["rank"]) == list(range(1, len(candidates) + 1))
    assert candidates["why"].str.contains("passed image_classification").all()
    assert [tab.label for tab in app.tabs] == ["Requirements", "Staffing", "Proposals"]


def test_ops_propose_and_approve_and_the_forecast_counts_the_new_person(
    app: AppTest, demo_url: str
) -> None:
    open_page(app, "ops", "projects")
    pick(app, LATE)
    assigned_before = int(
        next(c.value for c in app.caption if "assigned today" in str(c.value))
        .split("; ")[1]
        .split()[0]
    )
    person = labelled(app.selectbox, "Person")
    person.select(person.options[0])
    submit = next(button for button in app.button if button.label == "Propose")
    submit.click().run()
    assert not app.exception, app.exception
    assert "Proposal recorded" in texts(app)
    approve = next(button for button in app.button if button.label == "Approve")
    approve.click().run()
    assert not app.exception, app.exception
    assert "Proposal approved" in texts(app)
    caption = next(str(c.value) for c in app.caption if "assigned today" in str(c.value))
    assert f"{assigned_before + 1} assigned today" in caption
    decided = frame_with(app, "decision note")
    assert "approved" in set(decided["status"])


def test_a_lead_sees_their_teams_projects_and_people_and_no_money(
    app: AppTest, demo_url: str
) -> None:
    open_page(app, "lead", "projects")
    assert not app.exception, app.exception
    options = app.selectbox(key="projects-project").options
    assert any("retail-sentiment" in option for option in options)
    assert not any("defect-inspection" in option for option in options)
    shown = metrics(app)
    assert "Forecast cost" not in shown and "Quality target" in shown
    with database(demo_url) as session:
        text_team = set(
            session.scalars(
                select(Annotator.display_name)
                .join(Team, Team.id == Annotator.team_id)
                .where(Team.name == "Text")
            )
        )
    excluded = frame_with(app, "why not")
    listed = set(excluded["name"])
    for element in app.dataframe:
        if "why" in element.value.columns:
            listed |= set(element.value["name"])
    assert listed and listed <= text_team
    page = texts(app)
    assert "Your team only." in page
    on_project = page.split("On the project now: ")[1].split(".")[0].split(", ")
    assert set(on_project) <= text_team


def test_finance_reads_projects_with_money_but_no_staffing(app: AppTest) -> None:
    open_page(app, "finance", "projects")
    assert not app.exception, app.exception
    pick(app, LATE)
    assert "Forecast cost" in metrics(app)
    assert [tab.label for tab in app.tabs] == ["Requirements"]
    assert "Read only." in texts(app)
    assert not any(element.value.columns.isin(["why"]).any() for element in app.dataframe)


def test_annotators_have_no_projects_page(app: AppTest) -> None:
    log_in(app, "annotator")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/projects.py")


def shown_slug(app: AppTest) -> str:
    box = app.selectbox(key="projects-project")
    return str(box.format_func(box.value)).rsplit("(", 1)[1].rstrip(")")


def test_a_link_opens_its_project_and_a_stale_address_does_not_undo_a_choice(
    app: AppTest,
) -> None:
    log_in(app, "ops")
    app.switch_page("pages/projects.py")
    app.query_params["project"] = LATE
    app.run()
    assert not app.exception, app.exception
    assert shown_slug(app) == LATE
    options = app.selectbox(key="projects-project").options
    other, third = [
        option.rsplit("(", 1)[1].rstrip(")") for option in options if LATE not in option
    ][:2]
    pick(app, other)
    assert shown_slug(app) == other
    assert app.query_params["project"] == other
    # The next click comes from a browser whose address still names the project before.
    app.query_params["project"] = LATE
    app.run()
    assert shown_slug(app) == other
    app.run()
    assert shown_slug(app) == other
    # Once the browser has the new address, a new one in it (a link) chooses again.
    app.query_params["project"] = other
    app.run()
    assert shown_slug(app) == other
    app.query_params["project"] = third
    app.run()
    assert shown_slug(app) == third


def test_a_link_to_another_teams_project_says_so(app: AppTest) -> None:
    log_in(app, "lead")
    app.switch_page("pages/projects.py")
    # The demo lead's Text team works on retail-sentiment and support-intents.
    app.query_params["project"] = "defect-inspection"
    app.run()
    assert not app.exception, app.exception
    assert shown_slug(app) != "defect-inspection"
    assert any(
        "(defect-inspection) you cannot open here" in as_read(warning.value)
        for warning in app.warning
    )
