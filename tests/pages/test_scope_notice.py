"""A lead whose login has no team sees nobody, and every page about people says why."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, make_session_factory, transaction
from ops.auth import create_user
from ops.permissions import NO_TEAM, SYSTEM
from tests.pages.conftest import PASSWORD, as_read, log_in

PAGES = ["alerts.py", "review.py", "pool.py", "guidelines.py", "calibration.py"]


@pytest.fixture(scope="module", autouse=True)
def lead_without_team(demo_url: str) -> None:
    engine = make_engine(demo_url)
    with transaction(make_session_factory(engine)) as session:
        create_user(session, SYSTEM, username="lonely-lead", role="lead", password=PASSWORD)
    engine.dispose()


@pytest.mark.parametrize("page", PAGES)
def test_the_page_says_why_it_shows_nobody(app: AppTest, page: str) -> None:
    log_in(app, "lonely-lead")
    app.switch_page(f"pages/{page}")
    app.run()
    assert not app.exception, app.exception
    assert [as_read(info.value) for info in app.info] == [NO_TEAM]
    assert not app.dataframe


def test_home_says_it_too(app: AppTest) -> None:
    log_in(app, "lonely-lead")
    assert not app.exception, app.exception
    assert NO_TEAM in [caption.value for caption in app.caption]
