"""Which pool filters leave someone of the roster out."""

from __future__ import annotations

import pytest

from ops.workforce.roster import PoolFilter, narrows


@pytest.mark.parametrize(
    ("pool_filter", "expected"),
    [
        (PoolFilter(), False),
        (PoolFilter(sort_by="accuracy", descending=True), False),
        (PoolFilter(include_archived=True), False),
        (PoolFilter(search="an"), True),
        (PoolFilter(search=" "), True),
        (PoolFilter(team_id=1), True),
        (PoolFilter(tiers=("annotator",)), True),
        (PoolFilter(statuses=("active",)), True),
        (PoolFilter(skill="ner"), True),
        (PoolFilter(domain="legal"), True),
        (PoolFilter(language="de"), True),
        (PoolFilter(qualified_task_type="ner"), True),
        (PoolFilter(project_id=3), True),
    ],
)
def test_narrows(pool_filter: PoolFilter, expected: bool) -> None:
    assert narrows(pool_filter) is expected
