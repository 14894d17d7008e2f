"""The st.Page objects each role's navigation is built from."""

from __future__ import annotations

import dataclasses

import pytest
from streamlit.testing.v1 import AppTest

import ops.pages
from ops.pages import pages_for_role
from ops.permissions import ROLES


def show_navigation() -> None:
    """Builds the pages of the role in session state and prints one line per page."""
    import streamlit as st

    from dashboard.navigation import pages_for

    for section, pages in pages_for(st.session_state["role"]).items():
        for page in pages:
            st.text(f"{section}|{page.title}|{page.icon}|{page.url_path}")


@pytest.mark.parametrize("role", ROLES)
def test_navigation_pages_carry_the_declared_titles_and_stable_url_paths(role: str) -> None:
    app = AppTest.from_function(show_navigation)
    app.session_state["role"] = role
    app.run()
    assert not app.exception, app.exception
    shown = [element.value for element in app.text]
    declared = pages_for_role(role)
    # The landing page lives at the root; every other page at its slug.
    assert shown == [
        f"{page.section}|{page.title}|{page.icon}|{'' if index == 0 else page.slug}"
        for index, page in enumerate(declared)
    ]


def test_the_url_path_is_the_slug_not_the_file_name(monkeypatch: pytest.MonkeyPatch) -> None:
    home, pool = (next(p for p in ops.pages.PAGES if p.slug == slug) for slug in ("home", "pool"))
    monkeypatch.setattr(ops.pages, "PAGES", (home, dataclasses.replace(pool, slug="people")))
    app = AppTest.from_function(show_navigation)
    app.session_state["role"] = "ops"
    app.run()
    assert [element.value for element in app.text] == [
        "|Home|:material/home:|",
        "People|Pool|:material/groups:|people",
    ]
