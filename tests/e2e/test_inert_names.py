"""In a real browser, names that Markdown would turn into an image or a link stay text.

The demo database is copied and every annotator, project and calibration session renamed
to Markdown that loads an image from a pixel server on loopback, or links away; users then
open the pages that show names. The pixel server must see no request but the test's own
control request, which proves the browser could have reached it.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import free_port, serving, settle
from tests.e2e.test_login_journeys import log_in
from tests.e2e.test_session_journeys import session_cookie

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


class PixelServer:
    """Counts the requests that reach it, on a free loopback port."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def pixel() -> Iterator[PixelServer]:
    server = PixelServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hostile_demo(
    served_demo: str,
    served_workdir: Path,
    pixel: PixelServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A second dashboard on a renamed copy of the demo database; its base URL."""
    workdir = tmp_path_factory.mktemp("hostile")
    shutil.copyfile(served_workdir / "annops.db", workdir / "annops.db")
    engine = create_engine(f"sqlite:///{workdir / 'annops.db'}")
    image, link = f"![px]({pixel.url}/pixel.png)", "[x](http://evil.invalid)"
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE annotators SET display_name = "
                "CASE WHEN id % 2 = 0 THEN :image || ' ' || id ELSE :link || ' ' || id END"
            ),
            {"image": image, "link": link},
        )
        connection.execute(text("UPDATE projects SET name = :image"), {"image": image})
        connection.execute(text("UPDATE calibration_sessions SET name = :image"), {"image": image})
    engine.dispose()
    port = free_port()
    env = os.environ | {
        "ANNOPS_DATABASE_URL": f"sqlite:///{workdir / 'annops.db'}",
        "ANNOPS_DASHBOARD_PORT": str(port),
        "ANNOPS_DASHBOARD_ADDRESS": "127.0.0.1",
    }
    with serving(workdir, env) as base:
        yield base


# role -> pages it opens, each with a heading to wait for.
JOURNEYS: dict[str, list[tuple[str, str | None]]] = {
    "ops": [
        ("/pool", "Annotator pool"),
        ("/annotator", None),
        ("/calibration", "Calibration"),
        ("/quality", "Quality"),
        ("/alerts", "Alerts"),
    ],
    "lead": [("/", "My team"), ("/alerts", "Alerts"), ("/pool", "Annotator pool")],
}


@pytest.mark.parametrize("role", list(JOURNEYS))
def test_no_page_loads_an_image_or_shows_a_link_from_a_name(
    page: Page, hostile_demo: str, pixel: PixelServer, role: str
) -> None:
    pixel.paths.clear()
    log_in(page, hostile_demo, role)
    page.get_by_test_id("stSidebar").wait_for()
    # The session cookie arrives just after the first page of the login; then links work.
    session_cookie(page.context)
    for path, heading in JOURNEYS[role]:
        page.goto(hostile_demo + path)
        if heading is not None:
            page.get_by_role("heading", name=heading).first.wait_for()
        page.get_by_test_id("stMain").wait_for()
        settle(page)
        # Let the browser fetch whatever the page would.
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)
        main = page.get_by_test_id("stMain")
        assert "Traceback" not in main.inner_text(), path
        links = main.locator("a[href^='http://evil.invalid']")
        assert links.count() == 0, (path, links.first.evaluate("a => a.parentElement.outerHTML"))
        assert main.locator(f"img[src^='{pixel.url}']").count() == 0, path
    assert pixel.paths == [], pixel.paths
    # The control: the same page can reach the pixel server, so silence above means inert.
    page.evaluate(f"fetch('{pixel.url}/control').catch(() => null)")
    page.wait_for_timeout(1000)
    assert pixel.paths == ["/control"]
