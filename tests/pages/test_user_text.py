"""Names, labels and notes from imports and people render as text on every page.

Every annotator, project and calibration session of this module's demo database gets a
name that Markdown would turn into an image that loads from a loopback server, or a link;
each role then opens each of its pages, and no Markdown element may hold the live syntax.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from ops.pages import pages_for_role
from tests.pages.conftest import ROLES, log_in

PIXEL = "![px](http://127.0.0.1:8721/pixel.png)"
LINK = "[x](http://evil)"
# ](  not preceded by a backslash: a link or an image that Markdown would render.
LIVE = re.compile(r"(?<!\\)\]\(")


@pytest.fixture(scope="module", autouse=True)
def hostile_names(demo_url: str) -> None:
    engine = make_engine(demo_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE annotators SET display_name = "
                "CASE WHEN id % 2 = 0 THEN :pixel || ' ' || id ELSE :link || ' ' || id END"
            ),
            {"pixel": PIXEL, "link": LINK},
        )
        connection.execute(text("UPDATE projects SET name = :link || ' ' || slug"), {"link": LINK})
        connection.execute(text("UPDATE calibration_sessions SET name = :pixel"), {"pixel": PIXEL})
        connection.execute(text("UPDATE feedback_notes SET text = :pixel"), {"pixel": PIXEL})
    engine.dispose()


def rendered_markdown(app: AppTest) -> list[str]:
    """The text of every element Streamlit renders as Markdown."""
    groups = (
        app.markdown,
        app.caption,
        app.title,
        app.header,
        app.subheader,
        app.info,
        app.success,
        app.warning,
        app.error,
    )
    return [str(element.value) for group in groups for element in group]


CASES = [(role, page.file, page.slug) for role in ROLES for page in pages_for_role(role)]


@pytest.mark.parametrize(("role", "file", "slug"), CASES, ids=[f"{r}-{s}" for r, _, s in CASES])
def test_every_page_shows_hostile_names_as_text(
    app: AppTest, role: str, file: str, slug: str
) -> None:
    log_in(app, role)
    app.switch_page(f"pages/{file}")
    app.run()
    assert not app.exception, app.exception
    live = [value for value in rendered_markdown(app) if LIVE.search(value)]
    assert live == [], live
