"""The one scope rule: whose records each role may see, and what nobody means."""

from __future__ import annotations

import pytest

from db.scope import PeopleScope
from ops.permissions import NO_ANNOTATOR, NO_TEAM, Principal, people_scope


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (Principal("ada", "admin"), PeopleScope("all")),
        (Principal("olga", "ops"), PeopleScope("all")),
        (Principal("fin", "finance"), PeopleScope("all")),
        (Principal("lee", "lead", team_id=4), PeopleScope("team", team_id=4)),
        (Principal("lou", "lead"), PeopleScope("none", reason=NO_TEAM)),
        (Principal("rex", "annotator", annotator_id=9), PeopleScope("self", annotator_id=9)),
        (Principal("ann", "annotator"), PeopleScope("none", reason=NO_ANNOTATOR)),
        (Principal("eve", "intern"), PeopleScope("none", reason="Unknown role: nothing is shown.")),
    ],
)
def test_each_role_gets_its_scope(principal: Principal, expected: PeopleScope) -> None:
    assert people_scope(principal) == expected


@pytest.mark.parametrize(
    ("scope", "annotator_id", "team_id", "covered"),
    [
        (PeopleScope("all"), 1, None, True),
        (PeopleScope("team", team_id=4), 1, 4, True),
        (PeopleScope("team", team_id=4), 1, 5, False),
        (PeopleScope("team", team_id=4), 1, None, False),
        (PeopleScope("team", team_id=4), None, 4, False),
        (PeopleScope("self", annotator_id=9), 9, None, True),
        (PeopleScope("self", annotator_id=9), 8, 4, False),
        (PeopleScope("none", reason="x"), 1, 4, False),
    ],
)
def test_covers_one_person(
    scope: PeopleScope, annotator_id: int | None, team_id: int | None, covered: bool
) -> None:
    assert scope.covers(annotator_id=annotator_id, team_id=team_id) is covered


def test_a_team_or_self_scope_without_its_id_is_refused() -> None:
    with pytest.raises(ValueError, match="team_id"):
        PeopleScope("team")
    with pytest.raises(ValueError, match="annotator_id"):
        PeopleScope("self")
