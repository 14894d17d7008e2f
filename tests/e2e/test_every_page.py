"""Every page of every role, opened by its URL in Chromium: no exception, its heading, and a
screenshot of each in test-artifacts/screenshots/<role>-<page>.png.

The pages come from ops.pages, so a page added there is visited here without a change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from db.models import ROLES
from ops.pages import PAGES, PageSpec, pages_for_role
from tests.e2e.conftest import settle
from tests.e2e.test_login_journeys import log_in
from tests.e2e.test_session_journeys import session_cookie

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def open_by_url(page: Page, base: str, spec: PageSpec) -> None:
    """Load ``spec``'s URL as a fresh tab would and wait until its script has finished."""
    page.goto(f"{base}/{spec.slug}")
    settle(page)
    # The heading is the page's first output; it is there once the run has finished.
    page.locator('[data-testid="stMain"] h1').first.wait_for()


def main_text(page: Page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def assert_page_shown(page: Page, base: str, role: str, spec: PageSpec) -> None:
    """The page ran to the end for ``role`` at its own URL: it has a heading, and nothing
    failed or was refused."""
    where = f"{role} on /{spec.slug}"
    # An unknown or mistyped path would have been redirected to the landing page.
    landing = spec == pages_for_role(role)[0]
    assert page.url == f"{base}/" + ("" if landing else spec.slug), f"{where}: at {page.url}"
    heading = page.locator('[data-testid="stMain"] h1').first.inner_text().strip()
    assert heading and heading != "annops", f"{where}: shows {heading!r}, not the page"
    assert page.get_by_test_id("stException").count() == 0, f"{where}: {main_text(page)}"
    body = main_text(page)
    assert "Traceback" not in body, f"{where}: {body}"
    assert "may not open" not in body, f"{where}: {body}"
    assert page.get_by_role("button", name="Log in").count() == 0, f"{where}: logged out"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_every_page_it_is_offered(
    browser: Browser, served_demo: str, role: str
) -> None:
    offered = pages_for_role(role)
    assert offered, f"{role} has no pages"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    log_in(page, served_demo, role)
    page.locator('[data-testid="stMain"] h1').filter(has_not_text="annops").wait_for()
    session_cookie(context)
    # A reload keeps the login (the cookie), then every page opens by its own URL.
    page.reload()
    settle(page)
    assert page.get_by_role("button", name="Log in").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for spec in offered:
        open_by_url(page, served_demo, spec)
        assert_page_shown(page, served_demo, role, spec)
        page.screenshot(path=str(SCREENSHOTS / f"{role}-{spec.slug}.png"), full_page=True)

    # One page of another role, by its URL, says it is not for this role.
    own = {spec.slug for spec in offered}
    refused = next((spec for spec in PAGES if spec.slug not in own), None)
    if refused is not None:
        open_by_url(page, served_demo, refused)
        page.get_by_text(f"Your role ({role}) may not open {refused.title}.").wait_for()
        assert page.get_by_test_id("stException").count() == 0
    context.close()
