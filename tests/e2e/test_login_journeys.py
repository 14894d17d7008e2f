"""A person opens the dashboard, logs in as each role, sees real numbers, logs out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import PASSWORD, rerun, settle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

HOME_TITLES = {
    "admin": "System overview",
    "ops": "Operations",
    "lead": "My team",
    "finance": "Spend",
    "annotator": "My scorecard",
}


def log_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Open ``base`` and log in; returns once the page the login leads to has been drawn."""
    page.goto(base)
    settle(page)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    with rerun(page):
        page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("role", list(HOME_TITLES))
def test_each_demo_login_reaches_its_home(
    page: Page, served_demo: str, role: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log_in(page, served_demo, role)
    page.get_by_role("heading", name=HOME_TITLES[role]).wait_for()
    page.get_by_test_id("stMetric").first.wait_for()
    body = page.get_by_test_id("stMain").inner_text()
    assert "Traceback" not in body and "Error" not in body
    if role == "finance":
        assert "USD" in body
    if role == "ops":
        assert "Active annotators" in body
    shots = Path(tmp_path_factory.getbasetemp()) / "screens"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / f"home-{role}.png"), full_page=True)


def test_wrong_password_then_logout(page: Page, served_demo: str) -> None:
    log_in(page, served_demo, "ops", "definitely-wrong")
    page.get_by_text("Unknown user name or wrong password.").wait_for()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with rerun(page):
        page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Operations").wait_for()
    settle(page)
    # The logout run can be short enough to leave no mark: wait for what it draws.
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for()
    settle(page)
    assert page.get_by_role("heading", name="Operations").count() == 0
