"""The Pool page for each role, and a role that must not see it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.models import Annotator
from ops.permissions import SYSTEM
from ops.workforce.roster import AnnotatorDetails, create_annotator
from tests.factories import make_annotator
from tests.pages.conftest import as_read, log_in
from tests.pages.workforce_helpers import (
    annotator_id,
    database,
    frame_with,
    labelled,
    open_page,
    open_tab,
    texts,
)


def roster(app: AppTest) -> set[str]:
    return set(frame_with(app, "current projects")["name"])


@pytest.mark.parametrize("role", ["ops", "admin", "finance"])
def test_the_whole_pool_with_contact_details(app: AppTest, role: str, demo_url: str) -> None:
    open_page(app, role, "pool")
    assert not app.exception, app.exception
    assert app.title[0].value == "Annotator pool"
    frame = frame_with(app, "current projects")
    with database(demo_url) as session:
        assert len(frame) == session.scalar(select(func.count(Annotator.id)))
    assert {"Amara Okafor", "Rex Turner"} <= set(frame["name"])
    assert "email" in frame.columns
    assert frame.loc[frame["name"] == "Amara Okafor", "email"].iloc[0].endswith(".example")
    assert app.get("download_button")
    tabs = [tab.label for tab in app.tabs]
    assert ("Add annotator" in tabs) == (role != "finance")


def test_a_lead_sees_only_their_team_without_contacts(app: AppTest) -> None:
    open_page(app, "lead", "pool")
    assert not app.exception
    frame = frame_with(app, "current projects")
    assert "Amara Okafor" in set(frame["name"])
    assert "Rex Turner" not in set(frame["name"])
    assert set(frame["team"]) == {"Text"}
    assert "email" not in frame.columns and "phone" not in frame.columns
    assert "Add annotator" not in [tab.label for tab in app.tabs]


def test_only_the_open_tab_is_computed(app: AppTest) -> None:
    open_page(app, "ops", "pool")
    assert frame_with(app, "current projects") is not None
    assert all("meets all" not in element.value.columns for element in app.dataframe)
    open_tab(app, "pool-tabs", "Promotion")
    assert not app.exception
    assert all("current projects" not in element.value.columns for element in app.dataframe)
    assert "Amara Okafor" in set(frame_with(app, "meets all")["name"])


def test_annotators_have_no_pool_page(app: AppTest) -> None:
    log_in(app, "annotator")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/pool.py")
    assert "Annotator pool" not in texts(app)


def test_filters_narrow_the_roster(app: AppTest) -> None:
    open_page(app, "ops", "pool")
    app.multiselect(key="pool-tiers").select("lead").run()
    assert len(roster(app)) == 4
    app.text_input(key="pool-search").input("amara").run()
    assert roster(app) == set()
    app.multiselect(key="pool-tiers").unselect("lead").run()
    assert roster(app) == {"Amara Okafor"}


def test_sorting_by_accuracy_puts_the_inaccurate_last(app: AppTest) -> None:
    open_page(app, "ops", "pool")
    app.multiselect(key="pool-statuses").select("active").run()
    app.segmented_control(key="pool-sort").set_value("accuracy lower bound").run()
    app.toggle(key="pool-descending").set_value(True).run()
    names = list(frame_with(app, "current projects")["name"])
    assert names.index("Amara Okafor") < names.index("Rex Turner")
    assert names.index("Amara Okafor") < names.index("Dana Voss")


def test_training_due_lists_priyas_expired_domain_training(app: AppTest) -> None:
    open_page(app, "ops", "pool")
    open_tab(app, "pool-tabs", "Training due")
    due = frame_with(app, "expires")
    row = due[due["annotator"] == "Priya Nair"]
    assert list(row["status"]) == ["expired"] and list(row["kind"]) == ["domain"]


def test_a_leads_training_list_covers_only_their_team(app: AppTest) -> None:
    open_page(app, "lead", "pool")
    open_tab(app, "pool-tabs", "Training due")
    # Priya is in the Vision team; the lead leads Text, whose training is current.
    assert "Everyone's training is current." in texts(app)
    assert all("expires" not in element.value.columns for element in app.dataframe)


@pytest.mark.parametrize("role", ["ops", "lead"])
def test_amara_qualifies_for_reviewer(app: AppTest, role: str) -> None:
    open_page(app, role, "pool")
    open_tab(app, "pool-tabs", "Promotion")
    candidates = frame_with(app, "meets all")
    qualified = set(candidates.loc[candidates["meets all"], "name"])
    assert qualified == {"Amara Okafor"}
    assert len(candidates) > 1
    app.toggle(key="promo-only").set_value(True).run()
    assert list(frame_with(app, "meets all")["name"]) == ["Amara Okafor"]


def test_adding_a_person_shows_errors_next_to_fields_then_adds(app: AppTest) -> None:
    open_page(app, "ops", "pool")
    open_tab(app, "pool-tabs", "Add annotator")
    labelled(app.text_input, "Name").input("Wen Li")
    labelled(app.text_input, "Email").input("not an email")
    labelled(app.text_input, "Languages").input("zh, en")
    labelled(app.button, "Add to the pool").click().run()
    assert not app.exception
    assert [as_read(error.value) for error in app.error] == [
        "'not an email' is not an email address (name@example.org)."
    ]
    labelled(app.text_input, "Email").input("wen.li@example.org")
    labelled(app.button, "Add to the pool").click().run()
    assert not app.exception
    assert "Wen Li added to the pool." in texts(app)
    open_tab(app, "pool-tabs", "Roster")
    assert "Wen Li" in roster(app)


def test_open_profile_goes_to_the_person(app: AppTest, demo_url: str) -> None:
    open_page(app, "ops", "pool")
    app.selectbox(key="pool-open").set_value(annotator_id(demo_url, "Amara Okafor"))
    app.button(key="pool-open-button").click().run()
    assert not app.exception
    assert app.title[0].value == "Annotator profile"
    assert app.subheader[0].value == "Amara Okafor"


def test_the_skill_filter_offers_the_kinds_of_labeling_people_do(app: AppTest) -> None:
    open_page(app, "ops", "pool")
    skill = app.selectbox(key="pool-skill")
    assert {"image classification", "text classification"} <= set(skill.options)
    everyone = roster(app)
    skill.select("text classification").run()
    text_people = roster(app)
    assert "Amara Okafor" in text_people and text_people < everyone


def test_reads_are_cached_until_a_write_moves_the_data_version(app: AppTest, demo_url: str) -> None:
    open_page(app, "ops", "pool")
    # Written behind annops' back (no audit entry): the cached roster does not show it...
    with database(demo_url) as session:
        make_annotator(session, display_name="Zed Unaudited")
    app.run()
    assert "Zed Unaudited" not in roster(app)
    # ...while a write through annops is audited, moves the data version, and shows at once.
    with database(demo_url) as session:
        create_annotator(
            session, SYSTEM, AnnotatorDetails(display_name="Zed Audited", team_id=None)
        )
    app.run()
    assert not app.exception
    assert {"Zed Unaudited", "Zed Audited"} <= roster(app)


def test_include_archived_adds_archived_people_from_the_same_roster(
    app: AppTest, demo_url: str
) -> None:
    with database(demo_url) as session:
        make_annotator(session, display_name="Arch Ived", archived_at=dt.datetime.now(dt.UTC))
    open_page(app, "ops", "pool")
    assert "Arch Ived" not in roster(app)
    before = len(roster(app))
    app.checkbox(key="pool-archived").check().run()
    assert not app.exception
    assert "Arch Ived" in roster(app)
    assert len(roster(app)) == before + 1
    frame = frame_with(app, "current projects")
    assert list(frame.loc[frame["name"] == "Arch Ived", "archived"]) == [True]
    # A narrowing filter keeps to the archived switch as well.
    app.text_input(key="pool-search").input("arch iv").run()
    assert roster(app) == {"Arch Ived"}
    app.checkbox(key="pool-archived").uncheck().run()
    assert roster(app) == set()
