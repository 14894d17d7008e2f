"""Page tests: one small demo database per module, logins with known passwords."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from ops.demo import DemoConfig, load_demo
from ops.settings import get_settings

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PASSWORD = "page-test-password"
ROLES = ("admin", "ops", "lead", "finance", "annotator")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    load_demo(
        make_session_factory(engine),
        DemoConfig(annotators=30, events=20_000, seed=3, end=dt.datetime.now(dt.UTC).date()),
        passwords=dict.fromkeys(ROLES, PASSWORD),
    )
    engine.dispose()
    yield url


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
