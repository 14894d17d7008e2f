"""Page tests: one small demo database per module, logins with known passwords."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from dashboard import cache
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from ops.demo import DemoConfig, load_demo
from ops.settings import get_settings

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PASSWORD = "page-test-password"
ROLES = ("admin", "ops", "lead", "finance", "annotator")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database built once per run; each module works on its own copy."""
    path = tmp_path_factory.mktemp("pages") / "demo.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    load_demo(
        make_session_factory(engine),
        DemoConfig(annotators=40, events=50_000, seed=11, end=dt.datetime.now(dt.UTC).date()),
        passwords=dict.fromkeys(ROLES, PASSWORD),
    )
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def demo_url(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    copy = tmp_path_factory.mktemp("pages") / "demo.db"
    shutil.copyfile(demo_template, copy)
    return f"sqlite:///{copy}"


@pytest.fixture(autouse=True)
def _cold_page_cache() -> None:
    """Each test starts without cached reads: tests change their database behind the
    app's back (factories write without the audit log that advances the data version)."""
    cache.clear()


@pytest.fixture(autouse=True)
def _navigation_pages_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every page through app.py, as the server does (see dashboard/server.py).

    AppTest re-detects a "pages" folder beside the entry script on every run and would
    then run a page's file bare, without the login and navigation of app.py.
    """
    original = PagesManager.__init__

    def navigation_only(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", navigation_only)


@pytest.fixture
def app(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("ANNOPS_DATABASE_URL", demo_url)
    get_settings.cache_clear()
    yield AppTest.from_file(APP, default_timeout=30)
    get_settings.cache_clear()


def log_in(app: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    """Run the app, fill the login form and submit it."""
    app.run()
    app.text_input(key="login_username").input(username)
    app.text_input(key="login_password").input(password)
    app.button[0].click()
    return app.run()


def as_read(value: object) -> str:
    """Markdown text as a person reads it: without the escapes and word joiners that
    dashboard.text.inert puts in to keep user text from turning into formatting or links."""
    return re.sub(r"\\(.)", r"\1", str(value)).replace("\u2060", "")
