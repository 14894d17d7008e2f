"""When a rollup refresh recomputes the touched keys and when it rebuilds everything."""

from __future__ import annotations

import pytest

from ops.rollups import REBUILD_MIN_EVENTS, should_rebuild


@pytest.mark.parametrize(
    ("reread", "total", "rebuild"),
    [
        # A million new events into ten million: key by key.
        (1_000_000, 11_000_000, False),
        # The same import on top of its own million already rolled up: still key by key.
        (2_000_000, 11_000_000, False),
        # Late work under keys that hold most of history: one pass over everything.
        (3_000_000, 11_000_000, True),
        (11_000_000, 11_000_000, True),
        # Small databases are never rebuilt by a refresh, whatever the share.
        (REBUILD_MIN_EVENTS, REBUILD_MIN_EVENTS, False),
        (REBUILD_MIN_EVENTS + 1, REBUILD_MIN_EVENTS + 1, True),
        (600, 605, False),
        (0, 0, False),
    ],
)
def test_rebuild_follows_the_share_of_events_reread(reread: int, total: int, rebuild: bool) -> None:
    assert should_rebuild(reread=reread, total=total) is rebuild
