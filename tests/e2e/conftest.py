"""Real-browser journeys: Debian's chromium driven by Playwright against `annops serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "browser-test-password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.e2e

# Whether the page script has finished: Streamlit marks its app root with the run state
# ("running" / "notRunning") and, at each change of it, adds a performance mark named after
# the new state, so the "notRunning" marks count the runs this page has seen finish. A run
# that ends in st.rerun() is followed by the next one within milliseconds, so the state
# must also have held for QUIET_MS before the app counts as settled. Returns the count of
# finished runs (in a list, as 0 would read as false) once settled and more than ``before``
# runs have finished, else false.
_SETTLED = """([before, quiet]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testConnectionState !== "CONNECTED") return false;
  if (app.dataset.testScriptState !== "notRunning") return false;
  const finished = performance.getEntriesByName("notRunning", "mark");
  if (finished.length <= before) return false;
  const last = finished[finished.length - 1];
  if (last && performance.now() - last.startTime < quiet) return false;
  return [finished.length];
}"""
QUIET_MS = 150


def settle(page: Page, *, after: int = -1) -> int:
    """Wait until the page script is not running (and, when ``after`` is given, until more
    than ``after`` runs have finished); return how many runs have finished so far.

    While a run is going, the previous run's elements stay on screen, so text from before
    an interaction can satisfy a wait meant for its result, and a click can land on an
    element the run is about to replace.
    """
    # Polled on a timer: animation frames stop in a tab the browser considers hidden.
    handle = page.wait_for_function(_SETTLED, arg=[after, QUIET_MS], polling=50)
    return int(handle.json_value()[0])


@contextmanager
def rerun(page: Page) -> Iterator[None]:
    """Around an interaction that makes Streamlit run the page script again: on leaving,
    wait until a run started by the interaction has finished.

    The browser shows the new run only once the server has started it, so checking the run
    state alone right after a click would see the old, finished run. A run so short that the
    browser draws its start and end at once leaves no mark: after such a step, wait for what
    only the new run draws instead.
    """
    finished = settle(page)
    yield
    settle(page, after=finished)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(workdir: Path, env: Mapping[str, str]) -> Iterator[str]:
    """`annops serve` run from ``workdir`` with ``env`` (which names the port), its log in
    workdir/serve.log; yields the base URL once the server answers its health check, and
    stops the server afterwards."""
    port = env["ANNOPS_DASHBOARD_PORT"]
    env = {**env, "PYTHONPATH": str(ROOT)}
    log_path = workdir / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "ops.cli", "serve"], cwd=workdir, env=env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"dashboard did not start: {log_path.read_text()}")
            time.sleep(0.5)
        try:
            yield base
        finally:
            server.terminate()
            server.wait(timeout=20)


@pytest.fixture(scope="session")
def browser_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("ANNOPS_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package")
        pytest.skip(
            f"{CHROMIUM} is not installed (apt-get install chromium); browser tests not run"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def served_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Working directory of the served demo; its database is annops.db there."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def demo_database_url(served_demo: str, served_workdir: Path) -> str:
    """The served demo's database, for checking what the browser journeys stored."""
    return f"sqlite:///{served_workdir / 'annops.db'}"


@pytest.fixture(scope="session")
def served_demo(served_workdir: Path, browser_path: str) -> Iterator[str]:
    """`annops demo` on a fresh SQLite file, served on a free loopback port; its base URL."""
    workdir = served_workdir
    port = free_port()
    env = os.environ | {
        "ANNOPS_DATABASE_URL": f"sqlite:///{workdir / 'annops.db'}",
        "ANNOPS_DEMO_PASSWORD": PASSWORD,
        "ANNOPS_DASHBOARD_PORT": str(port),
        "ANNOPS_DASHBOARD_ADDRESS": "127.0.0.1",
    }
    subprocess.run(
        [sys.executable, "-m", "ops.cli", "demo", "--no-serve", "--annotators", "40"]
        + ["--events", "50000"],
        check=True,
        cwd=workdir,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
    )
    with serving(workdir, env) as base:
        yield base


@pytest.fixture(scope="session")
def browser(browser_path: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
