"""Helpers for the workforce page tests: open a page as a role, find widgets by label."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, make_session_factory
from db.models import Annotator
from tests.pages.conftest import log_in


def open_page(app: AppTest, role: str, page: str) -> AppTest:
    """Log in as ``role`` and open ``pages/<page>.py``."""
    log_in(app, role)
    app.switch_page(f"pages/{page}.py")
    return app.run()


class HasLabel(Protocol):
    @property
    def label(self) -> str: ...


Element = TypeVar("Element", bound=HasLabel)


def labelled(elements: Iterable[Element], label: str) -> Element:
    """The one element whose label starts with ``label``."""
    found = [element for element in elements if element.label.startswith(label)]
    assert len(found) == 1, f"{len(found)} elements labelled {label!r}"
    return found[0]


def frame_with(app: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column``."""
    for element in app.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with a {column!r} column")


def texts(app: AppTest) -> str:
    """Everything a person reads on the page, one element per line."""
    groups = (
        app.title,
        app.text,
        app.subheader,
        app.markdown,
        app.caption,
        app.error,
        app.warning,
        app.success,
        app.info,
    )
    return "\n".join(str(element.value) for group in groups for element in group)


@contextmanager
def database(url: str) -> Iterator[Session]:
    """A session on the page tests' demo database, committed at the end."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with factory() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def annotator_id(url: str, name: str) -> int:
    with database(url) as session:
        return int(session.scalar(select(Annotator.id).where(Annotator.display_name == name)) or 0)
