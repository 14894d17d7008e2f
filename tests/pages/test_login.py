"""Login, lockout, logout and per-role navigation in the real app script."""

from __future__ import annotations

import json
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ops.sessions import claim_handoff
from tests.pages.conftest import log_in
from tests.pages.workforce_helpers import database


def texts(app: AppTest) -> str:
    parts = [element.value for element in (*app.title, *app.markdown, *app.caption, *app.subheader)]
    parts += [str(metric.label) + " " + str(metric.value) for metric in app.metric]
    return "\n".join(str(part) for part in parts)


def test_login_page_is_shown_first(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert app.text_input(key="login_username") is not None
    assert "annops" in texts(app)
    assert not app.metric


def test_a_wrong_password_and_an_unknown_name_get_one_message(app: AppTest) -> None:
    log_in(app, "ops", "not-the-password")
    assert not app.exception
    wrong_password = app.error[0].value
    assert wrong_password.startswith("Unknown user name or wrong password.")
    assert "attempts left" not in wrong_password
    assert not app.metric
    log_in(app, "nobody-here", "not-the-password")
    assert app.error[0].value == wrong_password


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", ["User accounts", "Annotation events", "Last import", "Last job run"]),
        ("ops", ["Active annotators", "Annotations, last 7 days", "Gold accuracy, last 7 days"]),
        ("lead", ["Active in team", "Team gold accuracy"]),
        (
            "finance",
            [
                "Spend this month (USD)",
                "Spend last month (USD)",
                "Cost per annotation, this month (USD)",
            ],
        ),
        (
            "annotator",
            ["Annotations, last 7 days", "Gold accuracy, last 30 days", "Feedback to read"],
        ),
    ],
)
def test_each_role_lands_on_its_home_with_real_numbers(
    app: AppTest, role: str, expected: list[str]
) -> None:
    log_in(app, role)
    assert not app.exception, app.exception
    labels = [metric.label for metric in app.metric]
    for label in expected:
        assert label in labels
    values = {metric.label: metric.value for metric in app.metric}
    if role == "ops":
        assert int(values["Active annotators"].replace(",", "")) > 10
        assert int(values["Annotations, last 7 days"].replace(",", "")) > 0
    if role == "finance":
        assert values["Spend last month (USD)"].startswith("USD ")
        assert values["Spend last month (USD)"] != "USD 0.00"
    if role == "annotator":
        assert "%" in values["Gold accuracy, last 30 days"]


def test_annotator_sees_only_their_own_scorecard(app: AppTest) -> None:
    log_in(app, "annotator")
    assert "My scorecard" in texts(app)
    # Nobody else's names appear and there is no team table.
    assert not app.dataframe


def test_lead_sees_only_their_team(app: AppTest) -> None:
    log_in(app, "lead")
    frame = app.dataframe[0].value
    assert "Amara Okafor" in set(frame["annotator"])
    # Rex Turner is in the Vision team, not the lead's Text team.
    assert "Rex Turner" not in set(frame["annotator"])


def test_logout_forgets_the_user_and_hides_the_data(app: AppTest) -> None:
    log_in(app, "ops")
    app.sidebar.button(key="logout").click()
    app.run()
    assert "principal" not in app.session_state
    assert not app.metric
    assert not app.exception


def test_five_failures_lock_the_account_without_telling_it_exists(app: AppTest) -> None:
    for _ in range(5):
        log_in(app, "finance", "wrong-password")
    refusal = app.error[0].value
    assert "locked for 15 minutes" in refusal
    # The right password no longer opens it, and the message stays the same.
    log_in(app, "finance")
    assert app.error[0].value == refusal
    assert not app.metric


def session_requests(app: AppTest) -> list[dict[str, Any]]:
    """What this run asks the browser to send to the session endpoint."""
    return [
        json.loads(element.proto.json)
        for element in app.get("bidi_component")
        if element.proto.component_name == "annops_session_cookie"
    ]


def test_the_login_is_handed_to_the_browser_in_every_run_until_it_has_the_cookie(
    app: AppTest, demo_url: str
) -> None:
    log_in(app, "ops")
    first = session_requests(app)
    assert [request["method"] for request in first] == ["POST"]
    # A click can cut the first run after the login short, before its request reaches
    # the browser: the next run asks again, with the same code.
    app.run()
    assert session_requests(app) == first
    app.switch_page("pages/alerts.py").run()
    assert session_requests(app) == first
    # Once the browser has traded the code for its cookie, the runs stop asking.
    with database(demo_url) as session:
        assert claim_handoff(session, first[0]["code"]) is not None
    app.run()
    assert not app.exception
    assert session_requests(app) == []
    assert app.sidebar.button(key="logout") is not None
