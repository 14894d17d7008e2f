"""The dashboard on PostgreSQL while the database goes away and comes back, in Chromium: cut
connections are replaced unseen, an outage is one line on the page (no traceback, the
login kept), and the page works again once the database is back."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from db.engine import make_engine
from tests.conftest import POSTGRES_URL, create_scratch_database, drop_scratch_database
from tests.e2e.conftest import PASSWORD, free_port, rerun, serving, settle
from tests.e2e.test_every_page import SCREENSHOTS
from tests.e2e.test_login_journeys import log_in
from tests.e2e.test_session_journeys import session_cookie

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL, reason="ANNOPS_TEST_DATABASE_URL is not set; PostgreSQL tests not run"
    ),
]


@pytest.fixture(scope="module")
def postgres_demo(
    tmp_path_factory: pytest.TempPathFactory, browser_path: str
) -> Iterator[tuple[str, str]]:
    """The demo on a PostgreSQL database of its own, served; (base URL, database URL)."""
    url = create_scratch_database(tmp_path_factory, "postgres")
    workdir = tmp_path_factory.mktemp("outage")
    port = free_port()
    env = os.environ | {
        "ANNOPS_DATABASE_URL": url,
        "ANNOPS_DEMO_PASSWORD": PASSWORD,
        "ANNOPS_DASHBOARD_PORT": str(port),
        "ANNOPS_DASHBOARD_ADDRESS": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    annops = [sys.executable, "-m", "ops.cli"]
    subprocess.run(
        [*annops, "demo", "--no-serve", "--annotators", "30", "--events", "20000"],
        check=True,
        cwd=workdir,
        env=env,
        capture_output=True,
    )
    with serving(workdir, env) as base:
        yield base, url
    drop_scratch_database(url)


@pytest.fixture
def admin_engine() -> Iterator[Engine]:
    """Connections to the test server's own database, to take the demo's away and back."""
    assert POSTGRES_URL is not None
    engine = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def cut_connections(admin: Engine, database: str) -> int:
    """End every session on ``database``, as a restart or a network failure would."""
    with admin.connect() as connection:
        return int(
            connection.scalar(
                text(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :database AND pid <> pg_backend_pid()) AS ended"
                ),
                {"database": database},
            )
            or 0
        )


def set_reachable(admin: Engine, database: str, reachable: bool) -> None:
    with admin.connect() as connection:
        connection.execute(
            text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(reachable).lower()}')
        )


def assert_no_traceback(page: Page) -> None:
    assert page.get_by_test_id("stException").count() == 0
    assert "Traceback" not in page.get_by_test_id("stMain").inner_text()


def test_the_dashboard_rides_out_lost_connections_and_a_database_outage(
    browser: Browser, postgres_demo: tuple[str, str], admin_engine: Engine
) -> None:
    base, url = postgres_demo
    database = str(make_url(url).database)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    log_in(page, base + "/alerts", "ops")
    page.get_by_role("heading", name="Alerts", exact=True).wait_for()
    session_cookie(context)

    # Every pooled connection dies (a database restart): the next page gets fresh ones.
    assert cut_connections(admin_engine, database) > 0
    # The heading shows before the roster's queries end; cut only once the page is done.
    with rerun(page):
        page.get_by_role("link", name="Pool").click()
    page.get_by_role("heading", name="Annotator pool").wait_for()
    assert_no_traceback(page)
    assert page.get_by_test_id("stAlert").filter(has_text="could not be shown").count() == 0

    # The database goes away: a click says so in one line and keeps the login.
    set_reachable(admin_engine, database, False)
    try:
        cut_connections(admin_engine, database)
        with rerun(page):
            page.get_by_role("link", name="Alerts").click()
        notice = page.get_by_test_id("stAlert").filter(has_text="The page could not be shown")
        notice.wait_for()
        message = notice.get_by_test_id("stMarkdownContainer").inner_text().strip()
        assert message.startswith("The page could not be shown: cannot use the database (")
        assert "not currently accepting connections" in message
        assert "\n" not in message and "postgresql" not in message
        assert_no_traceback(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "outage-ops-alerts.png"), full_page=True)
        # A reload while it is away is the same one line, not the login form.
        page.reload()
        page.get_by_test_id("stAlert").filter(has_text="The page could not be shown").wait_for()
        settle(page)
        assert page.get_by_role("button", name="Log in").count() == 0
        assert_no_traceback(page)
    finally:
        set_reachable(admin_engine, database, True)

    # Back: the same tab works again without logging in (the failed click left the
    # address at the page it started from).
    page.reload()
    page.get_by_role("heading", name="Annotator pool").wait_for()
    settle(page)
    with rerun(page):
        page.get_by_role("link", name="Alerts").click()
    page.get_by_role("heading", name="Alerts", exact=True).wait_for()
    assert page.get_by_test_id("stAlert").filter(has_text="could not be shown").count() == 0
    assert_no_traceback(page)
    context.close()
