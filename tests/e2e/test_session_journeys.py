"""A login that survives a reload and a new tab, deep links, logout, and an admin ending a
logged-in user's access from another browser, all in real Chromium."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, rerun, settle
from tests.e2e.test_login_journeys import log_in
from tests.e2e.test_pool_journey import choose

pytestmark = pytest.mark.e2e

COOKIE = "annops_session"
NEW_USER = "dana.tester"
NEW_PASSWORD = "a sturdy passphrase for dana"


def session_cookie(context: Any) -> dict[str, Any]:
    """The session cookie once the browser has it (the tab sets it right after login)."""
    for _ in range(100):
        cookies = [cookie for cookie in context.cookies() if cookie["name"] == COOKIE]
        if cookies:
            return dict(cookies[0])
        context.pages[0].wait_for_timeout(100)
    pytest.fail("the session cookie was never set")


def screenshot(page: Any, tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    shots = Path(tmp_path_factory.getbasetemp()) / "screens"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_a_login_survives_reload_new_tab_and_deep_links_until_logout(
    page: Any, browser: Any, served_demo: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A deep link opens its page right after the login.
    log_in(page, served_demo + "/pool", "ops")
    page.get_by_role("heading", name="Annotator pool").wait_for()
    assert page.url == served_demo + "/pool"
    cookie = session_cookie(page.context)
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Strict", False)
    assert COOKIE not in page.evaluate("document.cookie")

    page.reload()
    page.get_by_role("heading", name="Annotator pool").wait_for()
    settle(page)
    assert page.get_by_role("button", name="Log in").count() == 0

    second = page.context.new_page()
    second.goto(served_demo + "/alerts")
    second.get_by_role("heading", name="Alerts", exact=True).wait_for()
    # A page of another role says so instead of "Page not found".
    second.goto(served_demo + "/users")
    second.get_by_text("Your role (ops) may not open Users.").wait_for()
    screenshot(second, tmp_path_factory, "deep-link-refused")
    second.close()

    with rerun(page):
        page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for()
    assert page.get_by_text("Your session has ended").count() == 0
    for _ in range(50):
        if not [c for c in page.context.cookies() if c["name"] == COOKIE]:
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail("logout left the session cookie in the browser")
    page.reload()
    page.get_by_role("button", name="Log in").wait_for()

    # The old cookie, replayed in another browser, opens nothing: the session ended.
    replay = browser.new_context()
    replay.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    other = replay.new_page()
    other.goto(served_demo + "/pool")
    other.get_by_role("button", name="Log in").wait_for()
    settle(other)
    assert other.get_by_role("heading", name="Annotator pool").count() == 0
    replay.close()


class SlowReplies:
    """Between the browser and the dashboard, holds the dashboard's messages back on
    request and then hands them over all at once, as a slow connection does."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.holding = False
        self.held: list[str | bytes] = []
        self.to_browser: Any = None

    def connect(self, browser_side: Any) -> None:
        server = browser_side.connect_to_server()
        self.to_browser = browser_side
        browser_side.on_message(server.send)
        server.on_message(self.reply)

    def reply(self, message: str | bytes) -> None:
        if self.holding:
            self.held.append(message)
        else:
            self.to_browser.send(message)

    def hold(self) -> None:
        self.holding = True

    def wait_for(self, marker: bytes, *, count: int = 1) -> None:
        """Wait until the held messages include ``count`` that contain ``marker``."""
        for _ in range(600):
            found = [m for m in self.held if isinstance(m, bytes) and marker in m]
            if len(found) >= count:
                return
            self.page.wait_for_timeout(50)
        pytest.fail(f"the dashboard never sent {marker!r} {count} times")

    def release(self) -> None:
        self.holding = False
        for message in self.held:
            self.to_browser.send(message)
        self.held.clear()


def test_a_click_before_the_first_run_after_login_shows_keeps_the_login(
    page: Any, served_demo: str
) -> None:
    replies = SlowReplies(page)
    page.route_web_socket("**/_stcore/stream", replies.connect)
    page.goto(served_demo)
    settle(page)
    page.get_by_label("User name").fill("ops")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    replies.hold()
    page.get_by_role("button", name="Log in").click()
    # The first run after the login asks the browser for the cookie; before the browser
    # has shown that run, the user clicks again, which starts another run.
    replies.wait_for(b"annops_session_cookie")
    page.get_by_role("button", name="Log in").click()
    replies.wait_for(b"Log out", count=2)
    replies.release()
    page.get_by_role("heading", name="Operations").wait_for()
    settle(page)
    session_cookie(page.context)
    page.reload()
    page.get_by_role("heading", name="Operations").wait_for()
    settle(page)
    assert page.get_by_role("button", name="Log in").count() == 0


def test_an_admin_disables_a_user_who_is_logged_in(
    browser: Any, served_demo: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    admin_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    admin = admin_context.new_page()
    admin.set_default_timeout(30_000)
    log_in(admin, served_demo + "/users", "admin")
    admin.get_by_role("heading", name="Users").wait_for()
    admin.get_by_role("tab", name="Add a user").click()
    form = admin.get_by_test_id("stForm").filter(has_text="Add user")
    form.get_by_label("User name").fill(NEW_USER)
    form.get_by_test_id("stSelectbox").filter(has_text="Role").click()
    admin.get_by_role("option", name="ops", exact=True).click()
    form.get_by_label("Password", exact=True).fill("password1234")
    form.get_by_label("Repeat the password").fill("password1234")
    with rerun(admin):
        form.get_by_role("button", name="Add user").click()
    admin.get_by_text("on the list of common passwords").wait_for()
    form.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    with rerun(admin):
        form.get_by_role("button", name="Add user").click()
    admin.get_by_text("User added.").wait_for()

    user_context = browser.new_context(viewport={"width": 1400, "height": 900})
    user = user_context.new_page()
    user.set_default_timeout(30_000)
    log_in(user, served_demo, NEW_USER.upper(), NEW_PASSWORD)
    user.get_by_role("heading", name="Operations").wait_for()
    session_cookie(user_context)

    admin.get_by_role("tab", name="Change a user").click()
    choose(admin, "User", NEW_USER)
    # The button names the user, so this waits for the page to show the chosen user.
    with rerun(admin):
        admin.get_by_role("button", name=f"Disable {NEW_USER}").click()
    admin.get_by_text("User disabled.").wait_for()
    admin.get_by_role("button", name=f"Enable {NEW_USER}").wait_for()
    screenshot(admin, tmp_path_factory, "users-disabled")

    # The user's next click, in the tab they still have open, shows the login form.
    # The run that finds the session ended is short enough that the browser may never show
    # it as running, so this waits for what only that run draws, then for the page to rest.
    user.get_by_role("link", name="Alerts").click()
    user.get_by_text("Your session has ended").wait_for()
    user.get_by_role("button", name="Log in").wait_for()
    settle(user)
    assert user.get_by_role("heading", name="Alerts", exact=True).count() == 0
    user.reload()
    user.get_by_role("button", name="Log in").wait_for()
    user_context.close()

    admin.goto(served_demo + "/audit_log")
    admin.get_by_role("heading", name="Audit log").wait_for()
    settle(admin)
    choose(admin, "Action", "user.disable")
    admin.get_by_text("1 entry", exact=True).wait_for()
    diff = admin.get_by_test_id("stDataFrame").last
    diff.wait_for()
    screenshot(admin, tmp_path_factory, "audit-log-disable")
    with admin.expect_download() as download:
        admin.get_by_role("button", name="Download CSV").click()
    exported = Path(download.value.path()).read_text()
    assert "user.disable" in exported and NEW_USER in exported
    admin_context.close()


def test_the_session_endpoint_wants_the_xsrf_token(served_demo: str) -> None:
    request = urllib.request.Request(
        served_demo + "/api/session",
        data=json.dumps({"code": "guess"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    refused.value.close()
    assert refused.value.code == 403
    # With a matching token, an unknown code still sets nothing.
    request.add_header("Cookie", "_streamlit_xsrf=abc")
    request.add_header("X-Xsrftoken", "abc")
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(request, timeout=10)
    unknown.value.close()
    assert unknown.value.code == 403
    assert "set-cookie" not in {key.lower() for key in unknown.value.headers}
