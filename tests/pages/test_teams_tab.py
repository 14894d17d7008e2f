"""The Pool page's Teams tab: admins and ops add and rename teams; others do not see it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from db.migrate import upgrade
from ops.auth import create_user
from ops.permissions import SYSTEM
from ops.settings import get_settings
from tests.pages.conftest import APP, PASSWORD, as_read
from tests.pages.workforce_helpers import (
    database,
    frame_with,
    labelled,
    open_page,
    open_tab,
    texts,
)


def teams_table(app: AppTest) -> dict[str, tuple[int, str]]:
    frame = frame_with(app, "lead logins")
    return {row["team"]: (int(row["people"]), row["lead logins"]) for _, row in frame.iterrows()}


def form_errors(app: AppTest, label: str) -> list[str]:
    """The errors shown inside the form that has the text input ``label``: under its fields."""
    for form in app.get("form"):
        if any(widget.label == label for widget in form.text_input):
            return [as_read(error.value) for error in form.error]
    raise AssertionError(f"no form with a {label!r} field")


def test_an_admin_adds_and_renames_a_team_and_the_pool_offers_it(app: AppTest) -> None:
    open_page(app, "admin", "pool")
    open_tab(app, "pool-tabs", "Teams")
    assert not app.exception, app.exception
    listed = teams_table(app)
    assert listed["Text"][0] > 0 and listed["Text"][1] != ""
    # A name another team has, in another case, is refused under the name field.
    labelled(app.text_input, "Team name").input("  TEXT ")
    labelled(app.button, "Add team").click().run()
    assert not app.exception, app.exception
    assert [as_read(error.value) for error in app.error] == ["A team named 'Text' already exists."]
    assert form_errors(app, "Team name") == ["A team named 'Text' already exists."]
    labelled(app.text_input, "Team name").input("  Night shift ")
    labelled(app.button, "Add team").click().run()
    assert not app.exception, app.exception
    assert "Team Night shift added." in texts(app)
    assert teams_table(app)["Night shift"] == (0, "")
    labelled(app.selectbox, "Team").select("Night shift")
    labelled(app.text_input, "New name").input("Late shift")
    labelled(app.button, "Rename team").click().run()
    assert not app.exception, app.exception
    assert "Team Night shift is now Late shift." in texts(app)
    listed = teams_table(app)
    assert "Late shift" in listed and "Night shift" not in listed
    open_tab(app, "pool-tabs", "Roster")
    team_filter = app.selectbox(key="pool-team")
    assert "Late shift" in team_filter.options


def test_a_blank_name_is_refused_under_its_field(app: AppTest) -> None:
    open_page(app, "ops", "pool")
    open_tab(app, "pool-tabs", "Teams")
    labelled(app.button, "Add team").click().run()
    assert not app.exception, app.exception
    assert form_errors(app, "Team name") == ["Enter the team's name."]


@pytest.mark.parametrize("role", ["lead", "finance"])
def test_leads_and_finance_do_not_see_the_teams_tab(app: AppTest, role: str) -> None:
    open_page(app, role, "pool")
    assert not app.exception, app.exception
    assert "Teams" not in [tab.label for tab in app.tabs]
    assert "Add team" not in [button.label for button in app.button]


def test_a_team_added_on_the_pool_page_is_offered_for_a_new_login(app: AppTest) -> None:
    open_page(app, "admin", "pool")
    open_tab(app, "pool-tabs", "Teams")
    labelled(app.text_input, "Team name").input("Audio")
    labelled(app.button, "Add team").click().run()
    assert not app.exception, app.exception
    app.switch_page("pages/users.py")
    app.run()
    assert not app.exception, app.exception
    assert "Audio" in labelled(app.selectbox, "Team (a lead sees this team)").options


@pytest.fixture
def fresh_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """The dashboard on a new installation: the schema and one admin login, nothing else."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    with database(url) as session:
        create_user(session, SYSTEM, username="first-admin", role="admin", password=PASSWORD)
    monkeypatch.setenv("ANNOPS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield AppTest.from_file(APP, default_timeout=30)
    get_settings.cache_clear()


def test_on_a_new_installation_an_admin_adds_the_first_team(fresh_app: AppTest) -> None:
    open_page(fresh_app, "first-admin", "pool")
    open_tab(fresh_app, "pool-tabs", "Teams")
    assert not fresh_app.exception, fresh_app.exception
    assert "There are no teams yet. Add the first one below." in texts(fresh_app)
    labelled(fresh_app.text_input, "Team name").input("Audio")
    labelled(fresh_app.button, "Add team").click().run()
    assert not fresh_app.exception, fresh_app.exception
    assert teams_table(fresh_app) == {"Audio": (0, "")}
