"""Short-lived caching of what pages read, keyed on the data version.

A page re-runs from the top on every widget change; the numbers it reads only change
when something is written. Each cached read is keyed on the principal, its arguments and
the current data version (ops.freshness), so a write anywhere shows on the next run, and
the time-to-live bounds what a read not covered by the version could miss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.session import db_session
from ops.freshness import DataVersion, data_version
from ops.importers.chunks import collector_paused
from ops.settings import get_settings

TTL_SECONDS = 60
MAX_ENTRIES = 64

P = ParamSpec("P")
R = TypeVar("R")

_READS: dict[str, Callable[..., Any]] = {}


def current_version() -> tuple[str, DataVersion]:
    """The database read and its data version now (one small query)."""
    with db_session() as session:
        return get_settings().database_url, data_version(session)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _read(
    name: str, version: tuple[str, DataVersion], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    del version  # part of the cache key only
    # A read of the whole pool builds tens of thousands of short-lived rows; each cyclic
    # collection meanwhile would also walk the dashboard's few hundred thousand long-lived
    # objects (Streamlit, pandas, the statistics libraries), which at 5,000 people costs
    # a third of the read. Collection resumes as soon as the read is done.
    with db_session() as session, collector_paused():
        return _READS[name](session, *args, **kwargs)


def cached(read: Callable[Concatenate[Session, P], R]) -> Callable[P, R]:
    """``read`` without its session argument, answered from the cache while the data
    version is unchanged and the entry younger than TTL_SECONDS."""
    name = f"{read.__module__}.{read.__qualname__}"
    _READS[name] = read

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        result: R = _read(name, current_version(), args, kwargs)
        return result

    return call


def clear() -> None:
    """Forget every cached read (tests; a deliberate refresh)."""
    _read.clear()
